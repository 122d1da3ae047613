/**
 * The storyline as a terminal timeline an analyst reads: the finding, the origin marked, each
 * step with time, tactic, principal, source and what it granted, then lineage and coverage.
 * Attacker-chosen strings (user agents, names) are stripped of control characters so they
 * cannot rewrite the terminal.
 */
import type { Storyline } from '../model/storyline';

/** Removes C0/C1 control characters (ANSI escapes included) from attacker-chosen text. */
export function plain(text: string | null | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function short(arn: string | null): string {
  if (!arn) return '(other account)';
  return arn.split(':').slice(4).join(':');
}

/** Renders the text timeline (lines joined with `\n`, ending with a newline). */
export function renderText(st: Storyline): string {
  const out: string[] = [];
  const f = st.finding;
  out.push(`Finding  ${f.type}  ${f.id}`);
  out.push(`         account ${f.accountId}  region ${f.region}${f.severity !== undefined ? `  severity ${f.severity}` : ''}`);
  if (f.eventFirstSeen) out.push(`         first seen ${f.eventFirstSeen}${f.eventLastSeen ? `  last seen ${f.eventLastSeen}` : ''}`);
  out.push('');
  if (st.origin) {
    out.push(`Origin   ${st.origin.eventTime}  ${st.origin.eventName}  (${st.origin.eventId})`);
    out.push(`         ${plain(st.origin.reason)}`);
  } else {
    out.push('Origin   none found');
  }
  out.push('');
  out.push(`Timeline (${st.steps.length} step${st.steps.length === 1 ? '' : 's'})`);
  let lastPrincipal: string | null | undefined;
  for (const s of st.steps) {
    if (s.principalArn !== lastPrincipal) {
      out.push(`  as ${short(s.principalArn)}${s.accessKeyId ? `  key ${s.accessKeyId}` : ''}`);
      lastPrincipal = s.principalArn;
    }
    const mark = st.origin && s.eventId === st.origin.eventId ? '>' : ' ';
    const tactic = s.tactic ? `${s.tactic.id} ${s.tactic.name}` : 'unmapped';
    const err = s.errorCode ? `  [${plain(s.errorCode)}]` : '';
    out.push(`  ${mark} ${s.eventTime}  ${s.region.padEnd(14)} ${tactic.padEnd(28)} ${s.eventSource.replace('.amazonaws.com', '')}:${s.eventName}${err}  from ${plain(s.sourceIPAddress)}`);
    for (const g of s.grants ?? []) {
      const parts = [g.kind, g.target ? `to ${plain(g.target)}` : '', g.value ? plain(g.value) : ''].filter(Boolean).join(' ');
      out.push(`        grants ${parts}${g.document ? `: ${plain(g.document).slice(0, 160)}` : ''}`);
    }
  }
  out.push('');
  out.push('Lineage');
  if (st.lineage.length === 0) out.push('  (none)');
  st.lineage.forEach((p, i) => out.push(`  ${i === 0 ? '' : '-> '}${p}`));
  for (const e of st.lineageEdges) out.push(`     ${e.via} ${e.eventTime} ${e.byAttacker ? 'attacker' : 'legitimate'}: ${plain(e.from)} => ${plain(e.to)}`);
  out.push('');
  const c = st.coverage;
  out.push('Coverage');
  out.push(`  files read ${c.filesRead}, skipped ${c.filesSkipped}; records read ${c.recordsRead}, skipped ${c.recordsSkipped}, examined ${c.recordsExamined}`);
  out.push(`  accounts ${c.accounts.join(', ') || '-'}; regions ${c.regions.join(', ') || '-'}; span ${c.timeSpan.from ?? '-'} .. ${c.timeSpan.to ?? '-'}`);
  for (const [r, n] of Object.entries(c.skippedReasons)) out.push(`  skipped: ${r} x${n}`);
  if (c.sample) out.push('  sample finding');
  for (const g of c.gaps) out.push(`  gap: ${plain(g)}`);
  out.push('');
  out.push(`Summary  ${plain(st.summary)}`);
  return out.join('\n') + '\n';
}
