/**
 * The HTML report stays within its bounds whatever the input: its size (MAX_REPORT_BYTES) and
 * its layout do not grow with the time span, the number of principals or the number of steps.
 * The storylines are built here (test/render/synthetic.ts). Each hostile one is also rendered by
 * a child process whose peak memory is read (at most 512 MB) and whose time is printed, not
 * asserted.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { MAX_AXIS_SEGMENTS, MAX_REPORT_BYTES, renderHtml, timeAxis } from '../../src/render/html';
import { LISTED_IDS, MAX_EVIDENCE_ROWS } from '../../src/render/groups';
import { renderSvg } from '../../src/render/svg';
import { buildStoryGraph, DIAGRAM_LIMITS, foldStoryGraph, MAX_FOLD_BOXES } from '../../src/render/story-graph';
import { farDateStoryline, hostileStringsStoryline, largeStoryline, manyPrincipalsStoryline, markupStoryline } from './synthetic';

const GENERATED = '2026-02-03T04:05:06Z';

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The time strip's SVG (the first in the timeline section). */
function strip(html: string): string {
  const at = html.indexOf('<svg', html.indexOf('<section id="timeline"'));
  return html.slice(at, html.indexOf('</svg>', at));
}

describe('the time span', () => {
  test('the axis keeps its width and at most one tick per 110 px, from a minute to 8,000 years', () => {
    const t = Date.parse('2026-01-02T10:00:00Z');
    const cases: number[][] = [
      [t],
      [t, t + 60_000],
      [t, t + 2 * 86_400_000],
      [Date.parse('2013-01-01T00:00:00Z'), t, t + 1000, Date.parse('2100-12-31T23:59:59Z')],
      [t, t + 1000, t + 5000, Date.parse('9999-12-31T23:59:59Z')],
      [Date.parse('1970-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59Z')],
      Array.from({ length: 50 }, (_, i) => t + i * i * 3_600_000 * 24 * 30),
    ];
    for (const times of cases) {
      const a = timeAxis(times, 250, 1166);
      expect(a.segments.length).toBeGreaterThanOrEqual(1);
      expect(a.segments.length).toBeLessThanOrEqual(MAX_AXIS_SEGMENTS);
      expect(a.cuts).toHaveLength(a.segments.length - 1);
      expect(a.segments[0]?.x0).toBe(250);
      expect(a.segments[a.segments.length - 1]?.x1).toBeCloseTo(1166, 6);
      expect(a.ticks.length).toBeLessThanOrEqual(Math.floor(916 / 110) + a.segments.length);
      for (const tk of a.ticks) {
        expect(tk.x).toBeGreaterThanOrEqual(250);
        expect(tk.x).toBeLessThanOrEqual(1166);
        expect(tk.label).toMatch(/^[\d: -]+$/);
      }
      for (const time of times) {
        expect(a.x(time)).toBeGreaterThanOrEqual(250);
        expect(a.x(time)).toBeLessThanOrEqual(1166);
      }
    }
  });

  test('a gap that outweighs the rest of the story is cut, a night inside a two-day story is not', () => {
    const t = Date.parse('2026-01-02T10:00:00Z');
    const far = timeAxis([t, t + 1000, t + 60_000, Date.parse('9999-12-31T23:59:59Z')], 250, 1166);
    expect(far.cuts).toHaveLength(1);
    expect(far.cuts[0]?.ms).toBe(Date.parse('9999-12-31T23:59:59Z') - t - 60_000);
    const days = timeAxis([t, t + 3_600_000, t + 18 * 3_600_000, t + 30 * 3_600_000], 250, 1166);
    expect(days.cuts).toHaveLength(0);
  });

  test('one step dated 9999-12-31 adds a gap marker, not megabytes', async () => {
    const normal = await renderHtml(largeStoryline(200), { generatedAt: GENERATED });
    const html = await renderHtml(farDateStoryline(200), { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(Math.abs(bytes(html) - bytes(normal))).toBeLessThan(4_000);
    const s = strip(html);
    expect(s.match(/<g class="gap">/g)).toHaveLength(1);
    expect(s).toMatch(/⋯ 7,97\d years ⋯/);
    expect(s.match(/<line /g)?.length ?? 0).toBeLessThan(20);
    // The timeline's list says it too.
    expect(html).toMatch(/<li class="gap">⋯ 7,97\d years later ⋯<\/li>/);
  });

  test('a story from 2013 to 2100 has two gap markers and the size of a story of one day', async () => {
    const normal = await renderHtml(largeStoryline(200), { generatedAt: GENERATED });
    const html = await renderHtml(farDateStoryline(200, '2100-12-31T23:59:59Z', '2013-01-01T00:00:00Z'), { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(Math.abs(bytes(html) - bytes(normal))).toBeLessThan(4_000);
    const s = strip(html);
    expect(s.match(/<g class="gap">/g)).toHaveLength(2);
    expect(s).toContain('⋯ 13 years ⋯');
    expect(s).toContain('⋯ 75 years ⋯');
    expect(s).toContain('>2013-01-01 00:00<');
  });
});

describe('many principals', () => {
  const st = manyPrincipalsStoryline(2000);

  test('the synthetic story has 2,001 lineage principals, each with steps', () => {
    expect(st.lineage).toHaveLength(2001);
    expect(st.steps).toHaveLength(1 + 2000 * 2 + 2000 * 2);
    const owners = new Set(st.steps.map((s) => s.principalArn));
    for (const p of st.lineage) expect(owners.has(p)).toBe(true);
  });

  test('the diagram’s graph keeps DIAGRAM_LIMITS and folds the rest into at most MAX_FOLD_BOXES boxes', () => {
    const g = buildStoryGraph(st);
    expect(g.identities).toHaveLength(2001);
    const f = foldStoryGraph(st, g);
    const own = f.identities.filter((i) => i.kind !== 'folded identities');
    const boxes = f.identities.filter((i) => i.kind === 'folded identities');
    expect(own).toHaveLength(DIAGRAM_LIMITS.identities);
    expect(boxes.length).toBeGreaterThanOrEqual(1);
    expect(boxes.length).toBeLessThanOrEqual(MAX_FOLD_BOXES);
    expect(own[0]?.key).toBe(st.lineage[0]);
    expect(f.phases.filter((p) => !p.owner.startsWith('folded:')).length).toBeLessThanOrEqual(DIAGRAM_LIMITS.phases);
    expect(f.links.length).toBeLessThanOrEqual(DIAGRAM_LIMITS.links);
    expect(f.folded).toEqual(expect.objectContaining({ identities: 2001 - DIAGRAM_LIMITS.identities, of: 2001, boxes: boxes.length, kinds: [['IAM user', 2001 - DIAGRAM_LIMITS.identities]] }));
    // Every step still has its owner among the boxes drawn, and its phase.
    const keys = new Set(f.identities.map((i) => i.key));
    const phaseIds = new Set(f.phases.map((p) => p.id));
    for (const s of st.steps) {
      expect(keys.has(f.ownerOf.get(s.eventId) ?? '')).toBe(true);
      expect(phaseIds.has(f.phaseOf.get(s.eventId) ?? '')).toBe(true);
    }
    expect(f.phases.reduce((n, p) => n + p.steps.length, 0)).toBe(st.steps.length);
    // The folded box names its count and kind.
    expect(boxes[0]?.name).toBe(`${(2001 - DIAGRAM_LIMITS.identities).toLocaleString('en-US')} × IAM user`);
  });

  test('a story within the limits is drawn as it is', () => {
    for (const small of [largeStoryline(1000), markupStoryline(), manyPrincipalsStoryline(20)]) {
      const g = buildStoryGraph(small);
      expect(foldStoryGraph(small, g)).toBe(g);
    }
  });

  test('the diagram draws at most DIAGRAM_LIMITS identities and MAX_FOLD_BOXES folded boxes', async () => {
    const svg = await renderSvg(st);
    const nodes = [...svg.matchAll(/data-node="identity:([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(nodes.length).toBeLessThanOrEqual(DIAGRAM_LIMITS.identities + MAX_FOLD_BOXES);
    expect(nodes).toContain('folded:1');
    expect(nodes).toContain(st.lineage[0]);
    expect(svg).toContain(`${(2001 - DIAGRAM_LIMITS.identities).toLocaleString('en-US')} × IAM user`);
    expect(svg.match(/data-edge="lineage"/g)?.length ?? 0).toBeLessThanOrEqual(DIAGRAM_LIMITS.links);
  });
});

describe('the report’s size', () => {
  test('50,000 steps: within MAX_REPORT_BYTES, every list says what it leaves out', async () => {
    const st = largeStoryline(50_000);
    const html = await renderHtml(st, { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    // The evidence: at most MAX_EVIDENCE_ROWS rows, eventIDs listed within LISTED_IDS, the rest counted.
    const evidence = section(html, 'evidence');
    const rows = [...evidence.matchAll(/<tr id="ev-\d+" (?:data-steps="([^"]*)"(?: data-steps-more="(\d+)")?|data-event-id="([^"]*)")/g)];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(MAX_EVIDENCE_ROWS);
    const listed = rows.reduce((n, r) => n + (r[1] ? r[1].split(' ').length : 1), 0);
    const counted = rows.reduce((n, r) => n + Number(r[2] ?? 0), 0);
    expect(listed).toBeLessThanOrEqual(LISTED_IDS + 8 * rows.length);
    expect(counted).toBeGreaterThan(0);
    const more = /(\d[\d,]*) more rows left out/.exec(evidence);
    // Every step is in a row shown or counted: as a listed eventID, a counted one, or a row left out.
    const rowsLeft = more ? Number((more[1] ?? '0').replace(/,/g, '')) : 0;
    expect(listed + counted).toBeLessThanOrEqual(st.steps.length);
    if (rowsLeft === 0) expect(listed + counted).toBe(st.steps.length);
    // The diagram: step nodes list their share of eventIDs and count the rest.
    expect(html).toMatch(/data-steps-more="\d+"/);
    // The time strip: at most FULL's 3,000 dots.
    expect(strip(html).match(/<circle /g)?.length ?? 0).toBeLessThanOrEqual(3001);
  });

  test('2,000 principals: within MAX_REPORT_BYTES, the page says what the diagram folded', async () => {
    const st = manyPrincipalsStoryline(2000);
    const html = await renderHtml(st, { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    const note = /<p class="muted fold-note">([^<]*)<\/p>/.exec(html)?.[1] ?? '';
    expect(note).toContain(`The diagram draws ${DIAGRAM_LIMITS.identities} of 2,001 identities on their own; the other 1,969 (IAM user ×1,969) and their 3,938 calls are folded into one box`);
    // The time strip has a lane per identity drawn, not per principal.
    expect(strip(html).match(/font-weight="bold">/g)?.length ?? 0).toBeLessThanOrEqual(DIAGRAM_LIMITS.identities + MAX_FOLD_BOXES);
    // The lineage lists identities within its budget and counts the rest.
    const lineage = section(html, 'lineage');
    const shown = lineage.match(/<tr data-identity=/g)?.length ?? 0;
    const left = Number((/(\d[\d,]*) more identities left out/.exec(lineage)?.[1] ?? '0').replace(/,/g, ''));
    expect(shown + left).toBe(2001);
  });

  test('8 KiB of markup in every attacker-chosen value, 300 principals: within MAX_REPORT_BYTES, all of it escaped', async () => {
    const st = hostileStringsStoryline(300);
    const html = await renderHtml(st, { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(html).not.toMatch(/<script/i);
    // The input's quotes are there, as entities, and the page is the report, not its fallback.
    expect(html).toContain('&quot;&quot;&quot;');
    expect(html).toContain('<section id="evidence">');
  });
});

/** One section of the report, by id. */
function section(html: string, id: string): string {
  const at = html.indexOf(`<section id="${id}"`);
  return html.slice(at, html.indexOf('</section>', at));
}

describe('a child process rendering each hostile storyline', () => {
  /** The renderer and the builders bundled once (esbuild, to memory), run by `node -` with the case's name. */
  let code = '';
  beforeAll(() => {
    const out = buildSync({
      stdin: {
        contents: `
          import { renderHtml } from './src/render/html';
          import { farDateStoryline, largeStoryline, manyPrincipalsStoryline } from './test/render/synthetic';
          // The child's own peak (/proc's VmHWM): getrusage's maxrss starts at the jest worker's RSS.
          const peakRssMB = () => { try { const m = /VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8')); if (m) return Math.round(Number(m[1]) / 1024); } catch {} return Math.round(process.resourceUsage().maxRSS / 1024); };
          const name = process.argv[process.argv.length - 1];
          const st = name === 'steps' ? largeStoryline(50000) : name === 'principals' ? manyPrincipalsStoryline(2000) : name === 'far' ? farDateStoryline(200) : farDateStoryline(200, '2100-12-31T23:59:59Z', '2013-01-01T00:00:00Z');
          const t0 = process.hrtime.bigint();
          renderHtml(st, { generatedAt: '${GENERATED}' }).then((html) => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            process.stdout.write(JSON.stringify({ bytes: Buffer.byteLength(html, 'utf8'), renderMs: Math.round(ms), maxRssMB: peakRssMB() }));
          });
        `,
        resolveDir: path.resolve(__dirname, '..', '..'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      write: false,
      logLevel: 'error',
    });
    code = out.outputFiles[0]?.text ?? '';
  });

  test.each([
    ['steps', '50,000 steps'],
    ['principals', '2,000 principals'],
    ['far', 'one step dated 9999-12-31'],
    ['span', 'steps from 2013 to 2100'],
  ])('%s (%s): within MAX_REPORT_BYTES and 512 MB', (name, what) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['-', name], { input: code, encoding: 'utf8', maxBuffer: 1 << 20 });
    const wallMs = Date.now() - started;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = JSON.parse(r.stdout) as { bytes: number; renderMs: number; maxRssMB: number };
    // The figures for the record (time is reported, never asserted).
    process.stdout.write(`report-bounds: ${what}: ${m.bytes} bytes, render ${m.renderMs} ms, child ${wallMs} ms, peak RSS ${m.maxRssMB} MB\n`);
    expect(m.bytes).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(m.maxRssMB).toBeLessThanOrEqual(512);
  });
});
