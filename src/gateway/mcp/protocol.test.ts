import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createLogger } from '../../lib/logger.js';
import { hashConsumerKey } from '../../model/consumer-key.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { SnapshotCompiler } from '../snapshot.js';
import { JsonText } from './jsonrpc.js';
import { statelessResultMessage } from './protocol.js';

const dispatcher = new Agent();
after(() => dispatcher.close());

const KEY = 'mg_protocol_test_key_0123456789';
const input: RegistrySnapshot = {
  revision: 1, namespaces: ['public'], services: [],
  consumers: [{ id: 'c1', namespace: 'public', name: 'agent', keyHash: hashConsumerKey(KEY), keyPrefix: KEY.slice(0, 8), allow: null, createdAt: 0 }],
  mcpServers: [{
    server: {
      id: 'w', namespace: 'public', name: 'weather', description: 'the weather', protocol: 'http', frontProtocol: 'mcp-streamable',
      endpoint: { type: 'none' }, enabled: true, passthrough: { headers: [], cookies: [] }, publishedVersion: '1.2.0', latestVersion: '1.2.0', createdAt: 0, updatedAt: 0,
    },
    spec: { version: '1.2.0', description: '', config: {}, securitySchemes: [], prompts: [], tools: [] },
  }],
};
const compiled = new SnapshotCompiler({ dispatcher, logger: createLogger('silent') }).compile(input);
const server = compiled.servers.get('public/weather')!;
const consumer = compiled.consumersByHash.get(hashConsumerKey(KEY))!;
const SERVER_INFO = { 'io.modelcontextprotocol/serverInfo': { name: 'mcpgate:public/weather', title: 'weather', version: '1.2.0' } };

describe('statelessResultMessage (2026-07-28 results)', () => {
  it('adds resultType and serverInfo to a result without them, the same each time', () => {
    const result = { content: [{ type: 'text', text: 'sunny "and" warm' }], isError: false };
    const first = statelessResultMessage(7, 'tools/call', result, server, null);
    assert.deepEqual(JSON.parse(first), { jsonrpc: '2.0', id: 7, result: { resultType: 'complete', ...result, _meta: SERVER_INFO } });
    assert.equal(statelessResultMessage(7, 'tools/call', result, server, null), first);
    assert.deepEqual(JSON.parse(statelessResultMessage('a"b', 'completion/complete', {}, server, null)), { jsonrpc: '2.0', id: 'a"b', result: { resultType: 'complete', _meta: SERVER_INFO } });
  });

  it('cacheable results carry ttlMs and cacheScope (private with a consumer), JsonText members spliced', () => {
    const tools = [{ name: 'now', inputSchema: { type: 'object' } }];
    const page = JsonText.array(tools.map((t) => new JsonText(JSON.stringify(t))));
    assert.deepEqual(JSON.parse(statelessResultMessage(1, 'tools/list', { tools: page, nextCursor: 'x' }, server, null)),
      { jsonrpc: '2.0', id: 1, result: { resultType: 'complete', tools, nextCursor: 'x', _meta: SERVER_INFO, ttlMs: 0, cacheScope: 'public' } });
    assert.deepEqual(JSON.parse(statelessResultMessage(1, 'tools/list', { tools: page }, server, consumer)),
      { jsonrpc: '2.0', id: 1, result: { resultType: 'complete', tools, _meta: SERVER_INFO, ttlMs: 0, cacheScope: 'private' } });
  });

  it('keeps what a result says itself: its _meta (serverInfo added) and its resultType', () => {
    assert.deepEqual(JSON.parse(statelessResultMessage(2, 'tools/call', { content: [], _meta: { 'x/y': 1 } }, server, null)),
      { jsonrpc: '2.0', id: 2, result: { resultType: 'complete', content: [], _meta: { 'x/y': 1, ...SERVER_INFO } } });
    const input = { resultType: 'input_required', inputRequests: { a: { method: 'roots/list' } }, requestState: 's' };
    assert.deepEqual(JSON.parse(statelessResultMessage(3, 'tools/call', input, server, null)),
      { jsonrpc: '2.0', id: 3, result: { ...input, _meta: SERVER_INFO } });
  });
});
