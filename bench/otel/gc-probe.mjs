/**
 * Preloaded into a benchmarked gateway (`node --import bench/otel/gc-probe.mjs`, plain ESM so that
 * a baseline build loads it as well): sums the process's garbage-collection pauses by kind from
 * perf_hooks 'gc' entries and writes the totals as JSON to `$MCPGATE_BENCH_GC_FILE` every 100 ms,
 * which the benchmark reads before and after each round.
 * Pauses are the main thread's; the parallel and concurrent GC work of V8's helper threads shows
 * in the benchmark's per-thread CPU (/proc/PID/task) instead.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setInterval } from 'node:timers';

const file = process.env.MCPGATE_BENCH_GC_FILE;
if (file) {
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
  };
  const totals = { scavenge: { n: 0, ms: 0 }, markCompact: { n: 0, ms: 0 }, incremental: { n: 0, ms: 0 }, weakCallbacks: { n: 0, ms: 0 } };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const t = totals[kinds[e.detail?.kind] ?? 'weakCallbacks'];
      t.n++;
      t.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  // Written aside and renamed: the benchmark never reads a half-written file.
  setInterval(() => { writeFileSync(`${file}.tmp`, JSON.stringify(totals)); renameSync(`${file}.tmp`, file); }, 100).unref();
}
