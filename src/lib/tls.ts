/**
 * TLS on a listener from certificate and key files (PEM), reloaded when the files change: a
 * renewed certificate (cert-manager rewriting a Kubernetes Secret mount, certbot) is served to new
 * connections without a restart. The files are polled (`fs.watchFile`, which follows the symbolic
 * links Kubernetes swaps on update, where `fs.watch` events are lost); a pair that does not load
 * (half written, key not matching) is logged and the previous one kept.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { Logger } from './logger.js';

/** Where a listener's certificate chain and private key are. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A certificate chain and key as a TLS server takes them. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Read and check a certificate/key pair (a key that does not match the certificate is refused). */
export function loadTls(files: TlsFiles): TlsMaterial {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.certFile);
    key = readFileSync(files.keyFile);
  } catch (err) {
    throw new Error(`cannot read the TLS certificate or key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): tlsCert ${files.certFile}, tlsKey ${files.keyFile}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`the TLS certificate and key do not load (${(err as Error).message}): tlsCert ${files.certFile}, tlsKey ${files.keyFile}`);
  }
  return { cert, key };
}

/** How often the files are checked for a change, ms. */
const POLL_MS = 2000;

/**
 * Serve new connections of `server` with the files' new pair whenever they change; answers the
 * function that stops watching. `onReload` observes each successful reload (tests, logs).
 */
export function watchTls(server: TlsServer, files: TlsFiles, logger: Logger, onReload?: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    // Both files usually change together: wait for the second before loading.
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        server.setSecureContext(loadTls(files));
        logger.info({ certFile: files.certFile }, 'TLS certificate reloaded');
        onReload?.();
      } catch (err) {
        logger.warn({ err: (err as Error).message, certFile: files.certFile }, 'TLS certificate changed but does not load: keeping the previous one');
      }
    }, 200);
    timer.unref();
  };
  const opts = { interval: POLL_MS, persistent: false };
  watchFile(files.certFile, opts, reload);
  watchFile(files.keyFile, opts, reload);
  return () => {
    clearTimeout(timer);
    unwatchFile(files.certFile, reload);
    unwatchFile(files.keyFile, reload);
  };
}
