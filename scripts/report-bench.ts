/**
 * `npm run bench:report` (and the last part of `npm run bench`): the HTML report of large stories
 * in headless Chromium. For each story: the page's size, the time to render it in Node, and
 * the time Chromium takes to load and paint it (navigation to two animation frames after
 * `load`), against a baseline measured in the same run: a small page of the same shape (the
 * report of a one-step story) loaded the same way. Also the page's height and the diagram's
 * width in a 1,400-pixel window. Each figure is the median of `--reps` runs (default 7), each
 * load in a fresh page of one browser.
 *
 * Stories: a synthetic one of 2,000 steps (test/render/synthetic.ts: a discovery burst,
 * escalations, a role chain, bulk reads, mixed noise) and the real Invictus trail the repo
 * ships (events/invictus, 2,419 steps). Skips with a notice without /usr/bin/chromium.
 * Prints a Markdown table; with `--out FILE` writes it as the section "HTML report" of FILE.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { renderHtml } from '../src/render/html';
import { investigate } from '../src/storyline/investigate';
import type { Storyline } from '../src/model/storyline';
import { largeStoryline } from '../test/render/synthetic';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSection } = require('./bench-section.js') as { writeSection: (file: string, heading: string, text: string) => void };

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1400;

// The page's DOM as far as the measurement uses it (the project compiles without the DOM lib).
declare const document: { documentElement: { scrollHeight: number }; querySelector(s: string): { getBoundingClientRect(): { width: number }; scrollWidth: number; clientWidth: number } | null };
declare function requestAnimationFrame(cb: () => void): void;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

/** Loads a file in a fresh page and waits for two frames after `load`; returns ms and the page. */
async function load(newPage: () => Promise<Page>, file: string): Promise<{ ms: number; page: Page }> {
  const page = await newPage();
  const t0 = process.hrtime.bigint();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, page };
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const args = process.argv.slice(3);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const reps = Number(opt('--reps') ?? '7');
  const out = opt('--out');
  if (!fs.existsSync(CHROMIUM)) {
    process.stdout.write(`bench:report: ${CHROMIUM} not found: skipping the report benchmark\n`);
    return;
  }
  const stories: { name: string; st: Storyline }[] = [{ name: 'synthetic, 2,000 steps', st: largeStoryline(2000) }];
  const invictus = path.join(root, 'events', 'invictus');
  if (fs.existsSync(path.join(invictus, 'finding.json'))) {
    stories.push({ name: 'events/invictus', st: await investigate({ findingFile: path.join(invictus, 'finding.json'), cloudtrail: [path.join(invictus, 'cloudtrail')] }) });
  }
  const small = largeStoryline(1);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-report-bench-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-report-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: WIDTH, height: 1000 },
  });
  const rows: string[] = [];
  try {
    const baselineFile = path.join(work, 'baseline.html');
    fs.writeFileSync(baselineFile, await renderHtml(small, { generatedAt: '2026-01-01T00:00:00Z' }));
    // A first load warms the browser up; it is not counted.
    (await load(() => ctx.newPage(), baselineFile)).page.close().catch(() => undefined);
    for (const { name, st } of stories) {
      const file = path.join(work, 'report.html');
      const renderMs: number[] = [];
      let html = '';
      for (let i = 0; i < reps; i++) {
        const t0 = process.hrtime.bigint();
        html = await renderHtml(st, { generatedAt: '2026-01-01T00:00:00Z' });
        renderMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      fs.writeFileSync(file, html);
      const pageMs: number[] = [];
      const baseMs: number[] = [];
      let shape = { height: 0, diagram: 0, scroll: 0, client: 0 };
      for (let i = 0; i < reps; i++) {
        // Interleaved: a slow moment hits the report and the baseline alike.
        const b = await load(() => ctx.newPage(), baselineFile);
        baseMs.push(b.ms);
        await b.page.close();
        const r = await load(() => ctx.newPage(), file);
        pageMs.push(r.ms);
        shape = await r.page.evaluate(() => {
          const d = document.querySelector('#flow .diagram');
          return { height: document.documentElement.scrollHeight, diagram: document.querySelector('svg.flow')?.getBoundingClientRect().width ?? 0, scroll: d?.scrollWidth ?? 0, client: d?.clientWidth ?? 0 };
        });
        await r.page.close();
      }
      const p = median(pageMs);
      const b = median(baseMs);
      rows.push(
        `| ${name} | ${st.steps.length} | ${(Buffer.byteLength(html, 'utf8') / 2 ** 20).toFixed(2)} | ${median(renderMs).toFixed(0)} | ${p.toFixed(0)} | ${b.toFixed(0)} | ${(p / b).toFixed(1)} | ${shape.height} | ${Math.round(shape.diagram)} | ${shape.scroll > shape.client ? 'scrolls' : 'fits'} |`,
      );
      process.stdout.write(`bench:report: ${name}: Chromium runs ${pageMs.map((x) => Math.round(x)).join(' ')} ms, baseline ${baseMs.map((x) => Math.round(x)).join(' ')} ms\n`);
    }
  } finally {
    await ctx.close();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const text = [
    '## HTML report',
    '',
    `Measured by \`npm run bench:report\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, Debian's Chromium through playwright-core, a ${WIDTH}-pixel-wide window. Each figure is the median of ${reps} runs. **Chromium ms**: from navigation to two animation frames after \`load\` (laid out and painted), each load in a fresh page; **baseline ms**: the same for the report of a one-step story, loaded in turn with the large one in the same run.`,
    '',
    '| story | steps | page MiB | renderHtml ms | Chromium ms | baseline ms | Chromium / baseline | page height px | diagram width px | diagram in the window |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'Reproduce: `npm run bench:report` (`-- --reps N --out docs/benchmarks.md`).',
    '',
  ].join('\n');
  process.stdout.write(`\n${text}`);
  if (out) {
    writeSection(path.resolve(out), '## HTML report', text);
    process.stdout.write(`bench:report: wrote ${out}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:report: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
