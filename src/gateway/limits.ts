/**
 * The gateway's bounds on what one client can make it hold or do: sessions, batches, JSON
 * nesting, slow connections. Every one is a configuration option (src/config/config.ts) and is
 * listed with its default in docs/security.md, "Gateway limits".
 */

/** Bounds of the gateway; times in milliseconds, sizes in bytes, 0 = no cap where a cap may be off. */
export interface GatewayLimits {
  /** Sessions (2025 and legacy SSE) the gateway holds; with Redis, across all replicas. The least recently used idle one makes room. */
  maxSessions: number;
  /** Sessions one consumer key may hold; 0: no cap. */
  maxSessionsPerKey: number;
  /** Sessions one client address may hold; 0: no cap. */
  maxSessionsPerAddress: number;
  /** How long a session must have been unused before it may be evicted to make room. */
  sessionEvictIdleMs: number;
  /** Largest `clientInfo` + `capabilities` (as JSON) a session keeps; a larger initialize is refused. */
  sessionInfoMaxBytes: number;
  /** Messages in one JSON-RPC batch. */
  maxBatchEntries: number;
  /** Size of a batch's whole answer. */
  maxBatchAnswerBytes: number;
  /** Requests of one batch run at once. */
  batchConcurrency: number;
  /** Nesting of arrays and objects in a request body. */
  maxJsonDepth: number;
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (not the answer: streams stay open). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** A connection whose client takes no byte of a pending answer or stream for this long is closed. */
  streamWriteTimeoutMs: number;
  /** Bytes a stream may have waiting for a slow client before it is closed. */
  streamMaxBufferedBytes: number;
}

/** The defaults (docs/security.md lists them). */
export const DEFAULT_LIMITS: Readonly<GatewayLimits> = {
  maxSessions: 10_000,
  maxSessionsPerKey: 1000,
  maxSessionsPerAddress: 1000,
  sessionEvictIdleMs: 60_000,
  sessionInfoMaxBytes: 4096,
  maxBatchEntries: 100,
  maxBatchAnswerBytes: 16 * 1024 * 1024,
  batchConcurrency: 8,
  maxJsonDepth: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  streamWriteTimeoutMs: 30_000,
  streamMaxBufferedBytes: 1024 * 1024,
};

/** The session caps a SessionStore enforces (a subset of the limits). */
export type SessionLimits = Pick<GatewayLimits, 'maxSessions' | 'maxSessionsPerKey' | 'maxSessionsPerAddress' | 'sessionEvictIdleMs'>;

/** No session caps (a store built without limits, as in unit tests). */
export const NO_SESSION_LIMITS: Readonly<SessionLimits> = { maxSessions: 0, maxSessionsPerKey: 0, maxSessionsPerAddress: 0, sessionEvictIdleMs: 0 };

/** The defaults with `over`'s defined members. */
export function withDefaults(over: Partial<GatewayLimits> | undefined): GatewayLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(over ?? {})) if (v !== undefined) (out as Record<string, number>)[k] = v;
  return out;
}
