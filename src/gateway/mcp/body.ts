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
  // Answered with `Connection: close`: the rest of the body is not read (and discarded) first.
  const tooLarge = () => new GatewayError('PAYLOAD_TOO_LARGE', `Payload Too Large: the body is over ${limit} bytes`, undefined, { connection: 'close' });
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.resume();
      reject(tooLarge());
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // A client that goes away mid-body: 'close' without 'end'. (The listeners go with 'end', so
    // that a request's close makes no error object once its body was read.)
    const onClose = () => {
      done();
      reject(new GatewayError('INVALID_REQUEST', 'Invalid Request: the client closed the request before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
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
