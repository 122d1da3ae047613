/**
 * The storyline as one self-contained HTML report: the flow diagram (inline SVG laid out by
 * ELK when the report is made), a timeline, the privileges the attacker granted, the identity
 * lineage, the attacker's addresses, the resources touched, an evidence table of every step
 * and the coverage statement.
 *
 * Safe to open anywhere: no script, no external reference (a Content-Security-Policy of
 * `default-src 'none'` forbids every fetch; styles are inline), and every string of the
 * storyline, all of which an attacker may have chosen, goes through `esc`. Links are only
 * fragment links the renderer makes itself (`#ev-12`), never a value from the storyline.
 *
 * Size: at most `MAX_REPORT_BYTES` whatever the storyline. The diagram folds repeated calls,
 * summarises bursts and, past `DIAGRAM_LIMITS`, folds identities (saying so above it); the time
 * strip keeps its width and ticks whatever the time span (long gaps are cut, with a marker) and
 * draws at most a few thousand dots. The timeline and the evidence group runs of calls; every
 * list has a byte budget and counts the rows it leaves out, and lists eventIDs up to
 * `LISTED_IDS` (every one below that many steps). User agents, policy documents and other
 * values are cut shorter, level by level, until the page fits.
 */
import type { Grant, Step, Storyline } from '../model/storyline';
import { compactDocument, esc, escJoin } from './escape';
import { distinctOf, evidenceGroups, evidenceRowOf, grantText, GROUP_GAP_MS, groupCalls, groupGrants, groupSpan, groupSteps, LISTED_IDS, listIds, type StepGroup } from './groups';
import { buildStoryGraph, describeIdentity, type FoldSummary, type StoryGraph } from './story-graph';
import { ATTACKER, FINDING, LEGIT, TACTIC_COLORS, UNMAPPED_COLOR, clipCols, layoutDiagram, tacticColor, type Diagram } from './svg';

/** The Content-Security-Policy of the report: nothing may be fetched or run. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The report is kept under this size (bytes of UTF-8). */
export const MAX_REPORT_BYTES = 1_900_000;

export interface HtmlOptions {
  /** Time shown as the report's generation time (ISO 8601); default: now. */
  generatedAt?: string;
}

/** Byte budgets (UTF-8) of the report's lists: rows past a budget are left out and counted. */
interface Budgets {
  timeline: number;
  grants: number;
  lineage: number;
  sources: number;
  resources: number;
  evidence: number;
  coverage: number;
}

interface Limits {
  /** Characters of a user agent shown in the evidence table. */
  userAgent: number;
  /** Characters of a policy document shown. */
  document: number;
  /** Characters of any other value in a table cell. */
  cell: number;
  /** Bytes of tooltips on the dots of the time strip, at most (0: none). */
  stripTitles: number;
  /** Dots on the time strip at most (steps close in time share one). */
  dots: number;
  /** The timeline lists the steps (else only the strip; the evidence still lists them). */
  timelineList: boolean;
  /** EventIDs listed in the timeline and in the evidence, each ({@link listIds}). */
  ids: number;
  bytes: Budgets;
}

const FULL: Limits = {
  userAgent: 1000, document: 8000, cell: 2048, stripTitles: 200_000, dots: 3000, timelineList: true, ids: LISTED_IDS,
  bytes: { timeline: 250_000, grants: 150_000, lineage: 150_000, sources: 50_000, resources: 80_000, evidence: 600_000, coverage: 50_000 },
};
const COMPACT: Limits = {
  userAgent: 160, document: 600, cell: 1000, stripTitles: 100_000, dots: 2000, timelineList: true, ids: LISTED_IDS,
  bytes: { timeline: 200_000, grants: 100_000, lineage: 100_000, sources: 40_000, resources: 60_000, evidence: 450_000, coverage: 40_000 },
};
const MINIMAL: Limits = {
  userAgent: 80, document: 200, cell: 400, stripTitles: 0, dots: 1200, timelineList: true, ids: 1000,
  bytes: { timeline: 120_000, grants: 60_000, lineage: 60_000, sources: 20_000, resources: 30_000, evidence: 300_000, coverage: 20_000 },
};
/**
 * The last level: with the diagram (at most MAX_SVG_BYTES), the time strip (about 600 dots
 * without tooltips, at most 38 lanes) and the page's own text (each value from the storyline
 * cut to 300 characters) it stays far below MAX_REPORT_BYTES whatever the input.
 */
const LAST_RESORT: Limits = {
  userAgent: 60, document: 120, cell: 200, stripTitles: 0, dots: 600, timelineList: false, ids: 200,
  bytes: { timeline: 0, grants: 40_000, lineage: 40_000, sources: 15_000, resources: 20_000, evidence: 200_000, coverage: 15_000 },
};

/** Characters of a value of the finding shown in the header, the story and the footer. */
const HEAD_CHARS = 300;

const TACTIC_NAMES: Record<string, string> = {
  TA0043: 'Reconnaissance',
  TA0042: 'Resource Development',
  TA0001: 'Initial Access',
  TA0002: 'Execution',
  TA0003: 'Persistence',
  TA0004: 'Privilege Escalation',
  TA0005: 'Defense Evasion',
  TA0006: 'Credential Access',
  TA0007: 'Discovery',
  TA0008: 'Lateral Movement',
  TA0009: 'Collection',
  TA0011: 'Command and Control',
  TA0010: 'Exfiltration',
  TA0040: 'Impact',
};

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI','DejaVu Sans','Liberation Sans',sans-serif;color:#1d1d1f;background:#f3f4f6}
header{background:#1f2937;color:#f9fafb;padding:18px 28px 16px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650;letter-spacing:.2px}
header .sub{color:#cbd5e1;font-size:13px}
header .chips{margin-top:10px;display:flex;flex-wrap:wrap;gap:6px}
.chip{display:inline-block;padding:2px 8px;border-radius:10px;background:#374151;color:#e5e7eb;font-size:12px;white-space:nowrap}
.chip.sev{background:${FINDING};color:#fff;font-weight:600}
.chip.t{color:#fff;font-weight:600}
main{padding:14px 28px 40px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;margin:0 0 16px;padding:14px 18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h2{font-size:16px;margin:0 0 10px;color:#111827}
h3{font-size:14px;margin:14px 0 6px;color:#374151}
.summary{font-size:14.5px;margin:0;padding:10px 14px;background:#fff7ed;border-left:4px solid ${FINDING};border-radius:6px;overflow-wrap:anywhere}
.story{margin:10px 0 0;display:flex;flex-wrap:wrap;gap:4px 0;align-items:center;font-size:13px}
.story .b{padding:2px 8px;border-radius:5px;background:#f3f4f6;border:1px solid #e5e7eb;white-space:nowrap}
.story .b.o{background:#b71c1c;color:#fff;border-color:#7f0000;font-weight:600}
.story .b.id{background:#fff;border:2px solid ${ATTACKER};font-weight:600}
.story .b.f{background:#fff3e0;border:2px solid ${FINDING};font-weight:600}
.story .arr{color:#9ca3af;padding:0 5px}
.diagram{overflow:auto;border:1px solid #e5e7eb;border-radius:8px;background:#fff;max-height:none}
.diagram svg{display:block}
.flow .row:hover .hit{fill:#fff5f5}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12px;color:#374151;margin:0 0 8px;align-items:center}
.legend svg{vertical-align:middle}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;margin-right:4px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #eef0f3;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f9fafb;position:sticky;top:0;font-weight:600;color:#374151;white-space:nowrap}
td{overflow-wrap:break-word}
table.evidence{table-layout:fixed;min-width:1250px}
.evidence small{display:block;color:#6b7280;font-size:11px}
.evidence td:nth-child(2),.evidence td:nth-child(3),.evidence td:nth-child(4),.evidence td:nth-child(5),.evidence td:nth-child(6){font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11.5px}
.evidence td:nth-child(4),.evidence td:nth-child(6),.evidence td:nth-child(7),.evidence td:nth-child(9){overflow-wrap:anywhere}
.evidence td:nth-child(6){font-size:11px}
td.mono,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11.5px}
td.nw{white-space:nowrap}
tr.origin td{background:#fff1f1}
tr.origin td:first-child{box-shadow:inset 4px 0 0 #b71c1c}
.ip-att{color:#b71c1c;font-weight:600}
.err{color:#b71c1c}
.tac{display:inline-block;padding:0 6px;border-radius:8px;color:#fff;font-size:11px;white-space:nowrap}
pre{margin:4px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;background:#fafafa;border:1px solid #eee;border-radius:4px;padding:6px;font-size:11px;max-height:320px;overflow:auto}
details summary{cursor:pointer;color:#4b5563}
.timeline{list-style:none;margin:8px 0 0;padding:0;font-size:12.5px}
.timeline li{display:grid;grid-template-columns:145px 64px 150px minmax(160px,1.2fr) minmax(200px,2fr);gap:8px;padding:3px 6px;border-bottom:1px solid #f1f2f4;align-items:baseline}
.timeline li.gap{display:block;color:#6b7280;font-style:italic;background:#f9fafb;text-align:center;border:0;padding:2px}
.timeline li.origin{background:#fff1f1;box-shadow:inset 4px 0 0 #b71c1c}
.timeline li.inwin{box-shadow:inset -4px 0 0 ${FINDING}}
.timeline li>a{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11.5px}
.timeline li>i{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11.5px;font-style:normal;color:#6b7280}
.timeline li>span{overflow-wrap:anywhere}
.timeline small{color:#6b7280;font-size:12px}
.muted{color:#6b7280}
.gaps li{margin:2px 0}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}
.kv dt{color:#6b7280}
.kv dd{margin:0;overflow-wrap:anywhere}
footer{color:#6b7280;font-size:12px;padding:0 28px 24px}
a{color:#1d4ed8}
`;

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;

function fmtTime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

/** `2026-10-15 02:13:05`: the time of a row in a table whose heading says UTC. */
function clock(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

function shortPrincipal(key: string | null): string {
  if (!key) return '(no principal: AWSAccount copy)';
  const d = describeIdentity(key);
  return `${d.kind === 'IAM user' ? 'user' : d.kind === 'role session' ? 'session' : d.kind} ${d.name}`;
}

function tacticChip(id: string | undefined, name: string | undefined): string {
  if (!id) return `<span class="tac" style="background:${UNMAPPED_COLOR}">unmapped</span>`;
  return `<span class="tac" style="background:${tacticColor(id)}">${esc(name ?? id)}</span>`;
}

function delta(ms: number): string {
  const s = Math.round(ms / 1000);
  const sign = s < 0 ? '−' : '+';
  let a = Math.abs(s);
  const d = Math.floor(a / 86400);
  a -= d * 86400;
  const h = Math.floor(a / 3600);
  a -= h * 3600;
  const m = Math.floor(a / 60);
  const sec = a - m * 60;
  if (d >= 365) return `${sign}${Math.floor(d / 365.25)}y${Math.floor(d % 365.25)}d`;
  if (d > 0) return `${sign}${d}d${h}h`;
  if (h > 0) return `${sign}${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${sign}${m}m${String(sec).padStart(2, '0')}s`;
  return `${sign}${sec}s`;
}

function human(ms: number): string {
  return delta(ms).slice(1);
}

/** A long time in words: `3 years`, `45 days`, else as {@link delta} writes it (`5h02m`). */
function spanWords(ms: number): string {
  const days = ms / DAY;
  if (days >= 730) return `${Math.round(days / 365.25).toLocaleString('en-US')} years`;
  if (days >= 60) return `${Math.round(days)} days`;
  return human(ms);
}

function clipText(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}

/** A value of the finding or the story, cut for the header. */
function head(s: unknown): string {
  return clipText(s === null || s === undefined ? '' : String(s), HEAD_CHARS);
}

/**
 * The rows `render(item, index)` joined while they fit in `budget` bytes of UTF-8, then
 * `more(n)` for the `n` items left out. Items past the budget are never rendered, so a list of
 * any length costs only what it shows.
 */
function capRows<T>(items: readonly T[], render: (item: T, index: number) => string, budget: number, more: (n: number) => string): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    const row = render(items[i] as T, i);
    used += Buffer.byteLength(row, 'utf8');
    if (used > budget) return out.join('') + more(items.length - i);
    out.push(row);
  }
  return out.join('');
}

/** The row that says how many rows are left out, for a table of `cols` columns. */
function moreRow(cols: number, what: string): (n: number) => string {
  return (n) => `<tr class="more"><td colspan="${cols}" class="muted">${esc(`${n.toLocaleString('en-US')} more ${what} left out to keep the report within its size; --format json lists them all.`)}</td></tr>`;
}

/** EventIDs as the value of an attribute, as many as {@link listIds} shows, with `data-steps-more` counting the rest. */
function idAttr(name: string, ids: readonly string[], total: number, budget: number): string {
  const { shown, more } = listIds(ids, total, budget);
  return `${name}="${escJoin(shown)}"${more > 0 ? ` ${name}-more="${more}"` : ''}`;
}

/** The headline chain: origin → identities and their phases → finding, as inline badges. */
function storyLine(st: Storyline, g: StoryGraph): string {
  const parts: string[] = [];
  if (st.origin) parts.push(`<span class="b o">origin: ${esc(clipCols(st.origin.eventName, 60))}</span>`);
  const seen = new Set<string>();
  const ordered = [...g.phases].sort((a, b) => a.from.localeCompare(b.from));
  let findingShown = false;
  for (const p of ordered) {
    if (!seen.has(p.owner)) {
      seen.add(p.owner);
      parts.push(`<span class="b id">${esc(clipCols(shortPrincipal(p.owner), 60))}</span>`);
    }
    const name = p.tactic?.name ?? 'Unmapped';
    parts.push(`<span class="b" style="border-color:${tacticColor(p.tactic?.id)}"><span class="sw" style="background:${tacticColor(p.tactic?.id)}"></span>${esc(clipCols(name, 40))} ×${p.steps.length}</span>`);
    if (!findingShown && g.findingPhases.includes(p.id)) {
      parts.push(`<span class="b f">GuardDuty: ${esc(clipCols(st.finding.type, 100))}</span>`);
      findingShown = true;
    }
  }
  if (!findingShown) parts.push(`<span class="b f">GuardDuty: ${esc(clipCols(st.finding.type, 100))}</span>`);
  return `<div class="story">${parts.join('<span class="arr">→</span>')}</div>`;
}

/** What the diagram folded, in words (empty when it draws everything). */
function foldNote(f: FoldSummary | undefined): string {
  if (!f) return '';
  const n = (x: number) => x.toLocaleString('en-US');
  const parts: string[] = [];
  if (f.identities > 0) {
    const kinds = f.kinds.slice(0, 4).map(([k, c]) => `${k} ×${n(c)}`).join(', ') + (f.kinds.length > 4 ? ', …' : '');
    parts.push(`The diagram draws ${n(f.of - f.identities)} of ${n(f.of)} identities on their own; the other ${n(f.identities)} (${kinds}) and their ${n(f.steps)} call${f.steps === 1 ? '' : 's'} are folded into ${f.boxes === 1 ? 'one box' : `${f.boxes} boxes`} marked “folded identities”.`);
  }
  if (f.linksMerged > 0) parts.push(`${n(f.linksMerged)} lineage link${f.linksMerged === 1 ? ' is' : 's are'} drawn merged into another between the same boxes.`);
  if (f.linksDropped > 0) parts.push(`${n(f.linksDropped)} lineage link${f.linksDropped === 1 ? ' is' : 's are'} not drawn.`);
  parts.push('The identity lineage section lists the identities and their issues.');
  return `<p class="muted fold-note">${esc(parts.join(' '))}</p>`;
}

function legend(): string {
  const line = (color: string, dash?: string, w = 2.4) =>
    `<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="${color}" stroke-width="${w}"${dash ? ` stroke-dasharray="${dash}"` : ''}/></svg>`;
  const items = [
    `<span><span class="sw" style="background:#b71c1c"></span>origin (first attacker call)</span>`,
    `<span><span class="sw" style="background:#fff;border:2px solid ${ATTACKER}"></span>identity the attacker used or made</span>`,
    `<span><span class="sw" style="background:#fafafa;border:2px dashed ${LEGIT}"></span>identity only legitimately involved</span>`,
    `<span>${line(ATTACKER)} attacker: minted credential / assumed role / created</span>`,
    `<span>${line(LEGIT, '6 4', 1.8)} legitimate issue (noise)</span>`,
    `<span>${line('#d06060', undefined, 1.6)} next phase of the same identity</span>`,
    `<span>${line(FINDING, '4 3')} the calls the finding is about</span>`,
    `<span>${line('#d06060', '2 4', 1.6)} inferred: a service ran the attacker’s instance or function</span>`,
    `<span><span class="sw" style="background:#fff1c2;border:1px solid #d8b64c"></span>⚠ privilege granted (escalation)</span>`,
  ];
  const tactics = Object.entries(TACTIC_COLORS).map(([id, c]) => `<span><span class="sw" style="background:${c}"></span>${esc(TACTIC_NAMES[id] ?? id)}</span>`);
  return `<div class="legend">${items.join('')}</div><div class="legend">${tactics.join('')}</div>`;
}

/** The time strip's axis: at most this many stretches of time, the gaps between them cut out. */
export const MAX_AXIS_SEGMENTS = 4;
/** A gap between steps shorter than this (ms) is never cut out of the time strip. */
const MIN_CUT_MS = 60 * 60 * 1000;
/** Width (px) of the marker that stands for a cut gap. */
const CUT_W = 30;
/** Narrowest stretch of the axis (px). */
const MIN_SEGMENT_W = 70;
/** Least room (px) between two ticks. */
const TICK_ROOM = 110;

/** One stretch of the time axis: the times `t0`…`t1` (ms since the epoch) drawn from `x0` to `x1` (px). */
export interface AxisSegment {
  t0: number;
  t1: number;
  x0: number;
  x1: number;
}

/**
 * The time strip's horizontal scale. Its stretches (at most {@link MAX_AXIS_SEGMENTS}) share a
 * fixed width; the longest gaps, each longer than an hour and more than three times all the
 * time the story spends outside the cut gaps, are cut out and drawn as a marker 30 px wide. So neither the strip's width nor
 * its number of ticks (at most one per 110 px) depends on the time span, be it a minute or the
 * 8,000 years to a step dated 9999.
 */
export interface TimeAxis {
  segments: AxisSegment[];
  /** The cut gaps: the marker's left edge (px) and the gap's length (ms). */
  cuts: { x: number; ms: number }[];
  /** Tick marks: position (px) and label (digits, `-`, `:` and a space only). */
  ticks: { x: number; label: string }[];
  /** Position (px) of a time (ms since the epoch): in its stretch; in a cut gap, on its marker; before or after the axis, at its end. */
  x(t: number): number;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** A tick's label: the year, the date or the time of day, as fine as the tick step needs. */
function tickLabel(t: number, stepMs: number, withDate: boolean, withYear: boolean): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  const y = String(d.getUTCFullYear());
  const date = `${withYear ? `${y}-` : ''}${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (stepMs >= YEAR) return y;
  if (stepMs >= DAY) return date;
  const time = stepMs >= 60_000 ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}` : `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return withDate ? `${date} ${time}` : time;
}

const TICK_STEPS = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000, 7776000].map((s) => s * 1000);

/** Ticks of one stretch: at most `max`, on round times (whole years past 90 days a tick). */
function segmentTicks(s: AxisSegment, max: number, withDate: boolean): { x: number; label: string }[] {
  const span = s.t1 - s.t0;
  const at = (t: number) => s.x0 + ((t - s.t0) / span) * (s.x1 - s.x0);
  const out: { x: number; label: string }[] = [];
  const y0 = new Date(s.t0).getUTCFullYear();
  const y1 = new Date(s.t1).getUTCFullYear();
  const withYear = y0 !== y1;
  const step = TICK_STEPS.find((x) => span / x <= max);
  if (step === undefined) {
    // Years: a round number of them (1, 2, 5, 10, 20, 50, …) that keeps within `max` ticks.
    const years = Math.max(1, y1 - y0);
    let k = 1;
    for (let m = 1; years / k > max; m *= 10) k = [m, 2 * m, 5 * m, 10 * m].find((c) => years / c <= max) ?? 10 * m;
    for (let y = Math.ceil(y0 / k) * k; y <= y1 && out.length <= max; y += k) {
      const t = Date.UTC(y, 0, 1);
      if (t >= s.t0 && t <= s.t1) out.push({ x: at(t), label: String(y) });
    }
    return out;
  }
  for (let t = Math.ceil(s.t0 / step) * step; t <= s.t1 && out.length <= max; t += step) {
    // After a cut, the stretch's first tick says the full date.
    const head = withDate && out.length === 0;
    out.push({ x: at(t), label: tickLabel(t, step, head, withYear || head) });
  }
  return out;
}

/**
 * Lays times (ms since the epoch; at least one, NaN ignored) out from `left` to `right` (px):
 * see {@link TimeAxis}.
 */
export function timeAxis(times: number[], left: number, right: number): TimeAxis {
  const sorted = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
  const first = sorted[0] ?? 0;
  const last = sorted[sorted.length - 1] ?? first;
  // The longest gaps, cut while each is more than three times all the time left outside the cuts.
  const gaps: { i: number; ms: number }[] = [];
  for (let i = 1; i < sorted.length; i++) gaps.push({ i, ms: (sorted[i] as number) - (sorted[i - 1] as number) });
  gaps.sort((a, b) => b.ms - a.ms);
  let rest = last - first;
  const cutAt: number[] = [];
  for (const gp of gaps.slice(0, MAX_AXIS_SEGMENTS - 1)) {
    if (gp.ms < MIN_CUT_MS || gp.ms <= 3 * (rest - gp.ms)) break;
    rest -= gp.ms;
    cutAt.push(gp.i);
  }
  cutAt.sort((a, b) => a - b);
  const spans: { t0: number; t1: number }[] = [];
  let from = 0;
  for (const i of [...cutAt, sorted.length]) {
    let t0 = sorted[from] ?? first;
    let t1 = sorted[i - 1] ?? t0;
    if (t1 - t0 < 60_000) {
      t0 -= 30_000;
      t1 += 30_000;
    }
    const pad = (t1 - t0) * 0.03;
    spans.push({ t0: t0 - pad, t1: t1 + pad });
    from = i;
  }
  // Widths: each stretch its minimum, the rest shared in proportion to the time it spans.
  const room = right - left - cutAt.length * CUT_W;
  const min = Math.min(MIN_SEGMENT_W, room / spans.length);
  const total = spans.reduce((n, s) => n + (s.t1 - s.t0), 0);
  const segments: AxisSegment[] = [];
  const cuts: { x: number; ms: number }[] = [];
  let x = left;
  spans.forEach((s, k) => {
    const w = min + (room - min * spans.length) * ((s.t1 - s.t0) / total);
    segments.push({ ...s, x0: x, x1: x + w });
    x += w;
    const i = cutAt[k];
    if (i !== undefined) {
      cuts.push({ x, ms: (sorted[i] as number) - (sorted[i - 1] as number) });
      x += CUT_W;
    }
  });
  const ticks = segments.flatMap((s) => segmentTicks(s, Math.max(1, Math.floor((s.x1 - s.x0) / TICK_ROOM)), segments.length > 1));
  const xOf = (t: number): number => {
    for (let k = 0; k < segments.length; k++) {
      const s = segments[k] as AxisSegment;
      if (t < s.t0) return k === 0 ? s.x0 : (cuts[k - 1]?.x ?? s.x0) + CUT_W / 2;
      if (t <= s.t1) return s.x0 + ((t - s.t0) / (s.t1 - s.t0)) * (s.x1 - s.x0);
    }
    return segments[segments.length - 1]?.x1 ?? right;
  };
  return { segments, cuts, ticks, x: xOf };
}

/** The time strip: one lane per identity, a dot per step coloured by tactic, the finding window, a marker for each long gap. */
function timeStrip(st: Storyline, g: StoryGraph, limits: Limits): string {
  if (st.steps.length === 0) return '';
  const times = st.steps.map((s) => Date.parse(s.eventTime)).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return '';
  const fLo = st.finding.eventFirstSeen ? Date.parse(st.finding.eventFirstSeen) : NaN;
  const fHi = st.finding.eventLastSeen ? Date.parse(st.finding.eventLastSeen) : fLo;
  const owners = g.identities.filter((i) => g.phasesOf.has(i.key));
  const LEFT = 250;
  const W = 1180;
  const LANE = 26;
  const TOP = 26;
  const axis = timeAxis(times, LEFT, W - 14);
  const lanesH = TOP + owners.length * LANE + 8;
  const H = lanesH + (axis.cuts.length > 0 ? 16 : 0);
  const x = axis.x;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="'DejaVu Sans Mono',Menlo,Consolas,monospace" font-size="11" role="img" aria-label="Timeline">`);
  for (const tk of axis.ticks) {
    out.push(`<line x1="${tk.x.toFixed(1)}" y1="${TOP - 6}" x2="${tk.x.toFixed(1)}" y2="${lanesH - 6}" stroke="#e5e7eb"/><text x="${tk.x.toFixed(1)}" y="${TOP - 10}" text-anchor="middle" fill="#6b7280">${esc(tk.label)}</text>`);
  }
  if (!Number.isNaN(fLo)) {
    const a = Math.max(LEFT, x(fLo) - 2);
    const b = Math.min(W - 10, x(Number.isNaN(fHi) ? fLo : fHi) + 2);
    if (b > a) out.push(`<rect x="${a.toFixed(1)}" y="${TOP - 6}" width="${(b - a).toFixed(1)}" height="${lanesH - TOP}" fill="${FINDING}" fill-opacity="0.16" stroke="${FINDING}" stroke-opacity="0.6"><title>finding first/last seen</title></rect>`);
  }
  owners.forEach((o, i) => {
    const y = TOP + i * LANE + LANE / 2;
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${W - 10}" y2="${y}" stroke="#f0f0f0"/>`);
    out.push(`<text x="8" y="${y + 4}" fill="#111" font-weight="bold">${esc(clipCols(o.kind === 'folded identities' ? o.name : shortPrincipal(o.key), 33))}<title>${esc(o.kind === 'folded identities' ? `${o.name}: ${o.detail ?? ''}` : head(o.key))}</title></text>`);
  });
  // A long gap: a grey band over the lanes, its length written under it.
  for (const c of axis.cuts) {
    const cx = c.x + 15;
    out.push(
      `<g class="gap"><title>${esc(`no step for ${spanWords(c.ms)}`)}</title><rect x="${c.x.toFixed(1)}" y="${TOP - 6}" width="30" height="${lanesH - TOP}" fill="#f3f4f6"/>` +
        `<path d="M${(cx - 4).toFixed(1)},${TOP - 6} l8,${((lanesH - TOP) / 2).toFixed(1)} l-8,${((lanesH - TOP) / 2).toFixed(1)}" fill="none" stroke="#9ca3af" stroke-dasharray="3 3"/>` +
        `<text x="${cx.toFixed(1)}" y="${lanesH + 8}" text-anchor="middle" fill="#6b7280">${esc(`⋯ ${spanWords(c.ms)} ⋯`)}</text></g>`,
    );
  }
  const laneOf = new Map(owners.map((o, i) => [o.key, i]));
  const origin = st.steps.find((s) => s.eventId === st.origin?.eventId);
  // One dot per lane, tactic, outcome and few pixels: at most `limits.dots`, the pixels per dot
  // doubled until they fit; a dot that stands for several steps says how many.
  interface Dot { x: number; lane: number; first: Step; last: Step; n: number; failed: boolean }
  const placed: { x: number; lane: number; s: Step }[] = [];
  for (const s of st.steps) {
    const t = Date.parse(s.eventTime);
    const lane = laneOf.get(g.ownerOf.get(s.eventId) ?? '');
    if (!Number.isNaN(t) && lane !== undefined) placed.push({ x: x(t), lane, s });
  }
  let dots = new Map<string, Dot>();
  for (let px = 2; ; px *= 2) {
    dots = new Map<string, Dot>();
    for (const p of placed) {
      const k = `${p.lane} ${Math.floor(p.x / px)} ${p.s.tactic?.id ?? '-'} ${p.s.errorCode ? 1 : 0}`;
      const d = dots.get(k);
      if (d) {
        d.n++;
        d.last = p.s;
      } else dots.set(k, { x: p.x, lane: p.lane, first: p.s, last: p.s, n: 1, failed: !!p.s.errorCode });
    }
    if (dots.size <= limits.dots || px > W) break;
  }
  if (origin) {
    const t = Date.parse(origin.eventTime);
    const lane = laneOf.get(g.ownerOf.get(origin.eventId) ?? '');
    if (!Number.isNaN(t) && lane !== undefined) out.push(`<circle cx="${x(t).toFixed(1)}" cy="${TOP + lane * LANE + LANE / 2}" r="8" fill="none" stroke="#b71c1c" stroke-width="2.5"/>`);
  }
  let titleBytes = 0;
  for (const d of dots.values()) {
    const y = TOP + d.lane * LANE + LANE / 2;
    const c = tacticColor(d.first.tactic?.id);
    const tactic = clipCols(d.first.tactic?.name ?? 'unmapped', 40);
    const time = (s: Step) => clipCols(s.eventTime, 30);
    const text = d.n === 1 ? `${time(d.first)} ${clipCols(d.first.eventName, 60)} (${tactic})` : `${d.n} calls ${time(d.first)} … ${time(d.last)}, first ${clipCols(d.first.eventName, 60)} (${tactic})`;
    // Tooltips while their budget lasts.
    let title = titleBytes < limits.stripTitles ? `<title>${esc(text)}</title>` : '';
    titleBytes += title.length;
    if (titleBytes > limits.stripTitles) title = '';
    out.push(`<circle cx="${d.x.toFixed(1)}" cy="${y}" r="5" fill="${c}"${d.failed ? ' fill-opacity="0.45"' : ''} stroke="#fff" stroke-width="1">${title}</circle>`);
  }
  out.push('</svg>');
  return `<div class="diagram">${out.join('')}</div>`;
}

function timelineList(st: Storyline, g: StoryGraph, rowOf: Map<string, number>, groups: StepGroup[], limits: Limits): string {
  const origin = st.origin ? Date.parse(st.origin.eventTime) : st.steps[0] ? Date.parse(st.steps[0].eventTime) : NaN;
  const fLo = st.finding.eventFirstSeen ? Date.parse(st.finding.eventFirstSeen) : NaN;
  const fHi = st.finding.eventLastSeen ? Date.parse(st.finding.eventLastSeen) : fLo;
  const inWindow = (t: number) => !Number.isNaN(fLo) && t >= fLo - 999 && t <= (Number.isNaN(fHi) ? fLo : fHi) + 999;
  const total = st.steps.length;
  let prev = NaN;
  const row = (grp: StepGroup): string => {
    const s = grp.first;
    const t = Date.parse(s.eventTime);
    const gap = !Number.isNaN(prev) && !Number.isNaN(t) && t - prev > 5 * 60_000 ? `<li class="gap">⋯ ${esc(spanWords(t - prev))} later ⋯</li>` : '';
    prev = Math.max(Number.isNaN(prev) ? t : prev, Date.parse(grp.last.eventTime));
    const cls = [grp.origin ? 'origin' : '', grp.steps.some((x) => inWindow(Date.parse(x.eventTime))) ? 'inwin' : ''].filter(Boolean).join(' ');
    const all = groupGrants(grp);
    const grants =
      all
        .slice(0, 5)
        .map((gr) => `<div class="muted">↳ ${esc(clipCols(grantText(gr), 120))}</div>`)
        .join('') + (all.length > 5 ? `<div class="muted">↳ ${all.length - 5} more grants (see the evidence)</div>` : '');
    const many = grp.steps.length > 1;
    const what = many
      ? `<b>${esc(`${grp.steps.length} calls`)}</b> <small>${esc(clipCols(`${groupCalls(grp)} · ${grp.regions.join(', ')} · ${grp.sourceIPAddress} · until ${clock(grp.last.eventTime)}`, 600))}</small>${grp.failed ? ` <span class="err">✗ ${grp.failed} failed</span>` : ''}`
      : `<b>${esc(clipCols(s.eventName, 200))}</b> <small>${esc(clipCols(`${s.eventSource.replace(/\.amazonaws\.com$/, '')} · ${s.region} · ${s.sourceIPAddress}`, 400))}</small>${s.errorCode ? ` <span class="err">✗ ${esc(clipCols(s.errorCode, 120))}</span>` : ''}`;
    const tactic = grp.tactics.length === 1 ? tacticChip(s.tactic?.id, s.tactic?.name) : grp.tactics.map(([tc, n]) => `${tacticChip(tc?.id, tc?.name)}<small>×${n}</small>`).join(' ');
    return (
      gap +
      `<li ${many ? idAttr('data-steps', grp.steps.map((x) => x.eventId), total, limits.ids) : `data-event-id="${esc(s.eventId)}"`}${cls ? ` class="${cls}"` : ''}>` +
      `<a href="#ev-${rowOf.get(s.eventId) ?? 0}">${esc(clipCols(clock(s.eventTime), 40))}</a>` +
      `<i>${Number.isNaN(origin) || Number.isNaN(t) ? '' : esc(delta(t - origin))}</i>` +
      `<span>${tactic}</span>` +
      `<span>${esc(clipCols(shortPrincipal(g.ownerOf.get(s.eventId) ?? s.principalArn), 70))}</span>` +
      `<span>${what}${grp.origin ? ' <b class="err">◀ origin</b>' : ''}${grants}</span>` +
      `</li>`
    );
  };
  const more = (n: number) => `<li class="gap">${esc(`⋯ ${n.toLocaleString('en-US')} more lines left out to keep the report within its size; the evidence table and --format json list the steps ⋯`)}</li>`;
  return `<ol class="timeline">${capRows(groups, row, limits.bytes.timeline, more)}</ol>`;
}

function grantsSection(st: Storyline, limits: Limits, rowOf: Map<string, number>): string {
  const all: { s: Step; gr: Grant }[] = [];
  for (const s of st.steps) for (const gr of s.grants ?? []) all.push({ s, gr });
  if (all.length === 0) return '<p class="muted">No step granted a policy, membership, trust, key, password or session.</p>';
  const c = (v: string | undefined | null) => esc(clipText(v ?? '', limits.cell));
  const row = ({ s, gr }: { s: Step; gr: Grant }) => {
    // At most four times what is shown is parsed and laid out.
    const d = gr.document ? clipText(gr.document, limits.document * 4) : '';
    const compact = compactDocument(d);
    const doc = gr.document ? `<pre>${esc(clipText(compact.length > 200 ? prettyDocument(d) : compact, limits.document))}</pre>` : '';
    return `<tr><td class="mono nw"><a href="#ev-${rowOf.get(s.eventId) ?? 0}">${c(fmtTime(s.eventTime))}</a></td><td>${c(shortPrincipal(s.principalArn))}</td><td><b>${c(s.eventName)}</b></td><td>${esc(gr.kind)}</td><td>${c(gr.target)}</td><td class="mono">${c(gr.value)}${doc}</td></tr>`;
  };
  return `<table><thead><tr><th>time</th><th>by</th><th>call</th><th>grant</th><th>to</th><th>policy / value / document</th></tr></thead><tbody>${capRows(all, row, limits.bytes.grants, moreRow(6, 'grants'))}</tbody></table>`;
}

function prettyDocument(doc: string): string {
  try {
    return JSON.stringify(JSON.parse(doc), null, 2);
  } catch {
    return doc;
  }
}

function lineageSection(st: Storyline, g: StoryGraph, limits: Limits): string {
  const c = (v: string) => esc(clipText(v, limits.cell));
  const idRow = (i: StoryGraph['identities'][number]) => {
    const phases = g.phasesOf.get(i.key) ?? [];
    const calls = phases.reduce((n, p) => n + p.steps.length, 0);
    const keys = i.keys.slice(0, 10).map((k) => k.id).join(', ') + (i.keys.length > 10 ? ` and ${i.keys.length - 10} more` : '');
    return `<tr data-identity="${esc(i.key)}"><td>${i.attacker ? '<b class="err">attacker</b>' : '<span class="muted">legitimate</span>'}</td><td>${esc(i.kind)}</td><td class="mono">${c(i.key)}</td><td class="mono">${c(keys)}</td><td>${calls}</td><td>${i.inLineage ? 'yes' : ''}</td></tr>`;
  };
  const edgeRow = (e: Storyline['lineageEdges'][number]) =>
    `<tr><td>${e.byAttacker ? '<b class="err">attacker</b>' : '<span class="muted">legitimate</span>'}</td><td class="mono nw">${c(fmtTime(e.eventTime))}</td><td><b>${c(e.via)}</b></td><td class="mono">${c(e.from)}</td><td class="mono">${c(e.to)}</td><td class="mono">${c(e.eventId)}</td></tr>`;
  const half = limits.bytes.lineage / 2;
  return (
    `<h3>Identities</h3><table><thead><tr><th></th><th>kind</th><th>identity</th><th>access keys</th><th>steps</th><th>in lineage</th></tr></thead><tbody>${capRows(g.identities, idRow, half, moreRow(6, 'identities')) || '<tr><td colspan="6" class="muted">none</td></tr>'}</tbody></table>` +
    `<h3>Credential and principal issues</h3><table><thead><tr><th></th><th>time</th><th>via</th><th>from</th><th>to</th><th>eventID</th></tr></thead><tbody>${capRows(st.lineageEdges, edgeRow, half, moreRow(6, 'issues')) || '<tr><td colspan="6" class="muted">none</td></tr>'}</tbody></table>`
  );
}

function sourcesSection(st: Storyline, limits: Limits): string {
  if (st.attackerSources.length === 0) return '<p class="muted">No address was judged to be the attacker’s.</p>';
  const from = new Map<string, number>();
  for (const s of st.steps) from.set(s.sourceIPAddress, (from.get(s.sourceIPAddress) ?? 0) + 1);
  const row = (a: Storyline['attackerSources'][number]) => `<tr><td class="mono ip-att">${esc(clipText(a.ip, limits.cell))}</td><td>${esc(clipText(a.reason, limits.cell))}</td><td>${from.get(a.ip) ?? 0}</td></tr>`;
  return `<table><thead><tr><th>address</th><th>why</th><th>steps from it</th></tr></thead><tbody>${capRows(st.attackerSources, row, limits.bytes.sources, moreRow(3, 'addresses'))}</tbody></table>`;
}

/** What each kind of grant names, as resources touched: [its value, its target]. */
const GRANT_RESOURCE_KINDS: Record<Grant['kind'], [string | null, string | null]> = {
  'managed-policy': ['policy', 'principal'],
  'inline-policy': ['inline policy', 'principal'],
  'policy-version': ['policy', null],
  'group-membership': ['group', 'principal'],
  'trust-policy': [null, 'role'],
  'passed-role': ['role', 'resource'],
  'access-key': ['access key', 'principal'],
  'login-profile': [null, 'principal'],
  session: [null, 'role'],
  user: ['principal', null],
};

/** Services named in the resources section at most (the busiest first). */
const MAX_SERVICES = 40;

/** Resources the steps touched, as far as the storyline names them (what the steps granted). */
function resourcesSection(st: Storyline, limits: Limits): string {
  const res = new Map<string, { kind: string; name: string; calls: Set<string>; n: number }>();
  const add = (kind: string, name: string | undefined, call: string) => {
    if (!name) return;
    const k = `${kind}\u0000${name}`;
    const r = res.get(k) ?? { kind, name, calls: new Set<string>(), n: 0 };
    r.calls.add(call);
    r.n++;
    res.set(k, r);
  };
  for (const s of st.steps) {
    for (const gr of s.grants ?? []) {
      const [valueKind, targetKind] = GRANT_RESOURCE_KINDS[gr.kind];
      if (valueKind) add(valueKind, gr.value, s.eventName);
      if (targetKind) add(targetKind, gr.target, s.eventName);
    }
  }
  const services = new Map<string, number>();
  for (const s of st.steps) services.set(s.eventSource, (services.get(s.eventSource) ?? 0) + 1);
  const row = (r: { kind: string; name: string; calls: Set<string> }) => {
    const calls = [...r.calls];
    const by = calls.slice(0, 10).join(', ') + (calls.length > 10 ? ` and ${calls.length - 10} more` : '');
    return `<tr><td>${esc(r.kind)}</td><td class="mono">${esc(clipText(r.name, limits.cell))}</td><td>${esc(clipText(by, limits.cell))}</td></tr>`;
  };
  const busiest = [...services].sort((a, b) => b[1] - a[1]);
  const svc = busiest.slice(0, MAX_SERVICES).map(([s, n]) => `<span class="chip" style="background:#e5e7eb;color:#111">${esc(clipCols(s.replace(/\.amazonaws\.com$/, ''), 60))} ×${n}</span>`);
  if (busiest.length > MAX_SERVICES) svc.push(`<span class="muted">${esc(`and ${busiest.length - MAX_SERVICES} more`)}</span>`);
  return (
    `<p>Services called: ${svc.join(' ') || '<span class="muted">none</span>'}</p>` +
    (res.size ? `<table><thead><tr><th>kind</th><th>resource</th><th>by</th></tr></thead><tbody>${capRows([...res.values()], row, limits.bytes.resources, moreRow(3, 'resources'))}</tbody></table>` : '<p class="muted">No resource named by the steps’ grants.</p>')
  );
}

function evidenceTable(st: Storyline, groups: StepGroup[], limits: Limits): string {
  const attackerIps = new Set(st.attackerSources.map((a) => a.ip));
  const total = st.steps.length;
  const c = (v: string) => esc(clipText(v, limits.cell));
  const row = (grp: StepGroup, i: number) => {
    const s = grp.first;
    const many = grp.steps.length > 1;
    const all = groupGrants(grp);
    const grants =
      all
        .slice(0, 8)
        .map((gr) => `<div>${esc(clipCols(grantText(gr), 200))}${gr.document ? `<details><summary>document</summary><pre>${esc(clipText(prettyDocument(clipText(gr.document, limits.document * 4)), limits.document))}</pre></details>` : ''}</div>`)
        .join('') + (all.length > 8 ? `<div class="muted">${esc(`and ${all.length - 8} more grants`)}</div>` : '');
    const agents = distinctOf(grp, (x) => x.userAgent ?? '');
    const ids = grp.steps.map((x) => x.eventId);
    const listed = listIds(ids, total, limits.ids);
    const idCell = many
      ? `${c(groupSpan(grp))}<small>${c(`${ids.length} calls, first ${s.eventId}`)}</small><details><summary>every eventID</summary><small>${escJoin(listed.shown)}${listed.more > 0 ? esc(` … and ${listed.more} more (--format json lists them)`) : ''}</small></details>`
      : `${c(clock(s.eventTime))}<small>${c(s.eventId)}</small>`;
    const call = many
      ? `<b>${c(groupCalls(grp, 8))}</b>${grp.failed ? `<div class="err">✗ ${grp.failed} failed</div>` : ''}`
      : `<b>${c(s.eventName)}</b><small>${c(s.eventSource)}</small>${s.errorCode ? `<div class="err">✗ ${c(s.errorCode)}</div>` : ''}`;
    const tactic = grp.tactics.length === 1 ? `${tacticChip(s.tactic?.id, s.tactic?.name)}${!many && s.technique ? `<small>${c(`${s.technique.id} ${s.technique.name}`)}</small>` : ''}` : grp.tactics.map(([tc, n]) => `${tacticChip(tc?.id, tc?.name)}<small>×${n}</small>`).join(' ');
    const reasons = distinctOf(grp, (x) => x.reason).join(', ');
    const keys = distinctOf(grp, (x) => x.accessKeyId ?? '').filter(Boolean);
    // Column styles come from the table's CSS (nth-child), to keep a row small.
    return (
      `<tr id="ev-${i + 1}" ${many ? idAttr('data-steps', ids, total, limits.ids) : `data-event-id="${esc(s.eventId)}"`}${grp.origin ? ' class="origin"' : ''}>` +
      `<td>${i + 1}</td>` +
      `<td>${idCell}</td>` +
      `<td>${c(distinctOf(grp, (x) => x.accountId).join(', '))}<small>${c(grp.regions.join(', '))}</small></td>` +
      `<td>${c(s.principalArn ?? '(AWSAccount copy)')}${s.accessKeyId ? `<small>${c(keys.slice(0, 10).join(', ') + (keys.length > 10 ? ` and ${keys.length - 10} more` : ''))}</small>` : ''}</td>` +
      `<td${attackerIps.has(s.sourceIPAddress) ? ' class="ip-att"' : ''}>${c(s.sourceIPAddress)}</td>` +
      `<td>${esc(clipText(agents[0] ?? '', limits.userAgent))}${agents.length > 1 ? `<small>${esc(`+${agents.length - 1} more`)}</small>` : ''}</td>` +
      `<td>${call}</td>` +
      `<td>${tactic}<small>why: ${esc(reasons)}</small></td>` +
      `<td>${grants}</td>` +
      `</tr>`
    );
  };
  const cols = [3, 13, 9, 17, 9, 18, 12, 11, 14].map((w) => `<col style="width:${w}%">`).join('');
  const note = groups.length < st.steps.length ? ` Calls of one principal from one source less than ${GROUP_GAP_MS / 60000} minutes apart are one row (${st.steps.length} steps in ${groups.length} rows); each row lists every eventID it holds${total > limits.ids ? ` (up to ${limits.ids.toLocaleString('en-US')} in all; --format json lists every one)` : ''}.` : '';
  return `<p class="muted">Times in UTC. The origin row is marked red; addresses judged to be the attacker’s are red.${esc(note)}</p><div style="overflow:auto"><table class="evidence"><colgroup>${cols}</colgroup><thead><tr><th>#</th><th>time / eventID</th><th>account / region</th><th>principal / access key</th><th>source IP</th><th>user agent</th><th>call</th><th>tactic / why a step</th><th>granted</th></tr></thead><tbody>${capRows(groups, row, limits.bytes.evidence, moreRow(9, 'rows')) || '<tr><td colspan="9" class="muted">No steps.</td></tr>'}</tbody></table></div>`;
}

/** Values of a coverage list (accounts, regions, skip reasons) shown at most. */
const MAX_COVERAGE_VALUES = 50;

function coverageSection(st: Storyline, limits: Limits): string {
  const c = st.coverage;
  const list = (xs: readonly string[]) => clipText(xs.slice(0, MAX_COVERAGE_VALUES).join(', ') + (xs.length > MAX_COVERAGE_VALUES ? ` and ${xs.length - MAX_COVERAGE_VALUES} more` : ''), limits.cell);
  const kv: [string, string][] = [
    ['files read', `${c.filesRead} (skipped ${c.filesSkipped})`],
    ['records read', `${c.recordsRead} (skipped ${c.recordsSkipped}; examined in full ${c.recordsExamined})`],
    ['accounts', list(c.accounts) || '–'],
    ['regions', list(c.regions) || '–'],
    ['time span', `${c.timeSpan.from ? head(fmtTime(c.timeSpan.from)) : '–'} … ${c.timeSpan.to ? head(fmtTime(c.timeSpan.to)) : '–'}`],
  ];
  if (c.sample) kv.push(['sample', 'the finding is a GuardDuty sample finding']);
  const reasons = Object.entries(c.skippedReasons);
  for (const [r, n] of reasons.slice(0, MAX_COVERAGE_VALUES)) kv.push(['skipped', `${clipText(r, limits.cell)} ×${n}`]);
  if (reasons.length > MAX_COVERAGE_VALUES) kv.push(['skipped', `and ${reasons.length - MAX_COVERAGE_VALUES} more reasons`]);
  const half = limits.bytes.coverage / 2;
  const fileRow = (f: { file: string; reason: string }) => `<tr><td class="mono">${esc(clipText(f.file, limits.cell))}</td><td>${esc(clipText(f.reason, limits.cell))}</td></tr>`;
  const files = c.skippedFiles.length ? `<details><summary>${c.skippedFiles.length} skipped file(s)</summary><table><tbody>${capRows(c.skippedFiles, fileRow, half, moreRow(2, 'files'))}</tbody></table></details>` : '';
  const gapMore = (n: number) => `<li class="muted">${esc(`${n} more left out to keep the report within its size; --format json lists them.`)}</li>`;
  const gaps = c.gaps.length ? `<h3>Gaps: what is missing</h3><ul class="gaps">${capRows(c.gaps, (g) => `<li>${esc(clipText(g, limits.cell))}</li>`, half, gapMore)}</ul>` : '<h3>Gaps</h3><p class="muted">None recorded.</p>';
  return `<dl class="kv">${kv.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${files}${gaps}`;
}

/** What every level of the report shares, computed once. */
interface Parts {
  /** The whole story graph (the timeline's owners, the lineage section). */
  g: StoryGraph;
  /** The diagram's graph, folded: the headline chain, the time strip, the note on folding. */
  fg: Diagram['graph'];
  svg: string;
  evidence: StepGroup[];
  rowOf: Map<string, number>;
  timeline: StepGroup[];
}

/** The tactics of the steps, in order of first use, at most this many as chips in the header. */
const MAX_TACTIC_CHIPS = 20;

function buildDocument(st: Storyline, parts: Parts, generatedAt: string, limits: Limits): string {
  const { g, fg, svg, evidence, rowOf } = parts;
  const f = st.finding;
  const tactics: string[] = [];
  const seen = new Set<string>();
  for (const s of st.steps) {
    if (s.tactic && !seen.has(s.tactic.id)) {
      seen.add(s.tactic.id);
      tactics.push(s.tactic.id);
    }
  }
  const chips = [
    f.severity !== undefined ? `<span class="chip sev">severity ${esc(head(f.severity))}</span>` : '',
    `<span class="chip">account ${esc(head(f.accountId))}</span>`,
    `<span class="chip">region ${esc(head(f.region))}</span>`,
    f.eventFirstSeen ? `<span class="chip">first seen ${esc(head(fmtTime(f.eventFirstSeen)))}</span>` : '',
    f.eventLastSeen ? `<span class="chip">last seen ${esc(head(fmtTime(f.eventLastSeen)))}</span>` : '',
    `<span class="chip">${st.steps.length} step${st.steps.length === 1 ? '' : 's'}</span>`,
    `<span class="chip">${st.lineage.length} identit${st.lineage.length === 1 ? 'y' : 'ies'} in lineage</span>`,
    ...tactics.slice(0, MAX_TACTIC_CHIPS).map((t) => `<span class="chip t" style="background:${tacticColor(t)}">${esc(clipCols(TACTIC_NAMES[t] ?? t, 40))}</span>`),
  ].filter(Boolean);
  const origin = st.origin
    ? `<p><b>Origin:</b> <a href="#ev-${rowOf.get(st.origin.eventId) ?? 0}">${esc(head(st.origin.eventName))}</a> at ${esc(head(fmtTime(st.origin.eventTime)))} — ${esc(clipText(st.origin.reason, 2000))}</p>`
    : '<p><b>Origin:</b> none found in the records read.</p>';
  const body = [
    `<header><h1>${esc(head(f.type))}</h1><div class="sub">${esc(head(f.title ?? ''))}</div><div class="sub mono">${esc(head(f.arn))}</div><div class="chips">${chips.join('')}</div></header>`,
    '<main>',
    `<section id="story"><h2>The story</h2><p class="summary">${esc(clipText(st.summary, 2000))}</p>${origin}${storyLine(st, fg)}</section>`,
    `<section id="flow"><h2>Attack flow</h2>${legend()}${foldNote(fg.folded)}<div class="diagram">${svg}</div></section>`,
    `<section id="timeline"><h2>Timeline <span class="muted" style="font-weight:normal;font-size:12px">(UTC; offsets from the origin; orange bar: the calls the finding is about)</span></h2>${timeStrip(st, fg, limits)}${limits.timelineList ? timelineList(st, g, rowOf, parts.timeline, limits) : '<p class="muted">The list of steps is left out to keep the report small; the evidence table below lists the steps.</p>'}</section>`,
    `<section id="escalation"><h2>Privileges and credentials granted</h2>${grantsSection(st, limits, rowOf)}</section>`,
    `<section id="lineage"><h2>Identity lineage</h2>${lineageSection(st, g, limits)}</section>`,
    `<section id="sources"><h2>Attacker addresses</h2>${sourcesSection(st, limits)}</section>`,
    `<section id="resources"><h2>Resources touched</h2>${resourcesSection(st, limits)}</section>`,
    `<section id="evidence"><h2>Evidence (${st.steps.length} step${st.steps.length === 1 ? '' : 's'})</h2>${evidenceTable(st, evidence, limits)}</section>`,
    `<section id="coverage"><h2>Coverage</h2>${coverageSection(st, limits)}</section>`,
    '</main>',
    `<footer>Generated by trailstory at ${esc(head(generatedAt))} · finding ${esc(head(f.id))} · this report runs no script and loads nothing.</footer>`,
  ];
  return page(`trailstory: ${head(f.type)} (${head(f.accountId)})`, body.join('\n'));
}

/** The document around a body: the CSP first in the head, the styles, nothing to fetch or run. */
function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">\n` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="referrer" content="no-referrer">\n' +
    `<title>${esc(title)}</title>\n` +
    `<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}

/**
 * Renders the storyline as one self-contained HTML document of at most MAX_REPORT_BYTES bytes
 * (UTF-8), whatever the storyline: the diagram is folded (see `layoutDiagram`), every list has a
 * byte budget and counts what it leaves out, and the budgets shrink level by level until the
 * page fits. Should the last level not fit, the page is the header, the story and a note.
 */
export async function renderHtml(st: Storyline, opts: HtmlOptions = {}): Promise<string> {
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const diagram = await layoutDiagram(st);
  const evidence = evidenceGroups(st);
  const parts: Parts = { g: buildStoryGraph(st), fg: diagram.graph, svg: diagram.svg, evidence, rowOf: evidenceRowOf(st, evidence), timeline: groupSteps(st).groups };
  for (const limits of [FULL, COMPACT, MINIMAL, LAST_RESORT]) {
    const html = buildDocument(st, parts, generatedAt, limits);
    if (Buffer.byteLength(html, 'utf8') <= MAX_REPORT_BYTES) return html;
  }
  const f = st.finding;
  return page(
    `trailstory: ${head(f.type)} (${head(f.accountId)})`,
    `<header><h1>${esc(head(f.type))}</h1><div class="sub mono">${esc(head(f.arn))}</div></header><main><section id="story"><h2>The story</h2><p class="summary">${esc(clipText(st.summary, 2000))}</p>` +
      `<p class="muted">${esc(`The report of these ${st.steps.length} steps would pass ${MAX_REPORT_BYTES.toLocaleString('en-US')} bytes even in its shortest form; --format json or --format markdown tell the whole story.`)}</p></section></main>` +
      `<footer>Generated by trailstory at ${esc(head(generatedAt))} · finding ${esc(head(f.id))} · this report runs no script and loads nothing.</footer>`,
  );
}
