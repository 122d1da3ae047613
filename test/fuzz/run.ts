/**
 * The hostile-input fuzz run at any size, for a developer: prints a line per failing case as
 * it goes, then the table of outcomes per kind and family and the distinct causes.
 *
 *   node scripts/run-ts.js test/fuzz/run.ts [--cases N] [--seed S] [--only family,...] [--keep] [--no-snapshot] [--concurrency N] [--timeout-ms N] [--json FILE]
 *
 * Defaults: TRAILSTORY_FUZZ_CASES or 2000 cases, TRAILSTORY_FUZZ_SEED or "ci". Build the CLI
 * first (`npm run build:ts`). Exit 1 when any case is "anything else".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatSummary, runFuzz } from './harness';

async function main(): Promise<number> {
  // scripts/run-ts.js passes the repository root first; run directly, it is two levels up.
  const argv = process.argv.slice(2);
  const root = argv[0] && fs.existsSync(path.join(argv[0], 'bin', 'trailstory.js')) ? (argv.shift() as string) : path.resolve(__dirname, '..', '..');
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cases = Number(opt('--cases') ?? process.env.TRAILSTORY_FUZZ_CASES ?? 2000);
  const seed = opt('--seed') ?? process.env.TRAILSTORY_FUZZ_SEED ?? 'ci';
  const only = opt('--only')?.split(',');
  const concurrency = opt('--concurrency') ? Number(opt('--concurrency')) : undefined;
  const timeoutMs = opt('--timeout-ms') ? Number(opt('--timeout-ms')) : undefined;
  const keepFailures = argv.includes('--keep');
  const snapshot = !argv.includes('--no-snapshot');
  const summary = await runFuzz({
    root,
    seed,
    cases,
    only,
    concurrency,
    timeoutMs,
    keepFailures,
    snapshot,
    onResult: (r, done, total) => {
      if (r.outcome === 'other') process.stderr.write(`[${done}/${total}] ${r.name}: ${r.cause}\n`);
      else if (done % 100 === 0) process.stderr.write(`[${done}/${total}]\n`);
    },
  });
  process.stdout.write(`seed ${JSON.stringify(seed)}\n${formatSummary(summary)}\n`);
  if (keepFailures && summary.results.some((r) => r.outcome === 'other')) process.stdout.write(`failing cases kept under ${summary.runDir}\n`);
  const json = opt('--json');
  if (json) fs.writeFileSync(json, JSON.stringify(summary, null, 1));
  return summary.results.some((r) => r.outcome === 'other') ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 70;
  },
);
