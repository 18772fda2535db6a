import { connect } from 'node:net';
import type { Instance } from '../domain/model.js';
import type { NamingService } from '../domain/naming.js';
import type { Store } from '../store/store.js';

/** Probe one instance once: TCP connect, or HTTP GET answering 2xx/3xx, within the timeout. */
export async function probe(i: Instance): Promise<boolean> {
  const hc = i.healthCheck;
  if (!hc || hc.type === 'none') return true;
  const port = hc.port || i.port;
  if (hc.type === 'tcp') {
    return new Promise((resolve) => {
      const socket = connect({ host: i.ip, port, timeout: hc.timeoutMs });
      const finish = (ok: boolean) => { socket.destroy(); resolve(ok); };
      socket.once('connect', () => finish(true));
      socket.once('timeout', () => finish(false));
      socket.once('error', () => finish(false));
    });
  }
  const host = i.ip.includes(':') ? `[${i.ip}]` : i.ip;
  try {
    const res = await fetch(`http://${host}:${port}${hc.path}`, { signal: AbortSignal.timeout(hc.timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 400;
  } catch {
    return false;
  }
}

/**
 * Health-checks persistent instances on their own interval and flips `healthy` after the
 * configured number of consecutive failures or successes. Runs on one registry node at a time.
 */
export class HealthChecker {
  private readonly state = new Map<string, { nextAt: number; ok: number; fail: number; running: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store, private readonly naming: NamingService, private readonly now: () => number = Date.now) {}

  start(tickMs = 500): void {
    this.timer = setInterval(() => { this.tick().catch(() => { /* database briefly away: next tick retries */ }); }, tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.state.clear();
  }

  /** Probe every instance that is due; resolves when those probes are done. */
  async tick(): Promise<void> {
    const t = this.now();
    const instances = (await this.store.listInstances({ ephemeral: false })).filter((i) => i.healthCheck && i.healthCheck.type !== 'none');
    const live = new Set(instances.map((i) => i.id));
    for (const id of this.state.keys()) if (!live.has(id)) this.state.delete(id);
    const due = instances.filter((i) => {
      const s = this.state.get(i.id);
      return !s || (!s.running && s.nextAt <= t);
    });
    await Promise.all(due.map((i) => this.check(i)));
  }

  private async check(i: Instance): Promise<void> {
    const hc = i.healthCheck;
    if (!hc) return;
    const s = this.state.get(i.id) ?? { nextAt: 0, ok: 0, fail: 0, running: false };
    this.state.set(i.id, s);
    s.running = true;
    try {
      const ok = await probe(i);
      if (ok) { s.ok += 1; s.fail = 0; } else { s.fail += 1; s.ok = 0; }
      if (ok && !i.healthy && s.ok >= hc.healthyThreshold) await this.naming.setHealth(i.id, true);
      else if (!ok && i.healthy && s.fail >= hc.unhealthyThreshold) await this.naming.setHealth(i.id, false);
      else if (ok) await this.store.touchInstance(i.id, this.now());
    } finally {
      s.running = false;
      s.nextAt = this.now() + hc.intervalMs;
    }
  }
}
