/** JSON-RPC 2.0 message shapes and helpers. */
import { GatewayError } from '../errors.js';
import { currentRequestId } from '../../lib/request-context.js';

/** A request or notification id. */
export type JsonRpcId = string | number;

/** A parsed, shape-checked JSON-RPC message. */
export type JsonRpcMessage =
  | { kind: 'request'; id: JsonRpcId; method: string; params: Record<string, unknown> }
  | { kind: 'notification'; method: string; params: Record<string, unknown> }
  | { kind: 'response'; id: JsonRpcId | null };

/** Check one message's shape; throws GatewayError INVALID_REQUEST naming what is wrong. */
export function classify(raw: unknown): JsonRpcMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GatewayError('INVALID_REQUEST', 'Invalid Request: a JSON-RPC message must be an object');
  const m = raw as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') throw new GatewayError('INVALID_REQUEST', "Invalid Request: 'jsonrpc' must be \"2.0\"");
  const hasId = 'id' in m && m.id !== undefined;
  if (hasId && m.id !== null && typeof m.id !== 'string' && !(typeof m.id === 'number' && Number.isFinite(m.id))) {
    throw new GatewayError('INVALID_REQUEST', "Invalid Request: 'id' must be a string or a number");
  }
  if (typeof m.method !== 'string') {
    if ('result' in m || 'error' in m) return { kind: 'response', id: (m.id ?? null) as JsonRpcId | null };
    throw new GatewayError('INVALID_REQUEST', "Invalid Request: 'method' must be a string");
  }
  if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
    throw new GatewayError('INVALID_REQUEST', "Invalid Request: 'params' must be an object");
  }
  const params = (m.params ?? {}) as Record<string, unknown>;
  if (!hasId) return { kind: 'notification', method: m.method, params };
  if (m.id === null) throw new GatewayError('INVALID_REQUEST', "Invalid Request: 'id' must not be null");
  return { kind: 'request', id: m.id as JsonRpcId, method: m.method, params };
}

/** The id of a raw message, when it has a usable one (for error answers). */
export function idOf(raw: unknown): JsonRpcId | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/**
 * JSON serialised once and spliced into answers as it is. A tool's tools/list entry is
 * serialised when the tool is compiled: serialising a 500-tool page on every tools/list was
 * over half of its CPU. Anything else that serialises one gets the same JSON back.
 */
export class JsonText {
  constructor(readonly text: string) {}

  /** A JSON array of the given elements. */
  static array(items: readonly JsonText[]): JsonText {
    let text = '[';
    for (let i = 0; i < items.length; i++) text += i === 0 ? (items[i] as JsonText).text : `,${(items[i] as JsonText).text}`;
    return new JsonText(`${text}]`);
  }

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * A JSON-RPC result message, the same text as `JSON.stringify({ jsonrpc: '2.0', id, result })`
 * (members in the same order, `undefined` ones left out), made member by member: `JsonText`
 * members are spliced in as they are, and a `content` of text blocks (a REST tool's result) is
 * written around each text's JSON string, without walking the blocks through the generic
 * serialiser (about a third of the answer's serialisation on a REST tools/call).
 * `leading`: JSON text of members written before the result's own (`"a":1,"b":2`), which the
 * result must not have (the 2026-07-28 era's, serialised once per server).
 */
export function resultMessage(id: JsonRpcId, result: Record<string, unknown>, leading?: string): string {
  if (typeof result.toJSON === 'function') {
    if (leading === undefined) return JSON.stringify({ jsonrpc: '2.0', id, result });
    const own = JSON.stringify(result);
    return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{${own === '{}' ? leading : `${leading},${own.slice(1, -1)}`}}}`;
  }
  const keys = Object.keys(result);
  let members = leading ?? '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = result[key];
    const json = value instanceof JsonText ? value.text : key === 'content' ? textBlocksJson(value) ?? JSON.stringify(value) : JSON.stringify(value);
    if (json === undefined) continue; // undefined, a function or a symbol: left out, as JSON.stringify does
    members += members === '' ? `${memberName(key)}${json}` : `,${memberName(key)}${json}`;
  }
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{${members}}}`;
}

/** `"name":` of result members seen (a result's members are a handful of names: bounded all the same, they may come from upstream servers). */
const memberNames = new Map<string, string>();

/** A member's name as JSON, and its colon. */
function memberName(key: string): string {
  let name = memberNames.get(key);
  if (name === undefined) {
    name = `${JSON.stringify(key)}:`;
    if (key.length <= 64) {
      if (memberNames.size >= 256) memberNames.clear();
      memberNames.set(key, name);
    }
  }
  return name;
}

/**
 * The JSON of an array of plain `{ type: 'text', text }` objects (those two members, in that
 * order, nothing else), as JSON.stringify writes it; undefined for anything else.
 */
function textBlocksJson(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  let json = '[';
  for (let i = 0; i < value.length; i++) {
    const block: unknown = value[i];
    if (typeof block !== 'object' || block === null || Object.getPrototypeOf(block) !== Object.prototype) return undefined;
    const keys = Object.keys(block);
    const { type, text } = block as { type?: unknown; text?: unknown };
    if (keys.length !== 2 || keys[0] !== 'type' || keys[1] !== 'text' || type !== 'text' || typeof text !== 'string') return undefined;
    json += `${i === 0 ? '' : ','}{"type":"text","text":${JSON.stringify(text)}}`;
  }
  return `${json}]`;
}

/** A JSON-RPC error message for a GatewayError, naming the request it answers (`requestId`: the current scope's when not given). */
export function errorMessage(id: JsonRpcId | null, err: GatewayError, requestId: string | undefined = currentRequestId()): string {
  const data = withRequestId(err.data, requestId);
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.rpcCode, message: err.message, ...(data !== undefined ? { data } : {}) } });
}

/** An error's `data` with the id of the request being served (`requestId`), to find its log lines. */
function withRequestId(data: unknown, requestId: string | undefined): unknown {
  if (requestId === undefined) return data;
  if (data === undefined) return { requestId };
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? { ...data, requestId } : data;
}

/** A JSON-RPC notification message. */
export function notificationMessage(method: string, params?: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
}
