/**
 * Tool search cost on the 1,000-tool catalog of the retrieval test
 * (test/fixtures/tool-search/catalog.json): building the index, and answering each query of the
 * committed query set (limit 10). Targets (issue 13): build well under 100 ms, a query under 1 ms.
 * Builds and queries are timed one by one after a warm-up; p50/p99 are over those samples.
 * Writes the generated block of "## Tool search" in docs/benchmarks.md unless `--no-docs`.
 *
 *   node --import tsx bench/tool-search/tool-search.bench.ts [--builds 50] [--rounds 20] [--no-docs]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildToolIndex } from '../../src/tools/search/index.js';
import { loadCatalog, loadQueries } from '../../test/fixtures/tool-search/generate.js';
import { flag, numberOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';

const builds = numberOption('builds', 50, true);
const rounds = numberOption('rounds', 20, true);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): { mean: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Milliseconds of CPU (user + system) in a `process.cpuUsage` difference. */
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

const catalog = loadCatalog();
const queries = loadQueries().map((q) => q.q);

for (let i = 0; i < 5; i++) buildToolIndex(catalog);
const buildMs: number[] = [];
let index = buildToolIndex(catalog);
const buildCpu = process.cpuUsage();
for (let i = 0; i < builds; i++) {
  const start = performance.now();
  index = buildToolIndex(catalog);
  buildMs.push(performance.now() - start);
}
const buildCpuMs = cpuMs(process.cpuUsage(buildCpu)) / builds;

for (const q of queries) index.search(q, 10);
const queryMs: number[] = [];
let sink = 0;
const queryCpu = process.cpuUsage();
for (let r = 0; r < rounds; r++) {
  for (const q of queries) {
    const start = performance.now();
    sink += index.search(q, 10).length;
    queryMs.push(performance.now() - start);
  }
}
const queryCpuMs = cpuMs(process.cpuUsage(queryCpu)) / queryMs.length;
if (sink === 0) throw new Error('no query found anything');

const b = summary(buildMs);
const q = summary(queryMs);
const ms = (x: number) => x.toFixed(3);
const block = [
  `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `load average ${loadavg()[0]?.toFixed(1)} at the end; ${index.size} tools, ${queries.length} queries × ${rounds} rounds, ${builds} builds ` +
    '(wall-clock per operation; CPU ms is the process\'s CPU time divided by the operations, the fairer figure on a busy machine):',
  '',
  '| operation | mean ms | p50 ms | p99 ms | max ms | CPU ms | target |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  `| build the index of ${index.size} tools | ${ms(b.mean)} | ${ms(b.p50)} | ${ms(b.p99)} | ${ms(b.max)} | ${ms(buildCpuMs)} | well under 100 ms |`,
  `| one query (limit 10) | ${ms(q.mean)} | ${ms(q.p50)} | ${ms(q.p99)} | ${ms(q.max)} | ${ms(queryCpuMs)} | < 1 ms |`,
].join('\n');
console.log(block);
if (!flag('no-docs')) {
  console.error(`wrote ${writeBenchSection({ heading: 'Tool search', name: 'tool-search', command: 'node --import tsx bench/tool-search/tool-search.bench.ts', block })}`);
}
