/**
 * One reader thread of {@link readInParallel}: reads the files the main thread hands it, one
 * at a time in the order given, with the same {@link FileReader} a read in one thread uses,
 * and sends back, per file, its counts and what it kept (records whole, edge records as
 * {@link ClosureRow}s) and the tokens its records carry.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptyStats, FileReader, type ReadItem } from '../trail/read';
import { closureRowOf, selectorOf, type ClosureRow } from './closure';
import type { FileDone, FileJob, WorkerSetup } from './parallel-read';

const setup = workerData as WorkerSetup;
let items: ReadItem<ClosureRow>[] = [];
let tokens: string[] | null = null;
const reader = new FileReader<ClosureRow>(
  selectorOf(setup.spec),
  emptyStats(),
  {
    record: (item) => items.push(item),
    fileDone: (_idx, t) => {
      tokens = t;
    },
  },
  { ...setup.opts, summarize: setup.spec.edges ? closureRowOf : undefined },
);

async function readOne(job: FileJob): Promise<void> {
  items = [];
  tokens = null;
  reader.stats = emptyStats();
  const isCloudTrail = await reader.read(job.file, job.idx, job.want ? new Set(job.want) : null);
  const done: FileDone = { i: job.i, isCloudTrail, stats: reader.stats, items, tokens };
  parentPort?.postMessage(done);
}

// Files are read one after the other: the next waits for the one before (a streamed file awaits).
let chain: Promise<void> = Promise.resolve();
parentPort?.on('message', (job: FileJob) => {
  chain = chain.then(() => readOne(job)).catch((e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) }));
});
