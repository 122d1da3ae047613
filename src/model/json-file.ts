/**
 * Reads a JSON file the user named, turning every way it can fail (missing, a pipe or device,
 * too large, unreadable, not JSON, nested too deep) into the caller's own one-line error:
 * `fail(problem)` builds it. A UTF-8 byte order mark before the JSON (some editors and exports
 * write one) is ignored. The file is opened through the input boundary
 * ({@link readRegularFile}), so it is never read past `maxBytes` and never blocks.
 */
import { InputFileError, jsonDepth, MAX_FINDING_FILE_BYTES, MAX_JSON_DEPTH, readRegularFile } from './input-file';

/**
 * @param what how the messages name the file: `{ unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }`
 * @param maxBytes the largest file accepted, in bytes (default {@link MAX_FINDING_FILE_BYTES})
 * @returns the parsed document, nested at most {@link MAX_JSON_DEPTH} levels
 * @throws whatever `fail` returns, with `<what.unreadable>: <problem>`, `<what.invalid> (<parser message>)`
 *   or `is nested more than 64 levels deep`.
 */
export function readJsonFile(file: string, what: { unreadable: string; invalid: string }, fail: (problem: string) => Error, maxBytes = MAX_FINDING_FILE_BYTES): unknown {
  let text: string;
  try {
    text = readRegularFile(file, maxBytes).toString('utf8');
  } catch (e) {
    if (e instanceof InputFileError) throw fail(`${what.unreadable}: ${e.message}`);
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw fail(`${what.invalid} (${(e as Error).message.split('\n')[0]})`);
  }
  if (jsonDepth(doc, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw fail(`is nested more than ${MAX_JSON_DEPTH} levels deep (no finding or event map is)`);
  return doc;
}
