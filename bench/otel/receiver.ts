/**
 * The OTLP/HTTP receiver of the tracing benchmark, in its own process as a collector would be
 * (not in the load generator's): it accepts `POST /v1/traces` in either encoding and counts the
 * spans without decoding the whole export, so that it costs the shared CPU little; `GET /count`
 * answers `{"spans":N,"exports":N,"bytes":N}`.
 *
 *   node bench/otel/receiver.ts PORT   (through tsx)
 *
 * Hand-written span counting (a benchmark tool, not product code): JSON exports hold one
 * `"spanId"` key per span (`"parentSpanId"` does not match it, quote included); protobuf
 * exports are walked field by field down to ExportTraceServiceRequest.resource_spans(1) →
 * ResourceSpans.scope_spans(2) → ScopeSpans.spans(2).
 */
import { createServer } from 'node:http';

const SPAN_ID_KEY = Buffer.from('"spanId"');

/** Spans in a JSON export: occurrences of the `"spanId"` key. */
function countJson(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(SPAN_ID_KEY); i >= 0; i = body.indexOf(SPAN_ID_KEY, i + SPAN_ID_KEY.length)) n++;
  return n;
}

/** A protobuf varint at `at`: its value and the offset after it. */
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  let i = at;
  for (;;) {
    const byte = b[i++];
    if (byte === undefined) throw new Error('truncated varint');
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, i];
    mul *= 128;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field of a message in [start, end). */
function eachLenField(b: Buffer, start: number, end: number, onField: (field: number, s: number, e: number) => void): void {
  let i = start;
  while (i < end) {
    const [key, afterKey] = varint(b, i);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    i = afterKey;
    if (wire === 0) i = varint(b, i)[1];
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const [len, s] = varint(b, i);
      onField(field, s, s + len);
      i = s + len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
}

/** Spans in a protobuf export. */
function countProto(body: Buffer): number {
  let n = 0;
  eachLenField(body, 0, body.length, (f, s, e) => {
    if (f !== 1) return;
    eachLenField(body, s, e, (f2, s2, e2) => {
      if (f2 !== 2) return;
      eachLenField(body, s2, e2, (f3) => { if (f3 === 2) n++; });
    });
  });
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let spans = 0;
  let exports = 0;
  let bytes = 0;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method === 'GET' && req.url === '/count') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ spans, exports, bytes }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const proto = (req.headers['content-type'] ?? '').includes('protobuf');
      try {
        spans += proto ? countProto(body) : countJson(body);
      } catch { /* a malformed export: not counted */ }
      exports++;
      bytes += body.length;
      if (proto) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(Number(process.argv[2]), '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
