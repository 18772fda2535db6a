/**
 * The REST adapter of the `ToolExecutor` port: runs a Higress/Nacos REST-to-MCP tool
 * (COMPAT.md §3). Its parts, one concern each:
 *
 * - `compile.ts`: every template parsed and the arguments' places decided, once per snapshot;
 * - `request.ts` (with `url.ts`): a call's arguments placed in the URL, headers and body;
 * - `credentials.ts`: the security scheme's credential and the agent's forwarded credentials;
 * - `transport.ts`: the request sent with undici, with failover across instances;
 * - `response.ts`: the backend's answer shaped into an MCP tool result.
 */
import type { Dispatcher } from 'undici';
import type { CredentialPassthrough, McpServerSpec, Tool } from '../../model/model.js';
import { TemplateError } from '../../template/index.js';
import type { RenderClient } from '../../template/index.js';
import type { ArgumentHostAccess } from '../address-guard.js';
import type { CallToolResult, ToolCallRequest, ToolExecutor, Upstream } from '../executor.js';
import { compileRestTemplate } from './compile.js';
import { RestCredentials } from './credentials.js';
import { RenderFault, RestRequest } from './request.js';
import type { BuiltRequest } from './request.js';
import { RestResponse, renderFailure, textResult } from './response.js';
import { RestTransport } from './transport.js';
import type { Json } from './wire.js';

/** Per-call timeout when the tool sets none. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Text of a result is cut at this many UTF-8 bytes (a marker tells how much was left out). */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024;
/** A backend answer larger than this is not read (isError). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** An image or audio answer larger than this is not passed on (isError): base64 makes it a third larger, per client. */
export const DEFAULT_MAX_MEDIA_BYTES = 1024 * 1024;

/** What `createRestExecutor` needs: the tool, its server's settings, and where to send requests. */
export interface RestExecutorOptions {
  tool: Tool;
  serverName: string;
  spec: Pick<McpServerSpec, 'config' | 'securitySchemes'>;
  passthrough: CredentialPassthrough;
  upstream: Upstream | undefined;
  dispatcher: Dispatcher;
  /** Default 30 000 ms; the tool's `timeoutMs` wins. */
  defaultTimeoutMs?: number | undefined;
  /** Allow requests to link-local and cloud-metadata addresses (off by default). */
  allowMetadataAddresses?: boolean | undefined;
  /**
   * How hosts that arguments choose (a URL template whose host has an argument in it) are
   * checked and connected to, under the server's policy; without it such hosts are refused.
   */
  argumentHosts?: ArgumentHostAccess | undefined;
  /** Default 64 KiB. */
  maxTextBytes?: number | undefined;
  /** Default 16 MiB. */
  maxResponseBytes?: number | undefined;
  /** Image and audio answers over this many bytes are refused (isError); default 1 MiB. */
  maxMediaBytes?: number | undefined;
}

class RestToolExecutor implements ToolExecutor {
  private readonly config: Json;
  private readonly direct: boolean;
  private readonly credentials: RestCredentials;
  private readonly request: RestRequest;
  private readonly response: RestResponse;
  private readonly transport: RestTransport;

  constructor(opts: RestExecutorOptions) {
    const { tool } = opts;
    const compiled = compileRestTemplate(tool);
    this.config = opts.spec.config as Json;
    this.direct = compiled.direct;
    this.credentials = new RestCredentials(tool.name, tool.template?.request?.security, opts.spec.securitySchemes, opts.passthrough);
    const allowList = opts.spec.config['allowedArgumentHosts'];
    const allowedArgumentHosts = Array.isArray(allowList) ? allowList.filter((h): h is string => typeof h === 'string') : [];
    this.request = new RestRequest(compiled, this.credentials, opts.argumentHosts, allowedArgumentHosts);
    this.response = new RestResponse(compiled.response, opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES, opts.maxMediaBytes ?? DEFAULT_MAX_MEDIA_BYTES);
    this.transport = new RestTransport({
      upstream: opts.upstream, dispatcher: opts.dispatcher, argumentHosts: opts.argumentHosts, method: compiled.method, idempotent: compiled.idempotent,
      timeoutMs: tool.template?.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, checkAddresses: opts.allowMetadataAddresses !== true,
    });
  }

  async execute(call: ToolCallRequest): Promise<CallToolResult> {
    if (call.cancellation.cancelled) {
      if (call.report) call.report.errorKind = 'cancelled';
      return textResult('cancelled', true);
    }
    const args = this.request.collectArgs(call.args);
    const data = { args, config: this.config } as unknown as Json;
    const credential = this.credentials.take(call);
    const client = renderClientOf(call);
    if (this.direct) return this.response.direct(data, client);

    let built: BuiltRequest;
    try {
      built = this.request.build(args, data, call.clientHeaders, credential, client);
    } catch (err) {
      if (call.report) call.report.errorKind = 'template_error';
      if (err instanceof TemplateError) return renderFailure(err);
      if (err instanceof RenderFault) return textResult(err.message, true);
      throw err;
    }
    if (built.argumentHost) await this.request.checkArgumentHost(built.origin as string, built.argumentHost);
    return this.transport.send(built, call.cancellation, this.response, client, call.report, call.span);
  }
}

/** What `getSocketIP` / `getRealIP` read of a call: its connection's peer and its X-Forwarded-For header. */
function renderClientOf(call: ToolCallRequest): RenderClient | undefined {
  const forwarded = call.clientHeaders['x-forwarded-for'];
  const forwardedFor = Array.isArray(forwarded) ? forwarded.join(', ') : forwarded;
  if (call.clientAddress === undefined && forwardedFor === undefined) return undefined;
  return { socketAddress: call.clientAddress, forwardedFor };
}

/**
 * Builds the executor of one REST tool. Every template is parsed here (a `TemplateError`
 * propagates, so the caller refuses the tool); a missing security scheme is a
 * `VALIDATION_FAILED` AppError.
 */
export function createRestExecutor(opts: RestExecutorOptions): ToolExecutor {
  return new RestToolExecutor(opts);
}
