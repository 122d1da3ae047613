/**
 * `--format mermaid` always parses: checked with the real Mermaid parser (the `mermaid` package
 * in a child process, test/render/mermaid-parse.mjs) over every scenario of test/scenarios and
 * over storylines built here: principals without an ARN (labels never empty), hostile labels,
 * and stories far past Mermaid's default `maxEdges` (500), which must be grouped under it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Step, Storyline } from '../../src/model/storyline';
import { mermaidLabel, renderMermaid } from '../../src/render/mermaid';
import { investigate } from '../../src/storyline/investigate';
import { largeStoryline, manyPrincipalsStoryline, markupStoryline } from './synthetic';

const PARSER = path.join(__dirname, 'mermaid-parse.mjs');
const SCENARIOS = path.resolve(__dirname, '../scenarios');

/** Mermaid's error for each diagram (null: it parses), from the real parser. */
function parse(diagrams: string[]): (string | null)[] {
  const r = spawnSync(process.execPath, [PARSER], { input: JSON.stringify(diagrams), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`mermaid-parse.mjs exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as (string | null)[];
}

/** Edges as Mermaid counts them: one per link line. */
function edgeCount(text: string): number {
  return text.split('\n').filter((l) => /^\s+n\d+ (-->|-\.-)/.test(l)).length;
}

/** A storyline whose principals have no ARN (AWS services, the callee's copy of a cross-account call) and whose lineage holds keys and empty names. */
function noArnStoryline(): Storyline {
  const st = markupStoryline();
  const steps: Step[] = st.steps.map((s, i) => ({ ...s, principalArn: i % 2 === 0 ? null : '', sourceIPAddress: i === 0 ? 'lambda.amazonaws.com' : s.sourceIPAddress }));
  return {
    ...st,
    steps,
    lineage: ['', 'arn:', 'AKIAEXAMPLE000000001', ' \u0000\u001b ', '\u200b'],
    lineageEdges: [
      { from: '', to: 'arn:', via: '', eventId: steps[0]?.eventId ?? 'x', eventTime: '', byAttacker: true },
      { from: 'arn:', to: ' \u0000\u001b ', via: '\n', eventId: steps[1]?.eventId ?? 'y', eventTime: '2026-01-02T10:00:20Z', byAttacker: true },
    ],
    finding: { ...st.finding, type: '' },
  };
}

describe('mermaidLabel', () => {
  test('never empty: nothing to show gives (unnamed)', () => {
    expect(mermaidLabel('')).toBe('#40;unnamed#41;');
    expect(mermaidLabel(' \u0000\u001b\t\n ')).toBe('#40;unnamed#41;');
    expect(mermaidLabel('\u200b')).toBe('#91;U+200B#93;');
  });

  test('quotes, markup and entity syntax cannot close or inject', () => {
    expect(mermaidLabel('a"b<script>#lt;|x|')).toBe('a#quot;b#lt;script#gt;#35;lt;#124;x#124;');
  });

  test('capped at 8 KiB of input with the marker', () => {
    const l = mermaidLabel('x'.repeat(100_000));
    expect(l.length).toBeLessThan(8300);
    expect(l).toContain('… #91;truncated, 100,000 bytes in all#93;');
  });
});

describe('renderMermaid parses with the real Mermaid parser', () => {
  test('principals without an ARN, empty names and types: no empty label, and it parses', () => {
    const text = renderMermaid(noArnStoryline());
    expect(text).not.toMatch(/\(""\)|\[""\]|\{\{""\}\}|\|""\|/);
    expect(text).toContain('#40;unnamed#41;');
    expect(parse([text])).toEqual([null]);
  });

  test('hostile labels (markup, quotes, control characters) parse', () => {
    const st = markupStoryline();
    st.steps[0] = { ...(st.steps[0] as Step), eventName: 'Get"Caller#quot;]]\u001b[2J)|x|' };
    expect(parse([renderMermaid(st)])).toEqual([null]);
  });

  test('1,400 lineage arrows and 700 principals each from its own address: grouped under 500 edges, and it parses', () => {
    const st = manyPrincipalsStoryline(700, 2);
    expect(st.lineageEdges.length).toBe(1400);
    const text = renderMermaid(st);
    expect(edgeCount(text)).toBeLessThanOrEqual(480);
    expect(text.length).toBeLessThanOrEqual(50_000);
    expect(text).toMatch(/%% \d+ of 1400 lineage arrows left out/);
    expect(text).toMatch(/more runs: \d+ calls/);
    const [err] = parse([text]);
    expect(err).toBeNull();
  });

  test('5,000 steps: grouped under 500 edges, and it parses', () => {
    const text = renderMermaid(largeStoryline(5000));
    expect(edgeCount(text)).toBeLessThanOrEqual(480);
    expect(parse([text])).toEqual([null]);
  });

  test('every scenario of test/scenarios: no empty label, and it parses', async () => {
    const names = fs
      .readdirSync(SCENARIOS, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(SCENARIOS, d.name, 'finding.json')))
      .map((d) => d.name)
      .sort();
    expect(names.length).toBeGreaterThanOrEqual(26);
    const texts: string[] = [];
    for (const name of names) {
      const dir = path.join(SCENARIOS, name);
      const st = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [path.join(dir, 'cloudtrail')] });
      texts.push(renderMermaid(st));
    }
    for (const t of texts) expect(t).not.toMatch(/\(""\)|\[""\]|\{\{""\}\}|\|""\|/);
    const errors = parse(texts);
    expect(names.map((n, i) => [n, errors[i]])).toEqual(names.map((n) => [n, null]));
  });
});
