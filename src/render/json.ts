/**
 * The storyline as `--format json` prints it (shared/design/storyline-contract.md, "The fields
 * that are scored"): every field name and shape of the contract kept, every string value capped
 * at {@link JSON_CAP_BYTES} (64 KiB of UTF-8) with a visible marker (`cap` in escape.ts), so a
 * 60 MB user agent or policy document in the records cannot make a 60 MB storyline. Control
 * characters need nothing more: JSON escapes them (`\u001b`).
 */
import type { Storyline } from '../model/storyline';
import { cap, JSON_CAP_BYTES } from './escape';

/** A `JSON.stringify` replacer that caps every string value at {@link JSON_CAP_BYTES} bytes of UTF-8; keys, numbers, booleans and nulls unchanged. */
export function capStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? cap(value, JSON_CAP_BYTES) : value;
}

/** Renders the storyline as indented JSON (two spaces, ending with a newline), strings capped by {@link capStrings}. */
export function renderJson(st: Storyline): string {
  return JSON.stringify(st, capStrings, 2) + '\n';
}
