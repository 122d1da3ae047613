/**
 * The storyline as a terminal timeline an analyst reads: the finding, the origin marked, each
 * run of similar calls on one line (`groups.ts`: count, time span, first and last eventID; the
 * origin, lineage edges, grants and failed privilege changes always on their own), then the
 * lineage and the coverage. Lines fit the given width (the terminal's, 80 when not a terminal):
 * words wrap, and a token longer than the width (an ARN) goes on a line of its own, never cut.
 * Attacker-chosen strings (user agents, names) are stripped of control characters so they
 * cannot rewrite the terminal.
 */
import type { Storyline } from '../model/storyline';
import { compactDocument, neutral } from './escape';
import { GROUP_GAP_MS, groupCalls, groupSpan, groupSteps, groupTactics } from './groups';

/**
 * Makes attacker-chosen text safe for a terminal: C0/C1 control characters (ANSI escapes, line
 * breaks and tabs included) become spaces, bidirectional controls and zero-width characters
 * visible `[U+202E]` markers (`neutral`).
 */
export function plain(text: string | null | undefined): string {
  return neutral(text).replace(/[\t\n\r]/g, ' ');
}

/** An ARN as `account:resource`. */
function short(arn: string): string {
  return arn.split(':').slice(4).join(':');
}

/** Options of {@link renderText}. */
export interface TextOptions {
  /** Columns to fit (default 80; at least 40). */
  width?: number;
}

/**
 * Wraps one logical line to `width` columns. Fields (runs separated by two or more spaces) are
 * kept whole on a line when they fit; a field too long for a line of its own wraps at its
 * words. `first` starts the first line, continuation lines start with `indent` spaces; a word
 * that does not fit even alone (an ARN, a policy document) goes on a line of its own, whole,
 * from the first column.
 * @returns the lines, without newlines; at least one
 */
export function wrap(text: string, width: number, first = '', indent = first.length): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  const place = (unit: string, sep: string): boolean => {
    if (cur.length + (empty ? 0 : sep.length) + unit.length <= width) {
      cur += (empty ? '' : sep) + unit;
      empty = false;
      return true;
    }
    return false;
  };
  const newLine = () => {
    if (!empty || cur.trim().length > 0) lines.push(cur.trimEnd());
    cur = pad;
    empty = true;
  };
  for (const field of text.split(/ {2,}/).filter((f) => f.length > 0)) {
    if (place(field, '  ')) continue;
    if (pad.length + field.length <= width) {
      newLine();
      place(field, '');
      continue;
    }
    field.split(/ +/).filter((w) => w.length > 0).forEach((word, i) => {
      const sep = i === 0 ? '  ' : ' ';
      if (place(word, sep)) return;
      newLine();
      if (place(word, '')) return;
      // Too long for any line: alone, unbroken, from the first column.
      lines.push(word);
    });
  }
  if (!empty || lines.length === 0) lines.push(cur.trimEnd());
  return lines;
}

/** Renders the text timeline (lines joined with `\n`, ending with a newline). */
export function renderText(st: Storyline, opts: TextOptions = {}): string {
  const width = Math.max(40, Math.floor(opts.width ?? 80));
  const out: string[] = [];
  const line = (text: string, first = '', indent = first.length) => out.push(...wrap(plain(text), width, first, indent));
  const f = st.finding;
  line(`${f.type} ${f.id}`, 'Finding  ', 9);
  line(`account ${f.accountId}  region ${f.region}${f.severity !== undefined ? `  severity ${f.severity}` : ''}`, '         ');
  if (f.eventFirstSeen) line(`first seen ${f.eventFirstSeen}${f.eventLastSeen ? `  last seen ${f.eventLastSeen}` : ''}`, '         ');
  out.push('');
  if (st.origin) {
    line(`${st.origin.eventId}  ${st.origin.eventTime}  ${st.origin.eventName}`, 'Origin   ', 9);
    line(st.origin.reason, '         ');
  } else {
    out.push('Origin   none found');
  }
  out.push('');
  const { groups } = groupSteps(st);
  const n = st.steps.length;
  line(
    n === groups.length
      ? `(${n} step${n === 1 ? '' : 's'})`
      : `(${n} steps on ${groups.length} lines: calls of one principal from one source, less than ${GROUP_GAP_MS / 60000} minutes apart, are one line; --format json lists every step)`,
    'Timeline ',
    2,
  );
  let lastWho: string | undefined;
  for (const g of groups) {
    const s = g.first;
    // No ARN: an AWS service calling as itself, or the callee's copy of a cross-account call.
    const who = g.principalArn ? short(g.principalArn) : /\.amazonaws\.com$/.test(s.sourceIPAddress) ? `AWS service ${s.sourceIPAddress}` : 'another account (the callee’s copy of its call)';
    if (who !== lastWho) {
      line(`${who}${s.accessKeyId ? `  key ${s.accessKeyId}` : ''}`, '  as ', 6);
      lastWho = who;
    }
    const mark = g.origin ? '> ' : '  ';
    if (g.steps.length === 1) {
      const err = s.errorCode ? `  [${s.errorCode}]` : '';
      line(`${s.eventTime}  ${s.region}  ${groupTactics(g)}  ${s.eventSource.replace(/\.amazonaws\.com$/, '')}:${s.eventName}${err}  from ${s.sourceIPAddress}  eventID ${s.eventId}`, `  ${mark}`, 8);
    } else {
      const failed = g.failed > 0 ? `  [${g.failed} failed]` : '';
      line(`${groupSpan(g)}  x${g.steps.length}  ${g.regions.join(',')}  ${groupTactics(g)}  ${groupCalls(g)}${failed}  from ${g.sourceIPAddress}`, `  ${mark}`, 8);
      line(`first ${g.first.eventId}  last ${g.last.eventId}`, '        ');
    }
    for (const gr of s.grants ?? []) {
      const parts = [gr.kind, gr.target ? `to ${gr.target}` : '', gr.value ?? ''].filter(Boolean).join(' ');
      // The document on one line, its first 160 characters (json and the HTML report hold more).
      const doc = gr.document ? compactDocument(gr.document) : '';
      line(`${parts}${doc ? `: ${doc.length > 160 ? `${doc.slice(0, 160)}…` : doc}` : ''}`, '        grants ', 15);
    }
  }
  out.push('');
  out.push('Lineage');
  if (st.lineage.length === 0) out.push('  (none)');
  st.lineage.forEach((p, i) => line(p, i === 0 ? '  ' : '  -> ', 5));
  // The edges, with ARNs short (account:resource; the full ARNs are listed above).
  const id = (x: string) => (x.startsWith('arn:') ? short(x) : x);
  for (const e of st.lineageEdges) line(`${e.via}  ${e.eventTime}  ${e.byAttacker ? 'attacker' : 'legitimate'}  ${id(e.from)}  => ${id(e.to)}`, '     ');
  out.push('');
  const c = st.coverage;
  out.push('Coverage');
  line(`files read ${c.filesRead}, skipped ${c.filesSkipped}; records read ${c.recordsRead}, skipped ${c.recordsSkipped}, examined ${c.recordsExamined}`, '  ');
  line(`accounts ${c.accounts.join(', ') || '-'}; regions ${c.regions.join(', ') || '-'}; span ${c.timeSpan.from ?? '-'} .. ${c.timeSpan.to ?? '-'}`, '  ');
  for (const [r, k] of Object.entries(c.skippedReasons)) line(`skipped: ${r} x${k}`, '  ');
  if (c.sample) out.push('  sample finding');
  for (const gap of c.gaps) line(gap, '  gap: ', 7);
  out.push('');
  line(st.summary, 'Summary  ', 9);
  return out.join('\n') + '\n';
}
