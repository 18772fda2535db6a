import { connect } from 'node:net';
import type { Instance } from '../../model/model.js';
import type { NamingService } from '../domain/naming.js';
import type { Store } from '../store/store.js';

/** The outcome of one probe: passed, or why not (`connection refused (ECONNREFUSED)`, `HTTP 503`, `timed out after 3000 ms`). */
export interface ProbeResult {
  ok: boolean;
  detail?: string;
}

function failure(err: unknown, timeoutMs: number): ProbeResult {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return { ok: false, detail: `timed out after ${timeoutMs} ms` };
  const code = e.cause?.code ?? e.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused', EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found', EAI_AGAIN: 'host name lookup failed',
  };
  if (code) return { ok: false, detail: `${words[code] ?? (e.cause?.message ?? e.message ?? 'failed')} (${code})` };
  return { ok: false, detail: e.cause?.message ?? e.message ?? 'failed' };
}

/** Probe one instance once: TCP connect, or HTTP GET answering 2xx/3xx, within the timeout. */
export async function probe(i: Instance): Promise<ProbeResult> {
  const hc = i.healthCheck;
  if (!hc || hc.type === 'none') return { ok: true };
  const port = hc.port || i.port;
  if (hc.type === 'tcp') {
    return new Promise((resolve) => {
      const socket = connect({ host: i.ip, port, timeout: hc.timeoutMs });
      const finish = (r: ProbeResult) => { socket.destroy(); resolve(r); };
      socket.once('connect', () => finish({ ok: true }));
      socket.once('timeout', () => finish({ ok: false, detail: `TCP connect to port ${port} timed out after ${hc.timeoutMs} ms` }));
      socket.once('error', (err) => finish({ ok: false, detail: `TCP connect to port ${port}: ${failure(err, hc.timeoutMs).detail}` }));
    });
  }
  const host = i.ip.includes(':') ? `[${i.ip}]` : i.ip;
  try {
    const res = await fetch(`http://${host}:${port}${hc.path}`, { signal: AbortSignal.timeout(hc.timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 400) return { ok: true };
    return { ok: false, detail: `GET ${hc.path} on port ${port} answered HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, detail: `GET ${hc.path} on port ${port}: ${failure(err, hc.timeoutMs).detail}` };
  }
}

/**
 * Health-checks persistent instances on their own interval and flips `healthy` after the
 * configured number of consecutive failures or successes. Runs on one registry node at a time.
 */
export class HealthChecker {
  private readonly state = new Map<string, { nextAt: number; ok: number; fail: number; running: boolean; detail?: string | null }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly naming: NamingService,
    private readonly now: () => number = Date.now,
    /** Told of each instance the checks turn healthy or unhealthy (logged once, counted). */
    private readonly onTransition?: (instance: Instance, healthy: boolean, detail: string | null) => void,
  ) {}

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
      const result = await probe(i);
      const ok = result.ok;
      if (ok) { s.ok += 1; s.fail = 0; } else { s.fail += 1; s.ok = 0; }
      // Why it fails, for the console (written when it changes; no revision).
      const detail = ok ? null : result.detail ?? 'failed';
      const known = s.detail !== undefined ? s.detail : i.healthDetail ?? null;
      if (detail !== known) {
        await this.store.setHealthDetail(i.id, detail);
      }
      s.detail = detail;
      if (ok && !i.healthy && s.ok >= hc.healthyThreshold) {
        await this.naming.setHealth(i.id, true);
        this.onTransition?.(i, true, null);
      } else if (!ok && i.healthy && s.fail >= hc.unhealthyThreshold) {
        await this.naming.setHealth(i.id, false);
        this.onTransition?.(i, false, detail);
      } else if (ok) await this.store.touchInstance(i.id, this.now());
    } finally {
      s.running = false;
      s.nextAt = this.now() + hc.intervalMs;
    }
  }
}
