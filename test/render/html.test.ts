/**
 * The HTML report without a browser: escaping of attacker-chosen text, the hooks the browser
 * test and tools rely on (data-node, data-steps, data-event-id), the Content-Security-Policy,
 * no script, the size limit with 1,000 steps; plus the Markdown and Mermaid escaping.
 */
import { renderHtml, REPORT_CSP } from '../../src/render/html';
import { renderSvg } from '../../src/render/svg';
import { renderMarkdown } from '../../src/render/markdown';
import { renderText } from '../../src/render/text';
import { renderMermaid, mermaidLabel } from '../../src/render/mermaid';
import { esc, mdEscape, neutral } from '../../src/render/escape';
import { buildStoryGraph, MAX_ROWS_PER_PHASE } from '../../src/render/story-graph';
import type { Storyline } from '../../src/model/storyline';
import { largeStoryline, markupStoryline, MARKUP_SESSION, MARKUP_UA } from './synthetic';
import { MAX_EVIDENCE_ROWS } from '../../src/render/groups';

const GENERATED = '2026-02-03T04:05:06Z';

/** Decodes the entities `esc` writes, to read attribute values back. */
function unescape(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const TAG = /<([a-zA-Z][\w:-]*)((?:\s+[^\s=>"'/]+(?:="[^"]*")?)*)\s*\/?>/g;

/** Every attribute of every tag: [tag, name, value (decoded)]. Every tag must parse. */
function attributes(html: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  const body = html.replace(/<style>[\s\S]*?<\/style>/g, '');
  const starts = body.match(/<[a-zA-Z]/g)?.length ?? 0;
  const tags = [...body.matchAll(TAG)];
  if (tags.length !== starts) throw new Error(`${starts - tags.length} tag(s) with attributes not written by the renderer`);
  for (const tag of tags) {
    for (const a of (tag[2] ?? '').matchAll(/\s+([^\s=>]+)(?:="([^"]*)")?/g)) out.push([(tag[1] ?? '').toLowerCase(), (a[1] ?? '').toLowerCase(), unescape(a[2] ?? '')]);
  }
  return out;
}

function tagNames(html: string): Set<string> {
  const body = html.replace(/<style>[\s\S]*?<\/style>/g, '');
  return new Set([...body.matchAll(/<([a-zA-Z][\w:-]*)/g)].map((m) => (m[1] ?? '').toLowerCase()));
}

const ALLOWED_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'header', 'main', 'section', 'footer', 'h1', 'h2', 'h3', 'p', 'div', 'span', 'b', 'i', 'small', 'a', 'ol', 'ul', 'li',
  'table', 'colgroup', 'col', 'thead', 'tbody', 'tr', 'th', 'td', 'details', 'summary', 'pre', 'dl', 'dt', 'dd',
  'svg', 'defs', 'marker', 'path', 'g', 'rect', 'text', 'tspan', 'polygon', 'line', 'circle',
]);

describe('renderHtml: attacker-chosen text', () => {
  let html: string;
  const st = markupStoryline();
  beforeAll(async () => {
    html = await renderHtml(st, { generatedAt: GENERATED });
  });

  test('is one document with the strict CSP first in the head and no script', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const head = html.slice(0, html.indexOf('</head>'));
    expect(head).toContain(`<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">`);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    // The CSP comes before any content the browser would fetch or apply.
    expect(head.indexOf('Content-Security-Policy')).toBeLessThan(head.indexOf('<style>'));
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(GENERATED);
  });

  test('no tag but the renderer’s own, no event handler, no link but a fragment', () => {
    const tags = tagNames(html);
    for (const t of tags) expect(ALLOWED_TAGS.has(t) ? t : `unexpected <${t}>`).toBe(t);
    for (const [tag, name, value] of attributes(html)) {
      expect(name.startsWith('on') ? `${tag} ${name}` : '').toBe('');
      if (name === 'href' || name === 'src' || name === 'xlink:href' || name === 'action') {
        expect(value).not.toMatch(/javascript:/i);
        expect(value).toMatch(/^#[\w-]+$/);
      }
    }
    expect(html).not.toMatch(/<(img|iframe|object|embed|a\s+href="javascript)/i);
  });

  test('the markup is there, escaped, as text', () => {
    expect(html).toContain(esc(MARKUP_UA));
    expect(esc(MARKUP_UA)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href=&quot;javascript:alert(2)&quot;&gt;x&lt;/a&gt;');
    expect(html).toContain(esc(MARKUP_SESSION));
    expect(html).toContain('ops&quot;&lt;svg onload=alert(3)&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(4)&gt;');
    expect(html).not.toContain(MARKUP_UA);
    expect(html).not.toContain(MARKUP_SESSION);
  });

  test('every step is in the evidence and the timeline, and in a step node of the diagram', () => {
    for (const s of st.steps) {
      const n = html.split(`data-event-id="${esc(s.eventId)}"`).length - 1;
      expect(n).toBeGreaterThanOrEqual(2);
    }
    const attrs = attributes(html);
    const nodes = new Set(attrs.filter(([, n]) => n === 'data-node').map(([, , v]) => v));
    expect(nodes.has('origin')).toBe(true);
    expect(nodes.has('finding')).toBe(true);
    for (const p of st.lineage) expect(nodes.has(`identity:${p}`) ? p : `missing identity:${p}`).toBe(p);
    const covered = new Set(attrs.filter(([, n]) => n === 'data-steps').flatMap(([, , v]) => v.split(' ')));
    for (const s of st.steps) expect(covered.has(s.eventId) ? s.eventId : `missing ${s.eventId}`).toBe(s.eventId);
    // Step nodes are named by their first eventId.
    const stepNodes = attrs.filter(([, n, v]) => n === 'data-node' && v.startsWith('step:'));
    expect(stepNodes.length).toBeGreaterThan(0);
  });

  test('escalations show the policy granted and its document', () => {
    expect(html).toContain('inline policy p&quot;ol&lt;i&gt;');
    expect(html).toContain('javascript:alert(5)//&lt;script&gt;');
  });

  test('the SVG is deterministic', async () => {
    expect(await renderSvg(st)).toBe(await renderSvg(st));
    expect(await renderHtml(st, { generatedAt: GENERATED })).toBe(html);
  });
});

describe('renderHtml: size and folding', () => {
  test('1,000 steps stay under 2 MB, every step listed, the diagram folded', async () => {
    const st = largeStoryline(1000);
    expect(st.steps).toHaveLength(1000);
    const html = await renderHtml(st, { generatedAt: GENERATED });
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThan(2 * 1024 * 1024);
    // The evidence table groups runs of calls: every step is in exactly one row (its own, or a
    // group's data-steps), and the rows stay within the table's target length.
    const evidence = html.slice(html.indexOf('<section id="evidence"'), html.indexOf('</section>', html.indexOf('<section id="evidence"')));
    const rowAttrs = attributes(evidence).filter(([t, n]) => t === 'tr' && (n === 'data-event-id' || n === 'data-steps'));
    const inRows = rowAttrs.flatMap(([, , v]) => v.split(' '));
    expect([...inRows].sort()).toEqual(st.steps.map((s) => s.eventId).sort());
    expect(rowAttrs.length).toBeLessThanOrEqual(MAX_EVIDENCE_ROWS);
    expect(rowAttrs.length).toBeLessThan(st.steps.length);
    const attrs = attributes(html);
    const stepNodes = attrs.filter(([, n, v]) => n === 'data-node' && v.startsWith('step:'));
    expect(stepNodes.length).toBeLessThan(250);
    const covered = new Set(attrs.filter(([t, n]) => t === 'g' && n === 'data-steps').flatMap(([, , v]) => v.split(' ')));
    for (const s of st.steps) expect(covered.has(s.eventId)).toBe(true);
    expect(html).not.toMatch(/<script/i);
  });

  test('repeated calls fold into one row with a count; a long discovery run is a summarised burst', () => {
    const st = largeStoryline(1000);
    const g = buildStoryGraph(st);
    for (const p of g.phases) expect(p.rows.length).toBeLessThanOrEqual(MAX_ROWS_PER_PHASE);
    const first = g.phases[0];
    expect(first?.tactic?.id).toBe('TA0007');
    expect(first?.burst).toBe(true);
    expect(first?.rows.some((r) => r.summary && r.steps.length > 100)).toBe(true);
    const bulk = g.phases.find((p) => p.rows.some((r) => r.eventName === 'GetObject'));
    const row = bulk?.rows.find((r) => r.eventName === 'GetObject');
    expect(row?.steps.length).toBeGreaterThanOrEqual(300);
  });

  test('a storyline without steps or origin still renders the finding', async () => {
    const st: Storyline = { ...markupStoryline(), steps: [], origin: null, lineage: [], lineageEdges: [], attackerSources: [] };
    const html = await renderHtml(st, { generatedAt: GENERATED });
    expect(html).toContain('data-node="finding"');
    expect(html).not.toContain('data-node="origin"');
    expect(html).toContain('No steps.');
  });

  test('legitimate lineage edges are drawn grey and dashed, attacker ones red', async () => {
    const st = largeStoryline(60);
    const svg = await renderSvg(st);
    expect(svg).toMatch(/data-by-attacker="false"[^>]*class="edge lineage-legit"><path [^>]*stroke="#9e9e9e"[^>]*stroke-dasharray/);
    expect(svg).toMatch(/data-by-attacker="true"[^>]*class="edge lineage-attacker"><path [^>]*stroke="#c62828"/);
    expect(svg).toContain('data-node="identity:service:ec2.amazonaws.com"');
  });
});

describe('escaping functions', () => {
  test('the tag reader of these tests finds what an injection would make', () => {
    expect(() => attributes(`<a href='javascript:x'>`)).toThrow();
    expect(attributes('<a href="javascript:x" onclick="y">')).toEqual([['a', 'href', 'javascript:x'], ['a', 'onclick', 'y']]);
  });

  test('esc escapes markup for text and attributes', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(esc(null)).toBe('');
    expect(esc(5)).toBe('5');
  });

  test('control and bidirectional characters are neutralised', () => {
    expect(neutral('a\u001b[31mb\u0000c')).toBe('a [31mb c');
    expect(neutral('evil\u202Etxt.exe')).toBe('evil[U+202E]txt.exe');
    expect(esc('x\u2066y')).toBe('x[U+2066]y');
    // Zero-width characters make two names look alike: shown too.
    expect(neutral('admin\u200b\ufeff')).toBe('admin[U+200B][U+FEFF]');
  });

  test('the text timeline shows attacker-chosen names without control, bidirectional or invisible characters', () => {
    const st = markupStoryline();
    const evil = 'arn:aws:iam::111122223333:user/abc\u202egnp.exe\u200b\u001b]0;pwned\u0007\nx';
    st.steps[0] = { ...st.steps[0]!, principalArn: evil, userAgent: 'ua\u2066x' };
    st.lineage = [evil];
    const out = renderText(st, { width: 100 });
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
    expect(out).toContain('abc[U+202E]gnp.exe[U+200B][U+001B]]0;pwned[U+0007][U+000A]x');
  });

  test('mdEscape leaves no Markdown or HTML syntax', () => {
    const md = mdEscape('[click](javascript:alert(1)) ![i](x) <b>x</b> **b** `c` | @team #12 $x$\nline');
    expect(md).toBe('\\[click\\]\\(javascript:alert\\(1\\)\\) \\!\\[i\\]\\(x\\) &lt;b&gt;x&lt;/b&gt; \\*\\*b\\*\\* \\`c\\` \\| \\@team \\#12 \\$x\\$ line');
  });

  test('renderMarkdown escapes every value', () => {
    const md = renderMarkdown(markupStoryline());
    expect(md).not.toMatch(/<script|<a |<img|<svg/i);
    expect(md).not.toMatch(/(^|[^\\])\]\(/m);
    expect(md).toContain('&lt;script&gt;alert\\(1\\)&lt;/script&gt;');
    for (const line of md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| #'))) {
      // Table rows keep their 12 cells whatever the values hold.
      if (/^\| \d+ \|/.test(line)) expect(line.split(/(?<!\\)\|/).length - 2).toBe(12);
    }
  });

  test('mermaidLabel escapes # first, so entity codes in the text stay text', () => {
    expect(mermaidLabel('#lt;script#gt;')).toBe('#35;lt;script#35;gt;');
    expect(mermaidLabel('a"b<c>\nd[e]')).toBe('a#quot;b#lt;c#gt; d#91;e#93;');
    const mmd = renderMermaid(markupStoryline());
    expect(mmd).not.toMatch(/<script|<svg|<img|javascript:alert\(2\)"/i);
    for (const line of mmd.split('\n').slice(1)) expect(line.split('"').length % 2).toBe(1);
  });
});
