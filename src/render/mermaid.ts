/**
 * The storyline as a Mermaid flowchart (https://mermaid.js.org/syntax/flowchart.html):
 * identities as nodes, credential-minting edges between them, steps grouped by tactic under
 * the identity that made them, the finding at the end. Every label is escaped: attacker-chosen
 * text can neither close a label nor inject Mermaid or HTML.
 */
import type { Storyline } from '../model/storyline';
import { neutral } from './escape';
import { groupCalls, groupSpan, groupSteps, groupTactics } from './groups';

/**
 * Escapes text for a quoted Mermaid label (entity codes for quotes, brackets, markup). `#` is
 * escaped first: Mermaid decodes `#name;` and `#123;` in labels, so an attacker's literal
 * `#lt;script#gt;` would otherwise come out as markup. Control, line-separator and
 * bidirectional characters become spaces or visible markers (`neutral`).
 */
export function mermaidLabel(text: string): string {
  return neutral(text)
    .replace(/[\t\n\r]/g, ' ')
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[[\]{}()|`]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** At most this many step boxes: longer stories are grouped more coarsely (`groups.ts`). */
const MAX_BOXES = 60;

/** Renders the flowchart text. */
export function renderMermaid(st: Storyline): string {
  const lines = ['flowchart LR'];
  const ids = new Map<string, string>();
  const node = (key: string, label: string, shape: 'round' | 'box' | 'hex' = 'round'): string => {
    let id = ids.get(key);
    if (id) return id;
    id = `n${ids.size}`;
    ids.set(key, id);
    const l = `"${mermaidLabel(label || '(unnamed)')}"`;
    lines.push(`  ${id}${shape === 'round' ? `(${l})` : shape === 'hex' ? `{{${l}}}` : `[${l}]`}`);
    return id;
  };
  // An identity for people: an ARN's resource part with its account, else the key as given.
  const short = (key: string | null) => (!key ? 'other account' : key.startsWith('arn:') ? key.split(':').slice(4).join(':') : key);
  for (const p of st.lineage) node(`p:${p}`, short(p));
  for (const e of st.lineageEdges) {
    if (!e.byAttacker) continue;
    const a = node(`p:${e.from}`, short(e.from));
    const b = node(`p:${e.to}`, short(e.to));
    lines.push(`  ${a} -->|"${mermaidLabel(`${e.via} ${e.eventTime}`)}"| ${b}`);
  }
  // Runs of similar calls, one box each, chained in time; each principal points to its first.
  const { groups } = groupSteps(st, { maxGroups: MAX_BOXES });
  let prev: string | null = null;
  let originNode: string | null = null;
  const linked = new Set<string>();
  groups.forEach((g, i) => {
    const span = groupSpan(g);
    const label = g.steps.length === 1 ? `${groupTactics(g)}: ${g.first.eventName} (${span})` : `${groupTactics(g)}: ${groupCalls(g, 3)} (${g.steps.length} calls, ${span})`;
    const id = node(`g:${i}`, label, 'box');
    if (g.origin) originNode = id;
    if (prev) lines.push(`  ${prev} --> ${id}`);
    const owner = g.principalArn ?? null;
    if (owner && !linked.has(owner)) {
      linked.add(owner);
      lines.push(`  ${node(`p:${owner}`, short(owner))} -.- ${id}`);
    }
    prev = id;
  });
  const fid = node('finding', `GuardDuty ${st.finding.type}`, 'hex');
  if (prev) lines.push(`  ${prev} --> ${fid}`);
  if (st.origin && originNode) lines.push('  classDef origin stroke-width:3px', `  class ${originNode} origin`);
  return lines.join('\n') + '\n';
}
