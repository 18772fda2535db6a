// The reference "everything" MCP server (@modelcontextprotocol/server-everything) behind the
// gateway, registered three ways (mcp-streamable, mcp-sse, stdio), used by a real SDK client:
// tools listed and called (progress relayed), a resource read, a prompt got, completions and
// logging/setLevel forwarded, capabilities reflected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpServer } from './support/gateway.js';
import { startEverything } from './support/conformance.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

function everythingEntry(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json');
    const entry = join(dirname(pkg), 'dist/index.js');
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

const ENTRY = everythingEntry();
const skip = ENTRY === undefined && process.env.MCPGATE_TEST_REQUIRE_SERVICES !== '1' ? '@modelcontextprotocol/server-everything is not installed' : false;

describe('server-everything through the gateway', { skip }, () => {
  let stack: TestStack;
  const children: ChildProcess[] = [];
  const clients: Client[] = [];

  before(async () => {
    const streamable = await startEverything(ENTRY as string, 'streamableHttp');
    const sse = await startEverything(ENTRY as string, 'sse');
    children.push(streamable.child, sse.child);
    stack = await startStack();
    const spec = (config: Record<string, unknown> = {}) => ({ version: '1.0.0', tools: [], config });
    await createMcpServer(stack.registryUrl, 'public', { name: 'everything-http', protocol: 'mcp-streamable', endpoint: { type: 'direct', address: '127.0.0.1', port: streamable.port }, spec: spec() });
    await createMcpServer(stack.registryUrl, 'public', { name: 'everything-sse', protocol: 'mcp-sse', endpoint: { type: 'direct', address: '127.0.0.1', port: sse.port, exportPath: '/sse' }, spec: spec() });
    await createMcpServer(stack.registryUrl, 'public', { name: 'everything-stdio', protocol: 'stdio', endpoint: { type: 'none' }, spec: spec({ command: process.execPath, args: [ENTRY, 'stdio'] }) });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.close();
    for (const c of children) c.kill('SIGTERM');
  });

  for (const server of ['everything-http', 'everything-sse', 'everything-stdio']) {
    it(`${server}: tools, progress, a resource, a prompt, completion and logging`, async () => {
      const client = new Client({ name: 'everything-agent', version: '1.0.0' });
      clients.push(client);
      await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/public/${server}`)));
      // The first connection upstream may still be opening: capabilities are the upstream's once it is.
      const { tools } = await client.listTools();
      for (const name of ['echo', 'get-sum', 'trigger-long-running-operation']) assert.ok(tools.some((t) => t.name === name), `${name} in ${tools.map((t) => t.name).join(', ')}`);
      const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through mcpgate' } });
      assert.match(JSON.stringify(echoed.content), /through mcpgate/);
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      assert.match(JSON.stringify(sum.content), /5/);
      const progress: number[] = [];
      await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      // Over a legacy SSE upstream the last progress event can arrive after the result (the upstream writes both at once).
      assert.ok(progress.length >= 1 && progress[0] === 1, JSON.stringify(progress));
      const { resources } = await client.listResources();
      assert.ok(resources.length > 0);
      const read = await client.readResource({ uri: (resources[0] as { uri: string }).uri });
      assert.ok(read.contents.length > 0);
      const { prompts } = await client.listPrompts();
      assert.ok(prompts.some((p) => p.name === 'simple-prompt'));
      const prompt = await client.getPrompt({ name: 'simple-prompt' });
      assert.match(JSON.stringify(prompt.messages), /simple prompt/);
      await client.setLoggingLevel('error');
      const again = new Client({ name: 'everything-agent-2', version: '1.0.0' });
      clients.push(again);
      await again.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/public/${server}`)));
      const caps = again.getServerCapabilities() ?? {};
      assert.ok(caps.tools && caps.resources && caps.prompts && caps.logging, JSON.stringify(caps));
    });
  }
});
