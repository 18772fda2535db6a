// `mcpgate serve` as a user runs it: the real CLI process, data in ./data, kept across a restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { http } from './support/http.js';

const root = resolve(import.meta.dirname, '..');
/** tsx's loader by absolute URL, so the CLI runs from any working directory. */
const tsx = import.meta.resolve('tsx');

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function serve(cwd: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve', '--registry-port', String(port), '--grpc-port', 'off', '--log-level', 'warn'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => { output += d; });
  child.stderr?.on('data', (d) => { output += d; });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited: ${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start: ${output}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('mcpgate serve', () => {
  it('keeps its data across a restart, in ./data by default', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mcpgate-serve-'));
    const port = await freePort();
    let child = await serve(cwd, port);
    const base = `http://127.0.0.1:${port}`;
    try {
      const reg = await fetch(`${base}/nacos/v1/ns/instance?namespaceId=public&serviceName=kept&groupName=DEFAULT_GROUP&ip=10.9.0.1&port=8080&ephemeral=false`, { method: 'POST' });
      assert.equal(await reg.text(), 'ok');
      assert.equal((await http('POST', `${base}/api/v1/namespaces`, { body: { id: 'kept-ns' } })).status, 201);
    } finally {
      assert.equal(await stop(child), 0, 'a clean shutdown on SIGTERM');
    }
    child = await serve(cwd, port);
    try {
      const list = await http('GET', `${base}/nacos/v1/ns/instance/list?serviceName=kept&namespaceId=public`);
      assert.deepEqual(list.body.hosts.map((h: { ip: string }) => h.ip), ['10.9.0.1']);
      assert.equal((await http('GET', `${base}/api/v1/namespaces/kept-ns`)).status, 200);
    } finally {
      await stop(child);
    }
  });

  it('names the bad key when the configuration is invalid', async () => {
    const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve', '--registry-port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /registryPort \(flag --registry-port\)/);
    const envChild = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPGATE_DB: 'oracle://x' } });
    let envErr = '';
    envChild.stderr.on('data', (d) => { envErr += d; });
    assert.equal(await new Promise((r) => envChild.once('exit', r)), 2);
    assert.match(envErr, /db \(environment MCPGATE_DB\)/);
  });
});
