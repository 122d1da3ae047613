/**
 * The storyline as Markdown for a ticket or a pull request (CommonMark with GitHub tables):
 * the finding, the origin, the chain of phases, the lineage, every step and the coverage.
 * Every value of the storyline goes through `mdEscape`, so attacker-chosen text (user agents,
 * names, documents) can make no link, image, HTML, emphasis or table cell of its own.
 */
import type { Storyline } from '../model/storyline';
import { mdEscape } from './escape';
import { distinctOf, GROUP_GAP_MS, groupCalls, groupGrants, groupSpan, groupSteps, groupTactics } from './groups';
import { buildStoryGraph } from './story-graph';
import { grantText } from './groups';

function cell(text: unknown): string {
  const s = mdEscape(text);
  return s.length > 0 ? s : ' ';
}

/** Renders the Markdown report (ends with a newline). */
export function renderMarkdown(st: Storyline): string {
  const g = buildStoryGraph(st);
  const f = st.finding;
  const out: string[] = [];
  out.push(`# ${mdEscape(f.type)}`, '');
  out.push(`Finding ${cell(f.id)} in account ${cell(f.accountId)}, region ${cell(f.region)}${f.severity !== undefined ? `, severity ${cell(f.severity)}` : ''}.`);
  if (f.title) out.push('', `> ${mdEscape(f.title)}`);
  out.push('', `**Summary:** ${mdEscape(st.summary)}`, '');
  out.push(st.origin ? `**Origin:** ${mdEscape(st.origin.eventName)} at ${mdEscape(st.origin.eventTime)} (${mdEscape(st.origin.eventId)}): ${mdEscape(st.origin.reason)}` : '**Origin:** none found in the records read.', '');

  out.push('## Chain', '');
  const phases = [...g.phases].sort((a, b) => a.from.localeCompare(b.from));
  if (phases.length === 0) out.push('No steps.');
  for (const p of phases) {
    const calls = p.rows
      .map((r) => (r.summary ? `${r.summary.names.length} more APIs ×${r.steps.length}` : `${r.eventName}${r.steps.length > 1 ? ` ×${r.steps.length}` : ''}`))
      .join(', ');
    out.push(`1. ${mdEscape(p.from)}: **${mdEscape(p.tactic ? p.tactic.name : 'Unmapped')}** by ${mdEscape(p.owner)}: ${mdEscape(calls)}`);
  }
  out.push('');

  out.push('## Lineage', '');
  if (st.lineageEdges.length === 0) out.push(st.lineage.map((l) => `- ${mdEscape(l)}`).join('\n') || 'None.');
  else {
    out.push('| by | time | via | from | to | eventID |', '|---|---|---|---|---|---|');
    for (const e of st.lineageEdges) out.push(`| ${e.byAttacker ? 'attacker' : 'legitimate'} | ${cell(e.eventTime)} | ${cell(e.via)} | ${cell(e.from)} | ${cell(e.to)} | ${cell(e.eventId)} |`);
  }
  out.push('');

  const { groups } = groupSteps(st);
  out.push(`## Steps (${st.steps.length}${groups.length < st.steps.length ? ` in ${groups.length} runs: calls of one principal from one source less than ${GROUP_GAP_MS / 60000} minutes apart; \`--format json\` lists each` : ''})`, '');
  if (groups.length > 0) {
    out.push('| # | time | calls | eventID | account | region | principal | source IP | user agent | call | tactic | granted |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    groups.forEach((g, i) => {
      const s = g.first;
      const grants = groupGrants(g).map((gr) => grantText(gr)).join('; ');
      const ids = g.steps.length === 1 ? s.eventId : `${s.eventId} … ${g.last.eventId}`;
      const agents = distinctOf(g, (x) => x.userAgent ?? '');
      const call = g.steps.length === 1 ? `${s.eventSource} ${s.eventName}${s.errorCode ? ` (failed: ${s.errorCode})` : ''}` : `${groupCalls(g)}${g.failed ? ` (${g.failed} failed)` : ''}`;
      out.push(
        `| ${i + 1} | ${cell(groupSpan(g))} | ${g.steps.length} | ${cell(ids)} | ${cell(distinctOf(g, (x) => x.accountId).join(', '))} | ${cell(g.regions.join(', '))} | ${cell(s.principalArn ?? '(AWSAccount copy)')} | ${cell(s.sourceIPAddress)} | ${cell(agents.length > 1 ? `${agents[0]} (+${agents.length - 1} more)` : agents[0] ?? '')} | ${cell(call)} | ${cell(groupTactics(g))} | ${cell(grants)} |`,
      );
    });
    out.push('');
  }

  const c = st.coverage;
  out.push('## Coverage', '');
  out.push(`- files read ${c.filesRead}, skipped ${c.filesSkipped}; records read ${c.recordsRead}, skipped ${c.recordsSkipped}, examined ${c.recordsExamined}`);
  out.push(`- accounts ${mdEscape(c.accounts.join(', ') || '-')}; regions ${mdEscape(c.regions.join(', ') || '-')}; span ${mdEscape(c.timeSpan.from ?? '-')} to ${mdEscape(c.timeSpan.to ?? '-')}`);
  for (const [r, n] of Object.entries(c.skippedReasons)) out.push(`- skipped: ${mdEscape(r)} ×${n}`);
  if (c.sample) out.push('- sample finding');
  for (const gap of c.gaps) out.push(`- gap: ${mdEscape(gap)}`);
  return out.join('\n') + '\n';
}
