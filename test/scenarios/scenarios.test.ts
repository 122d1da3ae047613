/**
 * Scenario tests: runs the engine on every scenario folder under test/scenarios/ that holds a
 * truth.json (made with shared/tools/compose-scenario) and checks the storyline against it,
 * as shared/design/storyline-contract.md scores it, plus the pitfall-specific outcomes.
 *
 * Every problem found in a scenario is collected and reported at once, so a failing case
 * lists all that is wrong with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { investigate } from '../../src/storyline/investigate';
import type { Step, Storyline } from '../../src/model/storyline';

interface Truth {
  origin: string | null;
  steps: string[];
  tactics: Record<string, string[]>;
  noise?: string[];
  lineage?: string[];
}

const SCENARIOS_DIR = __dirname;

/** UTC ISO 8601 with Z, whole seconds or milliseconds. */
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

const scenarios: string[] = fs
  .readdirSync(SCENARIOS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
  .filter((d) => fs.existsSync(path.join(SCENARIOS_DIR, d.name, 'truth.json')))
  .map((d) => d.name)
  .sort();

function readTruth(dir: string): Truth {
  return JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth;
}

function timeOf(s: string): number {
  return Date.parse(s);
}

/** The checks every scenario gets: the scored fields of the contract. */
function commonProblems(story: Storyline, truth: Truth): string[] {
  const problems: string[] = [];

  // origin
  const originId = story.origin ? story.origin.eventId : null;
  if (originId !== truth.origin) problems.push(`origin is ${originId}, expected ${truth.origin}`);

  // steps: exactly the truth's, no duplicates
  const ids = story.steps.map((s) => s.eventId);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) problems.push(`step ${id} printed twice`);
    seen.add(id);
  }
  const expected = new Set(truth.steps);
  const missing = truth.steps.filter((id) => !seen.has(id));
  const extra = ids.filter((id) => !expected.has(id));
  if (missing.length) problems.push(`missing truth steps: ${missing.join(', ')}`);
  if (extra.length) problems.push(`steps not in the truth: ${extra.join(', ')}`);

  // noise never printed
  const noise = new Set(truth.noise ?? []);
  const noisy = ids.filter((id) => noise.has(id));
  if (noisy.length) problems.push(`noise events printed as steps: ${noisy.join(', ')}`);

  // tactics of truth steps
  for (const step of story.steps) {
    const accepted = truth.tactics[step.eventId];
    if (!accepted || !accepted.length) continue;
    const got = step.tactic ? step.tactic.id : null;
    if (got === null || !accepted.includes(got)) {
      problems.push(`step ${step.eventId} (${step.eventName}) tactic ${got}, accepted ${accepted.join('|')}`);
    }
  }

  // order: eventTime, then eventId
  for (let i = 0; i < story.steps.length; i++) {
    const cur: Step | undefined = story.steps[i];
    if (!cur) continue;
    if (Number.isNaN(timeOf(cur.eventTime))) problems.push(`step ${cur.eventId} has an unreadable eventTime ${JSON.stringify(cur.eventTime)}`);
    const prev: Step | undefined = i > 0 ? story.steps[i - 1] : undefined;
    if (!prev) continue;
    const dt = timeOf(prev.eventTime) - timeOf(cur.eventTime);
    if (dt > 0 || (dt === 0 && prev.eventId > cur.eventId)) {
      problems.push(`steps out of order: ${prev.eventId} (${prev.eventTime}) before ${cur.eventId} (${cur.eventTime})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Scenario-specific expectations

/** p11: the odd eventTime forms and the UTC instant each one stands for. */
const P11_ODD_TIMES: Record<string, string> = {
  '8a823e19-525f-41b7-b44d-df19e0a4f15b': '2026-11-02T01:06:28Z', // 20261102T010628Z (origin)
  'e33fcbe3-4379-4f23-921d-ca45623dab0e': '2026-11-02T01:07:30Z', // Mon Nov 02 2026 01:07:30 GMT+0000 (…)
  '200e4e1b-5c94-4e9a-b5e7-30b71fdca622': '2026-11-02T01:08:05Z', // 2026-11-02T03:08:05+02:00
  '4a3745fc-847b-4c64-9cf3-1e12bec8708f': '2026-11-02T01:09:12Z', // 2026-11-01T20:09:12-05:00
  'f6b6adb6-a455-4e53-a410-e52baee959d6': '2026-11-02T01:10:11Z', // 20261102T011011Z
  '870c6444-c2ef-49ff-bfbd-8920c202d5d3': '2026-11-02T01:10:20Z', // 2026-11-02T03:10:20+02:00
  'd7c9cbd5-6f2d-4f24-82ff-7d91e28b2cf0': '2026-11-02T01:13:40Z', // 2026-11-02T01:13:40.000Z
};

/** p14: background records damaged in the LookupEvents pages (truncate ×2, null ×2, nonobject ×1). */
const P14_CORRUPTED = 5;

const SERVICE_SOURCE = /amazonaws\.com$/;

const specific: Record<string, (story: Storyline, truth: Truth) => string[]> = {
  'p11-odd-timestamps': (story) => {
    const problems: string[] = [];
    for (const s of story.steps) {
      if (!ISO_Z.test(s.eventTime)) problems.push(`step ${s.eventId} eventTime not UTC ISO with Z: ${JSON.stringify(s.eventTime)}`);
      const want = P11_ODD_TIMES[s.eventId];
      if (want !== undefined && timeOf(s.eventTime) !== timeOf(want)) {
        problems.push(`step ${s.eventId} eventTime ${s.eventTime}, expected ${want}`);
      }
    }
    if (story.origin) {
      if (!ISO_Z.test(story.origin.eventTime)) problems.push(`origin eventTime not UTC ISO with Z: ${JSON.stringify(story.origin.eventTime)}`);
      else if (timeOf(story.origin.eventTime) !== timeOf('2026-11-02T01:06:28Z')) problems.push(`origin eventTime ${story.origin.eventTime}, expected 2026-11-02T01:06:28Z`);
    }
    return problems;
  },

  'p14-broken-records': (story) => {
    const problems: string[] = [];
    const c = story.coverage;
    if (c.recordsSkipped !== P14_CORRUPTED) problems.push(`coverage.recordsSkipped ${c.recordsSkipped}, expected ${P14_CORRUPTED}`);
    if (c.filesSkipped !== 0) problems.push(`coverage.filesSkipped ${c.filesSkipped}, expected 0 (every page is a readable LookupEvents page)`);
    const reasons = Object.entries(c.skippedReasons ?? {});
    if (!reasons.length) problems.push('coverage.skippedReasons is empty');
    for (const [reason, n] of reasons) {
      if (!reason.trim()) problems.push('coverage.skippedReasons has an empty reason');
      if (!(typeof n === 'number' && n > 0)) problems.push(`coverage.skippedReasons[${JSON.stringify(reason)}] is ${n}`);
    }
    const total = reasons.reduce((a, [, n]) => a + n, 0);
    if (total !== c.recordsSkipped + c.filesSkipped) {
      problems.push(`coverage.skippedReasons counts ${total}, recordsSkipped + filesSkipped is ${c.recordsSkipped + c.filesSkipped}`);
    }
    return problems;
  },

  'p15-service-source-ip': (story) => {
    const problems: string[] = [];
    const attackerIps = new Set(story.attackerSources.map((a) => a.ip));
    const serviceSources = new Set(story.steps.map((s) => s.sourceIPAddress).filter((ip) => SERVICE_SOURCE.test(ip)));
    for (const svc of serviceSources) if (attackerIps.has(svc)) problems.push(`service name ${svc} listed as an attacker source`);
    for (const ip of attackerIps) {
      if (SERVICE_SOURCE.test(ip) || ip === 'AWS Internal') problems.push(`attackerSources holds a service, not an address: ${ip}`);
    }
    return problems;
  },

  'p16-identity-shapes': (story) => {
    const problems: string[] = [];
    story.lineage.forEach((arn, i) => {
      if (typeof arn !== 'string' || !arn.trim()) problems.push(`lineage[${i}] is empty: ${JSON.stringify(arn)}`);
    });
    for (const s of story.steps) {
      if (s.principalArn !== null && !s.principalArn.trim()) problems.push(`step ${s.eventId} has an empty principalArn`);
    }
    return problems;
  },
};

// ---------------------------------------------------------------------------

describe('storyline scenarios (test/scenarios)', () => {
  test('there are scenarios to run', () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });

  test.each(scenarios)('%s', async (name) => {
    const dir = path.join(SCENARIOS_DIR, name);
    const truth = readTruth(dir);
    // Throwing is a failure too (p16: every identity shape must be accepted).
    const story: Storyline = await investigate({
      findingFile: path.join(dir, 'finding.json'),
      cloudtrail: [path.join(dir, 'cloudtrail')],
    });
    const problems = commonProblems(story, truth);
    const extra = specific[name];
    if (extra) problems.push(...extra(story, truth));
    expect(problems).toEqual([]);
  });
});
