import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics } from './metrics.js';
import { EMPTY_SNAPSHOT } from './snapshot.js';
import type { RequestObservation } from './mcp/eras/era.js';

const metrics = () => new GatewayMetrics({ snapshot: () => EMPTY_SNAPSHOT, openStreams: () => 0, openSessions: async () => 0, readiness: () => ({}) });
const call = (over: Partial<RequestObservation> = {}): RequestObservation => ({
  namespace: 'public', server: 'weather', method: 'tools/call', tool: 'forecast', knownTool: true, outcome: 'ok', seconds: 0.002, ...over,
});
const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').at(-1);

describe('GatewayMetrics', () => {
  it('counts requests in cells that every scrape adds up, in prom-client\'s exposition', async () => {
    const m = metrics();
    m.request(call());
    m.request(call({ seconds: 0.02 }));
    m.request(call({ outcome: 'tool_error', errorKind: 'backend_status' }));
    m.request(call({ method: 'tools/list', tool: undefined, knownTool: false }));
    m.httpRequest('POST', 200);
    let text = await m.registry.metrics();
    assert.equal(line(text, 'mcpgate_tool_calls_total{namespace="public",server="weather",tool="forecast",outcome="ok"'), '2');
    assert.equal(line(text, 'mcpgate_tool_calls_total{namespace="public",server="weather",tool="forecast",outcome="tool_error"'), '1');
    assert.equal(line(text, 'mcpgate_tool_errors_total{namespace="public",server="weather",tool="forecast",kind="backend_status"'), '1');
    assert.equal(line(text, 'mcpgate_mcp_requests_total{namespace="public",server="weather",method="tools/list",outcome="ok"'), '1');
    assert.equal(line(text, 'mcpgate_gateway_requests_total{method="POST",status="200"'), '1');
    const ok = 'role="gateway",namespace="public",server="weather",tool="forecast",outcome="ok"}';
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="0.001",${ok}`), '0');
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="0.0025",${ok}`), '1');
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="0.025",${ok}`), '2');
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="+Inf",${ok}`), '2');
    assert.equal(Number(line(text, `mcpgate_tool_call_duration_seconds_sum{${ok}`)), 0.022);
    assert.equal(line(text, 'mcpgate_mcp_request_duration_seconds_count{role="gateway",namespace="public",server="weather",method="tools/call"}'), '3');
    // Counts go on adding up across scrapes; a value past the last bucket counts in +Inf only.
    m.request(call({ seconds: 60 }));
    m.httpRequest('POST', 200);
    text = await m.registry.metrics();
    assert.equal(line(text, 'mcpgate_tool_calls_total{namespace="public",server="weather",tool="forecast",outcome="ok"'), '3');
    assert.equal(line(text, 'mcpgate_gateway_requests_total{method="POST",status="200"'), '2');
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="30",${ok}`), '2');
    assert.equal(line(text, `mcpgate_tool_call_duration_seconds_bucket{le="+Inf",${ok}`), '3');
    // The workers' primary reads the same figures through get().
    const json = await m.registry.getMetricsAsJSON();
    const calls = json.find((x) => x.name === 'mcpgate_tool_calls_total');
    assert.equal(calls?.values.reduce((s, v) => s + v.value, 0), 4);
  });
});
