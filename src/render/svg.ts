/**
 * The storyline as an SVG flow diagram, laid out left to right by ELK's layered algorithm
 * (elkjs, https://eclipse.dev/elk/reference/algorithms/org-eclipse-elk-layered.html) when the
 * report is made: the origin, the identities of the lineage inside their account boundaries,
 * each identity's steps grouped into tactic phases (repeated calls folded, bursts summarised),
 * the credential-minting and role-assuming edges labelled with their API, and the GuardDuty
 * finding attached to the phase it is about. Attacker edges are red, legitimate ones grey and
 * dashed. Plain SVG: no script, no external reference; every text is escaped with `esc`.
 *
 * Stable hooks for tests and tools: `data-node="origin"`, `identity:<key>`, `phase:<id>`,
 * `step:<first eventId>` (with `data-steps` listing every eventId the row folds), `key:<id>`,
 * `account:<id>`, `finding`; edges carry `data-edge`, `data-from`, `data-to`, `data-via`.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { Grant, Step, Storyline } from '../model/storyline';
import { compactDocument, esc, escJoin } from './escape';
import { evidenceRowOf, grantText, LISTED_IDS, listIds } from './groups';
import { buildStoryGraph, DIAGRAM_LIMITS, foldStoryGraph, type FoldLimits, type FoldSummary, type IdentityNode, type Phase, type StepRow, type StoryGraph } from './story-graph';

/** Font of the diagram: monospaced, so text widths are known when the layout is made. */
export const SVG_FONT = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/** Advance of one character in em (DejaVu Sans Mono is 0.602; a little room for others). */
const ADVANCE = 0.615;

export const TACTIC_COLORS: Record<string, string> = {
  TA0043: '#6d4c41',
  TA0042: '#8d6e63',
  TA0001: '#c62828',
  TA0002: '#ad1457',
  TA0003: '#6a1b9a',
  TA0004: '#d84315',
  TA0005: '#37474f',
  TA0006: '#9a6b00',
  TA0007: '#1565c0',
  TA0008: '#00838f',
  TA0009: '#2e7d32',
  TA0011: '#4e342e',
  TA0010: '#6b7a00',
  TA0040: '#8e0000',
};
export const UNMAPPED_COLOR = '#616161';
export const ATTACKER = '#c62828';
export const LEGIT = '#9e9e9e';
export const FINDING = '#e65100';

/** Tactics that grant privileges: their grants are highlighted as escalations. */
const ESCALATING = new Set<Grant['kind']>(['managed-policy', 'inline-policy', 'policy-version', 'group-membership', 'trust-policy', 'passed-role']);

export function tacticColor(id: string | undefined | null): string {
  return (id && TACTIC_COLORS[id]) || UNMAPPED_COLOR;
}

/** Display width of text in characters (wide East Asian and emoji count two). */
export function textCols(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x1f000) ? 2 : 1;
  }
  return n;
}

/** Cuts text to at most `max` columns, with `…` when cut. */
export function clipCols(text: string, max: number): string {
  if (textCols(text) <= max) return text;
  let out = '';
  let n = 0;
  for (const ch of text) {
    const w = textCols(ch);
    if (n + w > max - 1) break;
    out += ch;
    n += w;
  }
  return out + '…';
}

/** Splits text into at most `lines` lines of `cols` columns, the last one cut with `…`. */
function wrapCols(text: string, cols: number, lines: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0 && out.length < lines) {
    if (out.length === lines - 1 || textCols(rest) <= cols) {
      out.push(clipCols(rest, cols));
      break;
    }
    let cut = '';
    let n = 0;
    for (const ch of rest) {
      if (n + textCols(ch) > cols) break;
      cut += ch;
      n += textCols(ch);
    }
    const sp = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('/'), cut.lastIndexOf(':'), cut.lastIndexOf(','));
    if (sp > cols / 2) cut = cut.slice(0, sp + 1);
    out.push(cut.trimEnd());
    rest = rest.slice(cut.length).trimStart();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Boxes: what each node shows, measured before layout.

/** Attributes of an element: a value, or a list of values written space-separated, each escaped on its own. */
type Attrs = Record<string, string | readonly string[]>;

interface Seg {
  text: string;
  fill?: string;
  bold?: boolean;
  italic?: boolean;
}

interface Line {
  segs: Seg[];
  size: number;
  indent?: number;
  /** Background band behind the line. */
  bg?: string;
}

interface Item {
  lines: Line[];
  /** Attributes of the item's group (data-node, data-steps, …), values escaped when written. */
  attrs?: Attrs;
  /** Tooltip. */
  title?: string;
  /** Link inside the document (`#ev-N`), never a value taken from the storyline. */
  href?: string;
  /** EventIDs the item stands for (rows). */
  ids?: string[];
  /** Holds a call the finding is about: marked with a bar in the finding's colour. */
  flagged?: boolean;
  /** Offset of the item from the top of its box and its height, set by `measure`. */
  top?: number;
  height?: number;
}

type BoxKind = 'origin' | 'identity' | 'phase' | 'finding';

interface Box {
  id: string;
  kind: BoxKind;
  attrs: Attrs;
  title: string;
  items: Item[];
  /** Header band colour (phases). */
  band?: string;
  attacker: boolean;
  width: number;
  height: number;
}

const PAD_X = 10;
const PAD_Y = 7;

function lineHeight(size: number): number {
  return Math.round(size * 1.42);
}

function lineWidth(l: Line): number {
  return (l.indent ?? 0) + textCols(l.segs.map((s) => s.text).join('')) * l.size * ADVANCE;
}

function measure(box: Omit<Box, 'width' | 'height'>, minWidth = 0): Box {
  let w = minWidth;
  let h = PAD_Y;
  for (const it of box.items) {
    it.top = h;
    for (const l of it.lines) {
      w = Math.max(w, lineWidth(l) + PAD_X * 2);
      h += lineHeight(l.size);
    }
    it.height = h - it.top;
  }
  h += PAD_Y;
  if (box.kind === 'finding') w += 28;
  return { ...box, width: Math.ceil(w), height: Math.ceil(h + (box.kind === 'phase' ? 4 : 0)) };
}

/** Compact time for the diagram: `HH:MM:SS`, with the date when the story spans days, and the year when it spans years. */
function timeFmt(iso: string, withDate: boolean | 'year'): string {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso)) return iso;
  if (withDate === 'year') return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}


/** The first `max` values joined with `, `, and how many more. */
function few(values: readonly string[], max: number): string {
  return values.length > max ? `${values.slice(0, max).join(', ')} and ${values.length - max} more` : values.join(', ');
}


interface Ctx {
  st: Storyline;
  /** Whether a step is in the finding's first/last seen window. */
  flagged: (s: Step) => boolean;
  g: StoryGraph;
  /** Times with their date (the story spans days), and their year (it spans years). */
  withDate: boolean | 'year';
  /** Evidence row number of each eventId (1-based, story order; a run of calls shares its row). */
  evIndex: Map<string, number>;
  /** EventIDs listed in the diagram's `data-steps` in all ({@link listIds}). */
  ids: number;
  /** Columns of a tooltip at most. */
  titleCols: number;
  /** Rows show what their calls granted (else only how many grants). */
  grantLines: boolean;
}

function rowItem(ctx: Ctx, r: StepRow, showRegions: boolean): Item {
  const first = r.steps[0] as Step;
  const last = r.steps[r.steps.length - 1] as Step;
  const lines: Line[] = [];
  const segs: Seg[] = [];
  if (r.origin) segs.push({ text: '▶ ', fill: ATTACKER, bold: true });
  segs.push({ text: `${timeFmt(first.eventTime, ctx.withDate)}  `, fill: '#555' });
  if (r.summary) {
    segs.push({ text: `+ ${r.summary.names.length} more APIs`, bold: true }, { text: ` ×${r.steps.length} calls`, fill: '#333' });
  } else {
    segs.push({ text: clipCols(r.eventName, 40), bold: true });
    const calls = r.copies < r.steps.length ? r.steps.length - r.copies : r.steps.length;
    if (calls > 1) segs.push({ text: ` ×${calls}`, fill: ATTACKER, bold: true });
  }
  if (r.steps.length > 1 && last.eventTime !== first.eventTime) segs.push({ text: ` …${timeFmt(last.eventTime, ctx.withDate)}`, fill: '#777' });
  lines.push({ segs, size: 12 });
  const extra: Seg[] = [];
  if (showRegions) extra.push({ text: clipCols(`in ${r.regions.join(', ')}`, 40), fill: '#0d47a1' });
  if (r.failed > 0) {
    const what = r.steps.length === 1 ? 'failed' : r.failed === r.steps.length ? 'all failed' : `${r.failed} failed`;
    extra.push({ text: `${extra.length ? '  ' : ''}✗ ${what}: ${clipCols(r.errors.join(', '), 36)}`, fill: '#b71c1c' });
  }
  if (r.copies > 0 && r.copies < r.steps.length) {
    const where = [...new Set(r.steps.filter((s) => s.reason === 'cross-account-copy').map((s) => s.accountId))].join(', ');
    extra.push({ text: `${extra.length ? '  ' : ''}+ ${r.copies > 1 ? `${r.copies} copies` : 'copy'} logged in ${clipCols(where, 30)}`, fill: '#5e35b1' });
  }
  if (r.origin) extra.unshift({ text: `origin${extra.length ? '  ' : ''}`, fill: ATTACKER, bold: true });
  if (extra.length > 0) lines.push({ segs: extra, size: 11, indent: 74 });
  if (r.summary) {
    const names = r.summary.names.map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ');
    for (const t of wrapCols(names, 54, 3)) lines.push({ segs: [{ text: t, fill: '#444' }], size: 11, indent: 74 });
  }
  for (const gr of r.grants.slice(0, ctx.grantLines ? 4 : 0)) {
    const escal = ESCALATING.has(gr.kind);
    wrapCols(grantText(gr), 60, 2).forEach((t, i) => {
      lines.push({ segs: [{ text: `${i > 0 ? '  ' : escal ? '⚠ ' : '↳ '}${t}`, fill: escal ? '#8e0000' : '#4a148c', bold: escal }], size: 11, indent: 18, bg: escal ? '#fff1c2' : undefined });
    });
    if (gr.document) {
      for (const t of wrapCols(compactDocument(gr.document), 60, 3)) lines.push({ segs: [{ text: t, fill: '#5d4037' }], size: 10.5, indent: 32, bg: escal ? '#fff8e1' : '#f3e5f5' });
    }
  }
  const grantsShown = ctx.grantLines ? Math.min(4, r.grants.length) : 0;
  if (r.grants.length > grantsShown) lines.push({ segs: [{ text: `↳ ${r.grants.length - grantsShown} ${grantsShown ? 'more ' : ''}grant${r.grants.length - grantsShown === 1 ? '' : 's'} (see evidence)`, fill: '#4a148c' }], size: 11, indent: 18 });
  const ids = r.steps.map((s) => s.eventId);
  const n = ctx.evIndex.get(first.eventId);
  const titleParts = [
    r.summary ? clipCols(r.summary.names.slice(0, 12).map(([x, c]) => `${x} ×${c}`).join(', ') + (r.summary.names.length > 12 ? `, ${r.summary.names.length - 12} more` : ''), 600) : clipCols(`${first.eventSource} ${first.eventName}${r.steps.length > 1 ? ` ×${r.steps.length}` : ''}`, 300),
    `${first.eventTime}${r.steps.length > 1 ? ` … ${last.eventTime}` : ''}`,
    `source ${clipCols(few([...new Set(r.steps.map((s) => s.sourceIPAddress))], 5), 300)}`,
    ...r.grants.slice(0, 4).map((g) => `grants ${clipCols(grantText(g), 200)}${g.document ? `: ${clipCols(compactDocument(g.document), 300)}` : ''}`),
    ...(r.grants.length > 4 ? [`grants ${r.grants.length - 4} more (see evidence)`] : []),
    `eventID ${clipCols(ids.length > 6 ? `${ids.slice(0, 6).join(', ')} … (${ids.length})` : ids.join(', '), 600)}`,
  ];
  return {
    lines,
    attrs: { 'data-node': `step:${first.eventId}`, ...idAttrs(ctx, ids), class: `row${r.origin ? ' origin-row' : ''}` },
    title: clipCols(titleParts.join('\n'), ctx.titleCols),
    href: n ? `#ev-${n}` : undefined,
    ids,
    flagged: r.steps.some(ctx.flagged),
  };
}

function phaseBox(ctx: Ctx, p: Phase): Box {
  const color = tacticColor(p.tactic?.id);
  const head = p.tactic ? `${p.tactic.name}` : 'Unmapped';
  const calls = `${p.steps.length} call${p.steps.length === 1 ? '' : 's'}`;
  const span = p.from === p.to ? timeFmt(p.from, ctx.withDate) : `${timeFmt(p.from, ctx.withDate)}–${timeFmt(p.to, ctx.withDate)}`;
  const regions = [...new Set(p.steps.map((s) => s.region))];
  const oneRegion = regions.length === 1 && regions[0] !== ctx.st.finding.region ? ` · ${regions[0]}` : '';
  const items: Item[] = [
    { lines: [{ segs: [{ text: `${p.burst ? `${head} burst` : head}`, fill: '#fff', bold: true }, { text: `  ${p.tactic?.id ?? ''}`, fill: '#fff' }], size: 12.5 }] },
    { lines: [{ segs: [{ text: `${calls} · ${span}`, fill: '#555' }, { text: clipCols(oneRegion, 30), fill: '#0d47a1' }, { text: p.grouped ? ' · interleaved' : '', fill: '#777', italic: true }], size: 10.5 }] },
  ];
  for (const r of p.rows) items.push(rowItem(ctx, r, regions.length > 1 && r.regions.some((x) => x !== ctx.st.finding.region)));
  const b = measure({
    id: p.id,
    kind: 'phase',
    attrs: { 'data-node': `phase:${p.id}`, 'data-tactic': p.tactic?.id ?? '', 'data-owner': p.owner, ...idAttrs(ctx, p.steps.map((s) => s.eventId)) },
    title: clipCols(`${p.tactic ? `${p.tactic.id} ${p.tactic.name}` : 'unmapped'} · ${calls} by ${p.owner}`, ctx.titleCols),
    items,
    band: color,
    attacker: true,
  }, 180);
  return b;
}

function identityBox(ctx: Ctx, id: IdentityNode, idx: number): Box {
  const items: Item[] = [];
  const kindColor = id.attacker ? ATTACKER : '#757575';
  const used = ctx.g.phasesOf.has(id.key);
  const tag = id.attacker ? (used ? 'attacker-used' : 'attacker-made') : id.inLineage ? 'in lineage, no calls' : 'legitimate';
  items.push({ lines: [{ segs: [{ text: id.kind.toUpperCase(), fill: kindColor, bold: true }, { text: `  ${tag}`, fill: '#777' }], size: 10.5 }] });
  for (const t of wrapCols(id.name, 40, 3)) items.push({ lines: [{ segs: [{ text: t, bold: true, fill: '#111' }], size: 13.5 }] });
  if (id.detail) for (const t of wrapCols(id.detail, 44, 2)) items.push({ lines: [{ segs: [{ text: t, fill: '#555' }], size: 11 }] });
  if (id.account && !ctx.g.accounts.includes(id.account)) items.push({ lines: [{ segs: [{ text: `account ${id.account}`, fill: '#555' }], size: 11 }] });
  for (const k of id.keys.slice(0, 4)) {
    items.push({
      lines: [{ segs: [{ text: 'key ', fill: '#777' }, { text: clipCols(k.id, 24), bold: true, fill: '#333' }, { text: `  ${clipCols(k.note.replace(/\d{4}-(\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z/, (_m, d: string, t: string) => (ctx.withDate ? `${d} ${t}` : t)), 36)}`, fill: '#777' }], size: 11 }],
      attrs: { 'data-node': `key:${k.id}` },
      title: clipCols(`access key ${k.id}: ${k.note}`, ctx.titleCols),
    });
  }
  if (id.keys.length > 4) items.push({ lines: [{ segs: [{ text: `+ ${id.keys.length - 4} more keys`, fill: '#777' }], size: 11 }] });
  for (const se of id.selfEdges.slice(0, 4)) {
    const when = se.count > 1 ? `${timeFmt(se.first, true)} … ${timeFmt(se.last, true)}` : timeFmt(se.first, true);
    items.push({
      lines: [{ segs: [{ text: `↻ ${clipCols(se.via, 40)}${se.count > 1 ? ` ×${se.count}` : ''}`, fill: se.attacker ? ATTACKER : '#757575', bold: se.attacker }, { text: ` ${se.attacker ? 'attacker' : 'legitimate'} · ${when}`, fill: se.attacker ? ATTACKER : '#8a8a8a' }], size: 11 }],
      attrs: { 'data-edge': 'self', 'data-via': se.via, class: se.attacker ? 'attacker' : 'legit' },
    });
  }
  if (id.selfEdges.length > 4) items.push({ lines: [{ segs: [{ text: `↻ ${id.selfEdges.length - 4} more kinds of issue to itself`, fill: '#777' }], size: 11 }] });
  return measure({
    id: `i${idx}`,
    kind: 'identity',
    attrs: { 'data-node': `identity:${id.key}`, class: id.attacker ? 'attacker' : 'legit' },
    title: clipCols(id.kind === 'folded identities' ? `${id.name}, folded: ${id.detail ?? ''}` : `${id.kind}: ${id.key}`, ctx.titleCols),
    items,
    attacker: id.attacker,
  }, 150);
}

function originBox(ctx: Ctx): Box | null {
  const o = ctx.st.origin;
  if (!o) return null;
  const step = ctx.st.steps.find((s) => s.eventId === o.eventId);
  const items: Item[] = [
    { lines: [{ segs: [{ text: 'ORIGIN', bold: true, fill: '#fff' }, { text: `  ${o.eventTime.replace('T', ' ').replace('Z', ' UTC')}`, fill: '#ffcdd2' }], size: 12.5 }] },
    { lines: [{ segs: [{ text: clipCols(o.eventName, 40), bold: true, fill: '#fff' }, { text: step ? `  from ${clipCols(step.sourceIPAddress, 40)}` : '', fill: '#fff' }], size: 13 }] },
  ];
  for (const t of wrapCols(o.reason, 46, 4)) items.push({ lines: [{ segs: [{ text: t, fill: '#ffebee' }], size: 10.5 }] });
  const n = ctx.evIndex.get(o.eventId);
  if (n) items.push({ lines: [{ segs: [{ text: `evidence #${n}`, fill: '#ffcdd2' }], size: 10.5 }], href: `#ev-${n}` });
  return measure({ id: 'origin', kind: 'origin', attrs: { 'data-node': 'origin', 'data-event-id': o.eventId }, title: clipCols(`origin ${o.eventId}: ${o.reason}`, ctx.titleCols), items, attacker: true });
}

function findingBox(ctx: Ctx): Box {
  const f = ctx.st.finding;
  const items: Item[] = [
    { lines: [{ segs: [{ text: 'GUARDDUTY FINDING', bold: true, fill: FINDING }, { text: f.severity !== undefined ? `  severity ${f.severity}` : '', fill: '#6d4c41' }], size: 11 }] },
  ];
  for (const t of wrapCols(f.type, 42, 2)) items.push({ lines: [{ segs: [{ text: t, bold: true, fill: '#3e2723' }], size: 13 }] });
  if (f.eventFirstSeen) {
    const seen = f.eventLastSeen && f.eventLastSeen !== f.eventFirstSeen ? `seen ${timeFmt(f.eventFirstSeen, ctx.withDate)} – ${timeFmt(f.eventLastSeen, ctx.withDate)}` : `seen ${timeFmt(f.eventFirstSeen, ctx.withDate)}`;
    items.push({ lines: [{ segs: [{ text: seen, fill: '#5d4037' }], size: 11 }] });
  }
  if (f.title) for (const t of wrapCols(f.title, 44, 3)) items.push({ lines: [{ segs: [{ text: t, fill: '#5d4037', italic: true }], size: 10.5 }] });
  return measure({ id: 'finding', kind: 'finding', attrs: { 'data-node': 'finding', 'data-finding-id': clipCols(f.id, 300) }, title: clipCols(`${f.type}\n${f.arn}`, ctx.titleCols), items, attacker: false });
}

// ---------------------------------------------------------------------------------------------
// Edges.

type EdgeKind = 'flow' | 'origin' | 'lineage-attacker' | 'lineage-legit' | 'finding' | 'context';

interface EdgeSpec {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  label?: string;
  attrs: Attrs;
}

function labelSize(text: string): { width: number; height: number } {
  return { width: Math.ceil(textCols(text) * 11 * ADVANCE + 8), height: 16 };
}

// ---------------------------------------------------------------------------------------------
// Layout and drawing.

function attrs(a: Record<string, string | readonly string[] | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'string' ? esc(v) : escJoin(v ?? [])}"`)
    .join('');
}

/** A list of eventIDs as attributes: `data-steps` (or `name`) with the ids {@link listIds} shows, and `data-steps-more` with the count left out. */
function idAttrs(ctx: Ctx, ids: readonly string[], name = 'data-steps'): Attrs {
  const { shown, more } = listIds(ids, ctx.st.steps.length, ctx.ids);
  return more > 0 ? { [name]: shown, [`${name}-more`]: String(more) } : { [name]: shown };
}

function n1(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function drawLines(b: Box, x0: number, y0: number, out: string[]): void {
  let y = y0 + PAD_Y;
  for (const it of b.items) {
    const block: string[] = [];
    let h = 0;
    for (const l of it.lines) h += lineHeight(l.size);
    for (const l of it.lines) {
      const lh = lineHeight(l.size);
      if (l.bg) block.push(`<rect x="${n1(x0 + 3)}" y="${n1(y)}" width="${n1(b.width - 6)}" height="${lh}" fill="${l.bg}"/>`);
      const tx = x0 + PAD_X + (l.indent ?? 0) + (b.kind === 'finding' ? 14 : 0);
      const ty = y + lh * 0.72;
      const spans = l.segs
        .filter((s) => s.text.length > 0)
        .map((s) => `<tspan${s.fill ? ` fill="${s.fill}"` : ''}${s.bold ? ' font-weight="bold"' : ''}${s.italic ? ' font-style="italic"' : ''}>${esc(s.text)}</tspan>`)
        .join('');
      block.push(`<text x="${n1(tx)}" y="${n1(ty)}" font-size="${l.size}" xml:space="preserve">${spans}</text>`);
      y += lh;
    }
    if (it.flagged) block.unshift(`<rect class="flagged" x="${n1(x0 + 2)}" y="${n1(y - h)}" width="4" height="${h}" fill="${FINDING}"/>`);
    if (it.attrs || it.href || it.title) {
      const inner = `${it.title ? `<title>${esc(it.title)}</title>` : ''}${block.join('')}`;
      const hit = it.attrs ? `<rect class="hit" x="${n1(x0 + 2)}" y="${n1(y - h)}" width="${n1(b.width - 4)}" height="${h}" fill="transparent"/>` : '';
      const body = it.href ? `<a href="${esc(it.href)}">${hit}${inner}</a>` : `${hit}${inner}`;
      out.push(`<g${attrs(it.attrs ?? {})}>${body}</g>`);
    } else out.push(...block);
  }
}

function drawBox(b: Box, x: number, y: number, out: string[]): void {
  out.push(`<g${attrs({ ...b.attrs, class: `node ${b.kind}${b.attrs.class ? ` ${b.attrs.class}` : ''}` })}><title>${esc(b.title)}</title>`);
  const w = b.width;
  const h = b.height;
  if (b.kind === 'origin') {
    out.push(`<rect x="${n1(x)}" y="${n1(y)}" width="${w}" height="${h}" rx="14" fill="#b71c1c" stroke="#7f0000" stroke-width="2"/>`);
  } else if (b.kind === 'finding') {
    const c = 14;
    out.push(`<polygon points="${n1(x + c)},${n1(y)} ${n1(x + w - c)},${n1(y)} ${n1(x + w)},${n1(y + h / 2)} ${n1(x + w - c)},${n1(y + h)} ${n1(x + c)},${n1(y + h)} ${n1(x)},${n1(y + h / 2)}" fill="#fff3e0" stroke="${FINDING}" stroke-width="2.5"/>`);
  } else if (b.kind === 'identity') {
    const stroke = b.attacker ? ATTACKER : LEGIT;
    out.push(`<rect x="${n1(x)}" y="${n1(y)}" width="${w}" height="${h}" rx="8" fill="${b.attacker ? '#fff' : '#fafafa'}" stroke="${stroke}" stroke-width="${b.attacker ? 2.2 : 1.6}"${b.attacker ? '' : ' stroke-dasharray="6 4"'}/>`);
    out.push(`<rect x="${n1(x)}" y="${n1(y)}" width="6" height="${h}" rx="3" fill="${stroke}"/>`);
  } else {
    const band = b.band ?? UNMAPPED_COLOR;
    const bandH = lineHeight(12.5) + PAD_Y;
    out.push(`<rect x="${n1(x)}" y="${n1(y)}" width="${w}" height="${h}" rx="6" fill="#fff" stroke="${band}" stroke-width="1.8"/>`);
    out.push(`<path d="M${n1(x)},${n1(y + bandH)} V${n1(y + 6)} Q${n1(x)},${n1(y)} ${n1(x + 6)},${n1(y)} H${n1(x + w - 6)} Q${n1(x + w)},${n1(y)} ${n1(x + w)},${n1(y + 6)} V${n1(y + bandH)} Z" fill="${band}"/>`);
  }
  drawLines(b, x, y, out);
  out.push('</g>');
}

const EDGE_STYLE: Record<EdgeKind, { stroke: string; width: number; dash?: string; marker: string }> = {
  flow: { stroke: '#d06060', width: 1.6, marker: 'arrow-flow' },
  origin: { stroke: '#8e0000', width: 2.8, marker: 'arrow-attacker' },
  'lineage-attacker': { stroke: ATTACKER, width: 2.6, marker: 'arrow-attacker' },
  'lineage-legit': { stroke: LEGIT, width: 1.8, dash: '7 5', marker: 'arrow-legit' },
  finding: { stroke: FINDING, width: 2.2, dash: '4 3', marker: 'arrow-finding' },
  context: { stroke: '#d06060', width: 1.6, dash: '2 4', marker: 'arrow-flow' },
};

function defs(): string {
  const marker = (id: string, color: string) =>
    `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
  return `<defs>${marker('arrow-flow', '#d06060')}${marker('arrow-attacker', ATTACKER)}${marker('arrow-legit', LEGIT)}${marker('arrow-finding', FINDING)}</defs>`;
}

// ---------------------------------------------------------------------------------------------
// Lanes: one column per identity, its box on top and its phases below in time order. ELK lays
// the lanes (and the origin and the finding) out left to right, inside their accounts; each
// edge leaves and enters a lane through a port at the height of the row it comes from.

interface Placed {
  box: Box;
  dx: number;
  dy: number;
}

interface Port {
  id: string;
  side: 'EAST' | 'WEST';
  x: number;
  y: number;
  /** Where the edge really starts or ends: the side of the box inside the lane. */
  stub: { x: number; y: number };
  /** The box inside the lane the port serves. */
  placed: Placed;
}

interface Lane {
  id: string;
  key: string;
  placed: Placed[];
  width: number;
  height: number;
  ports: Port[];
  attacker: boolean;
}

const LANE_PAD = 10;
const LANE_GAP = 26;

function buildLane(id: string, key: string, identity: Box, phases: Box[], attacker: boolean): Lane {
  const placed: Placed[] = [];
  let y = LANE_PAD;
  let w = 0;
  for (const b of [identity, ...phases]) {
    placed.push({ box: b, dx: LANE_PAD, dy: y });
    y += b.height + LANE_GAP;
    w = Math.max(w, b.width);
  }
  return { id, key, placed, width: w + LANE_PAD * 2, height: y - LANE_GAP + LANE_PAD, ports: [], attacker };
}

/** Adds a port on the lane's side at the height of `eventId`'s row in `boxId` (or the box's head). */
function addPort(lane: Lane, side: 'EAST' | 'WEST', boxId: string, eventId?: string): string {
  const p = lane.placed.find((x) => x.box.id === boxId) ?? lane.placed[0];
  if (!p) throw new Error('empty lane');
  const item = eventId ? p.box.items.find((it) => it.ids?.includes(eventId)) : undefined;
  let y = p.dy + (item ? (item.top ?? 0) + Math.min(item.height ?? 0, 17) / 2 : Math.min(p.box.height / 2, 22));
  // Spread ports that would sit on each other.
  while (lane.ports.some((q) => q.side === side && Math.abs(q.y - y) < 9)) y += 9;
  const id = `${lane.id}.p${lane.ports.length}`;
  const x = side === 'EAST' ? lane.width : 0;
  const stub = side === 'EAST' ? { x: p.dx + p.box.width, y } : { x: p.dx, y };
  lane.ports.push({ id, side, x, y, stub, placed: p });
  return id;
}

function drawLane(lane: Lane, x: number, y: number, out: string[]): void {
  out.push(`<rect class="lane" x="${n1(x)}" y="${n1(y)}" width="${n1(lane.width)}" height="${n1(lane.height)}" rx="10" fill="${lane.attacker ? '#fffafa' : '#fafafa'}" stroke="${lane.attacker ? '#f0caca' : '#e0e0e0'}" stroke-width="1"/>`);
  for (let i = 1; i < lane.placed.length; i++) {
    const a = lane.placed[i - 1];
    const b = lane.placed[i];
    if (!a || !b) continue;
    const ax = x + LANE_PAD + 28;
    out.push(`<path class="edge flow" data-edge="flow" d="M${n1(ax)},${n1(y + a.dy + a.box.height)} L${n1(ax)},${n1(y + b.dy - 1)}" fill="none" stroke="${EDGE_STYLE.flow.stroke}" stroke-width="${EDGE_STYLE.flow.width}" marker-end="url(#${EDGE_STYLE.flow.marker})"/>`);
  }
  for (const p of lane.placed) drawBox(p.box, x + p.dx, y + p.dy, out);
}

/** The diagram's largest size (bytes of UTF-8): past it, it is drawn again folded further. */
export const MAX_SVG_BYTES = 600_000;

/** How the diagram is drawn: folding limits, eventIDs listed, columns of a tooltip, grants written out. */
interface Detail {
  limits: FoldLimits;
  ids: number;
  titleCols: number;
  grantLines: boolean;
}

/** The ways of drawing tried in turn until the diagram fits MAX_SVG_BYTES. */
const LADDER: Detail[] = [
  { limits: DIAGRAM_LIMITS, ids: LISTED_IDS, titleCols: 600, grantLines: true },
  { limits: { identities: 8, phases: 16, links: 16 }, ids: 1000, titleCols: 240, grantLines: true },
  { limits: { identities: 2, phases: 4, links: 4 }, ids: 200, titleCols: 80, grantLines: false },
];

/** A laid-out diagram: the `<svg>` element and the graph it draws (with what it folded). */
export interface Diagram {
  svg: string;
  graph: StoryGraph & { folded?: FoldSummary };
}

/**
 * Lays the storyline out with ELK and draws it, within MAX_SVG_BYTES: past `DIAGRAM_LIMITS`
 * (story-graph.ts) identities are folded into boxes (`data-node="identity:folded:<n>"`); a
 * diagram still too large is drawn again with tighter limits and fewer eventIDs listed
 * (`data-steps-more` counts those left out), and at the last a note in place of the diagram.
 * ELK lays out at most three graphs of at most 35 lanes.
 */
export async function layoutDiagram(st: Storyline): Promise<Diagram> {
  const full = buildStoryGraph(st);
  const evIndex = evidenceRowOf(st);
  let graph: Diagram['graph'] = full;
  for (const detail of LADDER) {
    graph = foldStoryGraph(st, full, detail.limits);
    const svg = await drawSvg(st, graph, detail, evIndex);
    if (Buffer.byteLength(svg, 'utf8') <= MAX_SVG_BYTES) return { svg, graph };
  }
  const note = `The diagram is left out: even folded it would pass ${MAX_SVG_BYTES.toLocaleString('en-US')} bytes. The sections below tell the story.`;
  return { svg: `<svg xmlns="http://www.w3.org/2000/svg" class="flow" width="900" height="40" viewBox="0 0 900 40" font-family="${esc(SVG_FONT)}" role="img" aria-label="Attack flow"><text x="12" y="24" font-size="13" fill="#555">${esc(note)}</text></svg>`, graph };
}

/** Lays the storyline out with ELK and draws it; returns one `<svg>` element (see {@link layoutDiagram}). */
export async function renderSvg(st: Storyline): Promise<string> {
  return (await layoutDiagram(st)).svg;
}

/** Draws the graph `g` of the storyline (folded already) as `detail` says; `evIndex`: evidence row of each eventID. */
async function drawSvg(st: Storyline, g: StoryGraph, detail: Detail, evIndex: Map<string, number>): Promise<string> {
  const days = new Set(st.steps.map((s) => s.eventTime.slice(0, 10)));
  const years = new Set([...days].map((d) => d.slice(0, 4)));
  const fLo = st.finding.eventFirstSeen ? Date.parse(st.finding.eventFirstSeen) : NaN;
  const fHi = st.finding.eventLastSeen ? Date.parse(st.finding.eventLastSeen) : fLo;
  const inWindow = (s: Step) => {
    const t = Date.parse(s.eventTime);
    return !Number.isNaN(fLo) && t >= fLo - 999 && t <= (Number.isNaN(fHi) ? fLo : fHi) + 999;
  };
  const ctx: Ctx = { st, g, withDate: years.size > 1 ? 'year' : days.size > 1, evIndex, flagged: inWindow, ids: detail.ids, titleCols: detail.titleCols, grantLines: detail.grantLines };

  const origin = originBox(ctx);
  const finding = findingBox(ctx);
  const lanes: Lane[] = [];
  const laneOfKey = new Map<string, Lane>();
  const laneOfBox = new Map<string, Lane>();
  g.identities.forEach((id, i) => {
    const ib = identityBox(ctx, id, i);
    const pb = (g.phasesOf.get(id.key) ?? []).map((p) => phaseBox(ctx, p));
    const lane = buildLane(`L${i}`, id.key, ib, pb, id.attacker);
    lanes.push(lane);
    laneOfKey.set(id.key, lane);
    for (const p of lane.placed) laneOfBox.set(p.box.id, lane);
  });
  const identityBoxId = (key: string) => laneOfKey.get(key)?.placed[0]?.box.id;

  // Edges, each end a port of a lane or the origin / finding node.
  const edges: EdgeSpec[] = [];
  const push = (e: Omit<EdgeSpec, 'id'>) => edges.push({ ...e, id: `e${edges.length}` });
  const inPort = (key: string): string | undefined => {
    const lane = laneOfKey.get(key);
    const bid = identityBoxId(key);
    return lane && bid ? addPort(lane, 'WEST', bid) : undefined;
  };
  const outPort = (boxId: string, eventId?: string): string | undefined => {
    const lane = laneOfBox.get(boxId);
    return lane ? addPort(lane, 'EAST', boxId, eventId) : undefined;
  };
  if (origin && g.originOwner) {
    const to = inPort(g.originOwner);
    const step = st.steps.find((s) => s.eventId === st.origin?.eventId);
    if (to) push({ source: 'origin', target: to, kind: 'origin', label: step?.accessKeyId ? `uses ${step.accessKeyId}` : 'acts as', attrs: { 'data-edge': 'origin' } });
  }
  for (const l of g.links) {
    const e0 = l.edges[0];
    const fromBox = l.phase ?? identityBoxId(l.from);
    if (!fromBox || !e0) continue;
    const from = outPort(fromBox, e0.eventId);
    const to = inPort(l.to);
    if (!from || !to) continue;
    const when = timeFmt(e0.eventTime, ctx.withDate || !l.byAttacker);
    const label = `${clipCols(l.via, 60)}${l.edges.length > 1 ? ` ×${l.edges.length}` : ''}${l.byAttacker ? '' : ' (legit)'} ${when}`;
    push({
      source: from,
      target: to,
      kind: l.byAttacker ? 'lineage-attacker' : 'lineage-legit',
      label,
      attrs: { 'data-edge': 'lineage', 'data-from': l.from, 'data-to': l.to, 'data-via': l.via, 'data-by-attacker': String(l.byAttacker), ...idAttrs(ctx, l.edges.map((e) => e.eventId), 'data-event-id') },
    });
  }
  for (const c of g.contextLinks) {
    const fromBox = identityBoxId(c.from);
    const from = fromBox ? outPort(fromBox) : undefined;
    const to = inPort(c.to);
    if (from && to) push({ source: from, target: to, kind: 'context', label: c.label, attrs: { 'data-edge': 'context', 'data-from': c.from, 'data-to': c.to } });
  }
  const flaggedPhase = g.findingPhases[0];
  if (flaggedPhase) {
    const phase = g.phases.find((p) => p.id === flaggedPhase);
    const at = phase?.steps.find(inWindow) ?? phase?.steps[0];
    const from = outPort(flaggedPhase, at?.eventId);
    const calls = st.steps.filter(inWindow).length;
    if (from) push({ source: from, target: 'finding', kind: 'finding', label: calls > 1 ? `flagged (${calls} calls)` : 'flagged', attrs: { 'data-edge': 'finding' } });
  } else {
    const actor = st.lineage[0];
    const bid = actor ? identityBoxId(actor) : undefined;
    const from = bid ? outPort(bid) : undefined;
    if (from) push({ source: from, target: 'finding', kind: 'finding', label: 'about', attrs: { 'data-edge': 'finding' } });
  }

  // ELK graph: accounts as compound nodes holding their lanes.
  const leaf = (b: Box): ElkNode => ({ id: b.id, width: b.width, height: b.height });
  const laneNode = (l: Lane): ElkNode => ({
    id: l.id,
    width: l.width,
    height: l.height,
    layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
    ports: l.ports.map((p) => ({ id: p.id, x: p.x, y: p.y, width: 0, height: 0, layoutOptions: { 'elk.port.side': p.side } })),
  });
  const accountNodes = new Map<string, ElkNode>();
  const rootChildren: ElkNode[] = [];
  if (origin) rootChildren.push(leaf(origin));
  for (const a of g.accounts) {
    const n: ElkNode = { id: `acct${accountNodes.size}`, children: [], layoutOptions: { 'elk.padding': '[top=34,left=14,bottom=14,right=14]' } };
    accountNodes.set(a, n);
    rootChildren.push(n);
  }
  g.identities.forEach((id) => {
    const lane = laneOfKey.get(id.key);
    if (!lane) return;
    const container = id.account ? accountNodes.get(id.account) : undefined;
    (container?.children ?? rootChildren).push(laneNode(lane));
  });
  // The finding sits inside its account when the account is drawn, next to the calls it is about.
  (accountNodes.get(st.finding.accountId)?.children ?? rootChildren).push(leaf(finding));
  const elkEdges: ElkExtendedEdge[] = edges.map((e) => ({
    id: e.id,
    sources: [e.source],
    targets: [e.target],
    labels: e.label ? [{ id: `${e.id}l`, text: e.label, ...labelSize(e.label) }] : [],
  }));
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '12',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.spacing.edgeNodeBetweenLayers': '14',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
      'elk.edgeLabels.placement': 'CENTER',
    },
    children: rootChildren,
    edges: elkEdges,
  };
  const elk = new ELK();
  const laid = await elk.layout(graph);

  // Draw: accounts, lanes with their boxes, edges, labels on top.
  const pos = new Map<string, { x: number; y: number; w: number; h: number }>();
  const walk = (n: ElkNode) => {
    pos.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, w: n.width ?? 0, h: n.height ?? 0 });
    for (const c of n.children ?? []) walk(c);
  };
  for (const c of laid.children ?? []) walk(c);
  const W = Math.ceil(laid.width ?? 0);
  const H = Math.ceil(laid.height ?? 0);
  // Too wide for a report window: the same lanes stacked top to bottom instead.
  if (W > MAX_DIAGRAM_WIDTH) return columnSvg({ st, g, lanes, origin, finding, edges });
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="flow" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${esc(SVG_FONT)}" role="img" aria-label="Attack flow">`);
  out.push(defs());
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  for (const [a, n] of accountNodes) {
    const p = pos.get(n.id);
    if (!p) continue;
    const mine = a === st.finding.accountId;
    out.push(`<g${attrs({ 'data-node': `account:${a}`, class: 'account' })}><title>${esc(`AWS account ${a}`)}</title>`);
    out.push(`<rect x="${n1(p.x)}" y="${n1(p.y)}" width="${n1(p.w)}" height="${n1(p.h)}" rx="12" fill="${mine ? '#eef3f8' : '#f3eefa'}" stroke="${mine ? '#90a4ae' : '#9575cd'}" stroke-width="1.4"/>`);
    out.push(`<text x="${n1(p.x + 12)}" y="${n1(p.y + 21)}" font-size="12.5" font-weight="bold" fill="${mine ? '#455a64' : '#5e35b1'}">${esc(`AWS account ${a}${mine ? ' · the finding’s account' : ''}`)}</text></g>`);
  }
  for (const lane of lanes) {
    const p = pos.get(lane.id);
    if (p) drawLane(lane, p.x, p.y, out);
  }
  if (origin) {
    const p = pos.get(origin.id);
    if (p) drawBox(origin, p.x, p.y, out);
  }
  const fp = pos.get(finding.id);
  if (fp) drawBox(finding, fp.x, fp.y, out);
  const portAt = new Map<string, { lane: Lane; port: Port }>();
  for (const lane of lanes) for (const port of lane.ports) portAt.set(port.id, { lane, port });
  const laidEdges = (laid.edges ?? []) as ElkExtendedEdge[];
  const labelsOut: string[] = [];
  for (const le of laidEdges) {
    const spec = edges.find((e) => e.id === le.id);
    if (!spec) continue;
    const style = EDGE_STYLE[spec.kind];
    const pts: { x: number; y: number }[] = [];
    for (const sec of le.sections ?? []) pts.push(sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint);
    // Extend the edge from the port on the lane's side to the box inside the lane.
    const src = portAt.get(spec.source);
    const srcPos = src && pos.get(src.lane.id);
    if (src && srcPos) pts.unshift({ x: srcPos.x + src.port.stub.x, y: srcPos.y + src.port.stub.y });
    const dst = portAt.get(spec.target);
    const dstPos = dst && pos.get(dst.lane.id);
    if (dst && dstPos) pts.push({ x: dstPos.x + dst.port.stub.x, y: dstPos.y + dst.port.stub.y });
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${n1(p.x)},${n1(p.y)}`).join(' ');
    out.push(`<g${attrs({ ...spec.attrs, class: `edge ${spec.kind}` })}><path d="${d}" fill="none" stroke="${style.stroke}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''} marker-end="url(#${style.marker})"/></g>`);
    for (const lab of le.labels ?? []) {
      if (!lab.text) continue;
      const x = lab.x ?? 0;
      const y = lab.y ?? 0;
      labelsOut.push(`<g class="edge-label ${spec.kind}"><rect x="${n1(x)}" y="${n1(y)}" width="${lab.width ?? 0}" height="${lab.height ?? 0}" rx="3" fill="#fff" stroke="${style.stroke}" stroke-width="0.8"/><text x="${n1(x + 4)}" y="${n1(y + 12)}" font-size="11" fill="${spec.kind === 'lineage-legit' ? '#616161' : style.stroke}" font-weight="${spec.kind === 'context' ? 'normal' : 'bold'}"${spec.kind === 'context' ? ' font-style="italic"' : ''}>${esc(lab.text)}</text></g>`);
    }
  }
  out.push(...labelsOut);
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Top to bottom, for stories whose left-to-right layout is wider than a report window: the
// lanes of each account stacked in one column (the origin above, the finding after its
// account's lanes), every edge routed through a gutter on the left on a track of its own, its
// label written above the lane it enters.

/** The widest diagram a report window shows without a scroll bar (px): 1,400 less the page's margins. */
export const MAX_DIAGRAM_WIDTH = 1300;
const TRACK_GAP = 9;
const LABEL_H = 15;
/** How far above a packed row its edges run to their lanes (px). */
const BUS = 7;
const ACCOUNT_PAD = 14;
const ACCOUNT_HEAD = 34;

interface ColumnInput {
  st: Storyline;
  g: StoryGraph;
  lanes: Lane[];
  origin: Box | null;
  finding: Box;
  edges: EdgeSpec[];
}

function columnSvg(c: ColumnInput): string {
  const { st, g, lanes, origin, finding, edges } = c;
  const portAt = new Map<string, { lane: Lane; port: Port }>();
  for (const lane of lanes) for (const port of lane.ports) portAt.set(port.id, { lane, port });
  const laneOf = (id: string) => portAt.get(id)?.lane;
  // Incoming labels, written above each lane (and above the finding).
  const labelsInto = new Map<string, EdgeSpec[]>();
  for (const e of edges) {
    const key = e.target === 'finding' ? 'finding' : laneOf(e.target)?.id;
    if (!key || !e.label) continue;
    const l = labelsInto.get(key) ?? [];
    l.push(e);
    labelsInto.set(key, l);
  }
  // Order: the lanes of each account together, the finding after its account's lanes.
  const accountOf = new Map(g.identities.map((i) => [i.key, i.account]));
  const groups: { account: string | null; items: ({ lane: Lane } | { finding: true })[] }[] = [];
  for (const a of [...g.accounts, null]) {
    const items: ({ lane: Lane } | { finding: true })[] = lanes.filter((l) => (accountOf.get(l.key) ?? null) === a).map((lane) => ({ lane }));
    const findingHere = a === st.finding.accountId || (a === null && !g.accounts.includes(st.finding.accountId));
    if (findingHere) items.push({ finding: true });
    if (items.length > 0) groups.push({ account: a, items });
  }
  // A lane that is only its identity box and that no edge leaves (an instance the attacker
  // launched, and nothing more) is small: runs of them share a row, entered from above.
  const leaves = new Set(edges.map((e) => laneOf(e.source)?.id).filter((x): x is string => !!x));
  const small = (l: Lane) => l.placed.length === 1 && !leaves.has(l.id);
  const rowLimit = Math.min(900, Math.max(700, ...lanes.filter((l) => !small(l)).map((l) => l.width)));
  // Vertical placement (x within the column); the column's left edge is set once the gutter's
  // width is known.
  interface At { x: number; y: number; h: number; w: number; fromAbove: boolean; labelW: number }
  const at = new Map<string, At>();
  const accounts: { account: string; y: number; h: number }[] = [];
  let y = 16;
  if (origin) {
    at.set('origin', { x: 0, y, h: origin.height, w: origin.width, fromAbove: false, labelW: 0 });
    y += origin.height + 30;
  }
  for (const grp of groups) {
    const top = y;
    if (grp.account) y += ACCOUNT_HEAD;
    // Rows: one item each, but consecutive small lanes packed side by side up to the row limit.
    const rows: ({ lane: Lane } | { finding: true })[][] = [];
    for (const it of grp.items) {
      const row = rows[rows.length - 1];
      const packable = 'lane' in it && small(it.lane);
      const prev = row?.[row.length - 1];
      if (row && packable && prev && 'lane' in prev && small(prev.lane)) {
        const used = row.reduce((w, r) => w + ('lane' in r ? r.lane.width + 12 : 0), 0);
        if (used + it.lane.width <= rowLimit) {
          row.push(it);
          continue;
        }
      }
      rows.push([it]);
    }
    for (const row of rows) {
      const keyOf = (it: { lane: Lane } | { finding: true }) => ('lane' in it ? it.lane.id : 'finding');
      const fromAbove = row.length > 1;
      y += Math.max(...row.map((it) => labelsInto.get(keyOf(it))?.length ?? 0)) * LABEL_H + 8 + (fromAbove ? BUS + 3 : 0);
      let x = 0;
      let h = 0;
      for (const it of row) {
        const box = 'lane' in it ? { w: it.lane.width, h: it.lane.height } : { w: finding.width, h: finding.height };
        at.set(keyOf(it), { x, y, h: box.h, w: box.w, fromAbove, labelW: fromAbove ? box.w + 8 : 0 });
        x += box.w + 12;
        h = Math.max(h, box.h);
      }
      y += h + 14;
    }
    if (grp.account) {
      y += ACCOUNT_PAD - 14 + 8;
      accounts.push({ account: grp.account, y: top, h: y - top });
      y += 18;
    }
  }
  const H = Math.ceil(y + 8);
  // Edge ends (relative to the column's left edge x0) and tracks in the gutter.
  interface End { key: string; dx: number; y: number; fromAbove?: boolean }
  const endOf = (id: string): End | null => {
    if (id === 'origin' || id === 'finding') {
      const o = at.get(id);
      return o ? { key: id, dx: o.x, y: o.y + o.h / 2 } : null;
    }
    const pa = portAt.get(id);
    const pos = pa && at.get(pa.lane.id);
    if (!pa || !pos) return null;
    // Into a lane of a packed row: down onto its top edge, through a bus just above the row.
    if (pos.fromAbove) return { key: pa.lane.id, dx: pos.x + LANE_PAD + 24, y: pos.y, fromAbove: true };
    return { key: pa.lane.id, dx: pos.x + pa.port.placed.dx, y: pos.y + pa.port.y };
  };
  interface Route { spec: EdgeSpec; a: End; b: End; track: number }
  const routes: Route[] = [];
  // Edges leaving one box share a track (a bundle); each bundle's span is from its source to its
  // farthest target, and bundles that overlap get different tracks.
  const bundles = new Map<string, { lo: number; hi: number; routes: Route[] }>();
  for (const e of edges) {
    const a = endOf(e.source);
    const b = endOf(e.target);
    if (!a || !b) continue;
    const r: Route = { spec: e, a, b, track: 0 };
    routes.push(r);
    const bkey = portAt.get(e.source)?.port.placed.box.id ?? e.source;
    const bundle = bundles.get(bkey) ?? { lo: Infinity, hi: -Infinity, routes: [] };
    const by = b.fromAbove ? b.y - BUS : b.y;
    bundle.lo = Math.min(bundle.lo, a.y, by) - 4;
    bundle.hi = Math.max(bundle.hi, a.y, by) + 4;
    bundle.routes.push(r);
    bundles.set(bkey, bundle);
  }
  const tracks: [number, number][][] = [];
  for (const bundle of [...bundles.values()].sort((x, y) => x.lo - y.lo)) {
    let t = tracks.findIndex((list) => list.every(([x0, x1]) => bundle.hi < x0 || bundle.lo > x1));
    if (t < 0) {
      t = tracks.length;
      tracks.push([]);
    }
    tracks[t]?.push([bundle.lo, bundle.hi]);
    for (const r of bundle.routes) r.track = t;
  }
  const gutter = 24 + tracks.length * TRACK_GAP;
  const x0 = gutter + ACCOUNT_PAD;
  let contentW = 0;
  for (const v of at.values()) contentW = Math.max(contentW, v.x + v.w);
  const W = Math.ceil(x0 + contentW + ACCOUNT_PAD + 16);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="flow column" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${esc(SVG_FONT)}" role="img" aria-label="Attack flow">`);
  out.push(defs());
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  for (const a of accounts) {
    const mine = a.account === st.finding.accountId;
    out.push(`<g${attrs({ 'data-node': `account:${a.account}`, class: 'account' })}><title>${esc(`AWS account ${a.account}`)}</title>`);
    out.push(`<rect x="${n1(gutter)}" y="${n1(a.y)}" width="${n1(W - gutter - 8)}" height="${n1(a.h)}" rx="12" fill="${mine ? '#eef3f8' : '#f3eefa'}" stroke="${mine ? '#90a4ae' : '#9575cd'}" stroke-width="1.4"/>`);
    out.push(`<text x="${n1(gutter + 12)}" y="${n1(a.y + 21)}" font-size="12.5" font-weight="bold" fill="${mine ? '#455a64' : '#5e35b1'}">${esc(`AWS account ${a.account}${mine ? ' · the finding’s account' : ''}`)}</text></g>`);
  }
  for (const lane of lanes) {
    const p = at.get(lane.id);
    if (p) drawLane(lane, x0 + p.x, p.y, out);
  }
  const o = at.get('origin');
  if (origin && o) drawBox(origin, x0 + o.x, o.y, out);
  const f = at.get('finding');
  if (f) drawBox(finding, x0 + f.x, f.y, out);
  const labelsOut: string[] = [];
  for (const r of routes) {
    const style = EDGE_STYLE[r.spec.kind];
    const tx = gutter - 12 - r.track * TRACK_GAP;
    const ax = x0 + r.a.dx;
    const bx = x0 + r.b.dx;
    const d = r.b.fromAbove
      ? `M${n1(ax)},${n1(r.a.y)} L${n1(tx)},${n1(r.a.y)} L${n1(tx)},${n1(r.b.y - BUS)} L${n1(bx)},${n1(r.b.y - BUS)} L${n1(bx)},${n1(r.b.y)}`
      : `M${n1(ax)},${n1(r.a.y)} L${n1(tx)},${n1(r.a.y)} L${n1(tx)},${n1(r.b.y)} L${n1(bx)},${n1(r.b.y)}`;
    out.push(`<g${attrs({ ...r.spec.attrs, class: `edge ${r.spec.kind}` })}><path d="${d}" fill="none" stroke="${style.stroke}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''} marker-end="url(#${style.marker})"/></g>`);
  }
  for (const [key, list] of labelsInto) {
    const p = at.get(key);
    if (!p) continue;
    list.forEach((e, i) => {
      const style = EDGE_STYLE[e.kind];
      const text = `◀ ${e.label ?? ''}`;
      const ly = p.y - (p.fromAbove ? BUS + 2 : 0) - (list.length - i) * LABEL_H - 2;
      const room = p.labelW || W - x0 - p.x - 8;
      labelsOut.push(`<g class="edge-label ${e.kind}"><text x="${n1(x0 + p.x + 4)}" y="${n1(ly + 11)}" font-size="11" fill="${e.kind === 'lineage-legit' ? '#616161' : style.stroke}" font-weight="${e.kind === 'context' ? 'normal' : 'bold'}"${e.kind === 'context' ? ' font-style="italic"' : ''}>${esc(clipCols(text, Math.floor(room / (11 * ADVANCE))))}</text></g>`);
    });
  }
  out.push(...labelsOut);
  out.push('</svg>');
  return out.join('\n');
}
