/**
 * Reading a request's JSON body under the gateway's limits: its content type, its size (declared
 * or streamed) and its nesting depth, which is checked by a scan of the bytes before JSON.parse:
 * parsing a few MiB of `[[[[…` blocks the event loop for seconds, the scan takes a pass over them.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests arrays and objects deeper than `max` (brackets inside strings do not
 * count). Malformed text is left to JSON.parse; the scan only bounds its work.
 */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  // A body shorter than the limit cannot nest deeper than it.
  if (body.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** Read and parse a JSON body: 415, 413, -32700 (with `JSON_TOO_DEEP` for nesting) as GatewayErrors. */
export async function readJsonBody(req: IncomingMessage, limits: { bodyLimitBytes: number; maxJsonDepth: number }): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type: Content-Type must be application/json');
  const limit = limits.bodyLimitBytes;
  const tooLarge = () => new GatewayError('PAYLOAD_TOO_LARGE', `Payload Too Large: the body is over ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that goes away mid-body: 'close' without 'end' (after 'end' this settles nothing).
    req.once('close', () => reject(new GatewayError('INVALID_REQUEST', 'Invalid Request: the client closed the request before its body ended')));
  });
  if (nestsDeeperThan(body, limits.maxJsonDepth)) {
    throw new GatewayError('JSON_TOO_DEEP', `Parse error: the body nests arrays and objects deeper than ${limits.maxJsonDepth} levels (maxJsonDepth)`, { maxJsonDepth: limits.maxJsonDepth });
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new GatewayError('PARSE_ERROR', `Parse error: ${(err as Error).message}`);
  }
}
