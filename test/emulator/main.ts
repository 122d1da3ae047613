/**
 * Demo entry point: starts the emulator, seeds scenario directories, prints the endpoint and
 * runs until interrupted.
 *
 * Usage (esbuild is a dev dependency; the emulator needs only Node built-ins):
 * ```
 * npx esbuild test/emulator/main.ts --bundle --platform=node --outfile=/tmp/aws-emulator.js
 * node /tmp/aws-emulator.js [--port 4566] [--seed 1] [--models <dir>] [<scenario-dir> …]
 * ```
 * then point clients at the printed endpoint (`--endpoint-url` for the AWS CLI) with any access key.
 */
import * as path from 'node:path';
import { AwsEmulator } from './server';
import { seedScenario } from './seed';

/** Parses the arguments, starts and seeds the emulator; resolves to it (it keeps running). */
export async function main(argv: string[]): Promise<AwsEmulator> {
  const dirs: string[] = [];
  let port = 0;
  let seed = 1;
  let modelsDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--port') port = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--models') modelsDir = argv[++i];
    else dirs.push(a);
  }
  const emu = await AwsEmulator.start({ port, seed, ...(modelsDir ? { modelsDir: path.resolve(modelsDir) } : {}) });
  for (const d of dirs) {
    const r = seedScenario(emu, path.resolve(d));
    process.stdout.write(`seeded ${d}: ${r.guardDutyFindings.length} GuardDuty, ${r.asffFindings.length} ASFF, ${r.records} CloudTrail records (${r.skipped} skipped)\n`);
  }
  process.stdout.write(`AWS emulator listening on ${emu.endpoint}\n`);
  return emu;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((emu) => {
    process.on('SIGINT', () => { void emu.stop().then(() => process.exit(0)); });
  }).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
