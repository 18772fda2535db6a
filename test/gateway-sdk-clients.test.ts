// Real MCP SDK clients through the gateway to an upstream MCP server (the fixture server, on
// SDK 1.x, registered as mcp-streamable, mcp-sse and stdio): the Python SDK (`pip install mcp`,
// .tools/mcp-py; 2.3.0, in a 2025 session), the Go SDK (test/clients/go-mcp, .tools/mcp-go; v1.8.0,
// which speaks 2026-07-28 by default), the TypeScript SDK 1.x and
// the client 2.x pinned to 2026-07-28 in front of the 2025 upstream. Each lists and calls tools,
// reads a resource, gets a prompt, receives progress and answers a sampling request.
// scripts/mcp-clients.sh installs the Python and Go clients (as .ci/run does): their tests skip
// without them, and fail under MCPGATE_TEST_REQUIRE_SERVICES=1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { requireServices } from './support/databases.js';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { createUpstreamMcpServers, firstText } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const STDIO_FIXTURE = resolve(import.meta.dirname, 'fixtures/mcp/stdio-server.mjs');
const PYTHON = resolve(root, '.tools/mcp-py/bin/python');
const GO_DRIVER = resolve(root, '.tools/mcp-go/driver');

function unavailable(what: string, path: string): string | false {
  if (existsSync(path)) return false;
  const why = `${what} is not installed (${path} is missing: run \`bash scripts/mcp-clients.sh\`, as .ci/run does)`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${why}`);
  return why;
}

/** What every client must have seen. */
interface Seen {
  tools: string[];
  echo: string;
  resource: string;
  prompt: string;
  sleep: string;
  progress: number;
  sampling: string;
}

function check(seen: Seen, who: string): void {
  for (const name of ['echo', 'sleep', 'ask']) assert.ok(seen.tools.includes(name), `${name} in ${seen.tools.join(', ')}`);
  assert.equal(seen.echo, `from ${who}`);
  assert.equal(seen.resource, 'read me');
  assert.equal(seen.prompt, `Hello ${who}`);
  assert.equal(seen.sleep, 'slept 50');
  assert.ok(seen.progress >= 1, `progress notifications: ${seen.progress}`);
  assert.equal(seen.sampling, 'sampled: 4');
}

describe('real MCP SDK clients through the gateway to an upstream MCP server', () => {
  let stack: TestStack;
  let up: HttpUpstream;
  const mcp = (name: string) => `${stack.gatewayUrl}/mcp/public/${name}`;
  const SERVERS = ['streamable', 'sse', 'stdio'];

  before(async () => {
    up = await startHttpUpstream();
    stack = await startStack();
    await createUpstreamMcpServers(stack.registryUrl, up, { command: process.execPath, args: [STDIO_FIXTURE] });
  });

  after(async () => {
    await stack?.close();
    await up?.close();
  });

  for (const server of SERVERS) {
    it(`Python MCP SDK → ${server} upstream`, { skip: unavailable('the Python MCP SDK', PYTHON) }, async () => {
      const { stdout } = await run(PYTHON, [resolve(root, 'test/clients/python-mcp/driver.py'), mcp(server)], { timeout: 90_000 });
      check(JSON.parse(stdout) as Seen, 'python');
    });

    it(`Go MCP SDK → ${server} upstream`, { skip: unavailable('the Go MCP SDK client', GO_DRIVER) }, async () => {
      const { stdout } = await run(GO_DRIVER, [mcp(server)], { timeout: 90_000 });
      check(JSON.parse(stdout) as Seen, 'go');
    });

    it(`TypeScript SDK 1.x → ${server} upstream`, async () => {
      const client = new SdkClient({ name: 'sdk-1', version: '1.0.0' }, { capabilities: { sampling: {} } });
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: '4' }, model: 'ts-model' }));
      await client.connect(new SdkStreamable(new URL(mcp(server))));
      try {
        const progress: number[] = [];
        const seen: Seen = {
          tools: (await client.listTools()).tools.map((t) => t.name),
          echo: firstText(await client.callTool({ name: 'echo', arguments: { text: 'from ts' } })),
          resource: String(((await client.readResource({ uri: 'file:///readme.txt' })).contents[0] as { text?: string } | undefined)?.text),
          prompt: String(((await client.getPrompt({ name: 'greet', arguments: { who: 'ts' } })).messages[0]?.content as { text: string }).text),
          sleep: firstText(await client.callTool({ name: 'sleep', arguments: { ms: 50 } }, undefined, { onprogress: (p) => progress.push(p.progress) })),
          progress: 0,
          sampling: firstText(await client.callTool({ name: 'ask', arguments: { what: 'sampling' } })),
        };
        seen.progress = progress.length;
        check(seen, 'ts');
      } finally {
        await client.close();
      }
    });

    it(`TypeScript client 2.x pinned to 2026-07-28 → ${server} upstream (2025 or 2024 era)`, async () => {
      const client = new Client2({ name: 'client-2', version: '2.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
      client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: '4' }, model: 'ts2-model' }));
      await client.connect(new Streamable2(new URL(mcp(server))));
      try {
        assert.equal(client.getProtocolEra(), 'modern');
        const progress: number[] = [];
        const seen: Seen = {
          tools: (await client.listTools()).tools.map((t) => t.name),
          echo: firstText(await client.callTool({ name: 'echo', arguments: { text: 'from ts2' } })),
          resource: String(((await client.readResource({ uri: 'file:///readme.txt' })).contents[0] as { text?: string } | undefined)?.text),
          prompt: String(((await client.getPrompt({ name: 'greet', arguments: { who: 'ts2' } })).messages[0]?.content as { text: string }).text),
          sleep: firstText(await client.callTool({ name: 'sleep', arguments: { ms: 50 } }, { onprogress: (p: { progress: number }) => progress.push(p.progress) })),
          progress: 0,
          // The upstream's sampling request comes back as an input_required round, fulfilled by the client.
          sampling: firstText(await client.callTool({ name: 'ask', arguments: { what: 'sampling' } })),
        };
        // Progress on the 2026-07-28 POST's answer, turned SSE stream.
        seen.progress = progress.length;
        check(seen, 'ts2');
      } finally {
        await client.close();
      }
    });
  }
});
