// The lean span recorder against a real OTLP/HTTP receiver (a node:http server decoding the
// protobuf export against test/fixtures/otlp/trace-export.proto): parent-based and ratio sampling, W3C
// traceparent in and out, the current span through awaits, the API surface
// (`@opentelemetry/api` tracer, context and propagator), export headers, the bounded queue's
// drops, failed exports, and flush on shutdown. test/observability.test.ts covers the gateway
// end to end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { decodeOtlpTraces } from '../../test/support/otlp.js';
import type { OtlpTraceRequest, OtlpSpan } from '../../test/support/otlp.js';
import { runWithRequestId } from './request-context.js';
import {
  currentTraceIds, endSpan, parseOtlpHeaders, startClientSpan, startServerSpan, startTracing, traceHeaders, traceIdOf, tracingEnabled,
  tracingStats, withSpan,
} from './tracing.js';

describe('tracing: the lean recorder and its OTLP/HTTP protobuf export', () => {
  let receiver: Server;
  let url = '';
  const requests: { headers: IncomingHttpHeaders; body: OtlpTraceRequest }[] = [];
  const spans = (): OtlpSpan[] => requests.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url !== '/otlp/v1/traces') return void res.writeHead(404).end();
        requests.push({ headers: req.headers, body: decodeOtlpTraces(Buffer.concat(chunks)) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/otlp`;
  });

  after(async () => {
    await new Promise<void>((r) => { receiver.closeAllConnections(); receiver.close(() => r()); });
  });

  it('records a trace: SERVER span under the agent\'s traceparent, CLIENT span under it, ids in log context, API users included', async () => {
    requests.length = 0;
    const tracing = await startTracing({
      endpoint: url, serviceName: 'svc-test', resource: { 'service.instance.id': 'h:1' }, headers: { authorization: 'Bearer t0ken' }, intervalMs: 60_000,
    });
    try {
      assert.ok(tracingEnabled());
      await assert.rejects(startTracing({ endpoint: url, serviceName: 'again' }), /already started/);
      const agentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      let clientHeader: Record<string, string> | undefined;
      let idsInside: ReturnType<typeof currentTraceIds>;
      let apiChildParent = '';
      const injected: Record<string, string> = {};
      await runWithRequestId('req-1', async () => {
        const server = startServerSpan('tools/call t', { 'mcp.method.name': 'tools/call', 'x.none': undefined }, undefined,
          { traceparent: `00-${agentTrace}-00f067aa0ba902b7-01`, tracestate: 'v=1' });
        assert.equal(traceIdOf(server), agentTrace);
        await withSpan(server, async () => {
          await new Promise((r) => setTimeout(r, 1));
          idsInside = currentTraceIds();
          const client = startClientSpan('GET', { 'http.request.method': 'GET', 'server.port': 443 });
          clientHeader = traceHeaders(client);
          client?.setAttribute('http.response.status_code', 503);
          endSpan(client, '503', 'backend said 503');
          // Code using @opentelemetry/api directly gets spans of the same trace.
          trace.getTracer('other').startActiveSpan('api child', { kind: SpanKind.INTERNAL }, (s) => {
            apiChildParent = (s as unknown as { parentSpanId: string }).parentSpanId;
            propagation.inject(context.active(), injected);
            s.end();
          });
        });
        assert.equal(currentTraceIds(), undefined, 'no span current once withSpan returned');
        endSpan(server);
        assert.equal(idsInside?.trace_id, agentTrace);
        assert.equal(idsInside?.span_id, server?.spanContext().spanId);
        assert.equal(apiChildParent, server?.spanContext().spanId);
        assert.match(injected.traceparent ?? '', new RegExp(`^00-${agentTrace}-[0-9a-f]{16}-01$`));
      });
      await tracing.flush();
      assert.equal(requests.length, 1);
      const req = requests[0]!;
      assert.equal(req.headers['content-type'], 'application/x-protobuf');
      assert.equal(req.headers.authorization, 'Bearer t0ken');
      assert.deepEqual(req.body.resourceSpans[0]!.resource.attributes, [
        { key: 'service.name', value: { stringValue: 'svc-test' } }, { key: 'service.instance.id', value: { stringValue: 'h:1' } },
      ]);
      const all = spans();
      const server = all.find((s) => s.kind === 2);
      const client = all.find((s) => s.kind === 3);
      assert.ok(server && client && all.length === 3);
      assert.equal(server.traceId, agentTrace);
      assert.equal(server.parentSpanId, '00f067aa0ba902b7');
      assert.equal(server.traceState, 'v=1');
      assert.equal(server.flags, 0x301, 'sampled, remote parent');
      assert.deepEqual(server.attributes, [{ key: 'mcp.method.name', value: { stringValue: 'tools/call' } }], 'undefined attributes left out');
      assert.equal(server.status, undefined);
      assert.equal(client.parentSpanId, server.spanId);
      assert.equal(client.flags, 0x101, 'sampled, local parent');
      assert.deepEqual(clientHeader, { traceparent: `00-${agentTrace}-${client.spanId}-01`, tracestate: 'v=1' });
      assert.deepEqual(client.status, { code: 2, message: 'backend said 503' });
      assert.deepEqual(client.attributes.map((a) => [a.key, a.value.stringValue ?? a.value.intValue]), [
        ['http.request.method', 'GET'], ['server.port', '443'], ['http.response.status_code', '503'], ['error.type', '503'],
      ]);
      assert.ok(BigInt(server.startTimeUnixNano) <= BigInt(client.startTimeUnixNano) && BigInt(client.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));
      assert.ok(Math.abs(Number(BigInt(server.endTimeUnixNano) / 1_000_000n) - Date.now()) < 60_000, 'Unix time');
    } finally {
      await tracing.shutdown();
    }
    assert.equal(tracingEnabled(), false);
    assert.equal(startServerSpan('x', {}), undefined, 'off: no span');
  });

  it('an invalid traceparent starts a new trace; an unsampled parent is followed: context propagated, nothing recorded', async () => {
    requests.length = 0;
    const tracing = await startTracing({ endpoint: url, serviceName: 'svc-test', intervalMs: 60_000 });
    try {
      for (const bad of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'garbage', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
        const s = startServerSpan('x', {}, { traceparent: bad });
        assert.notEqual(traceIdOf(s), '4bf92f3577b34da6a3ce929d0e0e4736');
        assert.equal(s?.isRecording(), true, 'a new trace, sampled at ratio 1');
        endSpan(s);
      }
      const unsampled = startServerSpan('y', { a: 'b' }, { traceparent: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'] });
      assert.equal(unsampled?.isRecording(), false);
      const child = withSpan(unsampled, () => startClientSpan('GET', {}));
      assert.match(traceHeaders(child)?.traceparent ?? '', /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
      endSpan(child);
      endSpan(unsampled);
      await tracing.flush();
      assert.equal(spans().length, 4, 'the 4 new traces only');
    } finally {
      await tracing.shutdown();
    }
  });

  it('ratio 0 records no new trace but still propagates its context', async () => {
    requests.length = 0;
    const tracing = await startTracing({ endpoint: url, serviceName: 'svc-test', sampleRatio: 0, intervalMs: 60_000 });
    try {
      const s = startServerSpan('x', {});
      assert.match(traceHeaders(s)?.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      endSpan(s);
      const followed = startServerSpan('y', {}, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
      endSpan(followed);
      await tracing.flush();
      assert.deepEqual(spans().map((x) => x.name), ['y'], 'a sampled parent is followed');
    } finally {
      await tracing.shutdown();
    }
  });

  it('the queue is bounded: spans past it are dropped and counted; a failed export is counted; shutdown flushes', async () => {
    requests.length = 0;
    const before = { ...tracingStats() };
    const tracing = await startTracing({ endpoint: url, serviceName: 'svc-test', maxQueue: 5, batchSize: 2, intervalMs: 60_000 });
    for (let i = 0; i < 8; i++) endSpan(startServerSpan(`s${i}`, {}));
    assert.equal(tracingStats().dropped - before.dropped, 3);
    await tracing.shutdown();
    assert.deepEqual(spans().map((s) => s.name).sort(), ['s0', 's1', 's2', 's3', 's4']);
    assert.ok(requests.every((r) => r.body.resourceSpans[0]!.scopeSpans[0]!.spans.length <= 2), 'batches of at most batchSize');
    assert.equal(tracingStats().exported - before.exported, 5);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const failing = await startTracing({ endpoint: `http://127.0.0.1:${deadPort}`, serviceName: 'svc-test', intervalMs: 60_000 });
    endSpan(startServerSpan('lost', {}));
    await failing.shutdown();
    assert.equal(tracingStats().failed - before.failed, 1);
  });

  it('a full batch is posted at once; spans arriving while it is out wait for a full batch or the interval (no small batch per round trip)', async () => {
    requests.length = 0;
    const before = { ...tracingStats() };
    const tracing = await startTracing({ endpoint: url, serviceName: 'svc-test', batchSize: 2, intervalMs: 60_000 });
    try {
      const exported = async (n: number): Promise<void> => {
        while (tracingStats().exported - before.exported < n) await new Promise((r) => setTimeout(r, 5));
      };
      for (let i = 0; i < 3; i++) endSpan(startServerSpan(`b${i}`, {})); // b2 is queued before the first batch is out
      await exported(2);
      endSpan(startServerSpan('b3', {}));
      await exported(4);
      endSpan(startServerSpan('b4', {}));
      await tracing.flush(); // a partial batch: on flush (or the interval)
      assert.deepEqual(requests.map((r) => r.body.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)), [['b0', 'b1'], ['b2', 'b3'], ['b4']]);
    } finally {
      await tracing.shutdown();
    }
  });

  it('OTLP headers from the environment\'s syntax', () => {
    assert.deepEqual(parseOtlpHeaders('Authorization=Bearer%20abc, x-tenant = t1,,bad'), { authorization: 'Bearer abc', 'x-tenant': 't1' });
    assert.deepEqual(parseOtlpHeaders(undefined), {});
  });
});
