/**
 * The run's temporary folder (global-setup.js): os.tmpdir() in a test worker, and in a process
 * the test starts, is the one folder of this run, so that global-teardown.js removes whatever the
 * tests write there and nothing is left in the system's /tmp.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

test('os.tmpdir() is the run folder made by the global setup', () => {
  const dir = os.tmpdir();
  expect(path.basename(dir)).toMatch(/^trailstory-jest-[A-Za-z0-9]{6}$/);
  expect(dir).toBe(process.env.TRAILSTORY_JEST_TMPDIR);
  expect(fs.statSync(dir).isDirectory()).toBe(true);
});

test('a child process inherits it', () => {
  const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(require("os").tmpdir())'], { encoding: 'utf8' });
  expect(child).toBe(os.tmpdir());
});
