/**
 * The storyline as a Mermaid flowchart (https://mermaid.js.org/syntax/flowchart.html):
 * identities as nodes, the attacker's lineage edges between them, runs of similar calls linked
 * to the identity that made them, the finding at the end. Every label is escaped: attacker-chosen
 * text can neither close a label nor inject Mermaid or HTML.
 */
import type { Storyline } from '../model/storyline';
import { cap, neutral } from './escape';
import { groupCalls, groupSpan, groupSteps, groupTactics } from './groups';

/**
 * Escapes text for a quoted Mermaid label (entity codes for quotes, brackets, markup). `#` is
 * escaped first: Mermaid decodes `#name;` and `#123;` in labels, so an attacker's literal
 * `#lt;script#gt;` would otherwise come out as markup. Capped at 8 KiB of input first (`cap`);
 * control, line-separator and bidirectional characters become spaces or visible markers
 * (`neutral`); leading and trailing spaces go. Never empty: Mermaid rejects `n1("")`, so
 * text with nothing left to show is `(unnamed)`.
 */
export function mermaidLabel(text: string): string {
  const shown = neutral(cap(text)).replace(/[\t\n\r]/g, ' ').trim();
  return (shown.length > 0 ? shown : '(unnamed)')
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

/** How much of the story one flowchart draws: the first level that fits Mermaid's limits is printed. */
interface Level {
  /** The origin, lineage edges and grants on boxes of their own (`groupSteps`' pinned steps). */
  keepPinned: boolean;
  /** At most this many lineage arrows (the first in time); the rest are counted in one note. */
  maxArrows: number;
  /** Every principal of the lineage as a node, or only those an arrow or a box refers to. */
  allLineage: boolean;
}

const LEVELS: Level[] = [
  { keepPinned: true, maxArrows: Infinity, allLineage: true },
  { keepPinned: false, maxArrows: 300, allLineage: true },
  { keepPinned: false, maxArrows: 40, allLineage: false },
];

/**
 * Renders the flowchart text: the lineage's identities and the attacker's edges between them
 * (one arrow a kind of edge between two identities, with its count), runs of similar calls as
 * boxes chained in time (`groups.ts`: count, span, first and last eventID), the finding last.
 * It stays within Mermaid's default limits (`maxEdges` 500, `maxTextSize` 50,000 characters:
 * https://mermaid.js.org/config/schema-docs/config.html): when the origin, lineage edges and
 * grants kept on their own would pass them, those are folded into the runs too; past that, at
 * most {@link MAX_BOXES} boxes (the last counts the runs it stands for) and fewer lineage
 * arrows and identities, each cut said in a `%%` comment. Every label holds text (`mermaidLabel`).
 */
export function renderMermaid(st: Storyline): string {
  let chart = flowchart(st, LEVELS[0] as Level);
  for (const level of LEVELS.slice(1)) {
    if (chart.text.length <= MAX_TEXT && chart.edges <= MAX_EDGES) break;
    chart = flowchart(st, level);
  }
  if (chart.notes.length === 0) return chart.text;
  return chart.text.replace('flowchart LR\n', `flowchart LR\n${chart.notes.map((n) => `  %% ${n}\n`).join('')}`);
}

function flowchart(st: Storyline, level: Level): { text: string; edges: number; notes: string[] } {
  const lines = ['flowchart LR'];
  const notes: string[] = [];
  const ids = new Map<string, string>();
  let edges = 0;
  const node = (key: string, label: string, shape: 'round' | 'box' | 'hex' = 'round'): string => {
    let id = ids.get(key);
    if (id) return id;
    id = `n${ids.size}`;
    ids.set(key, id);
    const max = shape === 'box' ? MAX_BOX_LABEL : MAX_LABEL;
    const text = label.length > max ? `${label.slice(0, max - 1)}…` : label;
    const l = `"${mermaidLabel(text)}"`;
    lines.push(`  ${id}${shape === 'round' ? `(${l})` : shape === 'hex' ? `{{${l}}}` : `[${l}]`}`);
    return id;
  };
  const edge = (line: string) => {
    lines.push(line);
    edges++;
  };
  // An identity for people: an ARN's resource part with its account, else the key as given.
  const short = (key: string | null) => (!key ? 'other account' : key.startsWith('arn:') ? key.split(':').slice(4).join(':') : key);
  if (level.allLineage) for (const p of st.lineage) node(`p:${p}`, short(p));
  else if (st.lineage[0] !== undefined) node(`p:${st.lineage[0]}`, short(st.lineage[0]));
  // One arrow a kind of edge between two identities: the first time, and how many.
  const arrows = new Map<string, { from: string; to: string; via: string; first: string; n: number }>();
  for (const e of st.lineageEdges) {
    if (!e.byAttacker) continue;
    const k = [e.from, e.to, e.via].join('\u0000');
    const a = arrows.get(k);
    if (a) a.n++;
    else arrows.set(k, { from: e.from, to: e.to, via: e.via, first: e.eventTime, n: 1 });
  }
  const shownArrows = [...arrows.values()].slice(0, level.maxArrows);
  if (shownArrows.length < arrows.size) notes.push(`${arrows.size - shownArrows.length} of ${arrows.size} lineage arrows left out to stay within Mermaid's limits; --format json lists every lineage edge`);
  for (const a of shownArrows) {
    const from = node(`p:${a.from}`, short(a.from));
    const to = node(`p:${a.to}`, short(a.to));
    edge(`  ${from} -->|"${mermaidLabel(`${a.via}${a.n > 1 ? ` x${a.n} from` : ''} ${a.first}`)}"| ${to}`);
  }
  // Runs of similar calls, one box each, chained in time; each principal points to its first.
  const all = groupSteps(st, { maxGroups: MAX_BOXES, keepPinned: level.keepPinned }).groups;
  if (!level.keepPinned && st.steps.length > 0) notes.push(`${st.steps.length} steps folded into runs without exception to stay within Mermaid's limits; --format json lists every step`);
  // Folded and still past MAX_BOXES at the coarsest grouping (many sources or principals): the last box stands for the rest.
  const groups = !level.keepPinned && all.length > MAX_BOXES ? all.slice(0, MAX_BOXES - 1) : all;
  const rest = all.slice(groups.length);
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
  if (rest.length > 0) {
    const calls = rest.reduce((n, g) => n + g.steps.length, 0);
    const first = rest[0] as (typeof rest)[number];
    const last = rest[rest.length - 1] as (typeof rest)[number];
    const id = node('g:rest', `${rest.length} more runs: ${calls} calls, ${first.first.eventTime}..${last.last.eventTime} (--format json lists each)`, 'box');
    if (rest.some((g) => g.steps.some((x) => x.eventId === st.origin?.eventId))) originNode = id;
    if (prev) edge(`  ${prev} --> ${id}`);
    prev = id;
    notes.push(`${all.length} runs, the last ${rest.length} drawn as one box to stay within Mermaid's limits`);
  }
  const fid = node('finding', `GuardDuty ${st.finding.type}`, 'hex');
  if (prev) edge(`  ${prev} --> ${fid}`);
  if (st.origin && originNode) lines.push('  classDef origin stroke-width:3px', `  class ${originNode} origin`);
  return { text: lines.join('\n') + '\n', edges, notes };
}
