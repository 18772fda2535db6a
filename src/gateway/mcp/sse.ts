/** Server-sent events as the MCP transports use them: the answer's headers and a message event's text. */

/**
 * Headers of an SSE answer (`x-accel-buffering: no` keeps proxies from holding events back). No
 * `Connection` header: Node writes `keep-alive`, or `close` while the gateway drains.
 */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/** One `message` event carrying a JSON-RPC message, with its id when it has one. */
export function messageEvent(data: string, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: message\ndata: ${data}\n\n`;
}
