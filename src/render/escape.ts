/**
 * Escaping for every text the renderers write into markup. Nearly every string in a storyline
 * can be chosen by an attacker (user agents, session, user and bucket names, policy documents,
 * request parameters, tag values), so nothing is written into HTML, SVG or Markdown without
 * passing through these functions.
 *
 * - `esc` is the one escape for HTML and SVG, for text and for double-quoted attribute values
 *   alike (https://html.spec.whatwg.org/multipage/syntax.html#escapingString plus `<`, `>` and
 *   `'` in attributes, so a value is safe in either context).
 * - `neutral` removes what could change how the text is displayed rather than what it says:
 *   C0/C1 control characters (terminal escapes, NUL) and the Unicode bidirectional controls of
 *   "Trojan Source" (CVE-2021-42574) and zero-width characters, shown as visible `[U+202E]`
 *   markers instead.
 * - `mdEscape` makes text literal in CommonMark/GFM inside a line: no emphasis, code, link,
 *   image, HTML, table cell, math, mention (`@team`) or issue reference (`#12`) can come out of
 *   it; line breaks become spaces, so no block syntax (headings, lists, quotes) can start.
 */

// Bidirectional controls, and the invisible characters that make two names look alike
// (zero-width space, joiners, word joiner, byte order mark).
const BIDI = /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Replaces control characters with a space, and bidirectional controls and zero-width characters with a visible marker. */
export function neutral(text: unknown): string {
  const s = text === null || text === undefined ? '' : String(text);
  return s
    .replace(BIDI, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`)
    .replace(CONTROL, ' ');
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML and SVG: element content and double- or single-quoted attribute values. */
export function esc(text: unknown): string {
  return neutral(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * Escapes text for Markdown (CommonMark and GitHub Flavored Markdown), inline or in a table
 * cell: markup characters become entities, every ASCII punctuation character that Markdown
 * gives a meaning to is backslash-escaped, line breaks become spaces.
 */
export function mdEscape(text: unknown): string {
  return neutral(text)
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
