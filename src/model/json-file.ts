/**
 * Reads a JSON file the user named, turning the two ways it can fail (unreadable, not JSON)
 * into the caller's own one-line error: `fail(problem)` builds it. A UTF-8 byte order mark
 * before the JSON (some editors and exports write one) is ignored.
 */
import * as fs from 'node:fs';

/**
 * @param what how the messages name the file: `{ unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }`
 * @throws whatever `fail` returns, with `<what.unreadable> (<code>)` or `<what.invalid> (<parser message>)`.
 */
export function readJsonFile(file: string, what: { unreadable: string; invalid: string }, fail: (problem: string) => Error): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw fail(`${what.unreadable} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw fail(`${what.invalid} (${(e as Error).message.split('\n')[0]})`);
  }
}
