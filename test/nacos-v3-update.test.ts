// The Nacos v3 update flow, as the Nacos console edits a live tool's description: create, then
// PUT the same version with a new description and latest=true. Nacos overwrites the version and
// republishes it; mcpgate does the same on the wire, and keeps every content as a revision of
// the version: an agent connected with the MCP SDK's client is told (list_changed) and lists
// the new description, the history and the diff show both contents, and rollback brings the
// first one back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const serverSpecification = (description: string) => JSON.stringify({
  name: 'forecast', protocol: 'http', frontProtocol: 'mcp-streamable', description, versionDetail: { version: '1.0.0' }, enabled: true,
});
const toolSpecification = (description: string) => JSON.stringify({
  tools: [{ name: 'get_forecast', description, inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  toolsMeta: {
    get_forecast: {
      enabled: true,
      templates: { 'json-go-template': { requestTemplate: { url: '/forecast', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: '{{ .sky }}' } } },
    },
  },
});

/** A promise and its resolver: what the test waits on instead of a clock. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('Nacos v3 update flow: PUT of the published version', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let mcp: string;
  let native: string;
  let client: Client;
  let changed = signal();

  before(async () => {
    backend = await startBackend((_r, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"sky":"clear"}'); });
    stack = await startStack();
    mcp = `${stack.registryUrl}/nacos/v3/admin/ai/mcp`;
    native = `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/forecast`;
  });
  after(async () => {
    await client?.close();
    await stack?.close();
    await backend?.close();
  });

  const endpointSpecification = () => JSON.stringify({ type: 'DIRECT', data: { address: '127.0.0.1', port: backend.port } });

  it('creates the server and an agent lists its tool', async () => {
    const created = await http('POST', mcp, {
      form: { serverSpecification: serverSpecification('Forecasts'), toolSpecification: toolSpecification('Forecast by city'), endpointSpecification: endpointSpecification() },
    });
    assert.equal(created.status, 200, created.text);
    client = new Client({ name: 'nacos-update-flow', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => changed.resolve());
    await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/public/forecast`)));
    assert.equal((await client.listTools()).tools[0]?.description, 'Forecast by city');
  });

  it('overwrites the published version in place, answered as Nacos answers, and the agent is told', async () => {
    // The stream that carries list_changed is open before the change.
    await waitForStream(stack);
    const put = await http('PUT', mcp, {
      form: {
        serverSpecification: serverSpecification('Forecasts, edited'), toolSpecification: toolSpecification('Forecast by city, edited in the console'),
        endpointSpecification: endpointSpecification(), latest: 'true',
      },
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { code: 0, message: 'success', data: 'ok' });

    await changed.promise;
    assert.equal((await client.listTools()).tools[0]?.description, 'Forecast by city, edited in the console');
    const call = await client.callTool({ name: 'get_forecast', arguments: { city: 'Oslo' } }) as { content: { text: string }[] };
    assert.equal(call.content[0]?.text, 'clear');

    const detail = await http('GET', `${mcp}?mcpName=forecast`);
    assert.equal(detail.body.data.version, '1.0.0');
    assert.equal(detail.body.data.toolSpec.tools[0].description, 'Forecast by city, edited in the console');
    assert.deepEqual(detail.body.data.allVersions.map((v: { version: string }) => v.version), ['1.0.0'], 'still one version, as in Nacos');
  });

  it('keeps both contents: history, revisions and diff', async () => {
    const history = await http('GET', `${native}/history`);
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.body.items.map((e: { action: string; version: string; revision?: number; previousRevision?: number }) => [e.action, e.version, e.revision, e.previousRevision]), [
      ['overwrite', '1.0.0', 2, 1],
      ['publish', '1.0.0', 1, undefined],
    ]);
    assert.equal(history.body.rollbackTarget, '1.0.0@1');

    const revisions = await http('GET', `${native}/versions/1.0.0/revisions`);
    assert.equal(revisions.status, 200, revisions.text);
    assert.equal(revisions.body.current, 2);
    assert.deepEqual(revisions.body.items.map((r: { revision: number; ref: string }) => [r.revision, r.ref]), [[1, '1.0.0@1'], [2, '1.0.0']]);

    const diff = await http('GET', `${native}/diff?from=${encodeURIComponent('1.0.0@1')}&to=1.0.0`);
    assert.equal(diff.status, 200, diff.text);
    const changes = diff.body.changes as { path: string; from: unknown; to: unknown }[];
    assert.deepEqual(changes.find((c) => c.path === 'tools[get_forecast].description'), {
      path: 'tools[get_forecast].description', kind: 'changed', tool: 'get_forecast', from: 'Forecast by city', to: 'Forecast by city, edited in the console',
    });
    assert.ok(changes.some((c) => c.path === 'description' && c.from === 'Forecasts' && c.to === 'Forecasts, edited'));
  });

  it('rolls back to the first content, and the agent is told again', async () => {
    changed = signal();
    const rolled = await http('POST', `${native}/rollback`, { body: {} });
    assert.equal(rolled.status, 200, rolled.text);
    await changed.promise;
    assert.equal((await client.listTools()).tools[0]?.description, 'Forecast by city');
    const history = await http('GET', `${native}/history`);
    assert.deepEqual(history.body.items[0], { ...history.body.items[0], action: 'rollback', version: '1.0.0', revision: 1, previousRevision: 2 });
    assert.equal(history.body.rollbackTarget, null, 'nothing served before the first content');
    // A revision that was never made is named as such.
    const missing = await http('GET', `${native}/diff?from=${encodeURIComponent('1.0.0@7')}&to=1.0.0`);
    assert.equal(missing.status, 404, missing.text);
    const bad = await http('POST', `${native}/rollback`, { body: { version: '1.0.0@x' } });
    assert.equal(bad.status, 400, bad.text);
  });

  it('with latest=false the served version is overwritten too (Nacos writes its config either way)', async () => {
    changed = signal();
    const put = await http('PUT', mcp, {
      form: {
        serverSpecification: serverSpecification('Forecasts'), toolSpecification: toolSpecification('Forecast by city (third text)'),
        endpointSpecification: endpointSpecification(), latest: 'false',
      },
    });
    assert.equal(put.status, 200, put.text);
    await changed.promise;
    assert.equal((await client.listTools()).tools[0]?.description, 'Forecast by city (third text)');
    const history = await http('GET', `${native}/history`);
    assert.deepEqual([history.body.items[0].action, history.body.items[0].revision, history.body.items[0].previousRevision], ['overwrite', 3, 1]);
    const revisions = await http('GET', `${native}/versions/1.0.0/revisions`);
    assert.deepEqual(revisions.body.items.map((r: { revision: number }) => r.revision), [1, 2, 3], 'every content kept');
  });

  it('the native API still refuses to change a published version', async () => {
    const version = await http('GET', `${native}/versions/1.0.0`);
    const spec = { ...version.body.spec, description: 'changed natively' };
    const put = await http('PUT', `${native}/versions/1.0.0`, { body: { spec } });
    assert.equal(put.status, 409, put.text);
    assert.equal(put.body.error.code, 'VERSION_EXISTS');
  });
});

/** Wait until the gateway holds the agent's notification stream (polled; no time asserted). */
async function waitForStream(stack: TestStack): Promise<void> {
  await waitFor('the agent\'s notification stream', () => stack.stack.gateway.handler.openStreams >= 1, 30_000);
}
