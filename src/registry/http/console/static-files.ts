/**
 * The built single-page app at `/`, with an HTML fallback for its client-side routes and the
 * security headers every console page is sent with.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The package's built console: `<package root>/src/console/dist` (from src/ under tsx and from dist/ when compiled). */
export function defaultConsoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', '..', 'src', 'console', 'dist');
}

const RESERVED = /^\/(api|nacos|healthz|readyz|metrics)(\/|$|\?)/;
const ASSET = /^\/(assets\/)?[A-Za-z0-9][A-Za-z0-9_.-]*\.(js|css|svg|png|ico|woff2|json|txt|map)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon',
  woff2: 'font/woff2', json: 'application/json; charset=utf-8', txt: 'text/plain; charset=utf-8', map: 'application/json; charset=utf-8',
};
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>mcpgate console</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem"><h1>mcpgate console</h1>
<p>The console is not built. Run <code>npm run build:console</code> (or <code>npm run build</code>) and reload.</p>
<p>The API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>`;

function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

/** Answers a request for the console: an asset, or the app's HTML for a client-side route. */
export async function sendConsoleFile(req: FastifyRequest, reply: FastifyReply, dir: string): Promise<FastifyReply> {
  const path = req.url.split('?')[0] ?? '/';
  if (RESERVED.test(path)) return notFound(reply);
  if (ASSET.test(path)) {
    const file = join(dir, path);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) {
      const ext = path.slice(path.lastIndexOf('.') + 1);
      reply.headers(SECURITY_HEADERS).header('content-type', TYPES[ext] ?? 'application/octet-stream').header('content-length', info.size)
        .header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.send(createReadStream(file));
    }
    if (path.startsWith('/assets/')) return notFound(reply);
  }
  // Client-side routes: the app's HTML, for browsers (API clients asking for JSON keep the 404).
  const accept = req.headers.accept ?? '';
  if (path !== '/' && !accept.includes('text/html')) return notFound(reply);
  const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => NOT_BUILT);
  return reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
}
