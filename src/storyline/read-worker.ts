/**
 * One reader thread of {@link readInParallel}: reads the files the main thread hands it, one
 * at a time in the order given, with the same {@link FileReader} a read in one thread uses,
 * and sends back, per file, its counts and what it kept (records whole, edge records as
 * {@link ClosureRow}s) and the tokens its records carry.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptyStats, FileReader, HandBack, type ReadItem } from '../trail/read';
import { closureRowOf, selectorOf, type ClosureRow } from './closure';
import { THREAD_FILE_BUDGET, type FileDone, type FileJob, type WorkerSetup } from './parallel-read';

const setup = workerData as WorkerSetup;
let items: ReadItem<ClosureRow>[] = [];
let tokens: string[] | null = null;
let whole = 0;
let wholeBytes = 0;
let summaries = 0;
const reader = new FileReader<ClosureRow>(
  selectorOf(setup.spec),
  emptyStats(),
  {
    record: (item) => {
      if (item.ev) {
        whole++;
        wholeBytes += item.bytes;
      } else summaries++;
      // Past a delivery file's worth, the file is left to the main thread (see HandBack).
      if (whole > THREAD_FILE_BUDGET.records || wholeBytes > THREAD_FILE_BUDGET.bytes || summaries > THREAD_FILE_BUDGET.summaries) throw new HandBack(item.ev?.file ?? '', 'many-records');
      items.push(item);
    },
    fileDone: (_idx, t) => {
      tokens = t;
    },
  },
  { ...setup.opts, summarize: setup.spec.edges ? closureRowOf : undefined, streamElsewhere: true },
);

/** Past the budget, the rest of the batch is left to the main thread unread. */
let spent = false;

async function readOne(job: FileJob): Promise<FileDone> {
  items = [];
  tokens = null;
  if (spent) return { i: job.i, isCloudTrail: false, stats: emptyStats(), items: [], tokens: null, handBack: true };
  reader.stats = emptyStats();
  let done: FileDone;
  try {
    const isCloudTrail = await reader.read(job.file, job.idx, job.want ? new Set(job.want) : null);
    done = { i: job.i, isCloudTrail, stats: reader.stats, items, tokens, handBack: false };
  } catch (e) {
    if (!(e instanceof HandBack)) throw e;
    if (e.why === 'many-records') spent = true;
    done = { i: job.i, isCloudTrail: false, stats: emptyStats(), items: [], tokens: null, handBack: true };
  }
  items = [];
  return done;
}

/** A batch of files, read in turn; their results go back in one message. */
async function readBatch(jobs: FileJob[]): Promise<void> {
  const out: FileDone[] = [];
  whole = 0;
  wholeBytes = 0;
  summaries = 0;
  spent = false;
  for (const job of jobs) out.push(await readOne(job));
  parentPort?.postMessage(out);
}

// Files are read one after the other: the next waits for the one before (a streamed file awaits).
let chain: Promise<void> = Promise.resolve();
parentPort?.on('message', (jobs: FileJob[]) => {
  chain = chain.then(() => readBatch(jobs)).catch((e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) }));
});
