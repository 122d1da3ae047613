/**
 * The storyline as `--format json` prints it (shared/design/storyline-contract.md, "The fields
 * that are scored"): every field name and shape of the contract kept, every string value capped
 * at {@link JSON_CAP_BYTES} (64 KiB of UTF-8) with a visible marker (`cap` in escape.ts), so a
 * 60 MB user agent or policy document in the records cannot make a 60 MB storyline. Control
 * characters need nothing more: JSON escapes them (`\u001b`).
 *
 * The text comes in parts, a step a part, so a long storyline is written as it is made and never
 * held whole as one string beside the storyline itself.
 */
import type { Storyline } from '../model/storyline';
import { cap, JSON_CAP_BYTES } from './escape';

/** A `JSON.stringify` replacer that caps every string value at {@link JSON_CAP_BYTES} bytes of UTF-8; keys, numbers, booleans and nulls unchanged. */
export function capStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? cap(value, JSON_CAP_BYTES) : value;
}

/** Where the steps go in the storyline's JSON at two spaces of indent (the key is the storyline's own: every quote inside a string value is escaped). */
const STEPS_SLOT = '\n  "steps": [],';

/**
 * The storyline as indented JSON (two spaces, ending with a newline), strings capped by
 * {@link capStrings}, in parts: the text before the steps, each step, the text after. Joined, the
 * parts are exactly `JSON.stringify(st, capStrings, 2) + '\n'`.
 */
export function* renderJsonParts(st: Storyline): Generator<string> {
  if (st.steps.length === 0) {
    yield JSON.stringify(st, capStrings, 2) + '\n';
    return;
  }
  const frame = JSON.stringify({ ...st, steps: [] }, capStrings, 2);
  const at = frame.indexOf(STEPS_SLOT);
  if (at < 0) {
    yield JSON.stringify(st, capStrings, 2) + '\n';
    return;
  }
  yield frame.slice(0, at) + '\n  "steps": [';
  for (let i = 0; i < st.steps.length; i++) {
    yield `${i === 0 ? '' : ','}\n    ${JSON.stringify(st.steps[i], capStrings, 2).replace(/\n/g, '\n    ')}`;
  }
  yield '\n  ],' + frame.slice(at + STEPS_SLOT.length) + '\n';
}

/** {@link renderJsonParts} joined into one string. */
export function renderJson(st: Storyline): string {
  return [...renderJsonParts(st)].join('');
}
