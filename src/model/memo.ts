/**
 * Memoisation of pure functions of a string whose arguments repeat across millions of records
 * (ARNs, addresses, user agents, event names), over a bounded least-recently-used cache
 * (lru-cache), so memory stays bounded whatever the trail holds.
 */
import { LRUCache } from 'lru-cache';

/**
 * `fn` with its results cached, `undefined` and `null` results included.
 * @param max the most arguments remembered (the least recently used are dropped first)
 */
export function memoize<V>(fn: (key: string) => V, max = 10_000): (key: string) => V {
  const cache = new LRUCache<string, { v: V }>({ max });
  return (key) => {
    const hit = cache.get(key);
    if (hit) return hit.v;
    const v = fn(key);
    cache.set(key, { v });
    return v;
  };
}
