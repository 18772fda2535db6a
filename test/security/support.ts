/**
 * Helpers of the registry's security tests: raw HTTP requests that set headers `fetch` may not
 * (`Host`). A real Chromium comes from test/support/browser.ts, as for the console's tests.
 */
import { request } from 'node:http';

/** An answer to a raw request: status, headers and the body as text (parsed when JSON). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Send a request with exactly these headers (`Host` included, which fetch does not let a caller set). */
export function rawRequest(method: string, url: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
