/**
 * What the CLI tests share: `run` runs `main(argv)` in-process with its output captured, and
 * `tempFolder` gives a test file a folder of its own under the run's temporary folder (made
 * before its tests, removed after them) with a `write` that makes the parent folders.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';

/** One CLI run: its exit code and what it wrote to standard output and standard error. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs `trailstory <argv>` in-process; resolves to its exit code and captured output. */
export async function run(argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/**
 * A temporary folder for the calling test file, made in `beforeAll` and removed in `afterAll`.
 * @param prefix the folder name's start (`trailstory-cli-`)
 * @returns `dir()` the folder (after `beforeAll`), `write(rel, content)` writes a file below it, parents made, and returns its path
 */
export function tempFolder(prefix: string): { dir: () => string; write: (rel: string, content: string | Buffer) => string } {
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return {
    dir: () => tmp,
    write: (rel, content) => {
      const p = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return p;
    },
  };
}
