// Traces, metrics and the access log with real parts: `mcpgate serve` with tracing on, exporting
// to an OTLP/HTTP receiver in this test (decoding the protobuf export with protobufjs against
// test/fixtures/otlp/trace-export.proto), a REST backend and an upstream
// MCP server (official SDK) that record the headers they get, and an agent (the official SDK
// client) sending its own W3C traceparent. One agent call gives one trace: the gateway's SERVER
// span under the agent's span, the backend request's CLIENT span under it, and the backend
// received that CLIENT span as its parent. /metrics is scraped after the traffic.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { endSpan, startServerSpan, withSpan } from '../src/lib/tracing.js';
import { createMcpServer, freePort, restTool, waitFor } from './support/gateway.js';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { decodeOtlpTraces } from './support/otlp.js';
import type { OtlpSpan } from './support/otlp.js';


const SERVER = 2;
const CLIENT = 3;

function attr(span: OtlpSpan, key: string): string | number | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('observability: traces, metrics, access log', () => {
  const lines: Record<string, unknown>[] = [];
  const spans: OtlpSpan[] = [];
  const exports: { contentType: string | undefined; serviceName: unknown }[] = [];
  const backendHeaders: IncomingHttpHeaders[] = [];
  let receiver: Server;
  let backend: Server;
  let upstream: HttpUpstream;
  let dir = '';
  let stack: Awaited<ReturnType<typeof startServe>> | undefined;
  let gatewayUrl = '';
  let registryUrl = '';

  // The agent's own trace: the gateway's spans must join it.
  const agentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const agentSpan = '00f067aa0ba902b7';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-otel-'));
    // An OTLP/HTTP receiver: what a collector's otlphttp receiver does with the protobuf encoding.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url !== '/v1/traces' || req.method !== 'POST') return void res.writeHead(404).end();
        const body = decodeOtlpTraces(Buffer.concat(chunks));
        for (const rs of body.resourceSpans) {
          exports.push({ contentType: req.headers['content-type'], serviceName: rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue });
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    const receiverPort = await listen(receiver);
    backend = createServer((req, res) => {
      backendHeaders.push(req.headers);
      if (req.url?.startsWith('/fail')) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"city":"Paris","temp":21}');
    });
    const backendPort = await listen(backend);
    upstream = await startHttpUpstream();
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
    stack = await startServe(loadConfig('serve', {
      host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false, logLevel: 'info',
      otlpEndpoint: `http://127.0.0.1:${receiverPort}`,
    }, {}), createLogger('info', 'mcpgate', sink));
    registryUrl = `http://127.0.0.1:${stack.registry.port}`;
    gatewayUrl = `http://127.0.0.1:${stack.gateway.port}`;
    await createMcpServer(registryUrl, 'public', {
      name: 'weather', endpoint: { type: 'direct', address: '127.0.0.1', port: backendPort },
      spec: { version: '1.0.0', tools: [restTool('get_weather', { url: '/weather' }), restTool('broken', { url: '/fail' })] },
    });
    await createMcpServer(registryUrl, 'public', { name: 'relay', protocol: 'mcp-streamable', endpoint: { type: 'url', url: upstream.url('/mcp') }, spec: { version: '1.0.0', tools: [] } });
    await waitFor('the gateway serves both servers', () => stack?.gateway.handler.current.servers.size === 2);
  });

  after(async () => {
    await stack?.close();
    await upstream?.close();
    await new Promise<void>((r) => { backend.closeAllConnections(); backend.close(() => r()); });
    await new Promise<void>((r) => { receiver.closeAllConnections(); receiver.close(() => r()); });
    rmSync(dir, { recursive: true, force: true });
  });

  /** An agent (official SDK client) whose requests carry its own traceparent. */
  async function agent(server: string): Promise<SdkClient> {
    const client = new SdkClient({ name: 'otel-agent', version: '1.0.0' });
    await client.connect(new SdkStreamable(new URL(`${gatewayUrl}/mcp/public/${server}`), {
      requestInit: { headers: { traceparent: `00-${agentTrace}-${agentSpan}-01` } },
    }));
    return client;
  }

  it('one agent call is one trace: agent span → gateway SERVER span → backend CLIENT span, and the backend got its traceparent', async () => {
    const client = await agent('weather');
    const result = await client.callTool({ name: 'get_weather', arguments: {} });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    await client.close();

    const server = await waitFor('the tools/call SERVER span exported', () => spans.find((s) => s.name === 'tools/call get_weather' && s.kind === SERVER), 15_000);
    assert.equal(server.traceId, agentTrace, 'the gateway joined the agent\'s trace');
    assert.equal(server.parentSpanId, agentSpan, 'under the agent\'s span');
    assert.equal(attr(server, 'mcp.method.name'), 'tools/call');
    assert.equal(attr(server, 'gen_ai.tool.name'), 'get_weather');
    assert.equal(attr(server, 'gen_ai.operation.name'), 'execute_tool');
    assert.equal(attr(server, 'mcpgate.namespace'), 'public');
    assert.equal(attr(server, 'mcpgate.server'), 'weather');
    assert.ok(attr(server, 'mcp.session.id'), 'the session id');
    assert.ok(attr(server, 'jsonrpc.request.id') !== undefined);

    const call = await waitFor('the backend CLIENT span', () => spans.find((s) => s.kind === CLIENT && s.parentSpanId === server.spanId));
    assert.equal(call.traceId, agentTrace);
    assert.equal(call.name, 'GET');
    assert.equal(attr(call, 'http.request.method'), 'GET');
    assert.equal(attr(call, 'http.response.status_code'), 200);
    assert.match(String(attr(call, 'url.full')), /^http:\/\/127\.0\.0\.1:\d+\/weather$/);

    const got = backendHeaders.find((h) => typeof h.traceparent === 'string' && h.traceparent.includes(agentTrace));
    assert.ok(got, `the backend received a traceparent of the agent's trace: ${JSON.stringify(backendHeaders.map((h) => h.traceparent))}`);
    assert.equal(got.traceparent, `00-${agentTrace}-${call.spanId}-01`, 'with the CLIENT span as its parent');

    assert.ok(exports.every((e) => e.contentType === 'application/x-protobuf'), 'OTLP/HTTP protobuf');
    assert.ok(exports.some((e) => e.serviceName === 'mcpgate-gateway'));

    // The access log line of the call names the trace; the request id ties it to the answer.
    const access = lines.find((l) => l.msg === 'mcp request' && l.tool === 'get_weather');
    assert.ok(access, 'an access log line for the call');
    assert.equal(access.trace_id, agentTrace);
    assert.equal(access.component, 'access');
    assert.equal(access.namespace, 'public');
    assert.equal(access.server, 'weather');
    assert.equal(access.outcome, 'ok');
    assert.equal(access.backendStatus, 200);
    assert.equal(typeof access.ms, 'number');
    assert.ok(typeof access.reqId === 'string' && access.reqId.length > 0, 'the request id');
    assert.ok(typeof access.session === 'string', 'the session');
  });

  it('an upstream MCP server gets the trace context too (header and params._meta)', async () => {
    const client = await agent('relay');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    await client.close();
    const server = await waitFor('the relay SERVER span', () => spans.find((s) => s.kind === SERVER && attr(s, 'mcpgate.server') === 'relay' && attr(s, 'gen_ai.tool.name') === 'echo'), 15_000);
    assert.equal(server.traceId, agentTrace);
    const client2 = await waitFor('the upstream CLIENT span', () => spans.find((s) => s.kind === CLIENT && s.parentSpanId === server.spanId));
    assert.equal(attr(client2, 'mcp.method.name'), 'tools/call');
    const got = upstream.seen.find((h) => h.traceparent === `00-${agentTrace}-${client2.spanId}-01`);
    assert.ok(got, `the upstream received the CLIENT span as parent: ${JSON.stringify(upstream.seen.map((h) => h.traceparent))}`);
  });

  it('a failed backend call: error span, warn line with the kind and status, error metrics', async () => {
    const client = await agent('weather');
    const result = await client.callTool({ name: 'broken', arguments: {} });
    assert.equal(result.isError, true);
    // A tool no one listed: refused, and never a metric label.
    await assert.rejects(client.callTool({ name: 'no_such_tool_x7', arguments: {} }));
    await client.close();

    const server = await waitFor('the broken SERVER span', () => spans.find((s) => s.name === 'tools/call broken'), 15_000);
    assert.equal(server.status?.code, 2, 'status ERROR');
    assert.equal(attr(server, 'error.type'), 'tool_error');
    const call = await waitFor('its CLIENT span', () => spans.find((s) => s.parentSpanId === server.spanId));
    assert.equal(attr(call, 'http.response.status_code'), 500);
    assert.equal(attr(call, 'error.type'), '500');
    const unknown = await waitFor('the unknown tool SERVER span', () => spans.find((s) => s.kind === SERVER && attr(s, 'gen_ai.tool.name') === 'no_such_tool_x7'));
    assert.equal(unknown.name, 'tools/call', 'an unlisted tool never names a span');

    const warn = lines.find((l) => l.msg === 'mcp request' && l.tool === 'broken');
    assert.ok(warn);
    assert.equal(warn.level, 40);
    assert.equal(warn.outcome, 'tool_error');
    assert.equal(warn.errorKind, 'backend_status');
    assert.equal(warn.backendStatus, 500);
    const refused = lines.find((l) => l.msg === 'mcp request' && l.tool === 'no_such_tool_x7');
    assert.equal(refused?.errorKind, 'INVALID_PARAMS');

    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    const has = (re: RegExp) => assert.match(text, re);
    has(/mcpgate_tool_calls_total\{namespace="public",server="weather",tool="get_weather",outcome="ok",role="gateway"\} [1-9]/);
    has(/mcpgate_tool_calls_total\{namespace="public",server="weather",tool="broken",outcome="tool_error",role="gateway"\} 1/);
    has(/mcpgate_tool_errors_total\{namespace="public",server="weather",tool="broken",kind="backend_status",role="gateway"\} 1/);
    has(/mcpgate_tool_errors_total\{namespace="public",server="weather",tool="\(unlisted\)",kind="INVALID_PARAMS",role="gateway"\} 1/);
    has(/mcpgate_tool_call_duration_seconds_bucket\{le="\+Inf",role="gateway",namespace="public",server="weather",tool="get_weather",outcome="ok"\} [1-9]/);
    has(/mcpgate_tool_calls_total\{namespace="public",server="relay",tool="echo",outcome="ok",role="gateway"\} 1/);
    has(/mcpgate_mcp_requests_total\{namespace="public",server="weather",method="tools\/list"|mcpgate_mcp_requests_total\{namespace="public",server="weather",method="tools\/call",outcome="ok"/);
    assert.doesNotMatch(text, /no_such_tool_x7/, 'no series for a tool no one listed');
    has(/mcpgate_gateway_snapshot_revision\{role="gateway"\} [1-9]/);
    has(/mcpgate_gateway_snapshot_age_seconds\{role="gateway"\} \d/);
    has(/mcpgate_gateway_snapshot_servers\{role="gateway"\} 2/);
    has(/mcpgate_gateway_snapshot_tools\{namespace="public",role="gateway"\} 2/);
    has(/mcpgate_gateway_upstream_targets\{namespace="public",server="weather",role="gateway"\} 1/);
    has(/mcpgate_gateway_upstream_mcp_connections\{namespace="public",server="relay",role="gateway"\} \d/);
    has(/mcpgate_gateway_open_sessions\{role="gateway"\} \d/);
    has(/mcpgate_gateway_open_streams\{role="gateway"\} \d/);
    has(/mcpgate_gateway_ready\{check="snapshot",role="gateway"\} 1/);
    has(/mcpgate_gateway_requests_total\{method="POST",status="200",role="gateway"\} [1-9]/);
    // The span export's own counts: spans reached the receiver above, none dropped or lost.
    has(/mcpgate_gateway_trace_spans_total\{outcome="exported",role="gateway"\} [1-9]/);
    has(/mcpgate_gateway_trace_spans_total\{outcome="dropped",role="gateway"\} 0/);
    has(/mcpgate_gateway_trace_spans_total\{outcome="failed",role="gateway"\} 0/);
  });

  it('refusals before a method runs are counted by code', async () => {
    const r = await fetch(`${gatewayUrl}/mcp/public/weather`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'not-a-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(r.status, 404);
    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    assert.match(text, /mcpgate_gateway_error_answers_total\{code="SESSION_NOT_FOUND",role="gateway"\} [1-9]/);
  });

  it('registry: instances by health, heartbeats, leader, database and revision', async () => {
    const nacos = `${registryUrl}/nacos`;
    const unknown = await fetch(`${nacos}/v1/ns/instance/beat?serviceName=beats&ip=10.6.0.1&port=80`, { method: 'PUT' });
    assert.equal(unknown.status, 200);
    const beat = JSON.stringify({ cluster: 'DEFAULT', ip: '10.6.0.1', port: 80, serviceName: 'DEFAULT_GROUP@@beats', weight: 1, metadata: {}, scheduled: true });
    assert.equal((await fetch(`${nacos}/v1/ns/instance/beat?serviceName=DEFAULT_GROUP@@beats&beat=${encodeURIComponent(beat)}`, { method: 'PUT' })).status, 200);
    assert.equal((await fetch(`${nacos}/v1/ns/instance/beat?serviceName=beats&ip=10.6.0.1&port=80`, { method: 'PUT' })).status, 200);
    const text = await (await fetch(`${registryUrl}/metrics`)).text();
    assert.match(text, /mcpgate_registry_heartbeats_total\{result="not-found",role="\w+"\} 1/);
    assert.match(text, /mcpgate_registry_heartbeats_total\{result="ok",role="\w+"\} 2/);
    assert.match(text, /mcpgate_registry_instances\{namespace="public",healthy="true",ephemeral="true",role="\w+"\} 1/);
    assert.match(text, /mcpgate_registry_leader\{role="\w+"\} 1/);
    assert.match(text, /mcpgate_registry_db_up\{role="\w+"\} 1/);
    assert.match(text, /mcpgate_registry_revision\{role="\w+"\} [1-9]/);
  });

  it('the Grafana dashboard (deploy/grafana) is built on metrics the processes expose', async () => {
    const dashboard = readFileSync(new URL('../deploy/grafana/mcpgate-dashboard.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/\b(mcpgate_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|count|sum)$/, '')));
    assert.ok(used.size >= 15, `panels use ${used.size} metrics`);
    const exposed = (await (await fetch(`${gatewayUrl}/metrics`)).text()) + (await (await fetch(`${registryUrl}/metrics`)).text());
    for (const name of used) assert.match(exposed, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
  });

  it('with tracing on, a log line written under a span carries its trace_id and span_id', () => {
    const own: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { own.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done(); } });
    const logger = createLogger('info', 'mcpgate', sink);
    const span = startServerSpan('tools/call x', {}, { traceparent: `00-${agentTrace}-${agentSpan}-01` });
    assert.ok(span);
    withSpan(span, () => logger.info('inside'));
    logger.info('outside');
    endSpan(span);
    assert.equal(own[0]?.trace_id, agentTrace);
    assert.equal(own[0]?.span_id, span.spanContext().spanId);
    assert.equal(own[1]?.trace_id, undefined, 'no span, no trace id');
  });

  it('registry: a health check turning an instance unhealthy is logged once and counted', async () => {
    const dead = await freePort();
    const r = await fetch(`${registryUrl}/api/v1/namespaces/public/services/DEFAULT_GROUP/probed/instances`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ip: '127.0.0.1', port: dead, ephemeral: false, healthCheck: { type: 'tcp', intervalMs: 500, timeoutMs: 500, unhealthyThreshold: 1 } }),
    });
    assert.ok(r.status < 300, await r.text());
    const line = await waitFor('the unhealthy line', () => lines.find((l) => l.msg === 'instance unhealthy' && l.address === `127.0.0.1:${dead}`), 15_000);
    assert.equal(line.component, 'health');
    assert.equal(line.level, 40);
    assert.equal(line.service, 'probed');
    assert.match(String(line.detail), /refused/);
    const text = await (await fetch(`${registryUrl}/metrics`)).text();
    assert.match(text, /mcpgate_registry_health_transitions_total\{healthy="false",role="\w+"\} 1/);
    assert.equal(lines.filter((l) => l.msg === 'instance unhealthy' && l.address === `127.0.0.1:${dead}`).length, 1, 'once, not per failed probe');
  });
});
