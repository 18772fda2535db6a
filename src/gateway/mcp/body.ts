/**
 * Reading a request's JSON body under the gateway's limits: its content type, its size (declared
 * or streamed) and its nesting depth, which is checked by a scan of the bytes before JSON.parse:
 * parsing a few MiB of `[[[[…` blocks the event loop for seconds, the scan takes a pass over them.
 */
import type { IncomingMessage } from 'node:http';
import { jsonDepthExceeded } from '../../lib/json-depth.js';
import { GatewayError } from '../errors.js';

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
  const text = body.toString('utf8');
  if (jsonDepthExceeded(text, limits.maxJsonDepth) >= 0) {
    throw new GatewayError('JSON_TOO_DEEP', `Parse error: the body nests arrays and objects deeper than ${limits.maxJsonDepth} levels (maxJsonDepth)`, { maxJsonDepth: limits.maxJsonDepth });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatewayError('PARSE_ERROR', `Parse error: ${(err as Error).message}`);
  }
}
