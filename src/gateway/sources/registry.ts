/**
 * Configuration for `mcpgate gateway`: follows the watch API of one registry out of several
 * (each gateway prefers its own by rendezvous hashing, fails over, and moves back), and keeps
 * the last good snapshot on disk so that the gateway can start and serve while every registry
 * is down.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import { SseParser } from '../../lib/sse-parser.js';
import type { SseEvent } from '../../lib/sse-parser.js';
import type { ActivityReport } from '../../model/activity.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import type { ConfigSource } from './config-source.js';

/** True when `value` has the shape of a `RegistrySnapshot` (checked on what registries and the cache file give). */
export function isRegistrySnapshot(value: unknown): value is RegistrySnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Number.isSafeInteger(v['revision']) && (v['revision'] as number) >= 0
    && Array.isArray(v['namespaces']) && Array.isArray(v['services']) && Array.isArray(v['mcpServers']) && Array.isArray(v['consumers']);
}

/** Options of `RegistrySource`. */
export interface RegistrySourceOptions {
  /**
   * Registry base URLs (`http://host:8848`). With a `gatewayId`, each gateway orders them by
   * rendezvous hashing of its id (so gateways spread over the registries, and those of a dead
   * registry spread over the others); without one, in this order.
   */
  urls: string[];
  /** API token of a user with the `gateway` role on every namespace (`*`), so secrets come too; none when registry auth is off. */
  token?: string;
  /** Where the last delivered snapshot is kept (written atomically). */
  cacheFile: string;
  logger: Logger;
  /** Connect and answer timeout of one request, ms. Default 5000. */
  requestTimeoutMs?: number;
  /** First pause after every registry failed once, ms; doubles per failed round. Default 500. */
  retryDelayMs?: number;
  /** Longest pause between rounds, ms. Default 15000. */
  maxRetryDelayMs?: number;
  /** How long `start()` waits for a registry before serving the cached snapshot, ms. Default 3000. */
  startTimeoutMs?: number;
  /** A watch stream silent this long is dropped (registries send a keep-alive every 15 s), ms. Default 45000. */
  idleTimeoutMs?: number;
  /** How this gateway names itself to the registry (the console's Gateways page). */
  gatewayId?: string;
  /** What the gateway reports every `reportEveryMs` (default 15000) to the registry it follows. */
  report?: () => {
    sessions?: number; streams?: number; address?: string; version?: string; startedAt?: number; consumers?: { id: string; at: number }[];
    /** Virtual server members down or not heard from yet, or with tools left out for a name clash. */
    virtualMembers?: { server: string; member: string; state: 'pending' | 'down' | 'clash'; error?: string }[];
  };
  reportEveryMs?: number;
  /** The Activity page's counts, sent with every report (`POST /api/v1/gateways/activity`); given back when the registry does not take them. */
  activity?: { take(): ActivityReport | undefined; giveBack(report: ActivityReport): void };
  /**
   * While following another registry than its preferred one, probe the preferred one's
   * `/readyz` after this pause (ms, doubling per failed probe up to `maxFailbackDelayMs`), and
   * move back to it after two probes in a row found it ready. Default 5000; 0 turns failback off.
   */
  failbackDelayMs?: number;
  /** Longest pause between failback probes, ms. Default 60000. */
  maxFailbackDelayMs?: number;
}

/** The order in which a gateway tries registries: by rendezvous (highest random weight) hashing of its id, stable per id. */
export function registryOrder(urls: readonly string[], gatewayId: string | undefined): string[] {
  if (gatewayId === undefined || urls.length < 2) return [...urls];
  const weight = (url: string) => createHash('sha256').update(`${gatewayId}\n${url}`).digest().readBigUInt64BE(0);
  return urls.map((url) => ({ url, w: weight(url) })).sort((a, b) => (a.w === b.w ? 0 : a.w > b.w ? -1 : 1)).map((x) => x.url);
}

/** What `RegistrySource.status()` reports, for /readyz and the console. */
export interface RegistrySourceStatus {
  /** True while a registry's watch stream is open. */
  connected: boolean;
  /** The registry currently followed. */
  registry?: string;
  /** Revision of the last delivered snapshot (0 before the first). */
  revision: number;
  /** The last failure, with the registry it came from. */
  lastError?: string;
  /** The registry this gateway prefers (first in its rendezvous order). */
  preferred?: string;
}

interface CacheFile {
  format: 'mcpgate-snapshot-cache';
  version: 1;
  savedAt: string;
  registry: string;
  snapshot: RegistrySnapshot;
}

/** A connection counts as stable (resetting the backoff) once it stayed open this long, ms. */
const STABLE_CONNECTION_MS = 10_000;
/** Longest hold-down before probing a preferred registry that failed right after a failback, ms. */
const MAX_FAILBACK_HOLD_MS = 5 * 60_000;

/** Why a connection was closed on purpose: the preferred registry is back. */
class Failback extends Error {
  override readonly name = 'Failback';
}

/**
 * Follows one registry's watch API out of several. The first answering registry (in list
 * order) gives the snapshot; its SSE stream of changes then triggers coalesced snapshot reads.
 * On an error the next registry is tried, resuming after the last delivered revision; after a
 * round with no answer it waits (doubling, capped) and goes round again. Nothing is delivered
 * while registries are down: the gateway keeps its snapshot.
 */
export class RegistrySource implements ConfigSource {
  private readonly urls: string[];
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly startTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly stopper = new AbortController();
  private onSnapshot: ((snapshot: RegistrySnapshot) => void) | undefined;
  private agent: Agent | undefined;
  private loop: Promise<void> | undefined;
  private delivered: { revision: number; fromCache: boolean } | undefined;
  private firstDelivered: (() => void) | undefined;
  /** True until a registry gave a snapshot: the first connection reads one before following changes. */
  private needSnapshot = true;
  private following: string | undefined;
  /** Since when no registry's watch stream is open (epoch ms; the start counts as "since"). */
  private unfollowedSince = Date.now();
  private lastError: string | undefined;
  private readonly lastErrorByUrl = new Map<string, string>();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private persisting: Promise<void> | undefined;
  private toPersist: { snapshot: RegistrySnapshot; registry: string } | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  /** The servers whose secrets the registry withheld, as last reported (to warn once per change). */
  private withheld = '';
  /** The registries in the order this gateway tries them; the first is its preferred one. */
  private readonly order: string[];
  /** Extra pause before probing the preferred registry, grown when a failback did not hold (anti-flapping), ms. */
  private failbackHoldMs = 0;

  constructor(private readonly options: RegistrySourceOptions) {
    if (options.urls.length === 0) throw new Error('RegistrySource: at least one registry URL is required');
    this.urls = options.urls.map((raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`RegistrySource: '${raw}' is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`RegistrySource: '${raw}' must be an http:// or https:// URL`);
      return url.href.replace(/\/+$/, '');
    });
    this.order = registryOrder(this.urls, options.gatewayId);
    this.log = options.logger.child({ component: 'registry-source' });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.maxRetryDelayMs = Math.max(options.maxRetryDelayMs ?? 15_000, this.retryDelayMs);
    this.startTimeoutMs = options.startTimeoutMs ?? 3000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  }

  async start(onSnapshot: (snapshot: RegistrySnapshot) => void): Promise<void> {
    if (this.onSnapshot) throw new Error('RegistrySource: already started');
    this.onSnapshot = onSnapshot;
    this.agent = new Agent({ connect: { timeout: this.requestTimeoutMs }, keepAliveTimeout: 10_000 });
    const first = new Promise<void>((resolve) => { this.firstDelivered = resolve; });
    const cached = await this.readCache();
    this.loop = this.run();
    if (this.options.gatewayId && this.options.report) {
      this.reportTimer = setInterval(() => {
        this.reportToRegistry().catch((err: unknown) => this.log.debug({ err }, 'gateway report to the registry failed'));
        this.reportActivity().catch((err: unknown) => this.log.debug({ err }, 'activity report to the registry failed'));
      }, this.options.reportEveryMs ?? 15_000);
      this.reportTimer.unref();
    }

    // start() is awaited before the gateway listens, so its waits keep the process up (bounded here, unbounded below).
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise((resolve) => { bound = setTimeout(resolve, this.startTimeoutMs); })]);
    clearTimeout(bound);
    if (this.delivered || this.stopper.signal.aborted) return;
    if (cached) {
      this.log.warn({ revision: cached.snapshot.revision, savedAt: cached.savedAt, registries: this.urls, lastError: this.lastError },
        `no registry answered within ${this.startTimeoutMs} ms: serving the cached snapshot from ${this.options.cacheFile}`);
      this.deliver(cached.snapshot, true, cached.registry);
      return;
    }
    this.log.warn({ registries: this.urls, lastError: this.lastError },
      `no registry answered within ${this.startTimeoutMs} ms and there is no cached snapshot: waiting for a registry`);
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      await first;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Tell the followed registry who this gateway is and what it holds (best effort). */
  private async reportToRegistry(): Promise<void> {
    const base = this.following;
    if (!base || !this.options.gatewayId || !this.options.report) return;
    const body = { id: this.options.gatewayId, revision: this.delivered?.revision ?? 0, source: `registry ${base}`, ...this.options.report() };
    try {
      const res = await request(`${base}/api/v1/gateways/heartbeat`, {
        method: 'POST', dispatcher: this.agent, body: JSON.stringify(body), headers: this.headers({ 'content-type': 'application/json' }),
        headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs, signal: this.stopper.signal,
      });
      await res.body.dump();
    } catch (err) {
      this.log.debug({ err }, 'gateway report to the registry failed');
    }
  }

  /** Send the Activity counts now (also done every report, and on stop); kept for the next report when no registry takes them. */
  flushActivity(): Promise<void> {
    return this.reportActivity();
  }

  /** Send the calls counted since the last report; kept for the next one when no registry takes them. */
  private async reportActivity(): Promise<void> {
    const base = this.following;
    const recorder = this.options.activity;
    if (!base || !recorder || !this.options.gatewayId) return;
    const report = recorder.take();
    if (!report) return;
    try {
      const res = await request(`${base}/api/v1/gateways/activity`, {
        method: 'POST', dispatcher: this.agent, body: JSON.stringify({ gateway: this.options.gatewayId, ...report }), headers: this.headers({ 'content-type': 'application/json' }),
        headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs, signal: this.stopper.signal,
      });
      await res.body.dump();
      // A registry that refuses the report (4xx: older version, bad data) would refuse it again: dropped, said once per report.
      if (res.statusCode >= 500) recorder.giveBack(report);
      else if (res.statusCode >= 400) this.log.warn({ status: res.statusCode, registry: base }, 'the registry refused the activity report');
    } catch (err) {
      recorder.giveBack(report);
      this.log.debug({ err }, 'activity report to the registry failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    // The last calls counted go out before the connections close (bounded by the request timeout).
    await this.reportActivity().catch(() => undefined);
    this.stopper.abort();
    this.firstDelivered?.();
    await this.loop;
    await this.persisting;
    await this.agent?.destroy();
  }

  describe(): string {
    if (this.following) return `registry ${this.following}`;
    const list = this.urls.join(', ');
    if (this.delivered?.fromCache) return `cached snapshot ${this.options.cacheFile} at revision ${this.delivered.revision} (registries ${list} not answering)`;
    return `registries ${list} (not connected)`;
  }

  /** How long no registry has been followed, ms (0 while one is). */
  unfollowedMs(now = Date.now()): number {
    return this.following !== undefined ? 0 : Math.max(0, now - this.unfollowedSince);
  }

  /** Whether a registry is followed, which, the delivered revision and the last error. */
  status(): RegistrySourceStatus {
    const status: RegistrySourceStatus = { connected: this.following !== undefined, revision: this.delivered?.revision ?? 0 };
    if (this.following) status.registry = this.following;
    if (this.options.gatewayId !== undefined) status.preferred = this.order[0]!;
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }

  private async run(): Promise<void> {
    let index = 0;
    let failures = 0;
    let rounds = 0;
    let failingBack = false;
    while (!this.stopper.signal.aborted) {
      const base = this.order[index] ?? this.order[0]!;
      const attempt: { connectedAt?: number; failback?: boolean } = {};
      try {
        await this.follow(base, attempt);
      } catch (err) {
        if (!this.stopper.signal.aborted && !attempt.failback) this.noteFailure(base, err, attempt.connectedAt !== undefined);
      }
      if (this.stopper.signal.aborted) break;
      const stable = attempt.connectedAt !== undefined && Date.now() - attempt.connectedAt >= STABLE_CONNECTION_MS;
      if (index === 0 && (failingBack || attempt.connectedAt !== undefined)) {
        // The preferred registry: a connection that held resets the hold-down; one that broke soon (or at once after a failback) grows it.
        this.failbackHoldMs = stable ? 0 : Math.min(MAX_FAILBACK_HOLD_MS, Math.max(this.failbackDelayMs(), this.failbackHoldMs * 2));
      }
      failingBack = attempt.failback === true;
      if (attempt.failback) {
        // Moving back to the preferred registry; the watch resumes after the last delivered revision.
        index = 0;
        failures = 0;
        rounds = 0;
        continue;
      }
      index = (index + 1) % this.order.length;
      if (stable) {
        failures = 0;
        rounds = 0;
        continue;
      }
      if (++failures < this.order.length) continue;
      failures = 0;
      rounds++;
      const delay = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** Math.min(rounds - 1, 20)) * (0.8 + Math.random() * 0.4);
      await sleep(Math.round(delay), undefined, { ref: false, signal: this.stopper.signal }).catch(() => undefined);
    }
  }

  private failbackDelayMs(): number {
    return this.options.failbackDelayMs ?? 5000;
  }

  /**
   * While following `base` (not the preferred registry): probe the preferred one's `/readyz`
   * with a growing pause; after two ready answers in a row, close this connection on purpose
   * (`attempt.failback`) so that `run` moves back. Ends with the connection.
   */
  private async probeFailback(base: string, connection: AbortController, signal: AbortSignal, attempt: { failback?: boolean }): Promise<void> {
    const preferred = this.order[0]!;
    const first = this.failbackDelayMs();
    if (base === preferred || first <= 0) return;
    const max = Math.max(first, this.options.maxFailbackDelayMs ?? 60_000);
    let delay = first + this.failbackHoldMs;
    let ready = 0;
    while (!signal.aborted) {
      const pause = ready > 0 ? first : delay;
      await sleep(Math.round(pause * (0.8 + Math.random() * 0.4)), undefined, { ref: false, signal }).catch(() => undefined);
      if (signal.aborted) return;
      if (await this.ready(preferred, signal)) {
        if (++ready < 2) continue;
        this.log.info({ registry: preferred, from: base, revision: this.delivered?.revision ?? 0 }, 'the preferred registry is ready again: moving back to it');
        attempt.failback = true;
        connection.abort(new Failback('moving back to the preferred registry'));
        return;
      }
      ready = 0;
      delay = Math.min(max, delay * 2);
    }
  }

  /** Whether a registry answers its `/readyz` with 200 (its database answers). */
  private async ready(base: string, signal: AbortSignal): Promise<boolean> {
    try {
      const res = await request(`${base}/readyz`, {
        dispatcher: this.agent, signal, headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs,
      });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  /** One connection: the snapshot if none was read yet, then the change stream until it fails. */
  private async follow(base: string, attempt: { connectedAt?: number; failback?: boolean }): Promise<void> {
    const connection = new AbortController();
    const signal = AbortSignal.any([connection.signal, this.stopper.signal]);
    try {
      if (this.needSnapshot) {
        this.accept(await this.fetchSnapshot(base, signal), base);
        this.needSnapshot = false;
      }
      const after = this.delivered?.revision ?? 0;
      const id = this.options.gatewayId ? `&gateway=${encodeURIComponent(this.options.gatewayId)}&revision=${after}` : '';
      const res = await request(`${base}/api/v1/watch/changes?after=${after}${id}`, {
        dispatcher: this.agent, signal, headers: this.headers({ accept: 'text/event-stream', 'last-event-id': String(after) }),
        headersTimeout: this.requestTimeoutMs, bodyTimeout: this.idleTimeoutMs,
      });
      if (res.statusCode !== 200) throw await httpError(res, 'GET /api/v1/watch/changes');
      const type = String(res.headers['content-type'] ?? '');
      if (!type.includes('text/event-stream')) {
        res.body.resume();
        throw new Error(`GET /api/v1/watch/changes answered ${type || 'no content type'}, not an event stream`);
      }
      attempt.connectedAt = Date.now();
      this.following = base;
      this.lastError = undefined;
      this.lastErrorByUrl.delete(base);
      this.log.info({ registry: base, after, preferred: this.order[0] }, 'following the registry');
      this.probeFailback(base, connection, signal, attempt).catch(() => undefined);
      const parser = new SseParser((event) => this.onEvent(event, base, signal, connection));
      for await (const chunk of res.body) parser.push(chunk as Buffer);
      parser.end();
      throw new Error('the registry ended the watch stream');
    } finally {
      if (this.following === base) {
        this.following = undefined;
        this.unfollowedSince = Date.now();
      }
      connection.abort();
      await this.refreshing;
    }
  }

  private onEvent(event: SseEvent, base: string, signal: AbortSignal, connection: AbortController): void {
    if (event.event === 'changes') {
      const revision = revisionOf(event);
      if (revision !== undefined && this.delivered && revision <= this.delivered.revision) return;
      this.refresh(base, signal, connection);
    } else if (event.event === 'resync') {
      this.refresh(base, signal, connection);
    }
  }

  /** Read a fresh snapshot; at most one read is in flight, and events arriving meanwhile cause one more. */
  private refresh(base: string, signal: AbortSignal, connection: AbortController): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          this.accept(await this.fetchSnapshot(base, signal), base);
        } while (this.refreshAgain && !signal.aborted);
      } catch (err) {
        // The stream may look alive while the registry cannot answer: drop it and fail over.
        if (!signal.aborted) connection.abort(err);
      } finally {
        this.refreshing = undefined;
        this.refreshAgain = false;
      }
    })();
  }

  private async fetchSnapshot(base: string, signal: AbortSignal): Promise<RegistrySnapshot> {
    const res = await request(`${base}/api/v1/watch/snapshot`, {
      dispatcher: this.agent, signal, headers: this.headers({ accept: 'application/json' }),
      headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs,
    });
    if (res.statusCode !== 200) throw await httpError(res, 'GET /api/v1/watch/snapshot');
    const body: unknown = await res.body.json();
    if (!isRegistrySnapshot(body)) throw new Error('GET /api/v1/watch/snapshot answered something that is not a snapshot');
    return body;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.options.token ? { ...extra, authorization: `Bearer ${this.options.token}` } : extra;
  }

  /** A snapshot from a registry: delivered when newer, or when it replaces the cached one. */
  private accept(snapshot: RegistrySnapshot, registry: string): void {
    const last = this.delivered;
    if (last) {
      if (snapshot.revision === last.revision) {
        last.fromCache = false;
        return;
      }
      if (snapshot.revision < last.revision) {
        if (!last.fromCache) return;
        this.log.warn({ registry, revision: snapshot.revision, cachedRevision: last.revision }, 'the registry is behind the cached snapshot; following the registry');
      }
    }
    this.deliver(snapshot, false, registry);
  }

  private deliver(snapshot: RegistrySnapshot, fromCache: boolean, registry: string): void {
    if (this.stopper.signal.aborted) return;
    this.delivered = { revision: snapshot.revision, fromCache };
    const withheld = (snapshot.withheld ?? []).join(', ');
    if (withheld !== this.withheld) {
      this.withheld = withheld;
      if (withheld !== '') {
        this.log.warn({ registry, servers: snapshot.withheld },
          'the registry withheld the secrets of these servers (their credentials read ******): give the registry token\'s user the gateway role on * (or editor/admin)');
      }
    }
    try {
      this.onSnapshot?.(snapshot);
      if (!fromCache) this.persist(snapshot, registry);
    } catch (err) {
      this.log.error({ err, registry, revision: snapshot.revision }, 'the gateway refused the snapshot; it is not cached');
    }
    this.firstDelivered?.();
  }

  private noteFailure(base: string, err: unknown, wasConnected: boolean): void {
    const message = errorMessage(err);
    this.lastError = `${base}: ${message}`;
    if (wasConnected) {
      this.log.warn({ registry: base, err: message }, 'lost the registry; failing over');
    } else if (this.lastErrorByUrl.get(base) !== message) {
      this.log.warn({ registry: base, err: message }, 'cannot follow the registry');
    } else {
      this.log.debug({ registry: base, err: message }, 'still cannot follow the registry');
    }
    this.lastErrorByUrl.set(base, message);
  }

  /** Write the newest delivered snapshot to the cache file; writes never overlap and older ones are skipped. */
  private persist(snapshot: RegistrySnapshot, registry: string): void {
    this.toPersist = { snapshot, registry };
    if (this.persisting) return;
    this.persisting = (async () => {
      for (let next = this.toPersist; next; next = this.toPersist) {
        this.toPersist = undefined;
        const file: CacheFile = { format: 'mcpgate-snapshot-cache', version: 1, savedAt: new Date().toISOString(), registry: next.registry, snapshot: next.snapshot };
        try {
          await writeFileAtomic(this.options.cacheFile, JSON.stringify(file));
        } catch (err) {
          this.log.warn({ err, cacheFile: this.options.cacheFile }, 'could not save the snapshot cache');
        }
      }
      this.persisting = undefined;
    })();
  }

  private async readCache(): Promise<CacheFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.options.cacheFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, cacheFile: this.options.cacheFile }, 'could not read the snapshot cache');
      return undefined;
    }
    try {
      const file = JSON.parse(text) as Partial<CacheFile>;
      if (file.format === 'mcpgate-snapshot-cache' && file.version === 1 && isRegistrySnapshot(file.snapshot)) {
        return { format: file.format, version: 1, savedAt: String(file.savedAt), registry: String(file.registry), snapshot: file.snapshot };
      }
    } catch {
      // reported below
    }
    this.log.warn({ cacheFile: this.options.cacheFile }, 'the snapshot cache is not a snapshot cache file; ignoring it');
    return undefined;
  }
}

/** Write `data` to `file` so that readers see the old or the new content, never a part. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

function revisionOf(event: SseEvent): number | undefined {
  try {
    const data = JSON.parse(event.data) as { revision?: unknown };
    if (Number.isSafeInteger(data.revision)) return data.revision as number;
  } catch {
    // fall back to the event id
  }
  const id = Number(event.id);
  return Number.isSafeInteger(id) ? id : undefined;
}

async function httpError(res: Dispatcher.ResponseData, what: string): Promise<Error> {
  const text = await res.body.text().catch(() => '');
  let detail = text.slice(0, 200);
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) detail = `${body.error.code}: ${body.error.message ?? ''}`;
  } catch {
    // not JSON: keep the text
  }
  return new Error(`${what} answered HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`);
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return code && !err.message.includes(code) ? `${code} ${err.message}${cause}` : `${err.message}${cause}`;
}
