/**
 * Memoisation of pure functions of a string whose arguments repeat across millions of records
 * (ARNs, addresses, user agents, event names), over a bounded cache, so memory stays bounded
 * whatever the trail holds.
 *
 * The cache is two generations of plain `Map`s (what is used again moves to the young one;
 * when the young one is full the old one is dropped): bounded like a least-recently-used
 * cache, at the cost of a `Map` look-up. lru-cache's `get` took 3% of a whole run over a
 * million records, called several times for each.
 */

/**
 * `fn` with its results cached, `undefined` and `null` results included.
 * @param max the most arguments remembered (the least recently used are dropped first)
 */
export function memoize<V>(fn: (key: string) => V, max = 10_000): (key: string) => V {
  const half = Math.max(1, Math.ceil(max / 2));
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  return (key) => {
    let v = young.get(key);
    if (v !== undefined || young.has(key)) return v as V;
    if (old.has(key)) v = old.get(key) as V;
    else v = fn(key);
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, v);
    return v;
  };
}
