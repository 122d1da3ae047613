/**
 * The storyline as a Mermaid flowchart (https://mermaid.js.org/syntax/flowchart.html):
 * identities as nodes, credential-minting edges between them, steps grouped by tactic under
 * the identity that made them, the finding at the end. Every label is escaped: attacker-chosen
 * text can neither close a label nor inject Mermaid or HTML.
 */
import type { Storyline } from '../model/storyline';
import { neutral } from './escape';

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

/** Renders the flowchart text. */
export function renderMermaid(st: Storyline): string {
  const lines = ['flowchart LR'];
  const ids = new Map<string, string>();
  const node = (key: string, label: string, shape: 'round' | 'box' | 'hex' = 'round'): string => {
    let id = ids.get(key);
    if (id) return id;
    id = `n${ids.size}`;
    ids.set(key, id);
    const l = `"${mermaidLabel(label)}"`;
    lines.push(`  ${id}${shape === 'round' ? `(${l})` : shape === 'hex' ? `{{${l}}}` : `[${l}]`}`);
    return id;
  };
  const short = (arn: string | null) => (arn ? arn.split(':').slice(4).join(':') : 'other account');
  for (const p of st.lineage) node(`p:${p}`, short(p));
  for (const e of st.lineageEdges) {
    if (!e.byAttacker) continue;
    const a = node(`p:${e.from}`, short(e.from));
    const b = node(`p:${e.to}`, short(e.to));
    lines.push(`  ${a} -->|"${mermaidLabel(e.via)}"| ${b}`);
  }
  // Group consecutive steps of one principal and tactic.
  let prev: string | null = null;
  interface Group { key: string; principal: string | null; tactic: string; names: string[]; first: string }
  let group: Group | null = null;
  const groups: Group[] = [];
  for (const s of st.steps) {
    const tactic = s.tactic ? `${s.tactic.name}` : 'Unmapped';
    const key = `${s.principalArn}|${tactic}`;
    if (group && group.key === key) group.names.push(s.eventName);
    else {
      group = { key, principal: s.principalArn, tactic, names: [s.eventName], first: s.eventTime };
      groups.push(group);
    }
  }
  let originNode: string | null = null;
  groups.forEach((g, i) => {
    const counts = new Map<string, number>();
    for (const n of g.names) counts.set(n, (counts.get(n) ?? 0) + 1);
    const body = [...counts].map(([n, c]) => (c > 1 ? `${n} x${c}` : n)).join(', ');
    const id = node(`g:${i}`, `${g.tactic}: ${body} (${g.first})`, 'box');
    if (i === 0) originNode = id;
    const owner = g.principal ? node(`p:${g.principal}`, short(g.principal)) : null;
    if (prev) lines.push(`  ${prev} --> ${id}`);
    else if (owner) lines.push(`  ${owner} --> ${id}`);
    if (owner && prev) lines.push(`  ${owner} -.- ${id}`);
    prev = id;
  });
  const fid = node('finding', `GuardDuty ${st.finding.type}`, 'hex');
  if (prev) lines.push(`  ${prev} --> ${fid}`);
  if (st.origin && originNode) lines.push('  classDef origin stroke-width:3px', `  class ${originNode} origin`);
  return lines.join('\n') + '\n';
}
