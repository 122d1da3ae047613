/**
 * Runs of similar calls (src/render/groups.ts) and the formats that show them: the text
 * timeline fitted to a width, the Mermaid flowchart within Mermaid's limits.
 */
import type { Step, Storyline, Tactic } from '../../src/model/storyline';
import { evidenceRowOf, GROUP_GAP_MS, groupCalls, groupSpan, groupSteps, groupTactics, MAX_GROUPS } from '../../src/render/groups';
import { renderText, wrap } from '../../src/render/text';
import { renderMermaid } from '../../src/render/mermaid';
import { largeStoryline } from './synthetic';

const DISC: Tactic = { id: 'TA0007', name: 'Discovery' };
const PRIV: Tactic = { id: 'TA0004', name: 'Privilege Escalation' };
const COLL: Tactic = { id: 'TA0009', name: 'Collection' };
const USER = 'arn:aws:iam::111122223333:user/leaked';
const ROLE = 'arn:aws:sts::111122223333:assumed-role/Data/s';
const T0 = Date.parse('2026-03-01T10:00:00Z');

let n = 0;
function step(offsetSec: number, eventName: string, tactic: Tactic | null, extra: Partial<Step> = {}): Step {
  n++;
  return {
    eventId: `ev-${String(n).padStart(4, '0')}`,
    eventTime: new Date(T0 + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'iam.amazonaws.com',
    eventName,
    accountId: '111122223333',
    region: 'us-east-1',
    principalArn: USER,
    sourceIPAddress: '203.0.113.7',
    tactic,
    errorCode: null,
    reason: 'attacker-source',
    ...extra,
  };
}

function story(steps: Step[], extra: Partial<Storyline> = {}): Storyline {
  return {
    schemaVersion: '1',
    finding: { id: 'f', type: 'Discovery:IAMUser/AnomalousBehavior', accountId: '111122223333', region: 'us-east-1' },
    origin: steps[0] ? { eventId: steps[0].eventId, eventTime: steps[0].eventTime, eventName: steps[0].eventName, reason: 'first use' } : null,
    steps,
    lineage: [USER],
    lineageEdges: [],
    attackerSources: [],
    coverage: { sample: false, filesRead: 1, filesSkipped: 0, recordsRead: steps.length, recordsSkipped: 0, skippedReasons: {}, accounts: [], regions: [], timeSpan: { from: null, to: null }, gaps: [] },
    summary: 's',
    ...extra,
  } as Storyline;
}

/** Every step in exactly one group, the groups in order of their first step. */
function expectPartition(st: Storyline, groups: { steps: Step[] }[]): void {
  expect(groups.flatMap((g) => g.steps.map((s) => s.eventId)).sort()).toEqual(st.steps.map((s) => s.eventId).sort());
  const firsts = groups.map((g) => st.steps.indexOf(g.steps[0] as Step));
  expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
}

describe('groupSteps', () => {
  test('a story within the target length keeps one step a line', () => {
    const st = story([step(0, 'GetCallerIdentity', DISC), step(10, 'ListUsers', DISC), step(20, 'ListRoles', DISC)]);
    const r = groupSteps(st);
    expect(r.level).toBe('each');
    expect(r.groups.map((g) => g.steps.length)).toEqual([1, 1, 1]);
  });

  test('calls less than five minutes apart are one group; a pause of five minutes starts another', () => {
    const origin = step(0, 'GetCallerIdentity', DISC);
    const run = [10, 60, 200, 299 + 200].map((t, i) => step(t, `List${i}`, DISC));
    // 499 - 200 = 299 s: still within; the next, exactly five minutes after, is not.
    const after = step(499 + GROUP_GAP_MS / 1000, 'ListLate', DISC);
    const st = story([origin, ...run, after]);
    const r = groupSteps(st, { maxGroups: 3 });
    expect(r.level).toBe('tactic-and-service');
    expect(r.groups.map((g) => g.steps.map((s) => s.eventName))).toEqual([['GetCallerIdentity'], ['List0', 'List1', 'List2', 'List3'], ['ListLate']]);
    const g = r.groups[1];
    expect(g?.first.eventName).toBe('List0');
    expect(g?.last.eventName).toBe('List3');
    expect(groupSpan(g!)).toBe('2026-03-01T10:00:10Z..10:08:19Z');
  });

  test('another principal’s calls in between do not break a run; a different source does', () => {
    const st = story([
      step(0, 'GetCallerIdentity', DISC),
      step(10, 'ListUsers', DISC),
      step(11, 'GetObject', COLL, { principalArn: ROLE, eventSource: 's3.amazonaws.com' }),
      step(12, 'ListRoles', DISC),
      step(13, 'ListGroups', DISC, { sourceIPAddress: '198.51.100.1' }),
      step(14, 'ListPolicies', DISC),
    ]);
    const r = groupSteps(st, { maxGroups: 4 });
    expect(r.groups.map((g) => g.steps.map((s) => s.eventName))).toEqual([['GetCallerIdentity'], ['ListUsers', 'ListRoles', 'ListPolicies'], ['GetObject'], ['ListGroups']]);
    expectPartition(st, r.groups);
  });

  test('the origin, lineage evidence, grants and failed privilege changes stay on their own', () => {
    const steps = [
      step(0, 'ListUsers', DISC),
      step(5, 'ListRoles', DISC),
      step(6, 'AssumeRole', PRIV, { eventSource: 'sts.amazonaws.com' }),
      step(7, 'ListPolicies', DISC),
      step(8, 'AttachUserPolicy', PRIV, { grants: [{ kind: 'managed-policy', target: 'leaked', value: 'arn:aws:iam::aws:policy/AdministratorAccess' }] }),
      step(9, 'PutUserPolicy', PRIV, { errorCode: 'AccessDenied' }),
      step(10, 'PutRolePolicy', PRIV),
      step(11, 'ListGroups', DISC),
    ];
    const st = story(steps, { lineageEdges: [{ from: USER, to: ROLE, via: 'AssumeRole', eventId: steps[2]!.eventId, eventTime: steps[2]!.eventTime, byAttacker: true }] });
    // However coarse the grouping, these four are groups of their own.
    const r = groupSteps(st, { maxGroups: 1 });
    const alone = r.groups.filter((g) => g.pinned).map((g) => g.steps.map((s) => s.eventName));
    expect(alone).toEqual([['ListUsers'], ['AssumeRole'], ['AttachUserPolicy'], ['PutUserPolicy']]);
    expect(r.groups.find((g) => g.origin)?.first.eventName).toBe('ListUsers');
    expectPartition(st, r.groups);
    // At the coarsest level a pinned step closes its stream's run: what follows starts another.
    const source = groupSteps(st, { maxGroups: 1, gapMs: GROUP_GAP_MS });
    expect(source.groups.length).toBeLessThan(st.steps.length);
    const last = source.groups[source.groups.length - 1]!;
    expect(last.steps.map((s) => s.eventName)).toEqual(source.level === 'source' ? ['PutRolePolicy', 'ListGroups'] : ['PutRolePolicy']);
    const mixed = groupSteps(story(steps.slice(6), { origin: null }), { maxGroups: 1 }).groups[0]!;
    expect(groupTactics(mixed)).toBe('Privilege Escalation x1, Discovery x1');
    expect(groupCalls(mixed)).toBe('iam:PutRolePolicy, iam:ListGroups');
  });

  test('a large story comes down to the target length, every step in one group', () => {
    const st = largeStoryline(2000);
    const r = groupSteps(st);
    expect(r.groups.length).toBeLessThanOrEqual(MAX_GROUPS);
    expect(r.groups.length).toBeGreaterThan(3);
    expectPartition(st, r.groups);
    for (const e of st.lineageEdges) {
      const g = r.groups.find((x) => x.steps.some((s) => s.eventId === e.eventId));
      if (st.steps.some((s) => s.eventId === e.eventId)) expect(g?.steps).toHaveLength(1);
    }
    const big = r.groups.reduce((a, b) => (b.steps.length > a.steps.length ? b : a));
    expect(groupCalls(big, 2)).toMatch(/^s3:GetObject x\d+(, .+)?$/);
  });

  test('evidenceRowOf gives every step the row that holds it', () => {
    const st = largeStoryline(1000);
    const rows = evidenceRowOf(st);
    expect(rows.size).toBe(1000);
    for (const s of st.steps) expect(rows.get(s.eventId)).toBeGreaterThanOrEqual(1);
    expect(rows.get(st.origin!.eventId)).toBe(1);
  });
});

describe('text: fitted to the width', () => {
  test('wrap keeps fields whole, breaks a long field at words, and puts a token wider than the line alone', () => {
    expect(wrap('alpha beta  gamma delta', 14, '  ')).toEqual(['  alpha beta', '  gamma delta']);
    const arn = 'arn:aws:sts::123456789012:assumed-role/a-very-long-role-name/a-session';
    expect(wrap(`to ${arn} and more`, 40, '    ')).toEqual(['    to', arn, '    and more']);
    expect(wrap('one two three four five six', 12, '', 2)).toEqual(['one two', '  three four', '  five six']);
  });

  test.each([40, 80, 132])('every line fits %i columns unless it is one token; every run names its first and last eventID', (width) => {
    const st = largeStoryline(2000);
    const out = renderText(st, { width });
    const lines = out.split('\n');
    for (const l of lines) if (l.length > width) expect(l.trim()).not.toMatch(/\s/);
    // Tokens are never cut: every eventID, principal and key is there whole.
    for (const g of groupSteps(st).groups) {
      expect(out).toContain(g.first.eventId);
      expect(out).toContain(g.last.eventId);
    }
    // The origin's eventID opens its line, or (narrower than the ID) the line after.
    const at = lines.findIndex((l) => l.startsWith('Origin'));
    expect(`${lines[at]} ${width < 45 ? lines[at + 1] : ''}`).toContain(st.origin!.eventId);
    for (const p of st.lineage) expect(out).toContain(p);
    expect(lines.length).toBeLessThan(600);
  });

  test('a short story lists each step with its eventID', () => {
    const st = story([step(0, 'GetCallerIdentity', DISC), step(10, 'ListUsers', DISC)]);
    const out = renderText(st, { width: 200 });
    expect(out).toContain('Timeline (2 steps)');
    expect(out).toMatch(/> 2026-03-01T10:00:00Z {2}us-east-1 {2}TA0007 Discovery {2}iam:GetCallerIdentity {2}from 203\.0\.113\.7 {2}eventID ev-\d+/);
  });
});

describe('mermaid: within Mermaid’s limits', () => {
  test('a 2,000-step story stays under 500 edges and 50,000 characters, no label empty', () => {
    const mmd = renderMermaid(largeStoryline(2000));
    // mermaid's defaults: maxEdges 500, maxTextSize 50,000.
    expect((mmd.match(/-->|-\.-/g) ?? []).length).toBeLessThan(500);
    expect(mmd.length).toBeLessThan(50_000);
    expect(mmd).not.toMatch(/""|\(\)|\[\]/);
    expect(mmd).toContain('s3:GetObject x');
    // Every run names its first and last eventID.
    const { groups } = groupSteps(largeStoryline(2000), { maxGroups: 60 });
    for (const g of groups) expect(mmd).toContain(g.steps.length > 1 ? `first ${g.first.eventId}, last ${g.last.eventId}` : g.first.eventId);
  });

  test('a story of a thousand grants folds them too, and says so; a 100 KB name is clipped', () => {
    const st = largeStoryline(3000);
    st.steps = st.steps.map((s, i) => (i % 3 === 0 ? { ...s, grants: [{ kind: 'session' as const, value: `arn:aws:sts::111122223333:assumed-role/R/s${i}` }] } : s));
    const huge = `arn:aws:iam::111122223333:user/${'x'.repeat(100_000)}`;
    st.lineage = [...st.lineage, huge];
    const mmd = renderMermaid(st);
    expect((mmd.match(/-->|-\.-/g) ?? []).length).toBeLessThan(500);
    expect(mmd.length).toBeLessThan(50_000);
    expect(mmd).toContain("%% 3000 steps folded into runs without exception to stay within Mermaid's limits");
    expect(mmd).toContain(`111122223333:user/${'x'.repeat(100)}`);
    expect(mmd).not.toContain('x'.repeat(200));
    // A story within the limits keeps its grants on their own and has no such comment.
    expect(renderMermaid(largeStoryline(2000))).not.toContain('%%');
  });
});
