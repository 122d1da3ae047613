/** memoize: results cached by argument (undefined and null too), within the bound. */
import { memoize } from '../../src/model/memo';

test('each argument is computed once while it stays in the cache, undefined results included', () => {
  const calls: string[] = [];
  const f = memoize((k: string) => (calls.push(k), k === 'none' ? undefined : k.length), 2);
  expect([f('abc'), f('abc'), f('none'), f('none')]).toEqual([3, 3, undefined, undefined]);
  expect(calls).toEqual(['abc', 'none']);
  // A third argument pushes out the least recently used ('abc'), which is computed again.
  f('x');
  f('abc');
  expect(calls).toEqual(['abc', 'none', 'x', 'abc']);
});
