/**
 * Reading a request's JSON body under the gateway's limits: its content type, its size (declared
 * or streamed) and its nesting depth, which is checked by a scan of the bytes before JSON.parse:
 * parsing a few MiB of `[[[[…` blocks the event loop for seconds, the scan takes a pass over them.
 */
import type { IncomingMessage } from 'node:http';
import { jsonDepthExceeded } from '../../lib/json-depth.js';
import { GatewayError } from '../errors.js';

/**
 * Read and parse a JSON body: 415, 413, -32700 (with `JSON_TOO_DEEP` for nesting) as GatewayErrors.
 * One promise and three listeners a request (neither an `async` wrapper nor an `'error'` listener:
 * without one, node:http reports a broken request as `'close'` alone, answered as a client that
 * went away); the listeners stay until the request is collected, a flag makes them idle once the
 * body has ended.
 */
export function readJsonBody(req: IncomingMessage, limits: { bodyLimitBytes: number; maxJsonDepth: number }): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) return Promise.reject(new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type: Content-Type must be application/json'));
  const limit = limits.bodyLimitBytes;
  // Answered with `Connection: close`: the rest of the body is not read (and discarded) first.
  const tooLarge = () => new GatewayError('PAYLOAD_TOO_LARGE', `Payload Too Large: the body is over ${limit} bytes`, undefined, { connection: 'close' });
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge());
  return new Promise<unknown>((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      settled = true;
      chunks = [];
      req.resume();
      reject(tooLarge());
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      try {
        resolve(parseJson(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), limits.maxJsonDepth));
      } catch (err) {
        reject(err);
      }
    });
    // A client that goes away mid-body: 'close' without 'end'.
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new GatewayError('INVALID_REQUEST', 'Invalid Request: the client closed the request before its body ended'));
    });
  });
}

/** A body's JSON value, its nesting checked first. */
function parseJson(body: Buffer, maxJsonDepth: number): unknown {
  const text = body.toString('utf8');
  if (jsonDepthExceeded(text, maxJsonDepth) >= 0) {
    throw new GatewayError('JSON_TOO_DEEP', `Parse error: the body nests arrays and objects deeper than ${maxJsonDepth} levels (maxJsonDepth)`, { maxJsonDepth });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatewayError('PARSE_ERROR', `Parse error: ${(err as Error).message}`);
  }
}
