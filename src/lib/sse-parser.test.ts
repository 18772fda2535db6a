// The event-stream parser shared by the registry watch and the lean upstream path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser.js';
import type { SseEvent } from './sse-parser.js';

describe('SseParser', () => {
  const stream = '\uFEFFretry: 1500\n: comment\n\nevent: changes\nid: 7\ndata: {"a":\ndata:  1}\n\r\nevent: resync\r\nid: 8\r\ndata:x\r\rdata\n\nid: bad\0id\nevent: empty\n\nevent: cut\ndata: never finished';
  const expected: SseEvent[] = [
    { event: 'changes', id: '7', data: '{"a":\n 1}' },
    { event: 'resync', id: '8', data: 'x' },
    { event: 'message', id: '8', data: '' },
  ];

  it('parses events split at every byte', () => {
    const bytes = new TextEncoder().encode(stream.replace('{"a":', '{"ä":'));
    const want = expected.map((e) => ({ ...e, data: e.data.replace('{"a":', '{"ä":') }));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e));
      parser.push(bytes.subarray(0, cut));
      parser.push(bytes.subarray(cut));
      parser.end();
      assert.deepEqual(events, want, `split at byte ${cut}`);
      assert.equal(parser.retryMs, 1500);
    }
  });

  it('parses one byte at a time', () => {
    const bytes = new TextEncoder().encode(stream);
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    for (const b of bytes) parser.push(Uint8Array.of(b));
    parser.end();
    assert.deepEqual(events, expected);
  });
});
