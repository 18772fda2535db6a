import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildToolIndex, DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, ToolSearchInputError } from './index.js';
import type { ToolDescriptor } from './index.js';

const catalog: ToolDescriptor[] = [
  { name: 'get_weather', description: 'Current weather conditions for a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } },
  { name: 'get_forecast', description: 'Weather forecast for the next days', inputSchema: { type: 'object', properties: { city: {}, days: {} } } },
  { name: 'github__create_issue', description: 'Open a new issue in a repository', inputSchema: { type: 'object', properties: { owner: {}, repo: {}, title: {}, body: {} } } },
  { name: 'github__list_issues', description: 'List the issues of a repository' },
  {
    name: 'ip_lookup',
    description: '根据IP地址查询归属地',
    inputSchema: { type: 'object', properties: { ip: { type: 'string', description: '要查询的IP地址' } } },
  },
  {
    name: 'convert_document',
    description: 'Convert a file',
    inputSchema: {
      type: 'object',
      properties: {
        source: { type: 'object', properties: { url: { description: 'Where the PDF lives' } } },
        format: { enum: ['markdown', 'docx'] },
        pages: { type: 'array', items: { type: 'object', properties: { pageNumber: {} } } },
      },
    },
  },
];

const refuses = (fn: () => unknown, field: string) =>
  assert.throws(fn, (e: unknown) => e instanceof ToolSearchInputError && e.field === field && e.message.startsWith(`${field}: `));

describe('buildToolIndex', () => {
  const index = buildToolIndex(catalog);

  it('counts the tools indexed', () => {
    assert.equal(index.size, catalog.length);
    assert.equal(buildToolIndex([]).size, 0);
    assert.deepEqual(buildToolIndex([]).search('anything'), []);
  });

  it('ranks by names and descriptions', () => {
    assert.equal(index.search('weather forecast for tomorrow')[0]?.name, 'get_forecast');
    assert.equal(index.search('what is the weather now')[0]?.name, 'get_weather');
    assert.equal(index.search('create an issue')[0]?.name, 'github__create_issue');
    assert.equal(index.search('list issues')[0]?.name, 'github__list_issues');
  });

  it('matches Chinese text by bigrams and mixed-script queries', () => {
    assert.equal(index.search('查询IP地址归属地')[0]?.name, 'ip_lookup');
    assert.equal(index.search('ip')[0]?.name, 'ip_lookup');
  });

  it('reads argument names, their descriptions and enum values, nested ones too', () => {
    assert.equal(index.search('pdf to markdown')[0]?.name, 'convert_document');
    assert.equal(index.search('page number')[0]?.name, 'convert_document');
  });

  it('returns only matching tools, best first, scores decreasing', () => {
    const hits = index.search('weather');
    assert.deepEqual(hits.map((h) => h.name).sort(), ['get_forecast', 'get_weather']);
    assert.ok(hits[0]!.score >= hits[1]!.score && hits[1]!.score > 0);
    assert.deepEqual(index.search('zebra'), []);
  });

  it('breaks ties by name, whatever the order of the catalog', () => {
    const twins = ['zeta_tool', 'alpha_tool', 'mid_tool'].map((name) => ({ name, description: 'same words' }));
    assert.deepEqual(buildToolIndex(twins).search('same words').map((h) => h.name), ['alpha_tool', 'mid_tool', 'zeta_tool']);
    assert.deepEqual(buildToolIndex([...twins].reverse()).search('same words').map((h) => h.name), ['alpha_tool', 'mid_tool', 'zeta_tool']);
  });

  it('applies the limit: default, explicit, capped', () => {
    const many = buildToolIndex(Array.from({ length: 150 }, (_, i) => ({ name: `tool_${i}`, description: 'common' })));
    assert.equal(many.search('common').length, DEFAULT_LIMIT);
    assert.equal(many.search('common', 3).length, 3);
    assert.equal(many.search('common', 10_000).length, MAX_LIMIT);
  });

  it('is immutable and gives the same answer every time', () => {
    assert.ok(Object.isFrozen(index));
    assert.throws(() => ((index as { size: number }).size = 0));
    assert.deepEqual(index.search('repository issue'), index.search('repository issue'));
  });

  it('answers an empty or wordless query with no result', () => {
    for (const q of ['', '   ', '?!', 'the of and']) assert.deepEqual(index.search(q), []);
  });

  it('reads a bounded prefix of a huge query', () => {
    const huge = `weather ${'x'.repeat(MAX_QUERY_CHARS * 100)} github`;
    assert.deepEqual(index.search(huge).map((h) => h.name).sort(), ['get_forecast', 'get_weather']);
    const manyWords = Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(' ');
    assert.deepEqual(index.search(manyWords), []);
  });

  it('refuses a query that is not a string and a limit that is not a positive integer, naming the field', () => {
    for (const bad of [undefined, null, 42, {}, ['weather']]) refuses(() => index.search(bad as unknown as string), 'query');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null]) refuses(() => index.search('weather', bad as unknown as number), 'limit');
  });

  it('refuses descriptors without a usable, unique name, naming the entry', () => {
    refuses(() => buildToolIndex('tools' as unknown as ToolDescriptor[]), 'tools');
    refuses(() => buildToolIndex([null as unknown as ToolDescriptor]), 'tools[0]');
    refuses(() => buildToolIndex([{ name: 'a' }, { name: '' }]), 'tools[1].name');
    refuses(() => buildToolIndex([{ name: 7 } as unknown as ToolDescriptor]), 'tools[0].name');
    refuses(() => buildToolIndex([{ name: 'a' }, { name: 'b' }, { name: 'a' }]), 'tools[2].name');
  });

  it('ignores fields of the wrong type and survives hostile schemas', () => {
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < 10_000; i++) {
      const next: Record<string, unknown> = {};
      node.properties = { [`level${i}`]: next };
      node = next;
    }
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic.properties = { self: cyclic };
    const bigEnum = Array.from({ length: 10_000 }, (_, i) => `value${i}`);
    const odd = buildToolIndex([
      { name: 'odd', description: 42 as unknown as string, title: {} as unknown as string, inputSchema: 'not a schema' },
      { name: 'deep', inputSchema: deep },
      { name: 'cyclic', inputSchema: cyclic },
      { name: 'wide', inputSchema: { properties: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`p${i}`, { enum: bigEnum }])) } },
    ]);
    assert.equal(odd.size, 4);
    assert.deepEqual(odd.search('level').map((h) => h.name), ['deep']);
    assert.deepEqual(odd.search('9999'), [], 'nested deeper than the walk goes, or past the enum cap');
    assert.deepEqual(odd.search('self').map((h) => h.name), ['cyclic']);
    assert.deepEqual(odd.search('odd').map((h) => h.name), ['odd']);
  });
});
