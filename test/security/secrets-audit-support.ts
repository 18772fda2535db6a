/**
 * Shared by the secrets-redaction and audit-log security tests: a real `mcpgate serve` with
 * registry auth on whose log lines are captured, and users with roles.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startServe } from '../../src/cli/roles.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { http } from '../support/http.js';

/** Log lines captured from a process's logger. */
export interface CapturedLog {
  stream: Writable;
  text(): string;
}

/** A destination that keeps every log line. */
export function captureLog(): CapturedLog {
  const chunks: string[] = [];
  return {
    stream: new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } }),
    text: () => chunks.join(''),
  };
}

/** A running `serve` (registry + in-process gateway) with auth on and its log captured. */
export interface SecureStack {
  registryUrl: string;
  gatewayUrl: string;
  adminToken: string;
  log: CapturedLog;
  stack: Awaited<ReturnType<typeof startServe>>;
  dataDir: string;
  close(): Promise<void>;
}

/** Start `serve` with registry auth on (admin / admin-password-1), logging at `level` into a capture. */
export async function startSecureStack(opts: { auth?: boolean; level?: string } = {}): Promise<SecureStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-sec-'));
  const config = loadConfig('serve', {
    registryPort: 0, gatewayPort: 0, host: '127.0.0.1', dataDir, db: `sqlite:${join(dataDir, 'mcpgate.db')}`, 'auth.enabled': opts.auth ?? true,
    revisionPollMs: 100,
  }, { MCPGATE_ADMIN_PASSWORD: 'admin-password-1' });
  const log = captureLog();
  const stack = await startServe(config, createLogger(opts.level ?? 'trace', 'mcpgate', log.stream));
  const registryUrl = `http://127.0.0.1:${stack.registry.port}`;
  const adminToken = opts.auth === false ? ''
    : (await http<{ accessToken: string }>('POST', `${registryUrl}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
  return { registryUrl, gatewayUrl: `http://127.0.0.1:${stack.gateway.port}`, adminToken, log, stack, dataDir, close: () => stack.close() };
}

/** Create a user with roles (as the admin) and answer a logged-in access token of theirs. */
export async function addUser(s: SecureStack, username: string, roles: { namespace: string; role: string }[]): Promise<string> {
  const password = `${username}-password-1`;
  const created = await http('POST', `${s.registryUrl}/api/v1/users`, { token: s.adminToken, body: { username, password, roles } });
  if (created.status !== 201) throw new Error(`creating user ${username}: HTTP ${created.status} ${created.text}`);
  const login = await http<{ accessToken: string }>('POST', `${s.registryUrl}/api/v1/auth/login`, { body: { username, password } });
  return login.body.accessToken;
}
