/**
 * `npm run org-status:local` (through scripts/run-ts.js): `trailstory org-status` against an
 * emulated organisation (test/e2e/org-fixture.ts: a management account, the delegated admin,
 * three members in us-east-1, eu-west-1 and the opt-in me-central-1, and a new account without
 * the member role), run as the enrich worker's role. The README's org-status table is this
 * script's `--format markdown` output (test/org/readme.test.ts keeps them equal).
 *
 * Usage: npm run org-status:local [-- --format text|json|markdown]
 * Needs nothing outside the repository (the API models bundled in test/emulator/models when
 * ../shared is absent).
 */
import * as path from 'node:path';
import { main } from '../src/cli/main';
import { AwsEmulator, modelsDirOf } from '../test/emulator/server';
import { ADMIN, buildOrganization, EXTERNAL_ID, REGIONS, STACK_REGION, WORKER_ROLE } from '../test/e2e/org-fixture';

/** Runs org-status against the emulated organisation; resolves to its output and exit code. */
export async function orgStatusLocal(root: string, args: string[]): Promise<{ out: string; err: string; code: number }> {
  const modelsDir = modelsDirOf(root);
  const emu = await AwsEmulator.start({ modelsDir, seed: 1 });
  const saved = { ...process.env };
  try {
    buildOrganization(emu);
    const creds = emu.sessionClientConfig(ADMIN, WORKER_ROLE, STACK_REGION, { sessionName: 'org-status' }).credentials;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken, AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: STACK_REGION, MEMBER_EXTERNAL_ID: EXTERNAL_ID });
    let out = '';
    let err = '';
    const code = await main(['org-status', '--regions', REGIONS.join(','), '--now', '2026-11-29T12:00:00Z', ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { out, err, code };
  } finally {
    process.env = saved;
    await emu.stop();
  }
}

if (require.main === module) {
  const [root = '.', ...args] = process.argv.slice(2);
  orgStatusLocal(path.resolve(root), args).then(
    (r) => {
      process.stdout.write(r.out);
      process.stderr.write(r.err);
      process.exitCode = r.code;
    },
    (e: unknown) => {
      process.stderr.write(`org-status:local: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
