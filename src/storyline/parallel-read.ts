/**
 * Reads trail files on every core: worker threads (`node:worker_threads`) each read, gunzip
 * and scan whole files with the same {@link FileReader} as the main thread, and send back
 * what they keep of each file; the main thread puts the files back in path order and keeps
 * their records through one {@link Collector}, so a parallel read keeps exactly what a read in
 * one thread keeps (the first record of each eventID in path order, the same budgets, the
 * same counts).
 *
 * Small reads (a few files, a few MiB) stay in the main thread: a worker costs about 30 ms to
 * start. https://nodejs.org/docs/latest-v20.x/api/worker_threads.html
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Collector, emptyStats, FileReader, mergeStats, readerOptions, readTrailFiles, type ReadItem, type ReadOptions, type ReadResult, type ReadStats, type RecordSummary } from '../trail/read';
import { closureRowOf, selectorOf, shareRowStrings, stringPool, type ClosureRow, type SelectSpec } from './closure';

/**
 * Reads of less than this much text stay in the main thread (a gzipped file counted at
 * {@link GZIP_RATIO} times its size): measured on 2 cores, two threads were no faster at
 * 130 MB (100,000 records) and slower at 73 MB of uncompressed JSON in 1,100 small files.
 */
export const PARALLEL_ABOVE_BYTES = 128 * 1024 * 1024;
/** How much text a gzipped CloudTrail file holds for each byte (about 8: 1,331 MB in 163 MB of gen-trail output). */
const GZIP_RATIO = 8;
/** The most worker threads one read starts (each holds up to about 40 MB). */
export const MAX_WORKERS = 8;
/** Files are handed to a worker in batches of about this much on disk (a delivery file is 0.2 MB gzipped). */
const BATCH_BYTES = 1024 * 1024;
/** And at most this many files a batch. */
const BATCH_FILES = 32;
/**
 * A reader thread's young generation: 4 MiB (V8's default is 16 or more). What a thread
 * allocates lives for one file; measured over a million records, this took 60 MB off the
 * peak RSS of a two-thread read at the same speed.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 };
/** Files handed to a worker ahead of the one it reads, so it never waits for the main thread. */
const AHEAD = 2;

/** What a worker is started with (plain data: it is copied to the thread). */
export interface WorkerSetup {
  spec: SelectSpec;
  opts: { countStructural: boolean; streamAbove: number; maxDecompressed: number; withIndex: boolean; wholeWithin: { from: number; to: number } | null };
}

/** One file for a worker: its place in the read (`i`), its index, path and the positions it must keep whole. */
export interface FileJob {
  i: number;
  idx: number;
  file: string;
  want: number[] | null;
}

/** What a worker sends back for one file (or the error that stopped it). */
export interface FileDone {
  i: number;
  isCloudTrail: boolean;
  stats: ReadStats;
  items: ReadItem<ClosureRow>[];
  tokens: string[] | null;
  /** The file was left to the main thread (to stream, or more records than {@link THREAD_FILE_BUDGET}). */
  handBack: boolean;
}

/**
 * The most a worker thread keeps of one batch of files before it leaves the file it is reading
 * (and the rest of the batch) to the main thread: a CloudTrail delivery file holds at most a
 * few thousand records. So a thread never holds more than this, nor the main thread more than
 * this for each batch read ahead of its turn; a file past it (a forged one, a gzip bomb of
 * records) is read by the main thread at its turn, under the budgets of the whole read, as a
 * read in one thread does.
 */
export const THREAD_FILE_BUDGET = { records: 5_000, bytes: 4 * 1024 * 1024, summaries: 20_000 };

/** Options of {@link readInParallel}. */
export interface ParallelOptions extends Omit<ReadOptions<ClosureRow>, 'summarize'> {
  /** Worker threads to use (default: one per core, none for a small read); 0 or 1 reads in the main thread. */
  workers?: number;
}

/** Each file's size on disk (0 when it cannot be read: it is counted when it is read). */
function sizesOf(files: string[]): number[] {
  return files.map((f) => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  });
}

/**
 * How many worker threads a read of these files uses: one per core, at most
 * {@link MAX_WORKERS}, none below {@link PARALLEL_ABOVE_BYTES} of text.
 * @param sizes each file's size on disk
 */
export function workersFor(files: string[], sizes: number[] = sizesOf(files)): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (cores < 2 || files.length < 2) return 0;
  let text = 0;
  files.forEach((f, i) => (text += (sizes[i] ?? 0) * (f.endsWith('.gz') ? GZIP_RATIO : 1)));
  return text >= PARALLEL_ABOVE_BYTES ? Math.min(cores, MAX_WORKERS, files.length) : 0;
}

/** Starts one reader thread: the compiled worker, or under ts-jest its TypeScript source through esbuild. */
function startWorker(setup: WorkerSetup): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `read-worker${ext}`);
  if (ext === '.js') return new Worker(file, { workerData: setup, resourceLimits: WORKER_LIMITS });
  // Tests run the TypeScript sources: the thread compiles them as it requires them.
  const boot = `
    const fs = require('node:fs');
    const { transformSync } = require('esbuild');
    require.extensions['.ts'] = (m, f) => m._compile(transformSync(fs.readFileSync(f, 'utf8'), { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: f }).code, f);
    require(${JSON.stringify(file)});`;
  return new Worker(boot, { eval: true, workerData: setup, resourceLimits: WORKER_LIMITS });
}

/**
 * Reads `files` with the selector of `spec` (records of the tokens whole; with `spec.edges`
 * the other edge records as {@link ClosureRow}s), on worker threads when the read is large.
 * @returns what {@link readTrailFiles} returns, the same whichever way it was read
 * @throws KeptRecordsError past the budgets of what one run keeps; an Error when a worker
 *   thread fails
 */
export async function readInParallel(files: string[], spec: SelectSpec, opts: ParallelOptions = {}): Promise<ReadResult<ClosureRow>> {
  const summarize = spec.edges ? closureRowOf : undefined;
  const strings = stringPool();
  const compact = (r: RecordSummary) => shareRowStrings(r as ClosureRow, strings);
  const sizes = sizesOf(files);
  const workers = Math.min(opts.workers ?? workersFor(files, sizes), MAX_WORKERS, files.length);
  if (workers <= 1) return readTrailFiles(files, selectorOf(spec), { ...opts, summarize, compact });
  const stats = emptyStats();
  const collector = new Collector<ClosureRow>(stats, { ...opts, compact, countStructural: opts.countStructural ?? true });
  const r = readerOptions({ ...opts, summarize });
  const setup: WorkerSetup = { spec, opts: { countStructural: r.countStructural, streamAbove: r.streamAbove, maxDecompressed: r.maxDecompressed, withIndex: r.withIndex, wholeWithin: r.wholeWithin ?? null } };
  const flags: boolean[] = new Array<boolean>(files.length).fill(false);
  // Files left by a worker are read here, at their turn, straight into the collector.
  const local = new FileReader<ClosureRow>(selectorOf(spec), emptyStats(), collector, r);
  const pool: Worker[] = [];
  const done = new Map<number, FileDone>();
  let waiting: { i: number; resolve: () => void } | null = null;
  let failure: Error | null = null;
  let next = 0;
  // Files go to the workers in batches (one message each way per batch, not per file).
  const send = (w: Worker) => {
    const batch: FileJob[] = [];
    let bytes = 0;
    while (next < files.length && !failure && bytes < BATCH_BYTES && batch.length < BATCH_FILES) {
      const i = next++;
      const idx = opts.fileIds?.[i] ?? i;
      const want = opts.want?.get(idx);
      batch.push({ i, idx, file: files[i] as string, want: want ? [...want] : null });
      bytes += sizes[i] ?? 0;
    }
    if (batch.length > 0) w.postMessage(batch);
  };
  const wake = () => {
    if (waiting && (failure || done.has(waiting.i))) {
      const w = waiting;
      waiting = null;
      w.resolve();
    }
  };
  const fail = (e: unknown) => {
    failure ??= e instanceof Error ? e : new Error(String(e));
    wake();
  };
  /** The result of file `i`, once its worker has sent it. */
  const resultOf = async (i: number): Promise<FileDone> => {
    if (!done.has(i) && !failure) await new Promise<void>((resolve) => (waiting = { i, resolve }));
    if (failure) throw failure;
    const d = done.get(i) as FileDone;
    done.delete(i);
    return d;
  };
  try {
    for (let k = 0; k < workers; k++) {
      const w = startWorker(setup);
      pool.push(w);
      w.on('message', (m: FileDone[] | { error: string }) => {
        if (!Array.isArray(m)) {
          fail(new Error(`reading the trail in a worker thread: ${m.error}`));
          return;
        }
        for (const d of m) done.set(d.i, d);
        send(w);
        wake();
      });
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0) fail(new Error(`a trail reader thread stopped (exit code ${code})`));
      });
      for (let a = 0; a < AHEAD; a++) send(w);
    }
    // The files in path order, each merged (or read here) at its turn.
    for (let i = 0; i < files.length; i++) {
      const d = await resultOf(i);
      const idx = opts.fileIds?.[i] ?? i;
      if (d.handBack) {
        local.stats = emptyStats();
        const want = opts.want?.get(idx);
        flags[i] = await local.read(files[i] as string, idx, want ?? null);
        mergeStats(stats, local.stats);
        continue;
      }
      mergeStats(stats, d.stats);
      for (const item of d.items) collector.record(item);
      collector.fileDone(idx, d.tokens);
      flags[i] = d.isCloudTrail;
    }
  } finally {
    failure ??= new Error('the read ended');
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return { events: collector.events, summaries: collector.summaries, stats, cloudTrailFlags: flags, keptBytes: collector.keptBytes, ordinals: collector.order };
}
