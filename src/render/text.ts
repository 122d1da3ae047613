/**
 * The storyline as a terminal timeline an analyst reads: the finding, the origin marked, each
 * run of similar calls on one line (`groups.ts`: count, time span, first and last eventID; the
 * origin, lineage edges, grants and failed privilege changes always on their own), then the
 * lineage and the coverage. Lines fit the given width (the terminal's, 80 when not a terminal):
 * words wrap, and a token longer than the width (an ARN) goes on a line of its own, never cut.
 * Every line passes `terminal` (escape.ts): control, bidirectional and invisible characters
 * from the input are shown as visible `[U+001B]` markers, so an attacker-chosen string (user
 * agent, session name, region) can neither rewrite the terminal nor forge a line; every value
 * from the input is capped at 8 KiB first (`cap`, a visible marker with its whole size).
 */
import type { Storyline } from '../model/storyline';
import { cap, compactDocument, terminal } from './escape';
import { GROUP_GAP_MS, groupCalls, groupSpan, groupSteps, groupTactics } from './groups';

/** One value from the input in a line: capped at 8 KiB (`cap`), so one huge field cannot push out the rest of its line. */
const v = (x: unknown): string => cap(x);

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
  // Each value is capped where it is put in (`v`); the line as a whole is made visible.
  const line = (text: string, first = '', indent = first.length) => out.push(...wrap(terminal(text, Infinity), width, first, indent));
  const f = st.finding;
  line(`${v(f.type)} ${v(f.id)}`, 'Finding  ', 9);
  line(`account ${v(f.accountId)}  region ${v(f.region)}${f.severity !== undefined ? `  severity ${v(f.severity)}` : ''}`, '         ');
  if (f.eventFirstSeen) line(`first seen ${v(f.eventFirstSeen)}${f.eventLastSeen ? `  last seen ${v(f.eventLastSeen)}` : ''}`, '         ');
  out.push('');
  if (st.origin) {
    line(`${v(st.origin.eventId)}  ${v(st.origin.eventTime)}  ${v(st.origin.eventName)}`, 'Origin   ', 9);
    line(v(st.origin.reason), '         ');
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
      line(`${v(who)}${s.accessKeyId ? `  key ${v(s.accessKeyId)}` : ''}`, '  as ', 6);
      lastWho = who;
    }
    const mark = g.origin ? '> ' : '  ';
    if (g.steps.length === 1) {
      const err = s.errorCode ? `  [${v(s.errorCode)}]` : '';
      line(`${v(s.eventTime)}  ${v(s.region)}  ${v(groupTactics(g))}  ${v(s.eventSource.replace(/\.amazonaws\.com$/, ''))}:${v(s.eventName)}${err}  from ${v(s.sourceIPAddress)}  eventID ${v(s.eventId)}`, `  ${mark}`, 8);
    } else {
      const failed = g.failed > 0 ? `  [${g.failed} failed]` : '';
      line(`${v(groupSpan(g))}  x${g.steps.length}  ${v(g.regions.join(','))}  ${v(groupTactics(g))}  ${v(groupCalls(g))}${failed}  from ${v(g.sourceIPAddress)}`, `  ${mark}`, 8);
      line(`first ${v(g.first.eventId)}  last ${v(g.last.eventId)}`, '        ');
    }
    for (const gr of s.grants ?? []) {
      const parts = [v(gr.kind), gr.target ? `to ${v(gr.target)}` : '', v(gr.value)].filter(Boolean).join(' ');
      // The document on one line, its first 160 characters (json and the HTML report hold more).
      const doc = gr.document ? compactDocument(gr.document) : '';
      line(`${parts}${doc ? `: ${doc.length > 160 ? `${doc.slice(0, 160)}…` : doc}` : ''}`, '        grants ', 15);
    }
  }
  out.push('');
  out.push('Lineage');
  if (st.lineage.length === 0) out.push('  (none)');
  st.lineage.forEach((p, i) => line(v(p), i === 0 ? '  ' : '  -> ', 5));
  // The edges, with ARNs short (account:resource; the full ARNs are listed above).
  const id = (x: string) => v(x.startsWith('arn:') ? short(x) : x);
  for (const e of st.lineageEdges) line(`${v(e.via)}  ${v(e.eventTime)}  ${e.byAttacker ? 'attacker' : 'legitimate'}  ${id(e.from)}  => ${id(e.to)}`, '     ');
  out.push('');
  const c = st.coverage;
  out.push('Coverage');
  line(`files read ${c.filesRead}, skipped ${c.filesSkipped}; records read ${c.recordsRead}, skipped ${c.recordsSkipped}, examined ${c.recordsExamined}`, '  ');
  line(`accounts ${v(c.accounts.join(', ') || '-')}; regions ${v(c.regions.join(', ') || '-')}; span ${v(c.timeSpan.from ?? '-')} .. ${v(c.timeSpan.to ?? '-')}`, '  ');
  for (const [r, k] of Object.entries(c.skippedReasons)) line(`skipped: ${v(r)} x${k}`, '  ');
  if (c.sample) out.push('  sample finding');
  for (const gap of c.gaps) line(v(gap), '  gap: ', 7);
  out.push('');
  line(v(st.summary), 'Summary  ', 9);
  return out.join('\n') + '\n';
}
