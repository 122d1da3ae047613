/**
 * dt-sql-parser's Trino grammar, for tests that check generated SQL parses. Its dist is ES
 * modules with directory imports (not loadable by Node or jest as is), so the Trino entry is
 * bundled once with esbuild into node_modules/.cache/trailstory/trino-parser.cjs (rebuilt when
 * the package is newer than the bundle) and required from there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

// From test/support, or (a script bundled elsewhere by scripts/run-ts.js) the checkout of NODE_PATH.
const ROOT = fs.existsSync(path.resolve(__dirname, '../../node_modules/dt-sql-parser/package.json')) || !process.env.NODE_PATH ? path.resolve(__dirname, '../..') : path.resolve(process.env.NODE_PATH.split(path.delimiter)[0] as string, '..');
const ENTRY = path.join(ROOT, 'node_modules/dt-sql-parser/dist/parser/trino/index.js');
const OUT = path.join(ROOT, 'node_modules/.cache/trailstory/trino-parser.cjs');

interface SyntaxError {
  message: string;
  startLine: number;
  startColumn: number;
}
export interface TrinoParser {
  validate(sql: string): SyntaxError[];
}

let parser: TrinoParser | undefined;

/** A Trino SQL parser (`validate(sql)` is `[]` when the statement parses). */
export function trino(): TrinoParser {
  if (parser) return parser;
  const pkg = path.join(ROOT, 'node_modules/dt-sql-parser/package.json');
  if (!fs.existsSync(OUT) || fs.statSync(OUT).mtimeMs < fs.statSync(pkg).mtimeMs) {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    const tmp = `${OUT}.${process.pid}.tmp`;
    buildSync({ entryPoints: [ENTRY], bundle: true, format: 'cjs', platform: 'node', outfile: tmp, logLevel: 'error' });
    fs.renameSync(tmp, OUT); // atomic: parallel workers never read half a file
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TrinoSQL } = require(OUT) as { TrinoSQL: new () => TrinoParser };
  parser = new TrinoSQL();
  return parser;
}

/** The syntax errors of `sql` as `line:col message` strings (empty when it parses). */
export function trinoErrors(sql: string): string[] {
  return trino()
    .validate(sql)
    .map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
}
