/**
 * Render cost of the template engine against handlebars on the four workloads of
 * issue 3: (a) an auth header, (b) a URL with two args, (c) a range over 20 results
 * into markdown, (d) a 5 KB prependBody-style text followed by a 20 KB JSON response.
 *
 * Run: node --import tsx bench/template/template.bench.ts
 *
 * Templates are parsed/compiled before timing; both engines get the same parsed JSON.
 * Handlebars is compiled with `noEscape` (our engine never HTML-escapes), `add` and
 * `json` helpers stand in for Sprig's `add` and for printing a whole document, and each
 * pair is checked to produce identical output before it is timed. Sub-microsecond
 * renders are timed in batches (see BATCH); mean and p99 are per render, p99 being the
 * 99th percentile of batch means.
 */
import Handlebars from 'handlebars';
import { Bench } from 'tinybench';
import { parse } from '../../src/template/index.js';
import type { JsonValue } from '../../src/template/index.js';

interface Case {
  readonly id: string;
  readonly title: string;
  readonly ours: string;
  readonly handlebars: string;
  readonly data: JsonValue;
  /** Renders per timed sample, so that a sample is well above timer resolution. */
  readonly batch: number;
}

function results(n: number): JsonValue[] {
  return Array.from({ length: n }, (_, i) => ({
    title: `Result number ${i + 1}: Model Context Protocol gateway`,
    url: `https://example.com/articles/${1000 + i}`,
    snippet: `An on-premises gateway exposes HTTP services as MCP tools. Entry ${i} covers configuration, credentials and templates.`,
    score: 0.5 + i / 100,
  }));
}

function responseBody(targetBytes: number): JsonValue {
  const items: JsonValue[] = [];
  let i = 0;
  while (JSON.stringify({ total: i, items }).length < targetBytes) {
    items.push({
      id: `item-${i}`,
      name: `Warehouse item ${i}`,
      price: 10 + (i % 97) * 1.25,
      tags: ['alpha', 'beta', `t${i % 7}`],
      stock: { available: i % 13, reserved: i % 5, location: `aisle ${i % 20}` },
    });
    i++;
  }
  return { total: items.length, items };
}

const prependBody =
  '# Inventory search result\n\n' +
  Array.from(
    { length: 60 },
    (_, i) => `- \`items[].field${i}\`: description of response field number ${i}, its unit and its meaning.\n`,
  ).join('') +
  '\n## Raw response\n\n';

const CASES: readonly Case[] = [
  {
    id: 'a',
    title: 'header `Bearer {{.config.token}}`',
    ours: 'Bearer {{.config.token}}',
    handlebars: 'Bearer {{config.token}}',
    data: { config: { token: 'sk-0123456789abcdef0123456789abcdef' }, args: {} },
    batch: 200,
  },
  {
    id: 'b',
    title: 'URL with two args',
    ours: 'https://api.example.com/v1/search?q={{.args.query}}&limit={{.args.limit}}',
    handlebars: 'https://api.example.com/v1/search?q={{args.query}}&limit={{args.limit}}',
    data: { config: {}, args: { query: 'mcp gateway', limit: 10 } },
    batch: 200,
  },
  {
    id: 'c',
    title: '`range` over 20 results into markdown',
    ours: '# Results\n{{- range $i, $item := .results }}\n{{ add $i 1 }}. **{{ $item.title }}** ({{ $item.url }})\n   {{ $item.snippet }}{{- end }}\n',
    handlebars: '# Results{{#each results}}\n{{add @index 1}}. **{{title}}** ({{url}})\n   {{snippet}}{{/each}}\n',
    data: { results: results(20) },
    batch: 20,
  },
  {
    id: 'd',
    title: '5 KB prependBody + 20 KB JSON response',
    ours: prependBody + '{{.}}',
    handlebars: prependBody + '{{json this}}',
    data: responseBody(20 * 1024),
    batch: 4,
  },
];

const hb = Handlebars.create();
hb.registerHelper('add', (a: number, b: number) => a + b);
hb.registerHelper('json', (v: unknown) => JSON.stringify(v));

interface Row {
  readonly c: Case;
  readonly oursMean: number;
  readonly oursP99: number;
  readonly hbMean: number;
  readonly hbP99: number;
}

function batched(bench: Bench, render: () => string, n: number): () => { overriddenDuration: number; overriddenIterationCost: number } {
  let sink = 0;
  return () => {
    const t0 = bench.now();
    for (let i = 0; i < n; i++) sink += render().length;
    const elapsed = bench.now() - t0;
    if (sink < 0) throw new Error('unreachable');
    return { overriddenDuration: elapsed / n, overriddenIterationCost: elapsed };
  };
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  for (const c of CASES) {
    const ours = parse(c.ours, { name: `bench-${c.id}` });
    const theirs = hb.compile(c.handlebars, { noEscape: true });
    const a = ours.render(c.data);
    const b = theirs(c.data);
    if (a !== b) throw new Error(`case ${c.id}: outputs differ\n--- ours\n${a}\n--- handlebars\n${b}`);
    bench.add(`ours ${c.id}`, batched(bench, () => ours.render(c.data), c.batch));
    bench.add(`handlebars ${c.id}`, batched(bench, () => theirs(c.data), c.batch));
  }
  await bench.run();
  const stat = (name: string): { mean: number; p99: number } => {
    const task = bench.getTask(name);
    const r = task?.result;
    if (!r || !('latency' in r)) throw new Error(`no result for ${name}`);
    return { mean: r.latency.mean * 1e6, p99: r.latency.p99 * 1e6 };
  };
  const rows: Row[] = CASES.map((c) => {
    const o = stat(`ours ${c.id}`);
    const h = stat(`handlebars ${c.id}`);
    return { c, oursMean: o.mean, oursP99: o.p99, hbMean: h.mean, hbP99: h.p99 };
  });
  const ns = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
  const lines = [
    '| case | mcpgate mean (ns/op) | mcpgate p99 (ns/op) | handlebars mean (ns/op) | handlebars p99 (ns/op) | handlebars / mcpgate (mean) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) => `| (${r.c.id}) ${r.c.title} | ${ns(r.oursMean)} | ${ns(r.oursP99)} | ${ns(r.hbMean)} | ${ns(r.hbP99)} | ${(r.hbMean / r.oursMean).toFixed(2)}× |`,
    ),
  ];
  process.stdout.write(`Node ${process.version}, ${process.platform}/${process.arch}\n\n${lines.join('\n')}\n`);
}

await main();
