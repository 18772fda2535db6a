/**
 * Put `entry` in a cache map kept under `max` entries: when full, the expired entries (`until`
 * at or before `now`) go first, then the oldest (a Map iterates in insertion order). For caches
 * keyed by what callers send (tokens), which must not grow without bound.
 */
export function setBounded<K, V extends { until: number }>(cache: Map<K, V>, key: K, entry: V, max: number, now: number): void {
  if (cache.size >= max) {
    for (const [k, v] of cache) if (v.until <= now) cache.delete(k);
    for (const k of cache.keys()) {
      if (cache.size < max) break;
      cache.delete(k);
    }
  }
  cache.set(key, entry);
}
