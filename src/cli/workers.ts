/**
 * `mcpgate gateway --workers N`: the gateway on N processes sharing its port (node:cluster; the
 * primary accepts connections and hands them to the workers in turn). The primary runs no
 * gateway: it starts the workers, starts again one that dies (after a pause that grows while they
 * keep dying), and on SIGTERM passes it on to every worker, which drains as a single gateway does,
 * then exits 0 once they have all exited.
 *
 * Workers share sessions, delivery and streams exactly as replicas do: through Redis (a session
 * opened on one worker continues on another). Sessions in memory would be each worker's own, and
 * a session's next request would reach another worker half the time: N > 1 without Redis is
 * refused (docs/operations.md#every-core).
 *
 * Metrics: each worker counts its own. `/metrics`, whichever worker answers it, asks the primary,
 * which gathers every worker's registry (prom-client's AggregatorRegistry: summed, unless the metric
 * is named in `WORKER_AGGREGATION` — max, min or first for figures every worker reads alike).
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Logger } from '../lib/logger.js';
import { applyWorkerAggregation } from '../gateway/metrics.js';

/** The workers a gateway runs: the option, else every core when sessions are in Redis, else 1. */
export function workerCount(config: Config): number {
  if (config.role !== 'gateway') return 1;
  const n = config.workers ?? (config.redis ? availableParallelism() : 1);
  if (n > 1 && !config.redis) {
    throw new ConfigError(`invalid workers: ${n} worker processes need redis (sessions are shared between processes as between replicas); set --redis, or --workers 1`);
  }
  return n;
}

/** Whether this process is a worker of a gateway primary. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker that stopped: close the channel to the primary (it would keep the process alive). */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}

/** This worker's number (1…N), or undefined outside a cluster. */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

const METRICS_REQUEST = 'mcpgate:metrics?';
const METRICS_ANSWER = 'mcpgate:metrics=';

/** Longest pause before starting again a worker that keeps dying, ms. */
const MAX_RESPAWN_MS = 30_000;

/**
 * Run the primary: fork `n` workers (the same command line: each starts the gateway role) and
 * keep them running until SIGTERM/SIGINT; resolves with the exit code once every worker exited.
 */
export async function runPrimary(n: number, logger: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let failures = 0;
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (typeof message !== 'string' || !message.startsWith(METRICS_REQUEST)) return;
      const id = message.slice(METRICS_REQUEST.length);
      aggregator.clusterMetrics().then(
        (text) => worker.send(`${METRICS_ANSWER}${id}\n${text}`),
        (err: unknown) => { logger.warn({ err }, 'could not gather the workers\' metrics'); worker.send(`${METRICS_ANSWER}${id}\n`); },
      );
    });
    worker.once('listening', () => { failures = 0; });
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    failures++;
    const pauseMs = Math.min(MAX_RESPAWN_MS, 250 * 2 ** Math.min(failures - 1, 7));
    logger.error({ worker: worker.id, code, signal, restartInMs: pauseMs }, 'gateway worker died: starting another');
    setTimeout(() => { if (!stopping) fork(); }, pauseMs).unref();
  });
  for (let i = 0; i < n; i++) fork();
  logger.info({ workers: n }, 'gateway primary: workers started');
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      logger.info({ signal, workers: workers.length, again: stopping }, 'gateway primary: passing the signal to the workers');
      stopping = true;
      // SIGTERM is passed on (Kubernetes and tini signal the primary alone); a terminal's Ctrl-C
      // already reached every process of the group.
      if (signal === 'SIGTERM') for (const w of workers) w.process.kill(signal);
      const left = () => Object.values(cluster.workers ?? {}).filter(Boolean).length;
      if (left() === 0) resolve(0);
      else cluster.on('exit', () => { if (left() === 0) resolve(0); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * In a worker: every worker's metrics, gathered by the primary, as `/metrics` answers them (the
 * worker's own registry is registered for the primary to ask). Outside a cluster: undefined.
 */
export function clusterMetrics(own: Registry): (() => Promise<string>) | undefined {
  if (!cluster.isWorker || !process.send) return undefined;
  // Constructing one installs the worker's answer to the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([own]);
  const waiting = new Map<string, (text: string) => void>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (typeof message !== 'string' || !message.startsWith(METRICS_ANSWER)) return;
    const cut = message.indexOf('\n');
    const id = message.slice(METRICS_ANSWER.length, cut);
    waiting.get(id)?.(message.slice(cut + 1));
    waiting.delete(id);
  });
  return () => new Promise<string>((resolve) => {
    const id = String(next++);
    // Metrics registered since the last scrape get their aggregation too.
    applyWorkerAggregation(own);
    // The primary answers within the aggregator's own timeout; own figures if it does not.
    const timer = setTimeout(() => { waiting.delete(id); own.metrics().then(resolve, () => resolve('')); }, 10_000);
    waiting.set(id, (text) => { clearTimeout(timer); resolve(text); });
    process.send?.(`${METRICS_REQUEST}${id}`);
  });
}
