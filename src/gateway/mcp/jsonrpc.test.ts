import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonText, resultMessage } from './jsonrpc.js';

describe('resultMessage', () => {
  const entries = [{ name: 'a', inputSchema: { type: 'object' } }, { name: 'b "quoted" é', description: 'x\ny' }];
  const page = JsonText.array(entries.map((e) => new JsonText(JSON.stringify(e))));

  it('serialises a plain result', () => {
    assert.equal(resultMessage(7, { content: [] }), '{"jsonrpc":"2.0","id":7,"result":{"content":[]}}');
  });

  it('splices JsonText members in as they are, the same JSON as serialising the values', () => {
    for (const id of [1, 'req-"1"']) {
      const text = resultMessage(id, { resultType: 'complete', tools: page, nextCursor: 'bzo1MDA', _meta: { k: 1 } });
      assert.deepEqual(JSON.parse(text), { jsonrpc: '2.0', id, result: { resultType: 'complete', tools: entries, nextCursor: 'bzo1MDA', _meta: { k: 1 } } });
    }
    assert.deepEqual(JSON.parse(resultMessage(1, { tools: page })), { jsonrpc: '2.0', id: 1, result: { tools: entries } });
    assert.deepEqual(JSON.parse(resultMessage(1, { a: page, b: new JsonText('[]') })), { jsonrpc: '2.0', id: 1, result: { a: entries, b: [] } });
  });

  it('writes the same text as JSON.stringify of the whole message, text blocks written by hand or not', () => {
    class Block {
      constructor(readonly type: string, readonly text: string) {}
      toJSON(): unknown {
        return { type: this.type, text: this.text.toUpperCase() };
      }
    }
    const results: Record<string, unknown>[] = [
      { content: [{ type: 'text', text: '{"id":42,"name":"a \\"b\\" é ✓\\n","tags":["x"]}' }] },
      { content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two\u2028\u0000"' }], isError: true },
      { resultType: 'complete', content: [{ type: 'text', text: 'x' }], structuredContent: { a: [1, null] }, _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'n' } } },
      { content: [{ text: 'text first', type: 'text' }] },
      { content: [{ type: 'text', text: 'with more', annotations: { priority: 1 } }] },
      { content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }, { type: 'text', text: 'then text' }] },
      { content: [{ type: 'text', text: 'x' }, undefined, null] },
      { content: [new Block('text', 'hand-made')] },
      { content: [Object.assign(Object.create(null) as object, { type: 'text', text: 'no prototype' })] },
      { content: [{ type: 'text', text: 7 }] },
      { content: 'not an array', skipped: undefined, fn: () => 1, 2: 'an index key', 'a"b': 'quoted key' },
      { toJSON: () => ({ replaced: true }) },
      {},
    ];
    for (const id of [3, 'r-"3"']) {
      for (const result of results) assert.equal(resultMessage(id, result), JSON.stringify({ jsonrpc: '2.0', id, result }), JSON.stringify(result));
    }
  });

  it('writes leading members before the result\'s own, whatever form the result takes', () => {
    const lead = '"resultType":"complete","_meta":{"k":1}';
    const cases: [Record<string, unknown>, unknown][] = [
      [{ content: [{ type: 'text', text: 'x' }] }, { resultType: 'complete', _meta: { k: 1 }, content: [{ type: 'text', text: 'x' }] }],
      [{}, { resultType: 'complete', _meta: { k: 1 } }],
      [{ toJSON: () => ({ replaced: true }) }, { resultType: 'complete', _meta: { k: 1 }, replaced: true }],
      [{ toJSON: () => ({}) }, { resultType: 'complete', _meta: { k: 1 } }],
    ];
    for (const [result, expected] of cases) assert.deepEqual(JSON.parse(resultMessage(5, result, lead)), { jsonrpc: '2.0', id: 5, result: expected });
  });

  it('JsonText: arrays, and the same JSON when serialised by anyone else', () => {
    assert.equal(JsonText.array([]).text, '[]');
    assert.equal(JsonText.array([new JsonText('1')]).text, '[1]');
    assert.equal(JSON.stringify({ tools: page }), JSON.stringify({ tools: entries }));
  });
});
