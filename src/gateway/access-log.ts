/**
 * The gateway's per-request log line (`msg: "mcp request"`, `component: "access"`): one JSON
 * line per MCP request run, with what an operator greps for: method, namespace, server, tool,
 * outcome and error kind, duration, session, request id (`reqId`: the observation's, else the
 * logger's request scope) and trace id. A failed request is logged at `warn` with the backend's status and the
 * failure's text (the one line a backend failure gets); a successful one at `info`, sampled by
 * `accessLogSampleRatio`. Schema and examples: docs/observability.md.
 */
import { scrubText } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import type { RequestObservation } from './mcp/eras/era.js';

/** Which requests get a line: every one, failed ones only, or none. */
export type AccessLogMode = 'all' | 'errors' | 'off';

/** Writes the access log lines. */
export class AccessLog {
  private readonly logger: Logger;

  /**
   * `logger`'s lines go through the process logger's generic protection (pino's redaction
   * paths, wildcard ones included, and a scrub of every value at any depth), which costs several
   * times the rest of writing a line; this line is built here of known fields, so it skips both
   * (a child without redaction paths and with no `log` formatter) and scrubs the only free text
   * it holds: what the agent named (tool, JSON-RPC id) and a failure's detail. The message still
   * goes through the logger's hook, and a request id the observation lacks comes from its mixin.
   */
  constructor(logger: Logger, private readonly mode: AccessLogMode, private readonly sampleRatio: number) {
    this.logger = logger.child({}, { redact: [], formatters: { log: (line: object) => line } });
  }

  /** Log one request as its mode and sampling say. */
  write(o: RequestObservation): void {
    if (this.mode === 'off') return;
    const failed = o.outcome !== 'ok';
    if (!failed && (this.mode === 'errors' || (this.sampleRatio < 1 && Math.random() >= this.sampleRatio))) return;
    if (!failed && !this.logger.isLevelEnabled('info')) return;
    const line: Record<string, unknown> = {
      method: scrubText(o.method.slice(0, 200)), namespace: o.namespace, server: o.server,
      ...(o.tool !== undefined ? { tool: scrubText(o.tool.slice(0, 200)) } : {}),
      outcome: o.outcome, ...(o.errorKind !== undefined ? { errorKind: o.errorKind } : {}),
      ms: Math.round(o.seconds * 10_000) / 10,
      ...(o.sessionId !== undefined ? { session: o.sessionId } : {}),
      ...(o.rpcId !== undefined ? { rpcId: typeof o.rpcId === 'string' ? scrubText(o.rpcId.slice(0, 128)) : o.rpcId } : {}),
      ...(o.requestId !== undefined ? { reqId: o.requestId } : {}),
      ...(o.traceId !== undefined ? { trace_id: o.traceId } : {}),
      ...(o.report?.backendStatus !== undefined ? { backendStatus: o.report.backendStatus } : {}),
      ...(failed && o.report?.detail !== undefined ? { detail: scrubText(o.report.detail) } : {}),
    };
    if (failed) this.logger.warn(line, 'mcp request');
    else this.logger.info(line, 'mcp request');
  }
}
