/**
 * The same storyline from Security Lake's OCSF API Activity as from CloudTrail: every public
 * scenario (../shared/scenarios) and 100 sampled stories (`shared/tools/sample-stories --seed
 * ocsf-eq --count 100`), their CloudTrail records mapped the way Security Lake maps them
 * (test/support/security-lake.ts) into one OCSF JSON Lines file, give the same origin, steps and
 * lineage through `investigate()` as their CloudTrail files. A file the test cannot parse (a
 * damaged trail file, which the reader reads up to its damage) is handed over as it is, beside
 * the JSON Lines. Without ../shared the tests skip with one notice.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { investigate } from '../../src/storyline/investigate';
import { listTrailFiles } from '../../src/trail/read';
import { sharedDir } from '../support/shared';
import { ocsfFromCloudTrail, recordsIn } from '../support/security-lake';

const SHARED = sharedDir();
const SCENARIOS = path.join(SHARED, 'scenarios');
const present = fs.existsSync(SCENARIOS) && fs.existsSync(path.join(SHARED, 'tools', 'sample-stories'));
if (!present) process.stdout.write(`${SHARED} not found: skipping the OCSF storyline equivalence tests\n`);
const publicNames = present ? fs.readdirSync(SCENARIOS).filter((d) => fs.existsSync(path.join(SCENARIOS, d, 'finding.json'))).sort() : [];

let tmp: string;
let sampled: string[] = [];

/** The records of a trail file, or null when the file cannot be parsed whole (damaged). */
function recordsOf(file: string): Record<string, unknown>[] | null {
  try {
    let raw = fs.readFileSync(file);
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
    const text = raw.toString('utf8');
    try {
      return recordsIn(JSON.parse(text));
    } catch {
      const out: Record<string, unknown>[] = [];
      for (const line of text.split('\n')) if (line.trim()) recordsIn(JSON.parse(line), out);
      return out;
    }
  } catch {
    return null;
  }
}

/** The scenario's trail as OCSF JSON Lines in `out`, plus its damaged files as they are: the `--cloudtrail` paths. */
function ocsfTrail(scenario: string, out: string): string[] {
  const files = listTrailFiles([path.join(scenario, 'cloudtrail')]);
  const lines: string[] = [];
  const damaged: string[] = [];
  for (const f of files) {
    const recs = recordsOf(f);
    if (recs === null) damaged.push(f);
    else for (const r of recs) lines.push(JSON.stringify(ocsfFromCloudTrail(r)));
  }
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'security-lake.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return [file, ...damaged];
}

async function same(scenario: string, label: string): Promise<void> {
  const findingFile = path.join(scenario, 'finding.json');
  const want = await investigate({ findingFile, cloudtrail: [path.join(scenario, 'cloudtrail')], threads: 0 });
  const got = await investigate({ findingFile, cloudtrail: ocsfTrail(scenario, path.join(tmp, 'ocsf', label)), threads: 0 });
  expect({ origin: got.origin, steps: got.steps, lineage: got.lineage }).toEqual({ origin: want.origin, steps: want.steps, lineage: want.lineage });
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocsf-storyline-'));
  if (!present) return;
  const out = path.join(tmp, 'stories');
  execFileSync(path.join(SHARED, 'tools', 'sample-stories'), ['--seed', 'ocsf-eq', '--count', '100', '--out', out, '--quiet'], { timeout: 300_000, stdio: ['ignore', 'ignore', 'inherit'] });
  sampled = fs
    .readdirSync(out)
    .filter((d) => fs.existsSync(path.join(out, d, 'finding.json')))
    .sort()
    .map((d) => path.join(out, d));
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the same storyline from Security Lake OCSF as from CloudTrail', () => {
  (publicNames.length > 0 ? test.each(publicNames) : test.skip.each(['none']))('public scenario %s', async (name) => {
    await same(path.join(SCENARIOS, name), name);
  });

  (present ? test : test.skip)(
    '100 sampled stories (seed ocsf-eq)',
    async () => {
      expect(sampled).toHaveLength(100);
      let withSteps = 0;
      for (const dir of sampled) {
        await same(dir, path.basename(dir));
        const st = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [path.join(dir, 'cloudtrail')], threads: 0 });
        if (st.steps.length > 0) withSteps++;
      }
      // The comparison is of real storylines, not of empty ones.
      expect(withSteps).toBeGreaterThan(80);
    },
    600_000,
  );
});
