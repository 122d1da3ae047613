/**
 * `npm run bench:org-status`: the AWS calls one `trailstory org-status` run makes, by
 * organisation size (accounts × regions, opt-in regions among them), against healthy emulated
 * organisations (test/e2e/org-fixture.ts buildHealthyOrganization). Calls are counted by the
 * report itself (`requests`) and by the emulator (every HTTP request it answered, so SDK retries
 * would show); both are printed, with the calls per account. Prints a Markdown table; with
 * `--out FILE` (e.g. `npm run bench:org-status -- --out docs/benchmarks.md`) also writes it as the
 * section "AWS calls per org-status run" of FILE.
 *
 * Needs nothing outside the repository (the API models bundled in test/emulator/models when
 * ../shared is absent).
 */
import * as path from 'node:path';
import { runOrgStatus } from '../src/org/run';
import { buildHealthyOrganization } from '../test/e2e/org-fixture';
import { AwsEmulator, modelsDirOf } from '../test/emulator/server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSection, outOption } = require('./bench-section.js') as { writeSection: (file: string, heading: string, text: string) => void; outOption: (args: string[], usage: string) => string | undefined | null };

const SIZES: { accounts: number; regions: string[] }[] = [
  { accounts: 10, regions: ['us-east-1'] },
  { accounts: 10, regions: ['us-east-1', 'eu-west-1', 'me-central-1'] },
  { accounts: 100, regions: ['us-east-1', 'eu-west-1', 'me-central-1'] },
  { accounts: 500, regions: ['us-east-1', 'eu-west-1', 'me-central-1'] },
  { accounts: 500, regions: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1', 'me-central-1', 'ap-east-1'] },
];

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const out = outOption(process.argv.slice(3), 'usage: npm run bench:org-status [-- --out FILE]');
  if (out === null) return;
  const modelsDir = modelsDirOf(root);
  const rows: string[] = [];
  for (const size of SIZES) {
    const emu = await AwsEmulator.start({ modelsDir, seed: 1 });
    try {
      const admin = '700000000001';
      const members = Array.from({ length: size.accounts - 2 }, (_, i) => String(710000000000 + i));
      buildHealthyOrganization(emu, { management: '700000000000', admin, members, regions: size.regions, workerRole: 'EnrichWorkerRole', externalId: 'x-1' });
      const creds = emu.sessionClientConfig(admin, 'EnrichWorkerRole', size.regions[0]!, { sessionName: 'bench' }).credentials;
      const st = await runOrgStatus({ stackRegion: size.regions[0]!, regions: size.regions, externalId: 'x-1', overrides: { credentials: creds }, env: { AWS_ENDPOINT_URL: emu.endpoint } });
      if (st.gaps.length) throw new Error(`a healthy organisation has gaps: ${JSON.stringify(st.gaps.slice(0, 3))}`);
      const counted = Object.values(st.requests).reduce((a, b) => a + b, 0);
      const sts = (st.requests['sts:AssumeRole'] ?? 0) + (st.requests['sts:GetCallerIdentity'] ?? 0);
      const optIn = size.regions.filter((r) => emu.optInRegions.has(r)).length;
      rows.push(`| ${size.accounts} | ${size.regions.length} (${optIn} opt-in) | ${counted} | ${emu.requests.length} | ${sts} | ${counted - sts} | ${(counted / size.accounts).toFixed(1)} |`);
      process.stdout.write(`${rows[rows.length - 1]}\n`);
    } finally {
      await emu.stop();
    }
  }
  const table = [
    '| accounts | regions | calls (report) | HTTP requests (emulator) | of which STS (member role) | the rest | calls per account |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const section = `## AWS calls per org-status run\n\nMeasured by \`npm run bench:org-status -- --out docs/benchmarks.md\` on ${new Date().toISOString().slice(0, 10)}: healthy emulated organisations (no gap), the member role checked as the worker role. STS is two calls per member account in the stack's region and in each opt-in region (AssumeRole, GetCallerIdentity); the rest grows with the regions and with the pages of ListAccounts and ListMembers (20 and 50 a page).\n\n${table}\n`;
  process.stdout.write(`\n${section}`);
  if (out) {
    writeSection(path.resolve(out), '## AWS calls per org-status run', section);
    process.stdout.write(`bench:org-status: wrote ${out}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:org-status: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 70;
});
