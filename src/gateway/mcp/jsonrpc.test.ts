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

  it('JsonText: arrays, and the same JSON when serialised by anyone else', () => {
    assert.equal(JsonText.array([]).text, '[]');
    assert.equal(JsonText.array([new JsonText('1')]).text, '[1]');
    assert.equal(JSON.stringify({ tools: page }), JSON.stringify({ tools: entries }));
  });
});
