/**
 * The gateway's Prometheus metrics, declared once (docs/observability.md lists them): MCP
 * requests and tool calls per namespace, server and tool, errors by kind, latency histograms,
 * open sessions and streams, the served snapshot (revision, age, size), readiness checks
 * (registry followed, Redis up), upstream instances and connections, limits and rate limits.
 *
 * Label values are bounded: namespaces, servers and tools come from the served snapshot (a
 * request reaches a method only on a known endpoint); a tool the snapshot does not list is
 * counted as `(unlisted)`, except live tools of upstream MCP servers, which get their own
 * label after a call that did not fail, up to `MAX_LIVE_TOOL_LABELS` per process. Callers refused
 * by a rate limit: consumer keys by name (the registry's), OAuth subjects by a short hash of
 * their stable id, up to `MAX_SUBJECT_LABELS` per process, then `token:other`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Aggregator } from 'prom-client';
import { tracingEnabled, tracingStats } from '../lib/tracing.js';
import type { RateLimitRefusal } from './auth/token-access.js';
import type { RequestObservation } from './mcp/eras/era.js';
import type { GatewaySnapshot } from './snapshot.js';

/** Most distinct live-tool labels (tools of upstream MCP servers the registry does not list). */
export const MAX_LIVE_TOOL_LABELS = 500;
/**
 * Most distinct OAuth subjects given a `caller` label of their own in rate-limit metrics (first
 * come: Prometheus series cannot be re-assigned, and the subjects that hit a limit first are in
 * practice those that keep hitting it); the others count as `token:other`.
 */
export const MAX_SUBJECT_LABELS = 100;
/** Most distinct `server/tool` pairs in rate-limit metrics; others count as `(unlisted)`. */
export const MAX_RATE_LIMITED_TOOLS = 500;
/** The caller label of the OAuth subjects past `MAX_SUBJECT_LABELS`. */
export const OTHER_SUBJECT = 'token:other';
/** The label of a tool the snapshot does not list. */
export const UNLISTED_TOOL = '(unlisted)';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the gauges read when scraped. */
export interface GatewayMetricSources {
  snapshot: () => GatewaySnapshot;
  openStreams: () => number;
  /** Sessions held (across replicas with Redis); rejects when the store is down. */
  openSessions: () => Promise<number>;
  /** The readiness checks by name (`snapshot`, `registry`, `redis`). */
  readiness: () => Record<string, boolean>;
}

/**
 * How `--workers N` combines a metric of the N worker processes (prom-client's AggregatorRegistry,
 * in the primary; docs/operations.md#metrics-across-workers). Counters, histograms and what each
 * process holds (streams, upstream connections) are summed; figures every worker reads from the
 * same place (sessions in Redis, the snapshot) take the max or min, so N workers do not count N
 * times; readiness and health take the min (0 when any worker fails); lag and age the max (the worst).
 * Metrics not named here are summed.
 */
export const WORKER_AGGREGATION: Readonly<Record<string, Aggregator>> = {
  mcpgate_gateway_open_sessions: 'max',
  mcpgate_gateway_snapshot_revision: 'min',
  mcpgate_gateway_snapshot_age_seconds: 'max',
  mcpgate_gateway_snapshot_servers: 'max',
  mcpgate_gateway_snapshot_tools: 'max',
  mcpgate_gateway_upstream_targets: 'min',
  mcpgate_gateway_ready: 'min',
  // prom-client's default metrics: one start time and version for the gateway; the slowest event loop.
  process_start_time_seconds: 'min',
  nodejs_version_info: 'first',
  nodejs_eventloop_lag_seconds: 'max',
  nodejs_eventloop_lag_min_seconds: 'min',
  nodejs_eventloop_lag_max_seconds: 'max',
  nodejs_eventloop_lag_mean_seconds: 'max',
  nodejs_eventloop_lag_stddev_seconds: 'max',
  nodejs_eventloop_lag_p50_seconds: 'max',
  nodejs_eventloop_lag_p90_seconds: 'max',
  nodejs_eventloop_lag_p99_seconds: 'max',
};

/** Set the workers' aggregation of every metric of `registry` that `WORKER_AGGREGATION` names (metrics added later included: call again). */
export function applyWorkerAggregation(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    const aggregator = WORKER_AGGREGATION[metric.name];
    if (aggregator) (metric as { aggregator: Aggregator }).aggregator = aggregator;
  }
}

type Child<T extends { labels: (...v: string[]) => unknown }> = ReturnType<T['labels']>;

/** The gateway's metrics on their own registry (`/metrics` of the gateway port). */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly mcpRequests: Counter<'namespace' | 'server' | 'method' | 'outcome'>;
  private readonly toolCalls: Counter<'namespace' | 'server' | 'tool' | 'outcome'>;
  private readonly toolErrors: Counter<'namespace' | 'server' | 'tool' | 'kind'>;
  private readonly toolDuration: Histogram<'namespace' | 'server' | 'tool' | 'outcome'>;
  private readonly requestDuration: Histogram<'namespace' | 'server' | 'method'>;
  private readonly httpRequests: Counter<'method' | 'status'>;
  private readonly errorAnswers: Counter<'code'>;
  private readonly limitHits: Counter<'limit'>;
  private readonly rateLimited: Counter<'server' | 'limit' | 'caller' | 'tool'>;
  private readonly limitedSubjects = new Set<string>();
  private readonly limitedTools = new Set<string>();
  private readonly revision: Gauge;
  private swappedAt = 0;
  private readonly liveTools = new Set<string>();
  /** Label children by their joined values: looked up once per label set, not hashed on every request. */
  private readonly children = new Map<string, unknown>();
  /** The series of MCP requests by namespace, server, method (`\n` + tool for tools/call) and outcome. */
  private readonly series = new Map<string, Map<string, Map<string, Map<string, RequestSeries>>>>();
  private seriesCount = 0;
  private readonly httpSeries = new Map<string, Map<number, CounterCell>>();
  private readonly mcpRequestCells: CounterCells;
  private readonly toolCallCells: CounterCells;
  private readonly httpRequestCells: CounterCells;
  private readonly requestDurationCells: HistogramCells;
  private readonly toolDurationCells: HistogramCells;

  constructor(sources: GatewayMetricSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ role: 'gateway' });
    collectDefaultMetrics({ register: this.registry });
    this.mcpRequests = new Counter({
      name: 'mcpgate_mcp_requests_total', help: 'MCP requests run (every method), by namespace, server, method and outcome (ok, error: a JSON-RPC error, tool_error: a tool result with isError).',
      labelNames: ['namespace', 'server', 'method', 'outcome'] as const, registers,
      collect: () => this.mcpRequestCells.flush(),
    });
    this.mcpRequestCells = new CounterCells(this.mcpRequests);
    this.requestDuration = new Histogram({
      name: 'mcpgate_mcp_request_duration_seconds', help: 'MCP request duration (every method), by namespace, server and method.',
      labelNames: ['namespace', 'server', 'method'] as const, buckets: LATENCY_BUCKETS, registers,
      collect: () => this.requestDurationCells.flush(),
    });
    this.requestDurationCells = new HistogramCells(this.requestDuration, LATENCY_BUCKETS);
    this.toolCalls = new Counter({
      name: 'mcpgate_tool_calls_total', help: 'tools/call requests by namespace, server, tool and outcome (ok, error, tool_error).',
      labelNames: ['namespace', 'server', 'tool', 'outcome'] as const, registers,
      collect: () => this.toolCallCells.flush(),
    });
    this.toolCallCells = new CounterCells(this.toolCalls);
    this.toolErrors = new Counter({
      name: 'mcpgate_tool_errors_total', help: 'Failed tools/call by namespace, server, tool and kind (a gateway error code such as RATE_LIMITED or UPSTREAM_TIMEOUT, or a tool failure: backend_status, backend_unavailable, backend_timeout, invalid_arguments…).',
      labelNames: ['namespace', 'server', 'tool', 'kind'] as const, registers,
    });
    this.toolDuration = new Histogram({
      name: 'mcpgate_tool_call_duration_seconds', help: 'tools/call duration by namespace, server, tool and outcome.',
      labelNames: ['namespace', 'server', 'tool', 'outcome'] as const, buckets: LATENCY_BUCKETS, registers,
      collect: () => this.toolDurationCells.flush(),
    });
    this.toolDurationCells = new HistogramCells(this.toolDuration, LATENCY_BUCKETS);
    this.httpRequests = new Counter({
      name: 'mcpgate_gateway_requests_total', help: 'HTTP requests by method and status.', labelNames: ['method', 'status'] as const, registers,
      collect: () => this.httpRequestCells.flush(),
    });
    this.httpRequestCells = new CounterCells(this.httpRequests);
    this.errorAnswers = new Counter({
      name: 'mcpgate_gateway_error_answers_total', help: 'Errors answered with an HTTP error status or on a started stream, by gateway error code: refusals before a method runs (UNAUTHORIZED, FORBIDDEN, SESSION_NOT_FOUND, ORIGIN_FORBIDDEN…).',
      labelNames: ['code'] as const, registers,
    });
    this.limitHits = new Counter({ name: 'mcpgate_gateway_limit_hits_total', help: 'Requests refused and connections closed by a gateway limit, by the limit\'s option name.', labelNames: ['limit'] as const, registers });
    this.rateLimited = new Counter({
      name: 'mcpgate_gateway_rate_limited_total',
      help: 'tools/call refused by a rate limit, by server (a virtual server\'s own when called through one), limit (perCaller, perTool), caller (a consumer key\'s name; '
        + '`token:` and 10 characters of the OAuth subject\'s hashed id, the first 100 subjects, then `token:other`; `anonymous` in open namespaces) and tool (the name the agent called; `(unlisted)` past 500 server/tool pairs).',
      labelNames: ['server', 'limit', 'caller', 'tool'] as const, registers,
    });
    this.revision = new Gauge({ name: 'mcpgate_gateway_snapshot_revision', help: 'Registry revision of the served snapshot.', registers });
    const age = (): number => (this.swappedAt === 0 ? 0 : (Date.now() - this.swappedAt) / 1000);
    new Gauge({
      name: 'mcpgate_gateway_snapshot_age_seconds', help: 'Seconds since the served snapshot was swapped in (a gateway cut off from its registries keeps serving an ageing one).', registers,
      collect() { this.set(age()); },
    });
    new Gauge({
      name: 'mcpgate_gateway_snapshot_servers', help: 'MCP servers in the served snapshot.', registers,
      collect() { this.set(sources.snapshot().servers.size); },
    });
    new Gauge({
      name: 'mcpgate_gateway_snapshot_tools', help: 'Tools listed in the served snapshot, by namespace.', labelNames: ['namespace'] as const, registers,
      collect() {
        this.reset();
        const byNs = new Map<string, number>();
        for (const s of sources.snapshot().servers.values()) byNs.set(s.namespace, (byNs.get(s.namespace) ?? 0) + s.tools.length);
        for (const [ns, n] of byNs) this.labels(ns).set(n);
      },
    });
    new Gauge({
      name: 'mcpgate_gateway_upstream_targets', help: 'Backend targets a server\'s requests may go to (healthy instances of its service, or its address), by namespace and server; 0: calls fail with backend_unavailable.',
      labelNames: ['namespace', 'server'] as const, registers,
      collect() {
        this.reset();
        for (const s of sources.snapshot().servers.values()) if (s.targets !== undefined) this.labels(s.namespace, s.name).set(s.targets());
      },
    });
    new Gauge({
      name: 'mcpgate_gateway_upstream_mcp_connections', help: 'Open connections (stdio processes included) to upstream MCP servers, by namespace and server.',
      labelNames: ['namespace', 'server'] as const, registers,
      collect() {
        this.reset();
        for (const s of sources.snapshot().servers.values()) if (s.upstream) this.labels(s.namespace, s.name).set(s.upstream.size);
      },
    });
    new Counter({
      name: 'mcpgate_gateway_trace_spans_total',
      help: 'Spans of the OpenTelemetry export (tracing on), by outcome: `exported` (the receiver accepted them), `dropped` (ended while the export queue was full), `failed` (their export request failed).',
      labelNames: ['outcome'] as const, registers,
      collect() {
        const { exported, dropped, failed } = tracingStats();
        if (!tracingEnabled() && exported + dropped + failed === 0) return;
        this.reset();
        this.labels('exported').inc(exported);
        this.labels('dropped').inc(dropped);
        this.labels('failed').inc(failed);
      },
    });
    new Gauge({
      name: 'mcpgate_gateway_open_streams', help: 'SSE streams this process holds open (2025 session streams, legacy SSE, 2026 listen streams).', registers,
      collect() { this.set(sources.openStreams()); },
    });
    new Gauge({
      name: 'mcpgate_gateway_open_sessions', help: 'MCP sessions held (2025 Streamable HTTP and legacy SSE); with Redis, across every replica sharing it. NaN while the session store does not answer.', registers,
      async collect() { this.set(await sources.openSessions().catch(() => Number.NaN)); },
    });
    new Gauge({
      name: 'mcpgate_gateway_ready', help: 'Readiness checks of /readyz by name, 1 passing, 0 failing: snapshot (a configuration is served), registry (a registry answered within registryGraceSeconds), redis (session store connected and subscribed).',
      labelNames: ['check'] as const, registers,
      collect() { for (const [check, ok] of Object.entries(sources.readiness())) this.labels(check).set(ok ? 1 : 0); },
    });
    applyWorkerAggregation(this.registry);
  }

  /** Count an MCP request as run (see `RequestObservation`). */
  request(o: RequestObservation): void {
    const tool = o.method === 'tools/call' ? this.toolLabel(o) : undefined;
    // The series of this namespace, server, method (tool) and outcome, found with lookups of the
    // observation's own strings (no label key joined per request).
    const byServer = lookup(lookup(this.series, o.namespace), o.server);
    const byOutcome = lookup(byServer, tool === undefined ? o.method : `\n${tool}`);
    let s = byOutcome.get(o.outcome);
    if (s === undefined) {
      if (this.seriesCount++ > 20_000) this.dropSeries();
      s = this.requestSeries(o, tool);
      byOutcome.set(o.outcome, s);
    }
    s.requests.pending++;
    observe(s.requestDuration, o.seconds);
    if (s.toolCalls === undefined) return;
    s.toolCalls.pending++;
    if (s.toolDuration) observe(s.toolDuration, o.seconds);
    if (o.outcome !== 'ok') this.child(this.toolErrors, o.namespace, o.server, tool as string, o.errorKind ?? o.outcome).inc();
  }

  /** The series one kind of request counts in (made once per label set). */
  private requestSeries(o: RequestObservation, tool: string | undefined): RequestSeries {
    const { namespace, server, method, outcome } = o;
    return {
      requests: this.mcpRequestCells.cell({ namespace, server, method, outcome }),
      requestDuration: this.requestDurationCells.cell({ namespace, server, method }),
      ...(tool !== undefined ? {
        toolCalls: this.toolCallCells.cell({ namespace, server, tool, outcome }),
        toolDuration: this.toolDurationCells.cell({ namespace, server, tool, outcome }),
      } : {}),
    };
  }

  /** Forget the lookups of the series (the cells, and so the counts, stay). */
  private dropSeries(): void {
    this.series.clear();
    this.seriesCount = 0;
  }

  /** The tool's label: listed tools by name, live upstream tools once they answered, else `(unlisted)`. */
  private toolLabel(o: RequestObservation): string {
    if (o.tool === undefined) return UNLISTED_TOOL;
    if (o.knownTool) return o.tool;
    const key = `${o.namespace}/${o.server}/${o.tool}`;
    if (this.liveTools.has(key)) return o.tool;
    if (o.outcome === 'error' || this.liveTools.size >= MAX_LIVE_TOOL_LABELS) return UNLISTED_TOOL;
    this.liveTools.add(key);
    return o.tool;
  }

  /** Count an HTTP request answered. */
  httpRequest(method: string, status: number): void {
    const byStatus = lookup(this.httpSeries, method);
    let cell = byStatus.get(status);
    if (cell === undefined) {
      // Bounded: node:http knows a fixed set of methods, and statuses are 100-599.
      cell = this.httpRequestCells.cell({ method, status: String(status) });
      byStatus.set(status, cell);
    }
    cell.pending++;
  }

  /** Count an error answered by code. */
  errorAnswer(code: string): void {
    this.child(this.errorAnswers, code).inc();
  }

  /** Count a limit hit. */
  limitHit(limit: string): void {
    this.child(this.limitHits, limit).inc();
  }

  /** Count a call refused by a rate limit, with bounded caller and tool labels. */
  rateLimit(r: RateLimitRefusal): void {
    let caller = r.kind === 'anonymous' ? 'anonymous' : r.name ?? r.kind;
    if (r.kind === 'token') {
      // `oauth:` + a hash of issuer and subject: a short piece of it names the subject without revealing it.
      caller = `token:${(r.name ?? '').replace(/^oauth:/, '').slice(0, 10)}`;
      if (!this.limitedSubjects.has(caller)) {
        if (this.limitedSubjects.size >= MAX_SUBJECT_LABELS) caller = OTHER_SUBJECT;
        else this.limitedSubjects.add(caller);
      }
    }
    let tool = r.tool;
    const pair = `${r.server}\n${tool}`;
    if (!this.limitedTools.has(pair)) {
      if (this.limitedTools.size >= MAX_RATE_LIMITED_TOOLS) tool = UNLISTED_TOOL;
      else this.limitedTools.add(pair);
    }
    this.rateLimited.labels(r.server, r.limit, caller, tool).inc();
  }

  /** A snapshot was swapped in. */
  snapshotSwapped(revision: number): void {
    this.revision.set(revision);
    this.swappedAt = Date.now();
  }

  private child<T extends { labels: (...v: string[]) => unknown }>(metric: T, ...values: string[]): Child<T> {
    const key = `${(metric as unknown as { name: string }).name}\n${values.join('\n')}`;
    let c = this.children.get(key);
    if (c === undefined) {
      if (this.children.size > 20_000) this.children.clear();
      c = metric.labels(...values);
      this.children.set(key, c);
    }
    return c as Child<T>;
  }
}

/** A counter series the request path counts in: a plain number, added to its prom-client counter when scraped. */
interface CounterCell {
  readonly labels: Readonly<Record<string, string>>;
  pending: number;
}

/** The cell of a label set among the cells of one metric, made on first use (keyed once per series, not per request). */
function cellIn<C>(cells: Map<string, C>, labels: Readonly<Record<string, string>>, make: () => C): C {
  const key = Object.values(labels).join('\n');
  let c = cells.get(key);
  if (c === undefined) {
    c = make();
    cells.set(key, c);
  }
  return c;
}

/**
 * The request path's counts of one prom-client counter, added to it when it is collected (a
 * scrape): prom-client's own `inc` checks and hashes the label values on every call (about a
 * microsecond each), which the busiest counters would pay on every request.
 */
class CounterCells {
  private readonly cells = new Map<string, CounterCell>();

  constructor(private readonly counter: Counter<string>) {}

  /** The series of `labels` (the caller keeps it; the same one for the same labels). */
  cell(labels: Record<string, string>): CounterCell {
    return cellIn(this.cells, labels, () => ({ labels, pending: 0 }));
  }

  /** Add the pending counts to the counter. */
  flush(): void {
    for (const c of this.cells.values()) {
      if (c.pending === 0) continue;
      this.counter.inc(c.labels, c.pending);
      c.pending = 0;
    }
  }
}

/** A histogram series the request path observes into: counts per bucket (not cumulative), sum and count. */
interface HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observe `value` in a cell (as prom-client does: the first bucket whose bound is at least the value; past the last, only sum and count). */
function observe(c: HistogramCell, value: number): void {
  const { bounds } = c;
  for (let i = 0; i < bounds.length; i++) {
    if (value <= (bounds[i] as number)) {
      (c.counts[i] as number)++;
      break;
    }
  }
  c.sum += value;
  c.count++;
}

/**
 * The request path's series of one prom-client histogram. prom-client's `observe` checks and
 * hashes the label values on every call; here a request adds to its cell, and the cells become
 * the histogram's series when it is collected. The histogram is observed through its cells
 * only: they are written as prom-client keeps its series (`hashMap`: by label set, `{labels,
 * bucketValues (per upper bound), sum, count}`), which its own export then reads and formats
 * (test/observability.test.ts checks the exposition).
 */
class HistogramCells {
  private readonly cells = new Map<string, HistogramCell>();

  constructor(private readonly histogram: Histogram<string>, private readonly bounds: readonly number[]) {}

  /** The series of `labels` (the caller keeps it; the same one for the same labels). */
  cell(labels: Record<string, string>): HistogramCell {
    return cellIn(this.cells, labels, () => ({ labels, bounds: this.bounds, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 }));
  }

  /** Write the cells as the histogram's series. */
  flush(): void {
    const series: Record<string, unknown> = {};
    for (const [key, c] of this.cells) {
      const bucketValues: Record<number, number> = {};
      for (let i = 0; i < this.bounds.length; i++) bucketValues[this.bounds[i] as number] = c.counts[i] as number;
      series[key] = { labels: c.labels, bucketValues, sum: c.sum, count: c.count };
    }
    (this.histogram as unknown as { hashMap: Record<string, unknown> }).hashMap = series;
  }
}

/** The series one kind of MCP request counts in. */
interface RequestSeries {
  requests: CounterCell;
  requestDuration: HistogramCell;
  toolCalls?: CounterCell | undefined;
  toolDuration?: HistogramCell | undefined;
}

/** The map under `key`, made on first use. */
function lookup<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let m = map.get(key);
  if (m === undefined) {
    m = new Map();
    map.set(key, m);
  }
  return m;
}
