/** tools/list pages: the cursor the gateway hands out (an offset) and one page of serialised entries. */
import { GatewayError } from '../errors.js';
import { JsonText } from './jsonrpc.js';

/** Largest tools/list page. */
export const TOOLS_PAGE_SIZE = 500;

function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null) return 0;
  if (typeof cursor !== 'string') throw new GatewayError('INVALID_PARAMS', 'Invalid params: cursor must be a string');
  if (cursor === '') return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new GatewayError('INVALID_PARAMS', 'Invalid params: unknown cursor');
  return Number(m[1]);
}

/**
 * Serialised pages by tool list and offset: the lists the request path passes are the snapshot's
 * (or a virtual catalogue's) immutable arrays, so a warm tools/list joins nothing.
 */
const pages = new WeakMap<readonly { listEntry: JsonText }[], Map<number, JsonText>>();

/** The page of `tools` a cursor asks for, with the cursor of the next page when there is one. */
export function toolsPage(tools: readonly { listEntry: JsonText }[], cursor: unknown): Record<string, unknown> {
  const start = decodeCursor(cursor);
  if (start > tools.length) throw new GatewayError('INVALID_PARAMS', 'Invalid params: unknown cursor');
  const end = Math.min(start + TOOLS_PAGE_SIZE, tools.length);
  let byStart = pages.get(tools);
  if (!byStart) pages.set(tools, byStart = new Map());
  let page = byStart.get(start);
  if (!page) byStart.set(start, page = JsonText.array(tools.slice(start, end).map((t) => t.listEntry)));
  return {
    tools: page,
    ...(end < tools.length ? { nextCursor: Buffer.from(`o:${end}`).toString('base64url') } : {}),
  };
}
