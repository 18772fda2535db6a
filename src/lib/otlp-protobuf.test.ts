// The hand-written OTLP/HTTP protobuf encoder against our own schema of the OTLP trace export (test/fixtures/otlp),
// decoded by protobufjs (test/support/otlp.ts): every field the gateway writes, lengths across
// the 1-, 2- and 3-byte varint boundaries, non-ASCII text, negative and large integers, and
// nanosecond times past 2^53.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOtlpTraces } from '../../test/support/otlp.js';
import { ProtoWriter, encodeExportRequest, encodeShape, exportHeader } from './otlp-protobuf.js';
import type { SpanRecord } from './otlp-protobuf.js';

/** A span record; ids given as hex (`traceId`, `spanId`, `parentSpanId`), kept as bytes at an offset as the recorder keeps them. */
function span(over: Partial<SpanRecord> & { traceId?: string; spanId?: string; parentSpanId?: string } = {}): SpanRecord {
  const { traceId = '4bf92f3577b34da6a3ce929d0e0e4736', spanId = '00f067aa0ba902b7', parentSpanId, ...rest } = over;
  return {
    traceBytes: Buffer.from(`ff${traceId}`, 'hex'), traceAt: 1, spanBytes: Buffer.from(`0000${spanId}`, 'hex'), spanAt: 2,
    parentBytes: parentSpanId === undefined ? undefined : Buffer.from(parentSpanId, 'hex'), parentAt: 0, traceState: undefined,
    flags: 0x101, name: 'tools/call get_weather', shape: undefined, kind: 2, startMs: 1764806400123.456, endMs: 1764806400124.5,
    attributes: undefined, extra: undefined, statusCode: 0, statusMessage: undefined, droppedEvents: 0, droppedLinks: 0, ...rest,
  };
}

/** Unix nanoseconds of a ms time as the encoder means them, computed with BigInt. */
function nanos(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}

function roundTrip(spans: SpanRecord[], resource: Record<string, string> = { 'service.name': 'mcpgate-gateway' }) {
  const w = new ProtoWriter(64); // small on purpose: the buffer grows while writing
  encodeExportRequest(w, exportHeader(resource, 'mcpgate', '1.2.3'), spans);
  return decodeOtlpTraces(w.bytes());
}

describe('OTLP protobuf encoder', () => {
  it('writes the resource, the scope and every span field the OTLP schema reads back', () => {
    const decoded = roundTrip([
      span({
        attributes: { 'mcp.method.name': 'tools/call', 'server.port': 8080, 'x.neg': -42, 'x.ratio': 0.25, 'x.flag': true, 'x.list': ['a', 'b'], 'x.none': undefined },
        extra: ['error.type', 'tool_error', 'http.response.status_code', 503],
        statusCode: 2, statusMessage: 'backend said 503', droppedEvents: 1,
      }),
      span({ spanId: '1111111111111111', parentSpanId: '00f067aa0ba902b7', kind: 3, name: 'GET', traceState: 'vendor=abc', flags: 0x301 }),
    ], { 'service.name': 'mcpgate-gateway', 'service.instance.id': 'host:1' });
    assert.equal(decoded.resourceSpans.length, 1);
    const rs = decoded.resourceSpans[0]!;
    assert.deepEqual(rs.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'mcpgate-gateway' } }, { key: 'service.instance.id', value: { stringValue: 'host:1' } },
    ]);
    assert.deepEqual(rs.scopeSpans[0]!.scope, { name: 'mcpgate', version: '1.2.3', attributes: [] });
    const [server, client] = rs.scopeSpans[0]!.spans;
    assert.ok(server && client);
    assert.equal(server.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(server.spanId, '00f067aa0ba902b7');
    assert.equal(server.parentSpanId, undefined);
    assert.equal(server.name, 'tools/call get_weather');
    assert.equal(server.kind, 2);
    assert.equal(server.flags, 0x101);
    assert.equal(server.startTimeUnixNano, nanos(1764806400123.456));
    assert.equal(server.endTimeUnixNano, '1764806400124500000');
    assert.deepEqual(server.attributes, [
      { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
      { key: 'server.port', value: { intValue: '8080' } },
      { key: 'x.neg', value: { intValue: '-42' } },
      { key: 'x.ratio', value: { doubleValue: 0.25 } },
      { key: 'x.flag', value: { boolValue: true } },
      { key: 'x.list', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
      { key: 'error.type', value: { stringValue: 'tool_error' } },
      { key: 'http.response.status_code', value: { intValue: '503' } },
    ]);
    assert.deepEqual(server.status, { code: 2, message: 'backend said 503' });
    assert.equal(server.droppedEventsCount, 1);
    assert.equal(client.parentSpanId, '00f067aa0ba902b7');
    assert.equal(client.kind, 3);
    assert.equal(client.traceState, 'vendor=abc');
    assert.equal(client.flags, 0x301);
    assert.equal(client.status, undefined, 'status unset: not written');
  });

  it('lengths across varint boundaries, non-ASCII text, large and negative integers', () => {
    const texts = ['', 'é', 'x'.repeat(127), 'x'.repeat(128), 'ü'.repeat(70), 'y'.repeat(16_383), 'z'.repeat(16_384), '日本語 ✓ 😀'.repeat(3000)];
    const ints = [0, 1, 127, 128, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, -1, -(2 ** 31), -(2 ** 40) - 3, Number.MIN_SAFE_INTEGER];
    const spans = texts.map((t, i) => span({ name: t, spanId: `${String(i).padStart(2, '0')}${'a'.repeat(14)}`, attributes: { text: t }, statusCode: 2, statusMessage: t }));
    spans.push(span({ attributes: Object.fromEntries(ints.map((n, i) => [`i${i}`, n])) }));
    const decoded = roundTrip(spans);
    const got = decoded.resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.equal(got.length, spans.length);
    texts.forEach((t, i) => {
      assert.equal(got[i]!.name, t);
      assert.deepEqual(got[i]!.attributes, [{ key: 'text', value: { stringValue: t } }]);
      assert.equal(got[i]!.status?.message ?? '', t);
    });
    assert.deepEqual(got[texts.length]!.attributes.map((a) => a.value.intValue), ints.map(String));
  });

  it('a shape: its name and shared attributes written as encoded once, the span\'s own attributes besides; a renamed span keeps its name', () => {
    const shape = encodeShape('tools/call get_weather', { 'mcp.method.name': 'tools/call', 'server.port': 8080, 'x.none': undefined, 'x.text': 'é'.repeat(100) });
    const [shaped, renamed] = roundTrip([
      span({ name: shape.name, shape, attributes: { 'mcp.session.id': 's-1' } }),
      span({ name: 'renamed', shape, parentSpanId: '1111111111111111' }),
    ]).resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.ok(shaped && renamed);
    const shared = [
      { key: 'mcp.method.name', value: { stringValue: 'tools/call' } }, { key: 'server.port', value: { intValue: '8080' } },
      { key: 'x.text', value: { stringValue: 'é'.repeat(100) } },
    ];
    assert.equal(shaped.name, 'tools/call get_weather');
    assert.deepEqual(shaped.attributes, [...shared, { key: 'mcp.session.id', value: { stringValue: 's-1' } }]);
    assert.equal(shaped.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(shaped.spanId, '00f067aa0ba902b7');
    assert.equal(renamed.name, 'renamed');
    assert.deepEqual(renamed.attributes, shared);
    assert.equal(renamed.parentSpanId, '1111111111111111');
  });

  it('nanosecond times past 2^53 exactly (no BigInt on the way)', () => {
    for (const ms of [0, 1.5, 1764806400000, 1764806400000.001, 4102444800123.999, 2 ** 41 + 0.25]) {
      const decoded = roundTrip([span({ startMs: ms, endMs: ms })]);
      assert.equal(decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.startTimeUnixNano, nanos(ms), `at ${ms} ms`);
    }
  });

  it('a reused writer starts each request afresh', () => {
    const w = new ProtoWriter();
    const header = exportHeader({ 'service.name': 's' }, 'mcpgate');
    encodeExportRequest(w, header, [span({ name: 'x'.repeat(5000) }), span()]);
    encodeExportRequest(w, header, [span({ name: 'second' })]);
    const spans = decodeOtlpTraces(w.bytes()).resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.deepEqual(spans.map((s) => s.name), ['second']);
  });
});
