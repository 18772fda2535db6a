/**
 * Fetches a document an import names by URL (an OpenAPI description, a `server.json`) with the
 * guards a registry needs when its users choose the address: http(s) only, no loopback or
 * private address unless allowed, never a link-local or cloud-metadata one (checked on the
 * addresses connected to, every redirect included), a size cap read as the body streams, and
 * one deadline for the whole exchange. Each failure is its own error code.
 */
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { AppError } from '../lib/errors.js';
import { ArgumentHostGuard, ArgumentHostRefused } from './address-guard.js';

/** Limits of one fetch. */
export interface DocumentFetchOptions {
  /** Loopback and private addresses may be fetched (link-local and metadata ones never). */
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
}

/** A fetched document. */
export interface FetchedDocument {
  text: string;
  /** The URL the document came from, after redirects (relative `servers` resolve against it). */
  url: string;
  contentType: string;
}

const MAX_REDIRECTS = 5;
const guard = new ArgumentHostGuard();

function refusedUrl(message: string): AppError {
  return new AppError('IMPORT_URL_REFUSED', `url: ${message}`, 'url');
}

function parseUrl(raw: string, base?: string): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(raw) : new URL(raw, base);
  } catch {
    throw refusedUrl(`${JSON.stringify(raw.slice(0, 200))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refusedUrl('only http:// and https:// URLs can be fetched');
  if (url.username !== '' || url.password !== '') throw refusedUrl('credentials in the URL are not sent; remove them');
  return url;
}

/** Fetches `rawUrl` under `opts`; throws `IMPORT_*` errors (see docs/errors.md). */
export async function fetchDocument(rawUrl: string, opts: DocumentFetchOptions): Promise<FetchedDocument> {
  const policy = { allowPrivate: opts.allowPrivate, allowMetadata: false };
  const dispatcher: Dispatcher = guard.dispatcher(policy);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url = parseUrl(rawUrl);
  try {
    for (let hop = 0; ; hop++) {
      const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
      const why = await guard.check(url.hostname, port, policy);
      if (why !== undefined) {
        throw refusedUrl(`${url.hostname} ${why}${opts.allowPrivate ? '' : ' (importAllowPrivateUrls allows private and loopback addresses)'}`);
      }
      const res = await request(url, {
        method: 'GET', dispatcher, signal, headers: { accept: 'application/json, application/yaml, text/yaml, */*;q=0.5', 'user-agent': 'mcpgate-import' },
      });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) throw new AppError('IMPORT_FETCH_FAILED', `url: more than ${MAX_REDIRECTS} redirects`, 'url');
        const location = Array.isArray(res.headers.location) ? res.headers.location[0] ?? '' : res.headers.location;
        url = parseUrl(location, url.href);
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        throw new AppError('IMPORT_FETCH_FAILED', `url: ${url.host} answered HTTP ${res.statusCode}`, 'url');
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        await res.body.dump({ limit: 0 }).catch(() => undefined);
        throw new AppError('IMPORT_FETCH_TOO_LARGE', `url: the document is ${declared} bytes; the limit is ${opts.maxBytes} (importMaxBytes)`, 'url');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > opts.maxBytes) {
          res.body.destroy();
          throw new AppError('IMPORT_FETCH_TOO_LARGE', `url: the document is larger than ${opts.maxBytes} bytes (importMaxBytes)`, 'url');
        }
        chunks.push(chunk as Buffer);
      }
      const type = res.headers['content-type'];
      return { text: Buffer.concat(chunks).toString('utf8'), url: url.href, contentType: (Array.isArray(type) ? type[0] : type) ?? '' };
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (signal.aborted) throw new AppError('IMPORT_FETCH_TIMEOUT', `url: no complete answer within ${Math.round(opts.timeoutMs / 1000)} s (importTimeoutSeconds)`, 'url');
    if (err instanceof ArgumentHostRefused) throw refusedUrl(err.message);
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = e.code ?? e.cause?.code;
    if (e.cause instanceof ArgumentHostRefused) throw refusedUrl(e.cause.message);
    throw new AppError('IMPORT_FETCH_FAILED', `url: fetching ${url.host} failed${code ? ` (${code})` : ''}: ${e.message}`, 'url');
  }
}
