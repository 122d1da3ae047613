/**
 * `trailstory investigate --format ocsf` on every public scenario (../shared/scenarios, or
 * $TRAILSTORY_SHARED/scenarios): the Detection Finding validates against the OCSF 1.1.0 schema
 * (test/support/ocsf-schema.ts) and its related_events are exactly the storyline's steps, by
 * CloudTrail event ID in order, then the GuardDuty finding. Without ../shared the scenario tests
 * skip with one notice; the compiled CLI (dist/, `npm run build:ts`) is run once as a child
 * process; the help names the format.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { run } from '../cli/harness';
import { loadOcsfSchema, OcsfValidator, ocsfSchemaDir, sharedDir } from '../support/ocsf-schema';

const ROOT = path.resolve(__dirname, '../..');
const NOW = '2026-11-29T12:00:00Z';
const SCENARIOS = path.join(sharedDir(), 'scenarios');
const SCHEMA_DIR = ocsfSchemaDir();
const names = fs.existsSync(SCENARIOS) && fs.existsSync(path.join(SCHEMA_DIR, 'dictionary.json')) ? fs.readdirSync(SCENARIOS).filter((d) => fs.existsSync(path.join(SCENARIOS, d, 'truth.json'))).sort() : [];
if (names.length === 0) process.stdout.write(`${SCENARIOS} or ${SCHEMA_DIR} not found: skipping the --format ocsf scenario tests\n`);

interface RelatedEvent {
  uid: string;
  type?: string;
  product_uid?: string;
}

function args(name: string, format: string): string[] {
  const dir = path.join(SCENARIOS, name);
  return ['investigate', '--finding', path.join(dir, 'finding.json'), '--cloudtrail', path.join(dir, 'cloudtrail'), '--format', format, '--now', NOW];
}

describe('--format ocsf on every public scenario', () => {
  let validator: OcsfValidator;
  beforeAll(() => {
    if (names.length) validator = new OcsfValidator(loadOcsfSchema(SCHEMA_DIR));
  });

  (names.length > 0 ? test.each(names) : test.skip.each(['none']))('%s: valid OCSF 1.1.0, related_events the steps in order', async (name) => {
    const r = await run(args(name, 'ocsf'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const ev = JSON.parse(r.out) as { class_uid: number; time: number; finding_info: { uid: string; related_events: RelatedEvent[] }; evidences?: unknown[]; unmapped: { lineage: string[] } };
    expect(validator.problems(ev)).toEqual([]);

    const st = JSON.parse((await run(args(name, 'json'))).out) as Storyline;
    const related = ev.finding_info.related_events;
    expect(related.slice(0, -1).map((e) => e.uid)).toEqual(st.steps.map((s) => s.eventId));
    expect(related[related.length - 1]).toMatchObject({ uid: st.finding.arn, product_uid: `arn:aws:securityhub:${st.finding.region}::product/aws/guardduty` });
    expect(ev.evidences?.length ?? 0).toBe(st.steps.length);
    expect(ev.unmapped.lineage).toEqual(st.lineage);
    expect(ev.time).toBe(Date.parse(NOW));
  });

  (names.length > 0 ? test : test.skip)('the compiled CLI (dist/) prints the same Detection Finding', async () => {
    expect(fs.existsSync(path.join(ROOT, 'dist/src/cli/main.js'))).toBe(true); // run `npm run build:ts` first
    const name = names[0] as string;
    const p = spawnSync(process.execPath, ['bin/trailstory.js', ...args(name, 'ocsf')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(p.stdout).toBe((await run(args(name, 'ocsf'))).out);
  });
});

test('investigate --help names the ocsf format and what it is for', async () => {
  const r = await run(['investigate', '--help']);
  expect(r.code).toBe(0);
  const help = r.out.replace(/\s+/g, ' ');
  expect(help).toContain('ocsf (one OCSF 1.1.0 Detection Finding, class 2004, for Security Lake custom sources and SIEMs)');
  expect(help).toContain('"ocsf"'); // among the choices
  expect(help).toContain('--format ocsf > storyline.ocsf.json');
});
