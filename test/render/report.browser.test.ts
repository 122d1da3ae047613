/**
 * The HTML report of every scenario opened in real headless Chromium (playwright-core, Debian's
 * /usr/bin/chromium): the origin, every lineage identity and every step has its node, nothing
 * is logged as an error, no request leaves the page, the diagram fits a 1,400-pixel window
 * without a scroll bar, and in the markup scenario nothing runs
 * and the attacker's markup is visible as text. A screenshot of each report is taken into the
 * run's temporary folder (removed after the run; kept in TRAILSTORY_SCREENSHOTS_DIR when that is
 * set). The two screenshots under docs/ (scenarios a and d of ../shared/scenarios) are rewritten
 * only when asked, with TRAILSTORY_DOCS_SCREENSHOTS=1: a test run leaves the work tree as it is.
 *
 * Skipped, with a one-line notice, when /usr/bin/chromium is missing; the shared scenarios
 * (../shared/scenarios) are skipped, with a notice, when that folder is missing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { investigate } from '../../src/storyline/investigate';
import { renderHtml } from '../../src/render/html';
import type { Storyline } from '../../src/model/storyline';

// The page's DOM as far as the checks below use it (the project compiles without the DOM lib;
// these declarations are local to this module and run only inside page.evaluate).
interface DomAttr {
  name: string;
}
interface DomEl {
  getAttribute(name: string): string | null;
  attributes: ArrayLike<DomAttr>;
  textContent: string | null;
  getBoundingClientRect(): { width: number };
  scrollWidth: number;
  clientWidth: number;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<DomEl>; querySelector(selector: string): DomEl | null; body: { innerText: string } };
declare const window: Record<string, unknown>;

const CHROMIUM = '/usr/bin/chromium';
const REPO = path.resolve(__dirname, '..', '..');
const OWN = path.join(REPO, 'test', 'scenarios');
const SHARED = path.resolve(REPO, '..', 'shared', 'scenarios');
const DOCS = path.join(REPO, 'docs');
const MARKUP = 'x-markup-injection';
const DOC_SHOTS_SHARED = ['a-leaked-key-cryptomining', 'd-role-chain-same-account'];
const GENERATED = '2026-01-01T00:00:00Z';

function scenarioDirs(root: string): { name: string; dir: string }[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => ({ name: d.name, dir: path.join(root, d.name) }))
    .filter((s) => fs.existsSync(path.join(s.dir, 'finding.json')) && fs.existsSync(path.join(s.dir, 'cloudtrail')))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const hasChromium = fs.existsSync(CHROMIUM);
const hasShared = fs.existsSync(SHARED);
if (!hasChromium) process.stdout.write(`report.browser.test: ${CHROMIUM} not found, browser tests skipped\n`);
else if (!hasShared) process.stdout.write(`report.browser.test: ${SHARED} not found, shared scenarios skipped\n`);

const own = scenarioDirs(OWN).map((s) => ({ ...s, label: `test/scenarios/${s.name}` }));
const shared = scenarioDirs(SHARED).map((s) => ({ ...s, label: `shared/scenarios/${s.name}` }));
// The largest real story the repo ships: 2,419 steps of the Invictus trail.
const invictus = { name: 'invictus', dir: path.join(REPO, 'events', 'invictus'), label: 'events/invictus' };
const all = [...own, ...shared, ...(fs.existsSync(path.join(invictus.dir, 'finding.json')) ? [invictus] : [])];
// The docs' screenshots are those of the README (docs/report-<scenario>.png), written only when asked.
const writeDocShots = process.env.TRAILSTORY_DOCS_SCREENSHOTS === '1';
const docShots = new Set(writeDocShots ? DOC_SHOTS_SHARED.filter((n) => shared.some((s) => s.name === n)) : []);
if (writeDocShots && docShots.size < DOC_SHOTS_SHARED.length) {
  process.stdout.write(`report.browser.test: TRAILSTORY_DOCS_SCREENSHOTS=1 but ${SHARED} lacks ${DOC_SHOTS_SHARED.filter((n) => !docShots.has(n)).join(', ')}: those docs screenshots not written\n`);
}
const keepShots = process.env.TRAILSTORY_SCREENSHOTS_DIR;

const suite = hasChromium && all.length > 0 ? describe : describe.skip;

suite('HTML report in headless Chromium', () => {
  let ctx: BrowserContext;
  let profile: string;
  let shots: string;
  let work: string;

  beforeAll(async () => {
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-chromium-'));
    if (keepShots) fs.mkdirSync((shots = path.resolve(keepShots)), { recursive: true });
    else shots = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-shots-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-reports-'));
    // launchPersistentContext passes the fresh profile folder as --user-data-dir.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
      offline: false,
    });
    if (keepShots) process.stdout.write(`report.browser.test: screenshots in ${shots}\n`);
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
    if (!keepShots) fs.rmSync(shots, { recursive: true, force: true });
  });

  interface Visit {
    page: Page;
    errors: string[];
    requests: string[];
    dialogs: string[];
  }

  async function open(file: string): Promise<Visit> {
    const page = await ctx.newPage();
    const v: Visit = { page, errors: [], requests: [], dialogs: [] };
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error') v.errors.push(m.text());
    });
    page.on('pageerror', (e) => v.errors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== url) v.requests.push(r.url());
    });
    page.on('dialog', (d) => {
      v.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    return v;
  }

  test.each(all.map((s) => [s.label, s] as const))('%s', async (_label, s) => {
    const st: Storyline = await investigate({ findingFile: path.join(s.dir, 'finding.json'), cloudtrail: [path.join(s.dir, 'cloudtrail')] });
    const html = await renderHtml(st, { generatedAt: GENERATED });
    const file = path.join(work, `${s.name}.html`);
    fs.writeFileSync(file, html);
    const v = await open(file);
    try {
      const found = await v.page.evaluate(() => {
        const nodes = Array.from(document.querySelectorAll('[data-node]'), (e) => e.getAttribute('data-node') ?? '');
        const stepIds: string[] = [];
        for (const e of Array.from(document.querySelectorAll('[data-node^="step:"]'))) {
          stepIds.push((e.getAttribute('data-node') ?? '').slice(5), ...(e.getAttribute('data-steps') ?? '').split(' '));
        }
        const w = window;
        return {
          nodes,
          stepIds,
          // A row is one step (data-event-id) or a run of them (data-steps).
          evidence: Array.from(document.querySelectorAll('#evidence tr[data-event-id], #evidence tr[data-steps]'), (e) => e.getAttribute('data-event-id') ?? e.getAttribute('data-steps') ?? '').flatMap((v) => v.split(' ')),
          pwned: '__pwned' in w ? String(w.__pwned) : null,
          active: document.querySelectorAll('script, iframe, img, object, embed, foreignObject').length,
          handlers: Array.from(document.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => /^on/i.test(a.name))).length,
          badLinks: Array.from(document.querySelectorAll('[href], [src], [xlink\\:href]')).filter((e) => !/^#/.test(e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('xlink:href') ?? '')).length,
          svgWidth: document.querySelector('svg.flow')?.getBoundingClientRect().width ?? 0,
          diagram: { scroll: document.querySelector('#flow .diagram')?.scrollWidth ?? 0, client: document.querySelector('#flow .diagram')?.clientWidth ?? 0 },
        };
      });
      const nodes = new Set(found.nodes);
      const problems: string[] = [];
      if (st.origin && !nodes.has('origin')) problems.push('no origin node');
      if (!nodes.has('finding')) problems.push('no finding node');
      for (const p of st.lineage) if (!nodes.has(`identity:${p}`)) problems.push(`no node for lineage identity ${p}`);
      const stepIds = new Set(found.stepIds);
      for (const step of st.steps) if (!stepIds.has(step.eventId)) problems.push(`no step node for ${step.eventId}`);
      const evidence = new Set(found.evidence);
      for (const step of st.steps) if (!evidence.has(step.eventId)) problems.push(`no evidence row for ${step.eventId}`);
      // The diagram fits the 1,400-pixel window: nothing of it behind a horizontal scroll bar.
      if (found.diagram.scroll > found.diagram.client) problems.push(`the diagram scrolls: ${found.diagram.scroll} px in ${found.diagram.client} px`);
      if (v.errors.length) problems.push(`console errors: ${v.errors.join(' | ')}`);
      if (v.requests.length) problems.push(`requests left the page: ${v.requests.join(', ')}`);
      if (v.dialogs.length) problems.push(`dialogs opened: ${v.dialogs.join(', ')}`);
      if (found.pwned !== null) problems.push(`script ran: window.__pwned = ${found.pwned}`);
      if (found.active) problems.push(`${found.active} active element(s) (script, iframe, img, object, embed)`);
      if (found.handlers) problems.push(`${found.handlers} element(s) with an on* handler`);
      if (found.badLinks) problems.push(`${found.badLinks} link(s) that are not fragment links`);

      if (s.name === MARKUP) {
        // The attacker's markup is visible as text: in the evidence (user agents), the diagram
        // (the backdoor user's path in its ARN) and the escalation (the policy document).
        const texts = await v.page.evaluate(() => ({
          body: document.body.innerText,
          svg: Array.from(document.querySelectorAll('svg.flow text'), (t) => t.textContent ?? '').join('\n'),
        }));
        const uas = [...new Set(st.steps.map((x) => x.userAgent ?? '').filter((u) => u.includes('<')))];
        if (uas.length < 2) problems.push('the markup scenario lost its markup user agents');
        for (const ua of uas) if (!texts.body.includes(ua)) problems.push(`user agent not shown as text: ${ua}`);
        for (const t of ['<script>window.__pwned=8</script>/', 'javascript:alert(13)']) {
          if (!texts.body.includes(t)) problems.push(`not shown as text: ${t}`);
        }
        if (!texts.svg.includes('<script>window.__pwned=8</script>/')) problems.push('the diagram does not show the backdoor user’s path as text');
        const visible = await v.page.getByText('<script>window.__pwned=1;alert(1)</script>', { exact: false }).first().isVisible();
        if (!visible) problems.push('the attacker’s user agent is not visible');
      }
      expect(problems).toEqual([]);

      // The screenshot: the top of the report (the story and the attack flow), in the 1,400-pixel window.
      const width = 1400;
      const flow = await v.page.locator('#flow').boundingBox();
      const height = Math.ceil((flow?.y ?? 0) + (flow?.height ?? 1000) + 16);
      const shot = path.join(shots, `${s.name}.png`);
      await v.page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width, height } });
      expect(fs.statSync(shot).size).toBeGreaterThan(0);
      if (docShots.has(s.name)) fs.copyFileSync(shot, path.join(DOCS, `report-${s.name}.png`));
    } finally {
      await v.page.close();
    }
  });
});
