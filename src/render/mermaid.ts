/**
 * The storyline as a Mermaid flowchart (https://mermaid.js.org/syntax/flowchart.html):
 * identities as nodes, the attacker's lineage edges between them, runs of similar calls linked
 * to the identity that made them, the finding at the end. Every label is escaped: attacker-chosen
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
/** Mermaid's defaults (`maxTextSize` 50,000 characters, `maxEdges` 500), less a margin. */
const MAX_TEXT = 48_000;
const MAX_EDGES = 480;
/** A label's longest text (characters, before escaping): attacker-chosen names can be any size. */
const MAX_LABEL = 160;
/** A run's box: its calls, count, span and two eventIDs. */
const MAX_BOX_LABEL = 400;

/**
 * Renders the flowchart text: the lineage's identities and the attacker's edges between them
 * (one arrow a kind of edge between two identities, with its count), runs of similar calls as
 * boxes chained in time (`groups.ts`: count, span, first and last eventID), the finding last.
 * It stays within Mermaid's default limits: when the origin, lineage edges and grants kept on
 * their own would pass them, those are folded into the runs too, and a comment says so.
 */
export function renderMermaid(st: Storyline): string {
  const full = flowchart(st, true);
  if (full.text.length <= MAX_TEXT && full.edges <= MAX_EDGES) return full.text;
  const folded = flowchart(st, false);
  return folded.text.replace('flowchart LR\n', `flowchart LR\n  %% ${st.steps.length} steps folded into runs without exception to stay within Mermaid's limits; --format json lists every step\n`);
}

function flowchart(st: Storyline, keepPinned: boolean): { text: string; edges: number } {
  const lines = ['flowchart LR'];
  const ids = new Map<string, string>();
  let edges = 0;
  const node = (key: string, label: string, shape: 'round' | 'box' | 'hex' = 'round'): string => {
    let id = ids.get(key);
    if (id) return id;
    id = `n${ids.size}`;
    ids.set(key, id);
    const max = shape === 'box' ? MAX_BOX_LABEL : MAX_LABEL;
    const text = label.length > max ? `${label.slice(0, max - 1)}…` : label;
    const l = `"${mermaidLabel(text || '(unnamed)')}"`;
    lines.push(`  ${id}${shape === 'round' ? `(${l})` : shape === 'hex' ? `{{${l}}}` : `[${l}]`}`);
    return id;
  };
  const edge = (line: string) => {
    lines.push(line);
    edges++;
  };
  // An identity for people: an ARN's resource part with its account, else the key as given.
  const short = (key: string | null) => (!key ? 'other account' : key.startsWith('arn:') ? key.split(':').slice(4).join(':') : key);
  for (const p of st.lineage) node(`p:${p}`, short(p));
  // One arrow a kind of edge between two identities: the first time, and how many.
  const arrows = new Map<string, { from: string; to: string; via: string; first: string; n: number }>();
  for (const e of st.lineageEdges) {
    if (!e.byAttacker) continue;
    const k = [e.from, e.to, e.via].join('\u0000');
    const a = arrows.get(k);
    if (a) a.n++;
    else arrows.set(k, { from: e.from, to: e.to, via: e.via, first: e.eventTime, n: 1 });
  }
  for (const a of arrows.values()) {
    const from = node(`p:${a.from}`, short(a.from));
    const to = node(`p:${a.to}`, short(a.to));
    edge(`  ${from} -->|"${mermaidLabel(`${a.via}${a.n > 1 ? ` x${a.n} from` : ''} ${a.first}`)}"| ${to}`);
  }
  // Runs of similar calls, one box each, chained in time; each principal points to its first.
  const { groups } = groupSteps(st, { maxGroups: MAX_BOXES, keepPinned });
  let prev: string | null = null;
  let originNode: string | null = null;
  const linked = new Set<string>();
  groups.forEach((g, i) => {
    const span = groupSpan(g);
    const label =
      g.steps.length === 1
        ? `${groupTactics(g)}: ${g.first.eventName} (${span}, ${g.first.eventId})`
        : `${groupTactics(g)}: ${groupCalls(g, 3)} (${g.steps.length} calls, ${span}, first ${g.first.eventId}, last ${g.last.eventId})`;
    const id = node(`g:${i}`, label, 'box');
    if (g.steps.some((x) => x.eventId === st.origin?.eventId)) originNode = id;
    if (prev) edge(`  ${prev} --> ${id}`);
    const owner = g.principalArn ?? null;
    if (owner && !linked.has(owner)) {
      linked.add(owner);
      edge(`  ${node(`p:${owner}`, short(owner))} -.- ${id}`);
    }
    prev = id;
  });
  const fid = node('finding', `GuardDuty ${st.finding.type}`, 'hex');
  if (prev) edge(`  ${prev} --> ${fid}`);
  if (st.origin && originNode) lines.push('  classDef origin stroke-width:3px', `  class ${originNode} origin`);
  return { text: lines.join('\n') + '\n', edges };
}
