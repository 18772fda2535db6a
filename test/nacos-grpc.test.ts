// The Nacos gRPC port at the protocol level, against a real registry: connection setup and
// health check, naming with pushes and connection-bound ephemeral instances, reads and pushes
// of the MCP configs Higress reads, the Nacos 3.1 AI requests, auth, and bad input (malformed
// frames, unknown types, oversized payloads, no setup): specific errors, nothing written, no
// crash. The real Java, Go and Python clients are in nacos-grpc-clients.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { decodePayload, encodePayload } from '../src/registry/grpc/codec.js';
import { NacosGrpcServer } from '../src/registry/grpc/server.js';
import { createServer } from 'node:net';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { http } from './support/http.js';
import { NacosGrpcTestClient, weatherMcpForm } from './support/nacos-grpc.js';
import type { Message } from './support/nacos-grpc.js';
import { startRegistry } from './support/registry.js';
import { restTool } from './support/gateway.js';
import type { TestRegistry } from './support/registry.js';
import { until } from './support/wait.js';

const instance = (ip: string, port: number, extra: Record<string, unknown> = {}) => ({
  ip, port, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: { k: 'v' }, ...extra,
});

const hostsOf = (serviceInfo: unknown): string[] =>
  ((serviceInfo as { hosts: { ip: string; port: number }[] }).hosts ?? []).map((h) => `${h.ip}:${h.port}`).sort();

async function createMcp(reg: TestRegistry, name: string, version: string, description: string, method: 'POST' | 'PUT' = 'POST'): Promise<void> {
  const r = await http(method, `${reg.url}/nacos/v3/admin/ai/mcp`, {
    form: weatherMcpForm(name, version, description, method),
  });
  assert.equal(r.status, 200, r.text);
}

async function listHosts(reg: TestRegistry, service: string): Promise<string[]> {
  const r = await http('GET', `${reg.url}/nacos/v1/ns/instance/list?serviceName=${service}`);
  return hostsOf(r.body);
}

describe('the Nacos gRPC port', () => {
  let reg: TestRegistry;
  let port: number;
  const clients: NacosGrpcTestClient[] = [];
  const client = (headers?: Record<string, string>) => {
    const c = new NacosGrpcTestClient(port, headers);
    clients.push(c);
    return c;
  };

  before(async () => {
    reg = await startRegistry();
    port = reg.registry.grpc!.port;
  });
  after(async () => {
    for (const c of clients) c.close();
    await reg?.close();
  });

  describe('connection', () => {
    it('answers the server check, sets up with an ability ack, and answers health checks', async () => {
      const c = client();
      const check = await c.request('ServerCheckRequest');
      assert.equal(check.type, 'ServerCheckResponse');
      assert.equal(check.body['resultCode'], 200);
      assert.equal(check.body['supportAbilityNegotiation'], true);
      assert.match(String(check.body['connectionId']), /\S/);
      const ack = c.openStream();
      c.send('ConnectionSetupRequest', { clientVersion: 'test', tenant: '', labels: { source: 'sdk' }, abilityTable: {} });
      const setup = await ack;
      assert.equal((setup.body['abilityTable'] as Record<string, boolean>)['mcp'], true);
      const health = await c.request('HealthCheckRequest');
      assert.equal(health.type, 'HealthCheckResponse');
      assert.equal(health.body['success'], true);
      const metrics = await http('GET', `${reg.url}/metrics`);
      assert.match(metrics.text, /mcpgate_grpc_requests_total\{type="HealthCheckRequest",code="200"[^}]*\} 1/);
      assert.match(metrics.text, /mcpgate_grpc_connections\{[^}]*\} [1-9]/);
    });

    it('listens on the registry port + 1000 unless told otherwise, and names the option when its port is taken', async () => {
      assert.equal(loadConfig('registry', {}, {}).grpcPort, 9848);
      assert.equal(loadConfig('registry', { registryPort: 18848 }, {}).grpcPort, 19848);
      assert.equal(loadConfig('registry', {}, { MCPGATE_GRPC_PORT: 'off' }).grpcPort, 'off');
      assert.equal(loadConfig('registry', { grpcPort: '7000' }, {}).grpcPort, 7000);
      assert.throws(() => loadConfig('registry', { grpcPort: 'nine' }, {}), /invalid grpcPort/);
      const busy = createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
      try {
        const taken = (busy.address() as { port: number }).port;
        await assert.rejects(startRegistry({ env: { MCPGATE_GRPC_PORT: String(taken) } }), /cannot listen on the Nacos gRPC port .*--grpc-port/);
        const off = await startRegistry({ env: { MCPGATE_GRPC_PORT: 'off' } });
        assert.equal(off.registry.grpc, undefined);
        await off.close();
      } finally {
        busy.close();
      }
    });
  });

  describe('naming', () => {
    it('registers an ephemeral instance, pushes it to subscribers, and removes it when the connection closes', async () => {
      const owner = client();
      await owner.connect();
      const watcher = client();
      await watcher.connect();
      const sub = await watcher.request('SubscribeServiceRequest', { namespace: '', serviceName: 'orders', groupName: 'DEFAULT_GROUP', subscribe: true, clusters: '' });
      assert.equal(sub.type, 'SubscribeServiceResponse');
      assert.deepEqual(hostsOf(sub.body['serviceInfo']), []);

      const reg1 = await owner.request('InstanceRequest', { namespace: 'public', serviceName: 'orders', groupName: 'DEFAULT_GROUP', type: 'registerInstance', instance: instance('10.0.0.1', 8080) });
      assert.equal(reg1.type, 'InstanceResponse', JSON.stringify(reg1.body));
      assert.equal(reg1.body['resultCode'], 200);
      const push = await watcher.nextPush((m) => m.type === 'NotifySubscriberRequest' && hostsOf(m.body['serviceInfo']).includes('10.0.0.1:8080'));
      assert.equal(push.body['serviceName'], 'orders');
      assert.equal((push.body['serviceInfo'] as { name: string }).name, 'orders');
      assert.equal((push.body['serviceInfo'] as { groupName: string }).groupName, 'DEFAULT_GROUP');
      assert.deepEqual(await listHosts(reg, 'orders'), ['10.0.0.1:8080']);

      const query = await watcher.request('ServiceQueryRequest', { namespace: 'public', serviceName: 'orders', groupName: 'DEFAULT_GROUP', cluster: '', healthyOnly: false });
      assert.equal(query.type, 'QueryServiceResponse');
      assert.deepEqual(hostsOf(query.body['serviceInfo']), ['10.0.0.1:8080']);
      const list = await watcher.request('ServiceListRequest', { namespace: 'public', groupName: 'DEFAULT_GROUP', pageNo: 1, pageSize: 100 });
      assert.ok((list.body['serviceNames'] as string[]).includes('orders'));

      owner.close();
      const gone = await watcher.nextPush((m) => m.type === 'NotifySubscriberRequest' && hostsOf(m.body['serviceInfo']).length === 0);
      assert.equal(gone.body['groupName'], 'DEFAULT_GROUP');
      assert.deepEqual(await listHosts(reg, 'orders'), []);
    });

    it('replaces a connection\'s instances of a service with a batch, and deregisters', async () => {
      const c = client();
      await c.connect();
      const batch = async (ips: string[]) => c.request('BatchInstanceRequest', {
        namespace: 'public', serviceName: 'batch', groupName: 'DEFAULT_GROUP', type: 'batchRegisterInstance', instances: ips.map((ip) => instance(ip, 80)),
      });
      assert.equal((await batch(['10.0.1.1', '10.0.1.2'])).body['resultCode'], 200);
      assert.deepEqual(await listHosts(reg, 'batch'), ['10.0.1.1:80', '10.0.1.2:80']);
      assert.equal((await batch(['10.0.1.2', '10.0.1.3'])).body['resultCode'], 200);
      assert.deepEqual(await listHosts(reg, 'batch'), ['10.0.1.2:80', '10.0.1.3:80']);
      const dereg = await c.request('InstanceRequest', { namespace: 'public', serviceName: 'batch', groupName: 'DEFAULT_GROUP', type: 'deregisterInstance', instance: instance('10.0.1.2', 80) });
      assert.equal(dereg.body['resultCode'], 200);
      assert.deepEqual(await listHosts(reg, 'batch'), ['10.0.1.3:80']);
    });

    it('keeps a connection\'s ephemeral instances alive by renewing one lease, not by beating each, past their beat timeouts', async () => {
      // A second port on the same registry, renewing its lease every 200 ms; the registry's expiry runs every second.
      const port2 = new NacosGrpcServer(reg.registry.services, {
        host: '127.0.0.1', port: 0, authEnabled: false, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024, keepAliveMs: 200,
      });
      const p2 = await port2.start();
      const c = new NacosGrpcTestClient(p2);
      try {
        await c.connect();
        const quick = { 'preserved.heart.beat.timeout': '1500', 'preserved.ip.delete.timeout': '3000' };
        const r = await c.request('InstanceRequest', { namespace: 'public', serviceName: 'leased', groupName: 'DEFAULT_GROUP', type: 'registerInstance', instance: instance('10.0.3.1', 80, { metadata: quick }) });
        assert.equal(r.body['resultCode'], 200, JSON.stringify(r.body));
        const registered = await reg.registry.services.store.getInstance('public', 'DEFAULT_GROUP', 'leased', '10.0.3.1', 80, 'DEFAULT');
        await new Promise((done) => setTimeout(done, 4500));
        const now = await reg.registry.services.store.getInstance('public', 'DEFAULT_GROUP', 'leased', '10.0.3.1', 80, 'DEFAULT');
        assert.equal(now?.healthy, true, 'alive and healthy past its delete timeout');
        assert.equal(now?.lastBeat, registered?.lastBeat, 'its own last beat never moved: the lease kept it');
        c.close();
        await until('the instance to go with its connection', 5000, async () => ((await listHosts(reg, 'leased')).length === 0 ? true : undefined));
      } finally {
        c.close();
        await port2.close();
      }
    });

    it('keeps persistent instances after the connection closes', async () => {
      const c = client();
      await c.connect();
      const r = await c.request('PersistentInstanceRequest', { namespace: 'public', serviceName: 'db', groupName: 'DEFAULT_GROUP', type: 'registerInstance', instance: instance('10.0.2.1', 5432, { ephemeral: false }) });
      assert.equal(r.body['resultCode'], 200, JSON.stringify(r.body));
      c.close();
      const other = client();
      await other.connect();
      // Once the first connection is gone, its (persistent) instance is still there.
      await until('the first connection to go', 5000, () => (reg.registry.grpc!.connectionCount <= clients.filter((x) => !x.streamEnded).length ? true : undefined));
      assert.deepEqual(await listHosts(reg, 'db'), ['10.0.2.1:5432']);
    });
  });

  describe('MCP configs (as Higress reads them)', () => {
    it('serves the versions, spec and tools configs, pushes a change when a new version is published, and refuses config writes', async () => {
      await createMcp(reg, 'weather', '1.0.0', 'Weather by city');
      const detail = await http('GET', `${reg.url}/nacos/v3/admin/ai/mcp?mcpName=weather`);
      const id = (detail.body as { data: { id: string } }).data.id;
      const c = client();
      await c.connect();
      const query = (dataId: string, group: string) => c.request('ConfigQueryRequest', { dataId, group, tenant: '' });

      const versions = await query(`${id}-mcp-versions.json`, 'mcp-server-versions');
      assert.equal(versions.type, 'ConfigQueryResponse');
      assert.equal(versions.body['resultCode'], 200, JSON.stringify(versions.body));
      const v = JSON.parse(String(versions.body['content'])) as { id: string; name: string; frontProtocol: string; latestPublishedVersion: string };
      assert.deepEqual([v.id, v.name, v.frontProtocol, v.latestPublishedVersion], [id, 'weather', 'mcp-streamable', '1.0.0']);
      assert.match(String(versions.body['md5']), /^[0-9a-f]{32}$/);

      const spec = await query(`${id}-1.0.0-mcp-server.json`, 'mcp-server');
      const s = JSON.parse(String(spec.body['content'])) as { remoteServerConfig: { serviceRef: { serviceName: string } }; toolsDescriptionRef: string };
      assert.equal(s.remoteServerConfig.serviceRef.serviceName, 'weather-api');
      assert.equal(s.toolsDescriptionRef, `${id}-1.0.0-mcp-tools.json`);

      const toolsId = `${id}-1.0.0-mcp-tools.json`;
      const tools = await query(toolsId, 'mcp-tools');
      const t = JSON.parse(String(tools.body['content'])) as { tools: { name: string; description: string }[]; toolsMeta: Record<string, { enabled: boolean }> };
      assert.equal(t.tools[0]?.description, 'Weather by city');
      assert.equal(t.toolsMeta['get_weather']?.enabled, true);

      // Over HTTP, as Higress lists the servers and reads a config.
      const search = await http('GET', `${reg.url}/nacos/v1/cs/configs?search=blur&dataId=${encodeURIComponent('*mcp-versions.json')}&group=mcp-server-versions&pageNo=1&pageSize=50`);
      assert.equal(search.status, 200, search.text);
      const items = (search.body as { totalCount: number; pageItems: { dataId: string; content: string }[] }).pageItems;
      assert.deepEqual(items.map((i) => i.dataId), [`${id}-mcp-versions.json`]);
      assert.equal(items[0]?.content, versions.body['content']);
      const get = await http('GET', `${reg.url}/nacos/v1/cs/configs?dataId=${id}-1.0.0-mcp-tools.json&group=mcp-tools`);
      assert.equal(get.status, 200);
      assert.equal(get.text, JSON.stringify(JSON.parse(String(get.text))));
      assert.equal((await http('GET', `${reg.url}/nacos/v1/cs/configs?dataId=app.yaml&group=DEFAULT_GROUP`)).status, 404);

      const missing = await query('application.yaml', 'DEFAULT_GROUP');
      assert.equal(missing.body['errorCode'], 300);

      const listen = await c.request('ConfigBatchListenRequest', {
        listen: true, configListenContexts: [
          { dataId: `${id}-mcp-versions.json`, group: 'mcp-server-versions', tenant: '', md5: versions.body['md5'] },
          { dataId: toolsId, group: 'mcp-tools', tenant: '', md5: 'stale' },
        ],
      });
      assert.equal(listen.type, 'ConfigChangeBatchListenResponse');
      assert.deepEqual((listen.body['changedConfigs'] as { dataId: string }[]).map((x) => x.dataId), [toolsId]);

      await createMcp(reg, 'weather', '1.1.0', 'Weather by city name', 'PUT');
      const pushed = await c.nextPush((m) => m.type === 'ConfigChangeNotifyRequest' && m.body['dataId'] === `${id}-mcp-versions.json`);
      assert.equal(pushed.body['group'], 'mcp-server-versions');
      const after = await query(`${id}-mcp-versions.json`, 'mcp-server-versions');
      assert.equal((JSON.parse(String(after.body['content'])) as { latestPublishedVersion: string }).latestPublishedVersion, '1.1.0');
      const newTools = await query(`${id}-1.1.0-mcp-tools.json`, 'mcp-tools');
      assert.equal((JSON.parse(String(newTools.body['content'])) as { tools: { description: string }[] }).tools[0]?.description, 'Weather by city name');

      const publish = await c.request('ConfigPublishRequest', { dataId: 'app.yaml', group: 'DEFAULT_GROUP', tenant: '', content: 'a: 1' });
      assert.equal(publish.type, 'ConfigPublishResponse');
      assert.equal(publish.body['success'], false);
      assert.equal(publish.body['errorCode'], 501);
      assert.match(String(publish.body['message']), /NOT_SUPPORTED: .*not a general configuration centre/);
      const remove = await c.request('ConfigRemoveRequest', { dataId: toolsId, group: 'mcp-tools', tenant: '' });
      assert.equal(remove.body['errorCode'], 501);
      // Still there.
      assert.equal((await query(toolsId, 'mcp-tools')).body['resultCode'], 200);
    });
  });

  describe('Nacos 3.1 AI requests', () => {
    it('releases an MCP server, registers its endpoint for the life of the connection, and answers queries', async () => {
      const c = client();
      await c.connect();
      const serverSpecification = { name: 'echo-mcp', protocol: 'mcp-streamable', frontProtocol: 'mcp-streamable', description: 'Echo', versionDetail: { version: '0.1.0' }, enabled: true };
      const toolSpecification = { tools: [{ name: 'echo', description: 'Echo a text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }], toolsMeta: {} };
      const released = await c.request('ReleaseMcpServerRequest', { namespaceId: 'public', mcpName: 'echo-mcp', serverSpecification, toolSpecification });
      assert.equal(released.type, 'ReleaseMcpServerResponse', JSON.stringify(released.body));
      assert.match(String(released.body['mcpId']), /^[0-9a-f-]{36}$/);

      const again = await c.request('ReleaseMcpServerRequest', { namespaceId: 'public', mcpName: 'echo-mcp', serverSpecification, toolSpecification });
      assert.equal(again.body['errorCode'], 409);

      const endpoint = await c.request('McpServerEndpointRequest', { namespaceId: 'public', mcpName: 'echo-mcp', address: '127.0.0.1', port: 9000, version: '0.1.0', type: 'registerEndpoint' });
      assert.equal(endpoint.type, 'McpServerEndpointResponse', JSON.stringify(endpoint.body));
      assert.equal(endpoint.body['type'], 'registerEndpoint');

      const query = await c.request('QueryMcpServerRequest', { namespaceId: 'public', mcpName: 'echo-mcp' });
      assert.equal(query.type, 'QueryMcpServerResponse');
      const info = query.body['mcpServerDetailInfo'] as { id: string; name: string; backendEndpoints: { address: string; port: number }[]; toolSpec: { tools: { name: string }[] }; remoteServerConfig: { serviceRef: { groupName: string; serviceName: string } } };
      assert.equal(info.id, released.body['mcpId']);
      assert.deepEqual(info.toolSpec.tools.map((x) => x.name), ['echo']);
      assert.deepEqual(info.remoteServerConfig.serviceRef, { ...info.remoteServerConfig.serviceRef, groupName: 'mcp-endpoints', serviceName: 'echo-mcp::0.1.0' });
      assert.deepEqual(info.backendEndpoints.map((e) => `${e.address}:${e.port}`), ['127.0.0.1:9000']);

      const notFound = await c.request('QueryMcpServerRequest', { namespaceId: 'public', mcpName: 'nope' });
      assert.equal(notFound.body['errorCode'], 404);
      const noName = await c.request('QueryMcpServerRequest', { namespaceId: 'public' });
      assert.equal(noName.body['errorCode'], 400);

      c.close();
      await until('the endpoint to go with its connection', 10_000, async () => {
        const r = await http('GET', `${reg.url}/nacos/v1/ns/instance/list?serviceName=${encodeURIComponent('echo-mcp::0.1.0')}&groupName=mcp-endpoints`);
        return hostsOf(r.body).length === 0 ? true : undefined;
      });
    });

    it('queries a virtual server with the tools agents see, and refuses to release a new version of it', async () => {
      const api = `${reg.url}/api/v1/namespaces/public/mcp-servers`;
      const member = await http('POST', api, {
        body: { name: 'grpc-member', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, publish: true, spec: { version: '1.0.0', tools: [restTool('now', { url: '/now', description: 'Now' })] } },
      });
      assert.equal(member.status, 201, member.text);
      const desk = await http('POST', api, { body: { name: 'grpc-desk', protocol: 'virtual', publish: true, spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'grpc-member', prefix: 'm' }] } } } });
      assert.equal(desk.status, 201, desk.text);
      const c = client();
      await c.connect();
      try {
        const query = await c.request('QueryMcpServerRequest', { namespaceId: 'public', mcpName: 'grpc-desk' });
        const info = query.body['mcpServerDetailInfo'] as { protocol: string; toolSpec: { tools: { name: string; description: string }[] } };
        assert.equal(info.protocol, 'virtual');
        assert.deepEqual(info.toolSpec.tools.map((t) => [t.name, t.description]), [['m__now', 'Now']]);
        const release = await c.request('ReleaseMcpServerRequest', {
          namespaceId: 'public', mcpName: 'grpc-desk',
          serverSpecification: { name: 'grpc-desk', protocol: 'mcp-streamable', versionDetail: { version: '2.0.0' } }, toolSpecification: { tools: [], toolsMeta: {} },
        });
        assert.equal(release.body['errorCode'], 400, JSON.stringify(release.body));
        assert.match(String(release.body['message']), /'grpc-desk' is a virtual server.*native API/);
        assert.equal((await http('GET', `${api}/grpc-desk`)).body.latestVersion, '1.0.0');
      } finally {
        c.close();
      }
    });
  });

  describe('bad input', () => {
    const revision = () => reg.registry.services.store.revision();

    it('answers a malformed frame with INVALID_ARGUMENT naming the fault', async () => {
      const c = client();
      const before = await revision();
      for (const frame of [Buffer.from([0x12, 0xff]), Buffer.from([0x12, 0x05, 0x1a, 0x10]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x0b])]) {
        const err = await c.raw(frame).then(() => undefined, (e: ServiceError) => e);
        assert.ok(err, `frame ${frame.toString('hex')} was accepted`);
        assert.equal(err.code, status.INVALID_ARGUMENT);
        assert.match(err.details, /GRPC_MALFORMED_PAYLOAD: the frame is not a Nacos Payload/);
      }
      assert.equal(await revision(), before);
      // The server still answers.
      assert.equal((await c.request('ServerCheckRequest')).type, 'ServerCheckResponse');
    });

    it('answers an unknown request type with 302 and a request before setup with 301, writing nothing', async () => {
      const c = client();
      const before = await revision();
      const unknown = await c.request('DropTablesRequest', {});
      assert.equal(unknown.type, 'ErrorResponse');
      assert.equal(unknown.body['errorCode'], 302);
      assert.match(String(unknown.body['message']), /GRPC_UNKNOWN_REQUEST: .*'DropTablesRequest'/);
      const noType = await c.request('', {});
      assert.equal(noType.body['errorCode'], 302);

      const early = await c.request('InstanceRequest', { namespace: 'public', serviceName: 'early', groupName: 'DEFAULT_GROUP', type: 'registerInstance', instance: instance('10.9.9.9', 1) });
      assert.equal(early.type, 'ErrorResponse');
      assert.equal(early.body['errorCode'], 301);
      assert.match(String(early.body['message']), /GRPC_CONNECTION_UNREGISTERED/);
      assert.equal(await revision(), before);
      assert.deepEqual(await listHosts(reg, 'early'), []);
    });

    it('refuses bodies that are not the JSON a request needs, naming the field', async () => {
      const c = client();
      await c.connect();
      const before = await revision();
      const raw = (body: string) => c.raw(encodePayload({ type: 'InstanceRequest', body }));
      for (const body of ['{"namespace":', '[1,2]', '"text"', `${'['.repeat(500)}${']'.repeat(500)}`]) {
        const answer = await raw(body);
        const m = JSON.parse(decodePayload(answer).body.toString('utf8')) as Record<string, unknown>;
        assert.equal(m['errorCode'], 400, body.slice(0, 20));
        assert.match(String(m['message']), /GRPC_MALFORMED_PAYLOAD/);
      }
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ serviceName: 'x', type: 'registerInstance', instance: { ...instance('10.0.0.1', 80), port: 'eighty' } }, /instance\.port: must be an integer/],
        [{ serviceName: 'x', type: 'registerInstance', instance: { ...instance('10.0.0.1', 80), port: 70000 } }, /port/],
        [{ serviceName: 'x', type: 'registerInstance', instance: { ...instance('not an ip!', 80) } }, /ip/],
        [{ serviceName: 'x', type: 'registerInstance', instance: { ...instance('10.0.0.1', 80), metadata: { a: 1 } } }, /instance\.metadata\.a/],
        [{ serviceName: 'x', type: 'explode', instance: instance('10.0.0.1', 80) }, /type: must be/],
        [{ serviceName: 'x', type: 'registerInstance' }, /'instance' is missing/],
        [{ type: 'registerInstance', instance: instance('10.0.0.1', 80) }, /'serviceName' is missing/],
        [{ serviceName: 'x', namespace: 'nowhere', type: 'registerInstance', instance: instance('10.0.0.1', 80) }, /NAMESPACE_NOT_FOUND/],
      ];
      for (const [body, message] of cases) {
        const r = await c.request('InstanceRequest', body);
        assert.equal(r.type, 'InstanceResponse', JSON.stringify(body));
        assert.equal(r.body['resultCode'], 500);
        assert.ok(Number(r.body['errorCode']) >= 400 && Number(r.body['errorCode']) < 500, JSON.stringify(r.body));
        assert.match(String(r.body['message']), message);
      }
      const listen = await c.request('ConfigBatchListenRequest', { configListenContexts: [{ dataId: 5, group: 'g' }] });
      assert.match(String(listen.body['message']), /configListenContexts\[0\]\.dataId: must be a string/);
      assert.equal(await revision(), before);
    });

    it('refuses an oversized payload before reading it', async () => {
      const c = client();
      await c.connect();
      const before = await revision();
      const big = JSON.stringify({ serviceName: 'big', type: 'registerInstance', instance: instance('10.0.0.1', 80, { metadata: { pad: 'x'.repeat(2 * 1024 * 1024) } }) });
      const err = await c.raw(encodePayload({ type: 'InstanceRequest', body: big })).then(() => undefined, (e: ServiceError) => e);
      assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
      assert.equal(await revision(), before);
      assert.equal((await c.request('HealthCheckRequest')).type, 'HealthCheckResponse');
    });

    it('ends a stream that never sets up, and one that starts with garbage', async () => {
      const server = new NacosGrpcServer(reg.registry.services, {
        host: '127.0.0.1', port: 0, authEnabled: false, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024, setupTimeoutMs: 200,
      });
      const p = await server.start();
      try {
        const silent = new NacosGrpcTestClient(p);
        clients.push(silent);
        void silent.openStream().catch(() => undefined);
        await until('the silent stream to be ended', 5000, () => silent.streamError);
        assert.equal(silent.streamError?.code, status.DEADLINE_EXCEEDED);
        assert.match(String(silent.streamError?.details), /no ConnectionSetupRequest within 200 ms/);
        assert.equal((await silent.request('HealthCheckRequest')).body['errorCode'], 301);

        const garbage = new NacosGrpcTestClient(p);
        clients.push(garbage);
        void garbage.openStream().catch(() => undefined);
        garbage.sendRaw(Buffer.from([0x12, 0x7f, 0x00]));
        await until('the garbage stream to be ended', 5000, () => garbage.streamError);
        assert.equal(garbage.streamError?.code, status.INVALID_ARGUMENT);
        assert.equal(server.connectionCount, 0);
      } finally {
        await server.close();
      }
    });
  });
});

describe('the Nacos gRPC port with auth on', () => {
  let reg: TestRegistry;
  let port: number;
  let token: string;
  const clients: NacosGrpcTestClient[] = [];

  before(async () => {
    reg = await startRegistry({ auth: true });
    port = reg.registry.grpc!.port;
    const login = await http('POST', `${reg.url}/nacos/v1/auth/login`, { form: { username: 'admin', password: 'admin-password-1' } });
    token = (login.body as { accessToken: string }).accessToken;
  });
  after(async () => {
    for (const c of clients) c.close();
    await reg?.close();
  });

  it('refuses requests without a token (403), and accepts the accessToken header as HTTP does', async () => {
    const anon = new NacosGrpcTestClient(port);
    clients.push(anon);
    await anon.connect();
    const before = await reg.registry.services.store.revision();
    const refused: Message = await anon.request('InstanceRequest', { serviceName: 'secure', type: 'registerInstance', instance: instance('10.3.0.1', 80) });
    assert.equal(refused.body['errorCode'], 403);
    assert.match(String(refused.body['message']), /UNAUTHORIZED: log in first/);
    const bad = await anon.request('ServiceQueryRequest', { serviceName: 'secure' }, { accessToken: 'forged' });
    assert.equal(bad.body['errorCode'], 403);
    const config = await anon.request('ConfigQueryRequest', { dataId: 'x-mcp-versions.json', group: 'mcp-server-versions' });
    assert.equal(config.body['errorCode'], 403);
    assert.equal(await reg.registry.services.store.revision(), before);

    const authed = new NacosGrpcTestClient(port, { accessToken: token });
    clients.push(authed);
    await authed.connect();
    const ok = await authed.request('InstanceRequest', { serviceName: 'secure', type: 'registerInstance', instance: instance('10.3.0.1', 80) });
    assert.equal(ok.body['resultCode'], 200, JSON.stringify(ok.body));
  });
});
