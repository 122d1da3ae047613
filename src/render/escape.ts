/**
 * The output boundary: every string from the input passes one of these functions before it is
 * printed. Nearly every string in a storyline can be chosen by an attacker (user agents,
 * session, user and bucket names, policy documents, request parameters, tag values, file names),
 * so nothing is written into a terminal, HTML, SVG, Markdown or Mermaid without them.
 *
 * - `cap` bounds one string: at most {@link TEXT_CAP_BYTES} (8 KiB of UTF-8) in every format a
 *   person reads, {@link JSON_CAP_BYTES} (64 KiB) in JSON, the cut marked visibly with the
 *   string's whole size (`… [truncated, 61,234,567 bytes in all]`). `mdEscape` and `terminal`
 *   cap first, so no renderer can forget it.
 * - `terminal` is the one sanitiser for a terminal (`--format text`, standard error): every
 *   control character (C0 with tab, line feed and ESC, DEL, C1), bidirectional control and
 *   invisible character becomes a visible `[U+001B]` marker, never a space and never removed,
 *   so a user agent can neither clear the screen nor forge a line, and what was there shows.
 * - `esc` is the one escape for HTML and SVG, for text and for double-quoted attribute values
 *   alike (https://html.spec.whatwg.org/multipage/syntax.html#escapingString plus `<`, `>` and
 *   `'` in attributes, so a value is safe in either context).
 * - `neutral` removes what could change how the text is displayed rather than what it says:
 *   C0/C1 control characters (terminal escapes, NUL) become spaces, and the Unicode
 *   bidirectional controls of "Trojan Source" (CVE-2021-42574), zero-width and tag characters
 *   visible `[U+202E]` markers.
 * - `mdEscape` makes text literal in CommonMark/GFM inside a line: no emphasis, code, link,
 *   image, HTML, table cell, math, mention (`@team`) or issue reference (`#12`) can come out of
 *   it; line breaks become spaces, so no block syntax (headings, lists, quotes) can start.
 */

/** The longest input string printed in a format a person reads (UTF-8 bytes, the marker included): 8 KiB. */
export const TEXT_CAP_BYTES = 8 * 1024;
/** The longest input string printed in `--format json` (UTF-8 bytes, the marker included): 64 KiB. */
export const JSON_CAP_BYTES = 64 * 1024;

/** `1234567` as `1,234,567` (locale-independent). */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The marker that ends a cut string: `… [truncated, 61,234,567 bytes in all]` (the whole string's UTF-8 size). */
export function truncationMarker(totalBytes: number): string {
  return `… [truncated, ${grouped(totalBytes)} bytes in all]`;
}

/**
 * Caps one string at `maxBytes` bytes of UTF-8 (default {@link TEXT_CAP_BYTES}), marker
 * included: a longer one keeps its first bytes, cut at a character boundary, and ends with
 * {@link truncationMarker}. Shorter strings come back unchanged (the same string).
 * `null`/`undefined` give `''`; other values their `String()`.
 */
export function cap(text: unknown, maxBytes: number = TEXT_CAP_BYTES): string {
  const s = text === null || text === undefined ? '' : String(text);
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair 4 for 2 units).
  if (s.length * 3 <= maxBytes || !Number.isFinite(maxBytes)) return s;
  const total = Buffer.byteLength(s, 'utf8');
  if (total <= maxBytes) return s;
  const marker = truncationMarker(total);
  const room = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
  // At most `room` characters hold at least `room` bytes; cut back to a character boundary.
  const head = Buffer.from(s.slice(0, room), 'utf8');
  let end = Math.min(room, head.length);
  while (end > 0 && end < head.length && ((head[end] as number) & 0xc0) === 0x80) end--;
  return head.subarray(0, end).toString('utf8') + marker;
}

// Bidirectional controls, and the invisible characters that make two names look alike or hide
// text (zero-width space, joiners, word joiner, invisible operators, byte order mark, tags).
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;
// Everything a terminal could act on or not show: every C0 control (tab and line feed too), DEL,
// C1, the line and paragraph separators, and the invisible characters above.
const TERMINAL_UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]|${INVISIBLE.source}`, 'gu');

/** A character as a visible marker: `[U+001B]`, `[U+202E]`, `[U+E0041]`. */
function marker(c: string): string {
  return `[U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`;
}

/**
 * Makes input text safe for a terminal, on one line: capped at `maxBytes` (`cap`, default 8 KiB),
 * then every control character (C0 including tab, line feed, carriage return, ESC, BEL and NUL;
 * DEL; C1 0x80-0x9f), line and paragraph separator, bidirectional control, zero-width and tag
 * character shown as a visible `[U+001B]` marker. The result holds no byte below 0x20.
 */
export function terminal(text: unknown, maxBytes: number = TEXT_CAP_BYTES): string {
  return cap(text, maxBytes).replace(TERMINAL_UNSAFE, marker);
}

/** Control characters become a space, and bidirectional controls, zero-width and tag characters a visible `[U+202E]` marker. */
export function neutral(text: unknown): string {
  const s = text === null || text === undefined ? '' : String(text);
  return s.replace(INVISIBLE, marker).replace(CONTROL, ' ');
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML and SVG: element content and double- or single-quoted attribute values.
 * Capped first at 8 KiB of input (`cap`), with its visible marker: a list built of many values
 * goes through {@link escJoin} instead, so no value of it is lost.
 */
export function esc(text: unknown): string {
  return neutral(cap(text)).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * Escapes a list for HTML and SVG, one value at a time, joined with `sep`: for a value the report
 * builds from many short ones (a run's eventIDs in `data-steps`), so that when `esc` caps a
 * string at 8 KiB each value is capped on its own and none is lost. Each value is capped at
 * 8 KiB of input (`cap`) here already.
 */
export function escJoin(values: readonly unknown[], sep = ' '): string {
  return values.map((v) => esc(v)).join(esc(sep));
}

/**
 * Escapes text for Markdown (CommonMark and GitHub Flavored Markdown), inline or in a table
 * cell: markup characters become entities, every ASCII punctuation character that Markdown
 * gives a meaning to is backslash-escaped, line breaks become spaces. Capped first at 8 KiB of
 * input (`cap`).
 */
export function mdEscape(text: unknown): string {
  return neutral(cap(text))
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\\`*_{}[\]()#!|~$^@]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => HTML_ENTITIES[c] ?? c);
}

/** A policy document on one line: JSON re-serialised without whitespace; other text with its whitespace collapsed. */
export function compactDocument(doc: string): string {
  let d = doc;
  try {
    d = JSON.stringify(JSON.parse(doc));
  } catch {
    /* not JSON: shown as it is */
  }
  return d.replace(/\s+/g, ' ');
}
