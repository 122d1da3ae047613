/**
 * Where the tests find `../shared` (scenarios, schemas, models): `TRAILSTORY_SHARED` when set,
 * else `shared` beside the checkout; from a git worktree elsewhere whose node_modules links into
 * a checkout, beside that checkout. The product never needs it; tests that do skip without it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sharedDir(): string {
  if (process.env.TRAILSTORY_SHARED) return process.env.TRAILSTORY_SHARED;
  const beside = path.resolve(__dirname, '../../../shared');
  if (fs.existsSync(beside)) return beside;
  try {
    return path.resolve(fs.realpathSync(path.resolve(__dirname, '../../node_modules')), '../../shared');
  } catch {
    return beside;
  }
}
