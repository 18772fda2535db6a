/**
 * Decoding OTLP/HTTP protobuf trace exports in tests, with protobufjs (through
 * `@grpc/proto-loader`) against a schema of our own written from the OTLP specification's field
 * numbers and types (test/fixtures/otlp/trace-export.proto): an independent check of mcpgate's
 * hand-written encoder.
 * The result has the shape of the OTLP JSON encoding (camelCase fields, ids as lowercase hex,
 * 64-bit integers as decimal strings).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/proto-loader';

/** An attribute value as decoded (one of its fields set). */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** One decoded span. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  droppedEventsCount?: number;
  droppedLinksCount?: number;
  status?: { code?: number; message?: string };
}

export interface OtlpTraceRequest {
  resourceSpans: { resource: { attributes: OtlpKeyValue[] }; scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[] }[];
}

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/otlp');
let exportMethod: { requestDeserialize(b: Buffer): unknown } | undefined;

/** An `ExportTraceServiceRequest` body, decoded. */
export function decodeOtlpTraces(body: Buffer): OtlpTraceRequest {
  exportMethod ??= (() => {
    const defs = loadSync('trace-export.proto', {
      includeDirs: [PROTO_ROOT], longs: String, enums: Number, defaults: false, arrays: true,
    });
    return (defs['mcpgate.test.otlp.TraceExport'] as ServiceDefinition).Export;
  })();
  const decoded = (exportMethod as { requestDeserialize(b: Buffer): unknown }).requestDeserialize(body) as OtlpTraceRequest;
  for (const rs of decoded.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const raw = s as unknown as Record<string, unknown>;
        for (const k of ['traceId', 'spanId', 'parentSpanId'] as const) {
          const v = raw[k];
          if (v instanceof Uint8Array) raw[k] = v.length === 0 ? undefined : Buffer.from(v).toString('hex');
        }
        s.attributes ??= [];
      }
    }
  }
  return decoded;
}
