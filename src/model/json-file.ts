/**
 * Reads a JSON file the user named, turning every way it can fail (missing, a pipe or device,
 * too large, unreadable, not JSON, nested too deep) into the caller's own one-line error:
 * `fail(problem)` builds it. A UTF-8 byte order mark before the JSON (some editors and exports
 * write one) is ignored. The file is opened through the input boundary
 * ({@link readRegularFile}), so it is never read past `maxBytes` and never blocks.
 */
import { InputFileError, jsonShapeProblem, MAX_FINDING_FILE_BYTES, readRegularFile } from './input-file';

/**
 * @param what how the messages name the file: `{ kind: 'finding', unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }`
 * @param maxBytes the largest file accepted, in bytes (default {@link MAX_FINDING_FILE_BYTES})
 * @returns the parsed document, nested at most 64 levels, with at most 1,000,000 values
 * @throws whatever `fail` returns, with `<what.unreadable>: <problem>`, `<what.invalid> (<parser message>)`,
 *   `is nested more than 64 levels deep (no <kind> does)` or `holds more than 1,000,000 JSON values (…)`.
 */
export function readJsonFile(file: string, what: { kind: string; unreadable: string; invalid: string }, fail: (problem: string) => Error, maxBytes = MAX_FINDING_FILE_BYTES): unknown {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, maxBytes);
  } catch (e) {
    if (e instanceof InputFileError) throw fail(`${what.unreadable}: ${e.message}`);
    throw e;
  }
  // Refused from the bytes, before a parse that would take unbounded memory or a walk that would overflow the stack.
  const shape = jsonShapeProblem(bytes);
  if (shape) throw fail(`${shape} (no ${what.kind} does)`);
  try {
    return JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw fail(`${what.invalid} (${(e as Error).message.split('\n')[0]})`);
  }
}
