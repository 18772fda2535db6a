// The hand-written Payload codec against nacos_grpc.proto (loaded with @grpc/proto-loader):
// what one encodes the other decodes, field for field; and malformed frames are refused with
// a message naming the fault.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import fc from 'fast-check';
import { FrameError, MAX_HEADERS, decodePayload, encodePayload } from './codec.js';

const definition = loadSync(fileURLToPath(new URL('./nacos_grpc.proto', import.meta.url)), { keepCase: true, defaults: true });
const request = (definition['Request'] as unknown as { request: { requestSerialize(v: unknown): Buffer; requestDeserialize(b: Buffer): unknown } }).request;

type ProtoPayload = { metadata: { type: string; clientIp: string; headers: Record<string, string> }; body: { type_url: string; value: Buffer } };

const text = fc.string({ maxLength: 40 });
const payload = fc.record({
  type: text, clientIp: text,
  headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__'), text, { maxKeys: 5 }),
  body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
});

describe('the Nacos Payload codec', () => {
  it('decodes what the .proto encodes', () => {
    fc.assert(fc.property(payload, (p) => {
      const bytes = request.requestSerialize({ metadata: { type: p.type, clientIp: p.clientIp, headers: p.headers }, body: { type_url: '', value: p.body } });
      const d = decodePayload(bytes);
      assert.equal(d.type, p.type);
      assert.equal(d.clientIp, p.clientIp);
      assert.deepEqual({ ...d.headers }, { ...p.headers });
      assert.deepEqual(Buffer.from(d.body), p.body);
    }));
  });

  it('encodes what the .proto decodes', () => {
    fc.assert(fc.property(payload, (p) => {
      const d = request.requestDeserialize(encodePayload(p)) as ProtoPayload;
      assert.equal(d.metadata.type, p.type);
      assert.equal(d.metadata.clientIp, p.clientIp);
      assert.deepEqual({ ...d.metadata.headers }, { ...p.headers });
      assert.deepEqual(Buffer.from(d.body.value), p.body);
    }));
  });

  it('refuses malformed frames with a message naming the fault, never anything else', () => {
    const cases: [number[], RegExp][] = [
      [[0x12, 0x05, 0x1a], /metadata: length 5 runs past the end/],
      [[0x12], /truncated varint in metadata/],
      [[0x23], /unsupported wire type 3 in payload/], [[0x13], /metadata has wire type 3, expected 2/],
      [[0x10, 0x01], /metadata has wire type 0, expected 2/],
      [[0x00], /field number 0/],
      [[0x12, 0x02, 0x1a, 0x7f], /metadata.type: length 127 runs past/],
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], /varint longer than 10 bytes/],
    ];
    for (const [bytes, message] of cases) assert.throws(() => decodePayload(Buffer.from(bytes)), (e: unknown) => e instanceof FrameError && message.test(e.message));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
      try {
        decodePayload(Buffer.from(a));
      } catch (e) {
        assert.ok(e instanceof FrameError, String(e));
      }
    }));
  });

  it('caps the number of headers', () => {
    const headers = Object.fromEntries(Array.from({ length: MAX_HEADERS + 1 }, (_, i) => [`h${i}`, 'v']));
    assert.throws(() => decodePayload(encodePayload({ type: 'X', headers, body: '' })), /more than 128 headers/);
  });
});
