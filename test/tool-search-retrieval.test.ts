/**
 * Tool search retrieval on a catalog of 1,000 tools made from the public Higress MCP server
 * catalogue plus generated regional, legacy, staging and other-provider copies
 * (test/fixtures/tool-search/): for the committed query set, the expected tool must be among
 * the first five results for at least 90 % of the queries. A regression guard at a threshold;
 * the figures (top-1, top-5, mean reciprocal rank) are printed as test diagnostics and recorded
 * in docs/virtual-servers.md ("Search mode").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildToolIndex } from '../src/tools/search/index.js';
import { CATALOG_SIZE, catalogJson, generateCatalog, loadCatalog, loadQueries } from './fixtures/tool-search/generate.js';

const TOP5_THRESHOLD = 0.9;

describe('tool search retrieval (1,000 tools from the Higress catalogue)', () => {
  const catalog = loadCatalog();
  const queries = loadQueries();

  it('reads a committed catalog that is what the generator makes from base-tools.yaml', () => {
    assert.equal(catalog.length, CATALOG_SIZE);
    const committed = readFileSync(new URL('./fixtures/tool-search/catalog.json', import.meta.url), 'utf8');
    assert.equal(committed, catalogJson(generateCatalog()), 'catalog.json is stale: node --import tsx test/fixtures/tool-search/generate.ts');
  });

  it('has a query set of at least 100 queries, each naming a tool of the catalog', () => {
    assert.ok(queries.length >= 100, `${queries.length} queries`);
    const names = new Set(catalog.map((t) => t.name));
    for (const { q, expect } of queries) {
      assert.ok(typeof q === 'string' && q.trim().length > 0, `empty query for ${expect}`);
      assert.ok(names.has(expect), `"${q}" expects ${expect}, which is not in the catalog`);
    }
  });

  it(`finds the expected tool in the top 5 for at least ${TOP5_THRESHOLD * 100} % of the queries`, (t) => {
    const index = buildToolIndex(catalog);
    assert.equal(index.size, CATALOG_SIZE);
    let top1 = 0;
    let top5 = 0;
    let reciprocal = 0;
    const misses: string[] = [];
    for (const { q, expect } of queries) {
      const rank = index.search(q, 10).findIndex((hit) => hit.name === expect);
      if (rank === 0) top1++;
      if (rank >= 0 && rank < 5) top5++;
      else misses.push(`"${q}" → ${expect} (rank ${rank < 0 ? '> 10' : rank + 1})`);
      if (rank >= 0) reciprocal += 1 / (rank + 1);
    }
    const n = queries.length;
    const pct = (x: number) => `${((100 * x) / n).toFixed(1)} %`;
    t.diagnostic(`${n} queries over ${index.size} tools: top-1 ${pct(top1)}, top-5 ${pct(top5)}, MRR@10 ${(reciprocal / n).toFixed(3)}`);
    for (const miss of misses) t.diagnostic(`not in top 5: ${miss}`);
    assert.ok(top5 / n >= TOP5_THRESHOLD, `top-5 ${pct(top5)} is under ${TOP5_THRESHOLD * 100} %:\n${misses.join('\n')}`);
  });

  it('ranks the same way whatever the order of the catalog', () => {
    const forward = buildToolIndex(catalog);
    const backward = buildToolIndex([...catalog].reverse());
    for (const { q } of queries.slice(0, 40)) assert.deepEqual(backward.search(q, 10), forward.search(q, 10), q);
  });
});
