// The gateway role as operators run it, as real CLI processes: `mcpgate gateway --definitions DIR`
// serving Higress definition files (and reloading them), and `mcpgate gateway --registry URL`
// following a real `mcpgate registry` process, serving on when the registry is killed and
// after its own restart from its disk cache.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { http } from './support/http.js';
import { createMcpServer, firstText, freePort, modernPost, restTool, waitFor } from './support/gateway.js';
import { startBackend } from './support/stack.js';

const root = resolve(import.meta.dirname, '..');
/** tsx's loader by absolute URL, so the CLI runs from any working directory. */
const tsx = import.meta.resolve('tsx');

interface Proc {
  child: ChildProcess;
  output(): string;
}

/** Start `mcpgate <args>` and wait until `ready` answers 200. */
async function mcpgate(args: string[], ready: string, timeoutMs = 90_000): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args, '--host', '127.0.0.1', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPGATE_ADMIN_PASSWORD: 'admin-password-1', MCPGATE_REVISION_POLL_MS: '100' },
  });
  let output = '';
  child.stdout?.on('data', (d) => { output += d; });
  child.stderr?.on('data', (d) => { output += d; });
  const proc = { child, output: () => output };
  try {
    await waitFor(`${args[0]} to answer ${ready}`, async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output}`);
      return (await fetch(ready).then(async (r) => { await r.body?.cancel(); return r.status; }, () => 0)) === 200;
    }, timeoutMs, 50);
  } catch (err) {
    await kill(proc, 'SIGKILL');
    throw new Error(`${(err as Error).message}\n--- output ---\n${output}`);
  }
  return proc;
}

async function kill(p: Proc | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  await exited;
}

function definition(name: string, description: string, backendPort: number): string {
  return [
    'server:',
    `  name: ${name}`,
    'tools:',
    '- name: get_weather',
    `  description: ${description}`,
    '  args:',
    '  - {name: city, type: string, required: true, position: query}',
    '  requestTemplate:',
    `    url: http://127.0.0.1:${backendPort}/weather`,
    '    method: GET',
    '  responseTemplate:',
    '    body: "{{ .city }}: {{ .sky }}"',
    '',
  ].join('\n');
}

async function toolsOf(url: string): Promise<{ name: string; description: string }[] | undefined> {
  const r = await modernPost(url, 1, 'tools/list');
  return r.status === 200 ? r.body.result.tools : undefined;
}

describe('mcpgate gateway as a standalone process', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const procs: Proc[] = [];
  const dirs: string[] = [];

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URLSearchParams(r.query).get('city'), sky: 'clear' }));
    });
  });
  after(async () => {
    for (const p of procs) await kill(p, 'SIGKILL');
    await backend?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function tmp(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  }

  it('serves Higress definition files from a directory and follows edits without a restart', async (t) => {
    const dir = tmp('mcpgate-defs-');
    writeFileSync(join(dir, 'weather.yaml'), definition('weather', 'Weather by city', backend.port));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const gw = await mcpgate(['gateway', '--definitions', dir, '--gateway-port', String(port)], `${base}/readyz`);
    procs.push(gw);
    const url = `${base}/mcp/public/weather`;

    const listed = await toolsOf(url);
    assert.deepEqual(listed?.map((x) => [x.name, x.description]), [['get_weather', 'Weather by city']]);
    assert.deepEqual((listed?.[0] as { inputSchema?: unknown } | undefined)?.inputSchema, { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
    const call = await modernPost(url, 2, 'tools/call', { name: 'get_weather', arguments: { city: 'Oslo' } });
    assert.equal(firstText(call.body.result), 'Oslo: clear');

    // An edit is served without a restart.
    const edited = performance.now();
    writeFileSync(join(dir, 'weather.yaml'), definition('weather', 'Weather by city, edited', backend.port));
    await waitFor('the edited description', async () => (await toolsOf(url))?.[0]?.description === 'Weather by city, edited', 30_000, 25);
    t.diagnostic(`edited definition served after ${Math.round(performance.now() - edited)} ms`);

    // A new file is a new server; a broken file keeps its last good version served.
    writeFileSync(join(dir, 'tides.yaml'), definition('tides', 'Tides by city', backend.port));
    await waitFor('the new server', async () => (await toolsOf(`${base}/mcp/public/tides`))?.[0]?.description === 'Tides by city', 30_000, 25);
    writeFileSync(join(dir, 'weather.yaml'), 'server:\n  name: weather\ntools:\n- name: [broken\n');
    await waitFor('the broken file reported', () => /weather\.yaml: .*serving its last good version/.test(gw.output()), 30_000, 25);
    assert.equal((await toolsOf(url))?.[0]?.description, 'Weather by city, edited');
    rmSync(join(dir, 'tides.yaml'));
    await waitFor('the removed server gone', async () => (await modernPost(`${base}/mcp/public/tides`, 3, 'tools/list')).status === 404, 30_000, 25);
  });

  it('keeps serving when the registry is killed, and after its own restart from the disk cache', async (t) => {
    const regData = tmp('mcpgate-reg-');
    const regPort = await freePort();
    const registryUrl = `http://127.0.0.1:${regPort}`;
    const registry = await mcpgate(['registry', '--registry-port', String(regPort), '--data-dir', regData, '--auth', 'false', '--grpc-port', 'off'], `${registryUrl}/healthz`);
    procs.push(registry);
    await createMcpServer(registryUrl, 'public', {
      name: 'weather', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port },
      spec: { version: '1.0.0', tools: [restTool('get_weather', { url: '/weather', properties: { city: { type: 'string' } }, argsPosition: { city: 'query' }, response: { body: '{{ .city }}: {{ .sky }}' } })] },
    });

    const gwData = tmp('mcpgate-gw-');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/mcp/public/weather`;
    const args = ['gateway', '--registry', registryUrl, '--data-dir', gwData, '--gateway-port', String(port)];
    let gw = await mcpgate(args, `${base}/readyz`);
    procs.push(gw);
    await waitFor('the server on the gateway', async () => (await toolsOf(url))?.length === 1);
    const call = async (city: string) => firstText((await modernPost(url, 1, 'tools/call', { name: 'get_weather', arguments: { city } })).body.result);
    assert.equal(await call('Bergen'), 'Bergen: clear');

    // A change published in the registry reaches this gateway through the watch API (speed: bench/).
    const published = performance.now();
    const changed = await http('PUT', `${registryUrl}/api/v1/namespaces/public/mcp-servers/weather/versions/1.1.0`, {
      body: { publish: true, spec: { version: '1.1.0', tools: [restTool('get_weather', { description: 'Weather, v1.1', url: '/weather', properties: { city: { type: 'string' } }, argsPosition: { city: 'query' }, response: { body: '{{ .city }}: {{ .sky }}' } })] } },
    });
    assert.equal(changed.status, 200, changed.text);
    await waitFor('the new description', async () => (await toolsOf(url))?.[0]?.description === 'Weather, v1.1', 30_000, 10);
    t.diagnostic(`registry change visible on the separate gateway process after ${Math.round(performance.now() - published)} ms`);

    const cache = join(gwData, 'gateway-snapshot.json');
    await waitFor('the snapshot cached on disk', () => existsSync(cache) && readFileSync(cache, 'utf8').includes('Weather, v1.1'));

    // Every registry down: the running gateway keeps serving.
    await kill(registry, 'SIGKILL');
    assert.equal((await fetch(`${registryUrl}/healthz`).catch(() => undefined))?.status, undefined, 'the registry is gone');
    assert.equal(await call('Tromsø'), 'Tromsø: clear');
    assert.deepEqual((await toolsOf(url))?.map((x) => x.name), ['get_weather']);

    // And after its own restart, still with no registry, from the cache.
    await kill(gw, 'SIGKILL');
    const restarted = performance.now();
    gw = await mcpgate(args, `${base}/readyz`);
    procs.push(gw);
    t.diagnostic(`restarted gateway ready from its cache after ${Math.round(performance.now() - restarted)} ms`);
    assert.deepEqual((await toolsOf(url))?.map((x) => [x.name, x.description]), [['get_weather', 'Weather, v1.1']], 'the last version it had seen');
    assert.equal(await call('Svalbard'), 'Svalbard: clear');
    const ready = await http('GET', `${base}/readyz`);
    assert.match(ready.body.source, /cached snapshot/);
    assert.match(gw.output(), /serving the cached snapshot/);
  });
});
