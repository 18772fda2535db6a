// Real Nacos clients nobody here wrote, against mcpgate's Nacos gRPC port with auth on: the
// Python nacos-sdk-python (v2 gRPC API and NacosAIService), the Go nacos-sdk-go/v2 (what Higress
// uses) and the Java nacos-client. Installed by scripts/nacos-clients.sh into .tools/; each
// test skips without its client, and fails without it under MCPGATE_TEST_REQUIRE_SERVICES=1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLIENTS, clientMissing, startDriver } from './support/drivers.js';
import type { Driver, DriverEvent } from './support/drivers.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { weatherMcpForm } from './support/nacos-grpc.js';
import { until } from './support/wait.js';

const ROOT = resolve(import.meta.dirname, '..');
const PASSWORD = 'admin-password-1';
const credentials = { NACOS_USERNAME: 'admin', NACOS_PASSWORD: PASSWORD };

const hostsEvent = (want: string[]) => (e: DriverEvent) => e.event === 'instances' && JSON.stringify(e['hosts']) === JSON.stringify(want);

describe('real Nacos clients on the gRPC port', { concurrency: false }, () => {
  let stack: TestStack;
  let token: string;
  let httpPort: number;
  let grpcPort: number;
  const drivers: Driver[] = [];

  const v3 = async (method: 'POST' | 'PUT', name: string, version: string, description: string) => {
    const r = await http(method, `${stack.registryUrl}/nacos/v3/admin/ai/mcp`, {
      token,
      form: weatherMcpForm(name, version, description, method),
    });
    assert.equal(r.status, 200, r.text);
  };
  const mcpId = async (name: string) => ((await http('GET', `${stack.registryUrl}/nacos/v3/admin/ai/mcp?mcpName=${name}`, { token })).body as { data: { id: string } }).data.id;
  const hosts = async (service: string, group = 'DEFAULT_GROUP') => {
    const r = await http('GET', `${stack.registryUrl}/nacos/v1/ns/instance/list?serviceName=${encodeURIComponent(service)}&groupName=${group}`, { token });
    return ((r.body as { hosts?: { ip: string; port: number }[] }).hosts ?? []).map((h) => `${h.ip}:${h.port}`).sort();
  };
  const registerHttp = async (service: string, ip: string) => {
    const r = await http('POST', `${stack.registryUrl}/nacos/v1/ns/instance?serviceName=${service}&ip=${ip}&port=8080&ephemeral=true`, { token });
    assert.equal(r.status, 200, r.text);
  };
  const driver = (cmd: string, args: string[]) => {
    const d = startDriver(cmd, args, { ...credentials, NACOS_DRIVER_DIR: mkdtempSync(join(tmpdir(), 'nacos-driver-')) });
    drivers.push(d);
    return d;
  };

  before(async () => {
    stack = await startStack({ auth: true });
    httpPort = stack.stack.registry.port;
    grpcPort = stack.stack.registry.grpc!.port;
    const login = await http('POST', `${stack.registryUrl}/nacos/v1/auth/login`, { form: { username: 'admin', password: PASSWORD } });
    token = (login.body as { accessToken: string }).accessToken;
  });
  after(async () => {
    for (const d of drivers) d.kill();
    await stack?.close();
  });

  describe('Python nacos-sdk-python', { skip: clientMissing('python') }, () => {
    const python = (...args: string[]) => driver(CLIENTS.python, [join(ROOT, 'test/clients/python/driver.py'), args[0]!, '127.0.0.1', String(httpPort), String(grpcPort - httpPort), ...args.slice(1)]);

    it('registers an ephemeral instance, is pushed another one, and loses its own when its connection closes', async () => {
      const d = python('naming', 'py-svc');
      await d.wait('registered', (e) => e.event === 'registered');
      await d.wait('its own instance', hostsEvent(['10.3.0.1:8080']));
      await registerHttp('py-svc', '10.3.0.2');
      await d.wait('the pushed instance', hostsEvent(['10.3.0.1:8080', '10.3.0.2:8080']));
      await d.stop();
      await until('its instance to go with its connection', 15_000, async () => ((await hosts('py-svc')).includes('10.3.0.1:8080') ? undefined : true));
      assert.deepEqual(await hosts('py-svc'), ['10.3.0.2:8080']);
    });

    it('reads an MCP server\'s tool config as Higress does and is pushed a newly published description', async () => {
      await v3('POST', 'py-weather', '1.0.0', 'Weather by city');
      const id = await mcpId('py-weather');
      const d = python('config', id);
      const tools = await d.wait('the tools config', (e) => e.event === 'config' && String(e['dataId']).endsWith('-mcp-tools.json'));
      assert.equal((JSON.parse(String(tools['content'])) as { tools: { description: string }[] }).tools[0]?.description, 'Weather by city');
      await d.wait('ready', (e) => e.event === 'ready');
      await v3('PUT', 'py-weather', '1.1.0', 'Weather by city name');
      const change = await d.wait('the versions push', (e) => e.event === 'config-change' && e['dataId'] === `${id}-mcp-versions.json`);
      assert.equal((JSON.parse(String(change['content'])) as { latestPublishedVersion: string }).latestPublishedVersion, '1.1.0');
      const newTools = await http('GET', `${stack.registryUrl}/nacos/v3/admin/ai/mcp?mcpName=py-weather&version=1.1.0`, { token });
      assert.equal((newTools.body as { data: { toolSpec: { tools: { description: string }[] } } }).data.toolSpec.tools[0]?.description, 'Weather by city name');
      await d.stop();
    });

    it('NacosAIService: releases an MCP server, registers its endpoint, gets it, is told of a change, and an agent reaches it through the gateway', async () => {
      const backend = await startBackend((r, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ echoed: new URLSearchParams(r.query).get('text') }));
      });
      try {
        const d = python('ai', 'py-echo', String(backend.port));
        const released = await d.wait('released', (e) => e.event === 'released');
        assert.match(String(released['mcpId']), /^[0-9a-f-]{36}$/);
        const detail = (await d.wait('detail', (e) => e.event === 'detail'))['detail'] as { name: string; backendEndpoints: { address: string; port: number }[]; toolSpec: { tools: { name: string }[] } };
        assert.equal(detail.name, 'py-echo');
        assert.deepEqual(detail.toolSpec.tools.map((t) => t.name), ['echo']);
        assert.deepEqual(detail.backendEndpoints.map((e) => `${e.address}:${e.port}`), [`127.0.0.1:${backend.port}`]);
        await d.wait('ready', (e) => e.event === 'ready');
        const seen = d.events.length;

        // A new version with a REST mapping and a new description, published the Nacos way.
        const r = await http('PUT', `${stack.registryUrl}/nacos/v3/admin/ai/mcp`, {
          token,
          form: {
            serverSpecification: JSON.stringify({ name: 'py-echo', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Echo over REST', versionDetail: { version: '1.1.0' }, enabled: true }),
            toolSpecification: JSON.stringify({
              tools: [{ name: 'echo', description: 'Echo a text back', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }],
              toolsMeta: { echo: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/echo', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: 'echo: {{ .echoed }}' } } } } },
            }),
            endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'public', groupName: 'mcp-endpoints', serviceName: 'py-echo::1.0.0' } }),
            latest: 'true',
          },
        });
        assert.equal(r.status, 200, r.text);
        // An agent calls the tool through the gateway at once; the call lands on the endpoint the client registered.
        const agent = new Client({ name: 'agent', version: '1.0.0' });
        await until('the gateway to serve py-echo', 10_000, async () => {
          const res = await fetch(`${stack.gatewayUrl}/mcp/public/py-echo`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }) });
          return res.status === 200 ? true : undefined;
        });
        await agent.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/public/py-echo`)));
        // Until the gateway's snapshot holds the endpoint the client registered (it follows the registry).
        const result = await until('the registered endpoint to be served', 15_000, async () => {
          const r = await agent.callTool({ name: 'echo', arguments: { text: 'hello' } });
          return JSON.stringify(r.content).includes('backend unavailable') ? undefined : r;
        });
        await agent.close();
        assert.deepEqual(result.content, [{ type: 'text', text: 'echo: hello' }]);
        assert.equal(backend.requests.at(-1)?.path, '/echo');

        const update = await d.wait('the update', (e) => e.event === 'mcp-update'
          && (e['detail'] as { toolSpec?: { tools?: { description: string }[] } }).toolSpec?.tools?.[0]?.description === 'Echo a text back', 30_000, seen);
        assert.equal((update['detail'] as { versionDetail: { version: string } }).versionDetail.version, '1.1.0');

        await d.stop();
        await until('the endpoint to go with the client', 15_000, async () => ((await hosts('py-echo::1.0.0', 'mcp-endpoints')).length === 0 ? true : undefined));
      } finally {
        await backend.close();
      }
    });
  });

  describe('Go nacos-sdk-go/v2', { skip: clientMissing('go') }, () => {
    it('naming subscribe and config listen of the MCP data ids, as Higress does', async () => {
      await v3('POST', 'go-weather', '1.0.0', 'Weather by city');
      const id = await mcpId('go-weather');
      const d = driver(CLIENTS.go, ['127.0.0.1', String(httpPort), String(grpcPort), 'go-svc', id]);
      await d.wait('its own instance', hostsEvent(['10.1.0.1:8080']));
      const search = await d.wait('the config search', (e) => e.event === 'search');
      assert.ok((search['dataIds'] as string[]).includes(`${id}-mcp-versions.json`), JSON.stringify(search));
      const tools = await d.wait('the tools config', (e) => e.event === 'config' && e['dataId'] === `${id}-1.0.0-mcp-tools.json`);
      assert.equal((JSON.parse(String(tools['content'])) as { tools: { description: string }[] }).tools[0]?.description, 'Weather by city');
      await d.wait('ready', (e) => e.event === 'ready');
      await registerHttp('go-svc', '10.1.0.2');
      await d.wait('the pushed instance', hostsEvent(['10.1.0.1:8080', '10.1.0.2:8080']));
      await v3('PUT', 'go-weather', '1.1.0', 'Weather by city name');
      const change = await d.wait('the versions push', (e) => e.event === 'config-change' && e['dataId'] === `${id}-mcp-versions.json`);
      assert.equal((JSON.parse(String(change['content'])) as { latestPublishedVersion: string }).latestPublishedVersion, '1.1.0');
      await d.stop();
      await until('its instance to go with its connection', 15_000, async () => ((await hosts('go-svc')).includes('10.1.0.1:8080') ? undefined : true));
    });
  });

  describe('Java nacos-client', { skip: clientMissing('java') }, () => {
    it('registers and discovers an instance over gRPC', async () => {
      const d = driver('java', [
        `-Dnacos.server.grpc.port.offset=${grpcPort - httpPort}`, `-DJM.LOG.PATH=${mkdtempSync(join(tmpdir(), 'nacos-java-log-'))}`,
        `-DJM.SNAPSHOT.PATH=${mkdtempSync(join(tmpdir(), 'nacos-java-snap-'))}`,
        '-cp', `${CLIENTS.javaClasses}:${CLIENTS.javaLib}/*`, 'mcpgate.Driver', '127.0.0.1', String(httpPort), 'java-svc',
      ]);
      await d.wait('registered', (e) => e.event === 'registered', 60_000);
      const found = await d.wait('discovered', (e) => e.event === 'discovered');
      assert.deepEqual(found['hosts'], ['10.2.0.1:8080']);
      assert.deepEqual(await hosts('java-svc'), ['10.2.0.1:8080']);
      await d.wait('ready', (e) => e.event === 'ready');
      await registerHttp('java-svc', '10.2.0.2');
      await d.wait('the pushed instance', hostsEvent(['10.2.0.1:8080', '10.2.0.2:8080']));
      await d.stop();
      await until('its instance to go with its connection', 15_000, async () => ((await hosts('java-svc')).includes('10.2.0.1:8080') ? undefined : true));
    });
  });
});
