/**
 * Reads CloudTrail from local files in every form the storyline contract lists
 * (`shared/design/storyline-contract.md`, "The command"): S3 delivery files
 * `{"Records":[…]}` (`.json` or `.json.gz`, any folder layout including
 * `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`), `LookupEvents` output
 * (`{"Events":[{"CloudTrailEvent":"<json>"}]}`), a JSON array of records, and JSON Lines; and
 * Amazon Security Lake's OCSF API Activity events (JSON Lines or a JSON array, known by their
 * content), each mapped back to its CloudTrail record (`ocsf-api-activity.ts`) and read as one.
 *
 * Files are read one at a time (memory is bounded by the largest file, not the trail) and
 * records are parsed only when a {@link RecordSelector} wants them. What is not CloudTrail
 * (digest and Insights files, other files), damaged files (a truncated `.json.gz`) and
 * malformed records are skipped and counted, never fatal.
 */
import * as buffer from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { principalKeyFromArn, sessionComputeId } from '../identity/principal';
import { memoize } from '../model/memo';
import { errnoProblem, fileKind, formatBytes, InputFileError, jsonShapeProblem, MIB, readRegularFile } from '../model/input-file';
import { RECORD_TIME_RANGE_MS, toIsoUtc } from '../model/time';
import { toTrailEvent, type TrailEvent } from './event';
import { cloudTrailRecordFromOcsf, isOcsfProblem, looksLikeOcsf, VERSION_1_REFUSAL } from './ocsf-api-activity';
import { FieldReader, lightView, lightViewOf, N_EVENT_TIME, N_RECIPIENT, N_REGION, ObjectScanner, RECORD_STRIDE, RecordFields, scanObjectsAtDepth, scanRecordTable, skipSpace, startsWithEventsArray, startsWithRecordsArray, stringValueAfter, topLevelArray, type Fields, type LightView } from './scan';

/** A `--cloudtrail` path that does not exist, or that holds no CloudTrail file at all. */
export class TrailInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrailInputError';
  }
}

/**
 * Decides, from a record's {@link LightView}, whether it is parsed and kept: `true` keeps the
 * record whole, `'summary'` keeps only what the reader's `summarize` makes of it (the record
 * whole when there is no `summarize`, or when its time is within the read's `wholeWithin`).
 */
export interface RecordSelector {
  /** Read `eventID` into the light view too (costs a little; for eventID selection). */
  withEventId: boolean;
  select(view: LightView): boolean | 'summary';
}

/** What a read keeps of a record it summarises: at least its eventID. */
export interface RecordSummary {
  eventId: string;
}

/**
 * One record a read keeps, as it leaves the file reader: the record whole (`ev`) or its
 * summary, with where it stands (file index, position among the file's records) and its size
 * in the file (bytes; 0 where it was parsed with its whole file).
 */
export type ReadItem<S extends RecordSummary = RecordSummary> = { ev: TrailEvent; summary: null; fileIdx: number; pos: number; bytes: number } | { ev: null; summary: S; fileIdx: number; pos: number; bytes: number };

/** Where a file reader sends what it keeps, in file order. */
export interface ReadSink<S extends RecordSummary = RecordSummary> {
  record(item: ReadItem<S>): void;
  /** The file is read: the tokens its records carry (null when no index is kept). */
  fileDone(fileIdx: number, tokens: string[] | null): void;
}

/** Counts of what was read and skipped; merged into the storyline's coverage. */
export interface ReadStats {
  filesRead: number;
  filesSkipped: number;
  recordsRead: number;
  recordsSkipped: number;
  recordsExamined: number;
  skippedReasons: Record<string, number>;
  skippedFiles: { file: string; reason: string }[];
  accounts: Set<string>;
  regions: Set<string>;
  /** Earliest and latest `eventTime` text seen (ISO form compares as text). */
  minTime: string | null;
  maxTime: string | null;
  /** Records read whose eventID was already read (kept once: the first in path order). */
  duplicateRecords: number;
}

export function emptyStats(): ReadStats {
  return {
    filesRead: 0,
    filesSkipped: 0,
    recordsRead: 0,
    recordsSkipped: 0,
    recordsExamined: 0,
    skippedReasons: {},
    skippedFiles: [],
    accounts: new Set(),
    regions: new Set(),
    minTime: null,
    maxTime: null,
    duplicateRecords: 0,
  };
}

/**
 * Every file under the given paths (folders searched recursively, in sorted order). An entry
 * below a path that cannot be read (a dangling link, a link loop, a folder met again through a
 * link, a named pipe or socket) is left out and named in `skipped` with its reason, for the
 * coverage; it never stops the run.
 * @param skipped receives `{file, reason}` for each entry left out
 * @throws TrailInputError when a path does not exist, cannot be reached (a loop of links), is
 *   neither a file nor a folder (a named pipe, a device), or is a folder that cannot be listed.
 */
export function listTrailFiles(paths: string[], skipped: { file: string; reason: string }[] = []): string[] {
  const out: string[] = [];
  const folders = new Set<string>();
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'error';
  /**
   * One entry, its stat already made for a path named on the command line (`top`), where a
   * folder that cannot be listed stops the run instead of being skipped: the user's to fix.
   */
  const walk = (p: string, known?: fs.Stats, top = false): void => {
    let st: fs.Stats;
    try {
      st = known ?? fs.statSync(p);
    } catch (e) {
      skipped.push({ file: p, reason: `unreadable (${code(e)})` });
      return;
    }
    if (st.isDirectory()) {
      // A folder is known by its device and inode (what realpath would tell, without walking
      // every part of a path 2,500 folders deep once per folder).
      const real = `${st.dev}:${st.ino}`;
      if (folders.has(real)) {
        skipped.push({ file: p, reason: 'folder-read-already (a link to it)' });
        return;
      }
      folders.add(real);
      let names: string[];
      try {
        names = fs.readdirSync(p).sort();
      } catch (e) {
        if (top) throw new TrailInputError(`${p}: cannot list the folder: ${errnoProblem(e)}`);
        skipped.push({ file: p, reason: `unreadable (${code(e)})` });
        return;
      }
      for (const name of names) walk(path.join(p, name));
    } else if (st.isFile()) out.push(p);
    else skipped.push({ file: p, reason: 'not-a-regular-file' });
  };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw new TrailInputError(`${p}: ${errnoProblem(e)}`);
    }
    if (!st.isDirectory() && !st.isFile()) throw new TrailInputError(`${p}: is ${fileKind(st)}, not a file or folder of CloudTrail records`);
    walk(p, st, true);
  }
  return out;
}

/**
 * Skip reasons with their counts, in words: `damaged-gzip ×2, decompressed-too-large (past 512 MiB)`.
 * @param reasons `{reason: count}` (`ReadStats.skippedReasons`)
 * @param keep which reasons to name
 */
export function reasonsInWords(reasons: Record<string, number>, keep: (reason: string) => boolean): string {
  return Object.entries(reasons)
    .filter(([r]) => keep(r))
    .map(([r, n]) => (n > 1 ? `${r} ×${n}` : r))
    .join(', ');
}

/** Counts a file left out, with its reason, in the coverage (the first 50 are named). */
export function noteSkippedFile(stats: ReadStats, file: string, reason: string): void {
  stats.filesSkipped++;
  stats.skippedReasons[reason] = (stats.skippedReasons[reason] ?? 0) + 1;
  if (stats.skippedFiles.length < 50) stats.skippedFiles.push({ file, reason });
}

/** Files larger than this on disk are streamed instead of read whole (CloudTrail's own delivery files are far smaller). */
export const STREAM_ABOVE_BYTES = 64 * MIB;
/** Chunk size of the streamed path. */
const STREAM_CHUNK = 4 * MIB;
/** The most bytes one trail file may decompress to; past it the file is skipped as damaged (real delivery files are far smaller). */
export const MAX_DECOMPRESSED_BYTES = 512 * MIB;
/** The largest record read; a larger one is skipped as malformed (CloudTrail itself cuts fields at 100 KB and marks them `omitted`). */
export const MAX_RECORD_BYTES = MIB;

/**
 * The most records one read keeps (parses and holds for the storyline). Each costs about 1.5 KB
 * through reconstruction and rendering: measured on this machine (Node 20, `--format text`),
 * 100,000 records of one stolen key peaked at 318 MB and 150,000 at 471 MB. Past it the read
 * stops with {@link KeptRecordsError}, so every run stays within 512 MB.
 */
export const MAX_KEPT_RECORDS = 120_000;

/**
 * The most bytes of records one read keeps, as they stand in their files: records forged at
 * up to 1 MiB each must not pass the memory budget where 120,000 real ones (under 1 KB each,
 * CloudTrail cuts fields at 100 KB) do not. A parsed record takes about three times its bytes.
 */
export const MAX_KEPT_BYTES = 64 * MIB;

/** A read stopped because it would keep more than {@link MAX_KEPT_RECORDS} records or {@link MAX_KEPT_BYTES} bytes of them. */
export class KeptRecordsError extends Error {
  /**
   * @param limit the records kept at most
   * @param bytes the bytes of records kept at most
   * @param summaries the record summaries kept at most
   */
  constructor(
    readonly limit: number,
    readonly bytes: number,
    readonly summaries: number = MAX_KEPT_SUMMARIES,
  ) {
    super(`more than ${limit.toLocaleString('en-US')} records, or ${formatBytes(bytes)} of them, would be kept for the finding's lineage (or more than ${summaries.toLocaleString('en-US')} issuing and creating records stand in the files), past what one run holds within 512 MB`);
    this.name = 'KeptRecordsError';
  }
}

/** A gzip file whose content is larger than the caller wants whole in memory: read it as a stream. */
export class TooLargeToReadWhole extends Error {}

/**
 * The output piece size for gunzipping `raw` whole: the content size its gzip trailer states
 * (ISIZE, the size modulo 2^32, RFC 1952 section 2.3.1) plus one, so a delivery file inflates
 * into one buffer with nothing to join; within 64 KiB and `max`, since the trailer is not
 * checked until the end (a wrong one only costs more pieces).
 */
function gunzipChunk(raw: Buffer, max: number): number {
  const stated = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  return Math.max(64 * 1024, Math.min(stated + 1, max, 64 * MIB));
}

/**
 * Reads a file's bytes, gunzipping when it starts with the gzip magic number. A UTF-8 byte
 * order mark before the JSON is dropped. The file is opened through the input boundary: a
 * regular file only, never blocking on a pipe.
 * @param maxInflated the most bytes the file, and its gunzipped content, may have
 * @throws TooLargeToReadWhole when the file or its gunzipped content is larger than
 *   `maxInflated` (read it as a stream instead); InputFileError when it is not a regular file
 *   or cannot be read; zlib's errors (`Z_DATA_ERROR`, `Z_BUF_ERROR` for a truncated file).
 */
export function readFileBytes(file: string, maxInflated = STREAM_ABOVE_BYTES): Buffer {
  let raw: Buffer;
  try {
    raw = readRegularFile(file, maxInflated);
  } catch (e) {
    throw e instanceof InputFileError && e.kind === 'too-large' ? new TooLargeToReadWhole(file) : e;
  }
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      const maxOutputLength = Math.min(maxInflated, buffer.constants.MAX_LENGTH);
      bytes = zlib.gunzipSync(raw, { maxOutputLength, chunkSize: gunzipChunk(raw, maxOutputLength) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeToReadWhole(file);
      throw e;
    }
  }
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

interface ArnTokens {
  principalKey: string | null;
  sessionName: string | null;
  sessionToken: string | null;
}
const NO_TOKENS: ArnTokens = { principalKey: null, sessionName: null, sessionToken: null };

/**
 * What a caller's ARN is selected and indexed by: its principal key and, for a role session,
 * its session name (an instance id, a function, a task: the compute a control edge reaches),
 * indexed as `session:<name>`. ARNs repeat across millions of records: cached.
 */
const arnTokens = memoize((arn): ArnTokens => {
  const principalKey = principalKeyFromArn(arn);
  const sessionName = principalKey?.startsWith('role:') ? sessionComputeId(arn) : null;
  return { principalKey, sessionName, sessionToken: sessionName ? `session:${sessionName}` : null };
}, 100_000);

/** Where each token (access key id, principal key, `session:<role session name>`) was seen: token → file indexes, ascending. */
export type TokenIndex = Map<string, number[]>;

/** What a read produced: kept events, stats, and optionally the token index. */
export interface ReadResult<S extends RecordSummary = RecordSummary> {
  events: TrailEvent[];
  /** What was kept of the records the selector wanted as summaries, in file order. */
  summaries: KeptSummary<S>[];
  stats: ReadStats;
  /** Per file (in the order given): whether it was recognised as CloudTrail (damaged ones included). */
  cloudTrailFlags: boolean[];
  /** Bytes of the records kept, as they stood in their files (where known). */
  keptBytes: number;
  /** eventID → place in the order of what was kept (see {@link Collector}), of every record kept whole. */
  ordinals: Map<string, number>;
}

/** A summary a read kept, with where its record stands and its place in the order of what was kept. */
export interface KeptSummary<S extends RecordSummary = RecordSummary> {
  summary: S;
  fileIdx: number;
  pos: number;
  ordinal: number;
}

/**
 * The most record summaries one read keeps. A summary of an issuing or creating record (its
 * lineage nodes) takes about 0.3 KB, against 1.5 KB for a record kept whole.
 */
export const MAX_KEPT_SUMMARIES = 1_000_000;

/** How a {@link Collector} keeps what the file readers send. */
export interface CollectorOptions {
  /** eventIDs kept before (a first pass): their records are duplicates here. */
  seen?: Set<string>;
  /** Count duplicates (false on a second pass over the same files). */
  countStructural?: boolean;
  maxKept?: number;
  maxKeptBytes?: number;
  maxSummaries?: number;
  /** Fills this index with each file's tokens. */
  index?: TokenIndex | null;
  /**
   * Records summarised by a first pass and fetched whole by this one, by `<fileIdx>:<pos>`:
   * kept with the place (ordinal) their summary had, whatever `seen` holds.
   */
  fetch?: Map<string, number>;
  /** The first ordinal this collector gives (after a first pass's). */
  ordinalBase?: number;
  /** Applied to each summary kept (to share its strings with the others'). */
  compact?: (summary: RecordSummary) => RecordSummary;
}

/**
 * Keeps what file readers send, in file order: one record per eventID (the first in path
 * order; later ones are counted as duplicates), within the budgets of what one run holds, each
 * record or summary numbered in the order it was kept (its ordinal) so that the records of two
 * passes can be put back in one order.
 */
export class Collector<S extends RecordSummary = RecordSummary> implements ReadSink<S> {
  readonly events: TrailEvent[] = [];
  readonly summaries: KeptSummary<S>[] = [];
  /** eventID → ordinal of every record kept whole. */
  readonly order = new Map<string, number>();
  keptBytes = 0;
  private next: number;
  private readonly seen: Set<string>;
  private readonly maxKept: number;
  private readonly maxKeptBytes: number;
  private readonly maxSummaries: number;

  /** @param stats where duplicates are counted */
  constructor(
    private readonly stats: ReadStats,
    private readonly opts: CollectorOptions = {},
  ) {
    this.seen = opts.seen ?? new Set();
    this.maxKept = opts.maxKept ?? MAX_KEPT_RECORDS;
    this.maxKeptBytes = opts.maxKeptBytes ?? MAX_KEPT_BYTES;
    this.maxSummaries = opts.maxSummaries ?? MAX_KEPT_SUMMARIES;
    this.next = opts.ordinalBase ?? 0;
  }

  /** @throws KeptRecordsError when the records kept would pass the budgets */
  record(item: ReadItem<S>): void {
    if (item.ev && this.opts.fetch) {
      const ordinal = this.opts.fetch.get(`${item.fileIdx}:${item.pos}`);
      if (ordinal !== undefined) {
        this.keepWhole(item.ev, item.bytes, ordinal);
        return;
      }
    }
    const id = item.ev ? item.ev.eventId : item.summary.eventId;
    if (this.seen.has(id)) {
      if (this.opts.countStructural ?? true) this.stats.duplicateRecords++;
      return;
    }
    this.seen.add(id);
    const ordinal = this.next++;
    if (item.ev) this.keepWhole(item.ev, item.bytes, ordinal);
    else {
      const summary = this.opts.compact ? (this.opts.compact(item.summary) as S) : item.summary;
      this.summaries.push({ summary, fileIdx: item.fileIdx, pos: item.pos, ordinal });
      if (this.summaries.length > this.maxSummaries) throw new KeptRecordsError(this.maxKept, this.maxKeptBytes, this.maxSummaries);
    }
  }

  private keepWhole(ev: TrailEvent, bytes: number, ordinal: number): void {
    this.events.push(ev);
    this.order.set(ev.eventId, ordinal);
    // What an attacker controls (how many calls the credentials made, how large the records
    // they forge) must not grow memory without end.
    this.keptBytes += bytes;
    if (this.events.length > this.maxKept || this.keptBytes > this.maxKeptBytes) throw new KeptRecordsError(this.maxKept, this.maxKeptBytes, this.maxSummaries);
  }

  fileDone(fileIdx: number, tokens: string[] | null): void {
    const index = this.opts.index;
    if (!index || !tokens) return;
    for (const tok of tokens) {
      const list = index.get(tok);
      if (!list) index.set(tok, [fileIdx]);
      else if (list[list.length - 1] !== fileIdx) list.push(fileIdx);
    }
  }
}

/**
 * Adds the counts of one read (or one file's) to another's, as if read in turn: sums, unions,
 * the earlier minimum and later maximum time, and the first 50 skipped files in order.
 */
export function mergeStats(into: ReadStats, from: ReadStats): void {
  into.filesRead += from.filesRead;
  into.filesSkipped += from.filesSkipped;
  into.recordsRead += from.recordsRead;
  into.recordsSkipped += from.recordsSkipped;
  into.recordsExamined += from.recordsExamined;
  into.duplicateRecords += from.duplicateRecords;
  for (const [reason, n] of Object.entries(from.skippedReasons)) into.skippedReasons[reason] = (into.skippedReasons[reason] ?? 0) + n;
  for (const f of from.skippedFiles) if (into.skippedFiles.length < 50) into.skippedFiles.push(f);
  for (const a of from.accounts) into.accounts.add(a);
  for (const r of from.regions) into.regions.add(r);
  if (from.minTime !== null && (into.minTime === null || from.minTime < into.minTime)) into.minTime = from.minTime;
  if (from.maxTime !== null && (into.maxTime === null || from.maxTime > into.maxTime)) into.maxTime = from.maxTime;
}

/** `AWSLogs/[o-org/]<account>/CloudTrail/<region>/`: the S3 delivery layout names account and region. */
const AWSLOGS_PATH = /AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\/CloudTrail\/([a-z]{2}(?:-[a-z]+)+-\d)\//;
/** The deepest nesting of a trail document parsed whole (LookupEvents output, a lone record). */
const MAX_RECORD_DEPTH = 256;
/** The skip reason of a record past {@link MAX_RECORD_BYTES}. */
const TOO_LARGE = `malformed-record (larger than ${formatBytes(MAX_RECORD_BYTES)})`;
/** The record time range as ISO text, which compares as text. */
const RANGE_FROM = new Date(RECORD_TIME_RANGE_MS.from).toISOString();
const RANGE_TO = new Date(RECORD_TIME_RANGE_MS.to).toISOString();
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** How a {@link FileReader} reads. */
export interface FileReaderOptions<S extends RecordSummary = RecordSummary> {
  /** Count records and structural skips (false on a second pass over the same files). */
  countStructural: boolean;
  /** Files larger than this (bytes on disk) are read as a stream. */
  streamAbove: number;
  /** The most bytes one gzipped file may inflate to. */
  maxDecompressed: number;
  /** Keep the tokens of each file for the index (see {@link TokenIndex}). */
  withIndex: boolean;
  /** What a record the selector wants as `'summary'` is kept as. */
  summarize?: (ev: TrailEvent) => S;
  /** Records whose time (epoch ms) is within this range are kept whole even when the selector wants a summary. */
  wholeWithin?: { from: number; to: number } | null;
  /** Do not stream a file: throw {@link HandBack} instead (a worker thread leaves such files to the main thread). */
  streamElsewhere?: boolean;
}

/**
 * A file a worker thread does not finish: one to stream (it can be as large as the budgets
 * allow) or one whose records would make the thread hold more than a delivery file's worth.
 * The main thread reads it at its turn, where the budgets of the whole read apply as it goes.
 */
export class HandBack extends Error {
  constructor(
    readonly file: string,
    readonly why: 'streamed' | 'many-records',
  ) {
    super(`${file}: left to the main thread (${why})`);
    this.name = 'HandBack';
  }
}

/**
 * Reads trail files one at a time, each record through the selector, and sends what it keeps
 * to a {@link ReadSink} in file order. The same reader runs in the main thread and in each
 * worker thread of a parallel read.
 */
export class FileReader<S extends RecordSummary = RecordSummary> {
  private readonly countStructural: boolean;
  private readonly streamAbove: number;
  private readonly maxDecompressed: number;
  /**
   * @param selector decides which records are parsed and kept
   * @param stats counts of the reading (swap it between files to count a file alone)
   * @param sink receives what is kept
   */
  constructor(
    private readonly selector: RecordSelector,
    public stats: ReadStats,
    private readonly sink: ReadSink<S>,
    private readonly opts: FileReaderOptions<S>,
  ) {
    this.countStructural = opts.countStructural;
    this.streamAbove = opts.streamAbove;
    this.maxDecompressed = opts.maxDecompressed;
  }

  /** The file being read (its index in the read) and its records' position counter. */
  private fileIdx = 0;
  private pos = 0;
  /** Positions of the current file's records that are kept whole whatever the selector says. */
  private want: ReadonlySet<number> | null = null;
  /** Whether the file being read holds OCSF API Activity events (null: not known yet, a streamed file). */
  private ocsfFile: boolean | null = null;

  /** Counts a record that is never parsed (structural problems), only on the first pass. */
  private skipUnparsed(reason: string): void {
    if (this.countStructural) this.skipRecord(reason);
  }

  /** Counts a record (every record of a file passes here exactly once, so it also numbers them). */
  private countRecord(): void {
    this.pos++;
    if (this.countStructural) this.stats.recordsRead++;
  }

  /** Whether the record just counted is one the read must keep whole (a second pass fetching summarised records). */
  private wanted(): boolean {
    return this.want !== null && this.want.has(this.pos - 1);
  }

  private skipRecord(reason: string): void {
    this.stats.recordsSkipped++;
    this.stats.skippedReasons[reason] = (this.stats.skippedReasons[reason] ?? 0) + 1;
  }

  skipFile(file: string, reason: string): void {
    noteSkippedFile(this.stats, file, reason);
  }

  /** Keeps the earliest and latest time; text already in UTC ISO form (`…Z`) compares as is. */
  private noteTime(raw: string | null): void {
    if (!raw) return;
    const t = ISO_UTC.test(raw) ? raw : toIsoUtc(raw);
    if (!t || t < RANGE_FROM || t >= RANGE_TO) return;
    if (this.stats.minTime === null || t < this.stats.minTime) this.stats.minTime = t;
    if (this.stats.maxTime === null || t > this.stats.maxTime) this.stats.maxTime = t;
  }

  /** The light view of the record being read, filled again for each (nothing keeps it). */
  private readonly view: LightView = { eventName: null, accessKeyId: null, arn: null, eventId: null, identity: false };

  /** Tokens of the file being read, merged into the index once per file. */
  private fileTokens = new Set<string>();
  /** Account and region of the file from its `AWSLogs/…/<account>/CloudTrail/<region>/` path, when it has one. */
  private pathScope = false;

  /** Fills the view's principal key and session name, and notes the file's tokens. */
  private noteIndex(v: LightView): void {
    const t = v.arn ? arnTokens(v.arn) : NO_TOKENS;
    v.principalKey = t.principalKey;
    v.sessionName = t.sessionName;
    if (!this.opts.withIndex) return;
    if (v.accessKeyId) this.fileTokens.add(v.accessKeyId);
    if (t.principalKey) this.fileTokens.add(t.principalKey);
    if (t.sessionToken) this.fileTokens.add(t.sessionToken);
  }

  private flushIndex(fileIdx: number): void {
    this.sink.fileDone(fileIdx, this.opts.withIndex ? [...this.fileTokens] : null);
    this.fileTokens.clear();
  }

  /**
   * Keeps a parsed record when it normalises (whole, or its summary when `how` is
   * `'summary'`); counts it as skipped otherwise.
   */
  private keep(raw: unknown, file: string, bytes: number, how: true | 'summary', examined: boolean): void {
    // A record fetched only for its position (a second pass) was examined by the first.
    if (examined) this.stats.recordsExamined++;
    const ev = toTrailEvent(raw, file);
    if (typeof ev === 'string') {
      this.skipRecord(ev === 'insight-event' ? 'insight-event' : `malformed-record (${ev})`);
      return;
    }
    const at = { fileIdx: this.fileIdx, pos: this.pos - 1, bytes };
    const within = this.opts.wholeWithin;
    if (how === 'summary' && this.opts.summarize && !(within && ev.epochMs >= within.from && ev.epochMs <= within.to)) {
      this.sink.record({ ev: null, summary: this.opts.summarize(ev), ...at });
    } else this.sink.record({ ev, summary: null, ...at });
  }

  /** A parsed record object (LookupEvents, JSON fallback): same selection as the byte path. */
  /** @param bytes the record's size in its file (0 where it was parsed with its whole file) */
  private object(raw: unknown, file: string, bytes = 0): void {
    this.countRecord();
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.skipUnparsed('malformed-record (not-an-object)');
      return;
    }
    const rec = raw as Record<string, unknown>;
    const v = lightViewOf(rec);
    this.noteIndex(v);
    if (typeof rec.eventTime === 'string') this.noteTime(rec.eventTime);
    if (typeof rec.awsRegion === 'string') this.stats.regions.add(rec.awsRegion);
    if (typeof rec.recipientAccountId === 'string') this.stats.accounts.add(rec.recipientAccountId);
    // A record without an identity is parsed (once, on the first pass) to be counted as malformed.
    const selected = this.selector.select(v) || (!v.identity && this.countStructural);
    const how = selected || this.wanted();
    if (how) this.keep(rec, file, bytes, how, !!selected);
  }

  /** A record as a byte range of `buf`; `timeCounted`: its eventTime is already noted (see {@link RecordTable}). */
  private range(fields: Fields, s: number, e: number, file: string, timeCounted = false): void {
    const buf = fields.buf;
    if (e - s > MAX_RECORD_BYTES) {
      this.countRecord();
      this.skipUnparsed(TOO_LARGE);
      return;
    }
    this.countRecord();
    const v = lightView(fields, s, e, this.selector.withEventId, this.view);
    this.noteIndex(v);
    if (!timeCounted) this.noteTime(stringValueAfter(fields, N_EVENT_TIME, s, e));
    if (!this.pathScope) {
      const region = stringValueAfter(fields, N_REGION, s, e);
      if (region) this.stats.regions.add(region);
      const acct = stringValueAfter(fields, N_RECIPIENT, s, e);
      if (acct) this.stats.accounts.add(acct);
    }
    // A record without an identity is parsed (once, on the first pass) to be counted as malformed.
    const selected = this.selector.select(v) || (!v.identity && this.countStructural);
    const how = selected || this.wanted();
    if (!how) return;
    let raw: unknown;
    try {
      raw = JSON.parse(buf.toString('utf8', s, e));
    } catch {
      this.stats.recordsExamined++;
      this.skipRecord('malformed-record (invalid JSON)');
      return;
    }
    this.keep(raw, file, e - s, how, !!selected);
  }

  /**
   * One element of a `LookupEvents` `Events` array as a byte range of `buf`: parsed alone (an
   * element holds one record as a JSON string), the record's byte budget checked before the
   * record itself is parsed.
   */
  private lookupElement(buf: Uint8Array, s: number, e: number, file: string): void {
    // The record sits escaped inside a JSON string: up to twice its size (`"` as `\"`).
    if (e - s > 2 * MAX_RECORD_BYTES) {
      this.countRecord();
      this.skipUnparsed(TOO_LARGE);
      return;
    }
    let element: unknown;
    try {
      element = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8'));
    } catch {
      this.countRecord();
      this.skipUnparsed('malformed-record (invalid JSON)');
      return;
    }
    this.lookupEvent(element, file);
  }

  /** A `LookupEvents` element, parsed: its `CloudTrailEvent` string within the record budget, then the record. */
  private lookupEvent(element: unknown, file: string): void {
    const text = element && typeof element === 'object' ? (element as Record<string, unknown>).CloudTrailEvent : undefined;
    if (typeof text !== 'string') {
      this.countRecord();
      this.skipUnparsed('malformed-record (CloudTrailEvent missing or not a string)');
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_RECORD_BYTES) {
      this.countRecord();
      this.skipUnparsed(TOO_LARGE);
      return;
    }
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      this.countRecord();
      this.skipUnparsed('malformed-record (CloudTrailEvent is not valid JSON)');
      return;
    }
    this.object(rec, file, bytes);
  }

  /** Whether the record at `buf[s, e)` is an OCSF event (`class_uid`, `metadata`, no `eventID`), parsed only when its bytes name `class_uid`. */
  private ocsfAt(buf: Buffer, s: number, e: number): boolean {
    if (e - s > MAX_RECORD_BYTES || buf.subarray(s, e).indexOf('"class_uid"') < 0) return false;
    try {
      return looksLikeOcsf(JSON.parse(buf.toString('utf8', s, e)));
    } catch {
      return false;
    }
  }

  /** An OCSF event as a byte range of `buf`: parsed, mapped to its CloudTrail record, read as one. */
  private ocsfRange(buf: Buffer, s: number, e: number, file: string): void {
    if (e - s > MAX_RECORD_BYTES) {
      this.countRecord();
      this.skipUnparsed(TOO_LARGE);
      return;
    }
    let ev: unknown;
    try {
      ev = JSON.parse(buf.toString('utf8', s, e));
    } catch {
      this.countRecord();
      this.skipUnparsed('malformed-record (invalid JSON)');
      return;
    }
    this.ocsfObject(ev, file, e - s);
  }

  /** A parsed OCSF event: its CloudTrail record through {@link object}, or skipped and counted with why (a version 1 event with the one line saying so). */
  private ocsfObject(ev: unknown, file: string, bytes: number): void {
    const rec = cloudTrailRecordFromOcsf(ev);
    if (isOcsfProblem(rec)) {
      this.countRecord();
      this.skipUnparsed(`malformed-record (${rec.problem === 'ocsf-version-1' ? VERSION_1_REFUSAL : `ocsf ${rec.problem}`})`);
      return;
    }
    this.object(rec, file, bytes);
  }

  /** A record of a streamed array or JSON Lines file: the first one tells whether the file is OCSF. */
  private streamedRecord(fields: Fields, s: number, e: number, file: string): void {
    if (this.ocsfFile === null) this.ocsfFile = this.ocsfAt(fields.buf, s, e);
    if (this.ocsfFile) this.ocsfRange(fields.buf, s, e, file);
    else this.range(fields, s, e, file);
  }

  /**
   * Reads one file. Returns whether it held CloudTrail (so a path of only foreign files can
   * be reported as bad input).
   */
  async read(file: string, fileIdx: number, want: ReadonlySet<number> | null = null): Promise<boolean> {
    // What a file left unfinished (handed back) noted is not this file's.
    this.fileTokens.clear();
    this.fileIdx = fileIdx;
    this.pos = 0;
    this.want = want;
    this.ocsfFile = null;
    const scope = AWSLOGS_PATH.exec(file.split(path.sep).join('/'));
    this.pathScope = scope !== null;
    if (scope) {
      this.stats.accounts.add(scope[1] as string);
      this.stats.regions.add(scope[2] as string);
    }
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      size = 0;
    }
    let isCloudTrail = size > this.streamAbove ? 'stream' : this.readFile(file);
    // A small .gz whose content is too large to hold whole (a gzip bomb among them) is streamed.
    if (isCloudTrail === 'stream') {
      if (this.opts.streamElsewhere) throw new HandBack(file, 'streamed');
      isCloudTrail = await this.readStreamed(file);
    }
    this.flushIndex(fileIdx);
    return isCloudTrail;
  }

  /**
   * A large file, read in chunks (gunzipped as a stream) so memory stays bounded by the chunk
   * and the largest record, not the file: delivery files and arrays through the resumable
   * {@link ObjectScanner}, JSON Lines line by line. Records before a damage are kept; the file
   * is then counted as damaged.
   */
  private async readStreamed(file: string): Promise<boolean> {
    if (/CloudTrail-Digest/.test(file)) {
      this.skipFile(file, 'digest-file');
      return false;
    }
    if (/CloudTrail-Insight/.test(file)) {
      this.skipFile(file, 'insights-file');
      return false;
    }
    const head = Buffer.alloc(2);
    let fd: number;
    try {
      // Opened as what it should be: a regular file (never blocking on a pipe put in its place).
      fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        fs.closeSync(fd);
        this.skipFile(file, 'not-a-regular-file');
        return false;
      }
      fs.readSync(fd, head, 0, 2, 0);
    } catch (e) {
      this.skipFile(file, `unreadable (${errnoProblem(e)})`);
      return false;
    }
    const gz = head[0] === 0x1f && head[1] === 0x8b;
    const raw = fs.createReadStream('', { fd, start: 0, highWaterMark: STREAM_CHUNK });
    const src: AsyncIterable<Buffer> = gz ? raw.pipe(zlib.createGunzip({ chunkSize: STREAM_CHUNK })) : raw;
    let mode: 'records' | 'events' | 'array' | 'lines' | null = null;
    const scannerOf = (m: 'records' | 'events' | 'array') => (m === 'records' ? scanner3 : m === 'events' ? scannerEvents : scanner2);
    let carry: Buffer = Buffer.alloc(0);
    let openAt = -1;
    let nonObjects = 0;
    let fields: FieldReader | null = null;
    const scanner3 = new ObjectScanner(3, (_b, st, en) => this.range(fields as FieldReader, st, en, file), () => nonObjects++);
    const scannerEvents = new ObjectScanner(3, (b, st, en) => this.lookupElement(b, st, en, file), () => nonObjects++);
    const scanner2 = new ObjectScanner(2, (_b, st, en) => this.streamedRecord(fields as FieldReader, st, en, file), () => nonObjects++);
    let damaged: string | null = null;
    let inflated = 0;
    // A JSON Lines record past the record budget was dropped: skip to the end of its line.
    let skipLine = false;
    try {
      for await (const piece of src) {
        // The piece that crossed the decompression budget was the last one read.
        if (damaged) {
          raw.destroy();
          break;
        }
        let chunk = piece as Buffer;
        inflated += chunk.length;
        // Past the budget: the part within it is read, then the file is cut there.
        const over = gz ? inflated - this.maxDecompressed : 0;
        if (over > 0) {
          chunk = chunk.subarray(0, Math.max(0, chunk.length - over));
          damaged = `decompressed-too-large (past ${formatBytes(this.maxDecompressed)})`;
        }
        if (skipLine) {
          const nl = chunk.indexOf(0x0a);
          if (nl < 0) continue;
          chunk = chunk.subarray(nl + 1);
          skipLine = false;
        }
        let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
        const from = carry.length;
        if (mode === null) {
          if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
          const first = buf[skipSpace(buf, 0)];
          if (buf.length < 64 && first === 0x7b) {
            carry = buf;
            continue;
          }
          mode = first === 0x7b && startsWithRecordsArray(buf) ? 'records' : first === 0x7b && startsWithEventsArray(buf) ? 'events' : first === 0x5b ? 'array' : first === 0x7b ? 'lines' : null;
          if (mode === null) {
            raw.destroy();
            this.skipFile(file, 'not-cloudtrail');
            return false;
          }
          this.stats.filesRead++;
          fields = new FieldReader(buf);
          if (mode === 'lines') carry = this.lines(buf, 0, file, false);
          else {
            openAt = scannerOf(mode).scan(buf, 0, buf.length, -1);
            carry = openAt >= 0 ? Buffer.from(buf.subarray(openAt)) : Buffer.alloc(0);
          }
          continue;
        }
        fields = new FieldReader(buf);
        if (mode === 'lines') carry = this.lines(buf, from, file, false);
        else {
          openAt = scannerOf(mode).scan(buf, from, buf.length, carry.length > 0 ? 0 : -1);
          carry = openAt >= 0 ? Buffer.from(buf.subarray(openAt)) : Buffer.alloc(0);
        }
        if (carry.length > (mode === 'events' ? 2 : 1) * MAX_RECORD_BYTES) {
          // The record is dropped and counted; the scanner's state goes on past its end (a
          // record open at the next chunk's start with no start offset is never emitted).
          this.countRecord();
          this.skipUnparsed(TOO_LARGE);
          carry = Buffer.alloc(0);
          if (mode === 'lines') skipLine = true;
        }
      }
    } catch (err) {
      raw.destroy();
      if (err instanceof KeptRecordsError || err instanceof HandBack) throw err;
      damaged = gz ? 'damaged-gzip' : `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    if (mode === 'lines' && carry.length > 0 && !damaged) {
      fields = new FieldReader(carry);
      this.lines(carry, 0, file, true);
    }
    for (let i = 0; i < nonObjects; i++) {
      this.countRecord();
      this.skipUnparsed('malformed-record (not-an-object)');
    }
    if (mode === 'records' || mode === 'events' || mode === 'array') {
      if (!damaged && !scannerOf(mode).complete()) damaged = 'damaged-json';
    }
    if (mode === null && !damaged) {
      this.skipFile(file, 'not-cloudtrail');
      return false;
    }
    // The records before the damage were read and kept; the file still counts as damaged.
    if (damaged) this.skipFile(file, damaged);
    return true;
  }

  /**
   * JSON Lines in `buf`, from `from`: complete lines are read; the unfinished last line is
   * returned to be continued by the next chunk (or read as is when `last`).
   */
  private lines(buf: Buffer, from: number, file: string, last: boolean): Buffer {
    const fields = new FieldReader(buf);
    let pos = from === 0 ? 0 : Math.max(0, buf.lastIndexOf(0x0a, from - 1) + 1);
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0 && !last) return Buffer.from(buf.subarray(pos));
      const end = nl < 0 ? buf.length : nl;
      const s = skipSpace(buf, pos);
      let e = end;
      while (e > s && (buf[e - 1] === 0x0d || buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
      if (s < e) {
        if (buf[s] === 0x7b && buf[e - 1] === 0x7d) this.streamedRecord(fields, s, e, file);
        else {
          this.countRecord();
          this.skipUnparsed('malformed-record (truncated line)');
        }
      }
      if (nl < 0) return Buffer.alloc(0);
      pos = nl + 1;
    }
  }

  /** Reads a file whole; `'stream'` when its gunzipped content is too large for that. */
  private readFile(file: string): boolean | 'stream' {
    const base = path.basename(file);
    if (/CloudTrail-Digest/.test(file) || /_CloudTrail-Digest_/.test(base)) {
      this.skipFile(file, 'digest-file');
      return false;
    }
    if (/CloudTrail-Insight/.test(file)) {
      this.skipFile(file, 'insights-file');
      return false;
    }
    let buf: Buffer;
    try {
      buf = readFileBytes(file, this.streamAbove);
    } catch (err) {
      if (err instanceof TooLargeToReadWhole) return 'stream';
      // A truncated .gz: the stream reads the records before the damage, then counts the file damaged.
      if ((err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') return 'stream';
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const gz = base.endsWith('.gz');
      this.skipFile(file, gz || code.startsWith('Z_') ? 'damaged-gzip' : `unreadable (${err instanceof InputFileError ? err.message : code || (err as Error).message})`);
      // A damaged .gz is a damaged trail file: skipped and counted, never fatal.
      return gz || code.startsWith('Z_');
    }
    const first = buf[skipSpace(buf, 0)];
    if (first === 0x7b && startsWithRecordsArray(buf)) return this.rangedFile(buf, file, 3);
    if (first === 0x7b && startsWithEventsArray(buf)) return this.lookupFile(buf, file);
    if (first === 0x7b) {
      // Records or Events after another key: the array found from the bytes, read the same way.
      const records = topLevelArray(buf, '"Records"');
      if (records) return this.rangedFile(buf, file, 2, records.start, records.end);
      const events = topLevelArray(buf, '"Events"');
      if (events) return this.lookupFile(buf, file, events.start, events.end, 2);
    }
    if (first === 0x5b) return this.rangedFile(buf, file, 2);
    if (first === 0x7b) return this.objectOrLines(buf, file);
    this.skipFile(file, 'not-cloudtrail');
    return false;
  }

  /**
   * A file whose records are the objects at one nesting depth: 3 for `{"Records":[…]}`,
   * 2 for a bare array (which must hold records, not something else).
   */
  private rangedFile(buf: Buffer, file: string, depth: 2 | 3, from = 0, to = buf.length): boolean {
    // The scan runs over a view from 0 to its length: the byte loop then needs no bounds check
    // (a scan bounded by an arbitrary `to` made the whole engine 15% slower).
    const view = from === 0 && to === buf.length ? buf : buf.subarray(from, to);
    // Each record's range and the places of its fields, noted by the scan; read once the whole
    // file is known to be sound.
    const fields = new RecordFields(view);
    const n = fields.slots.length;
    const scanned = scanRecordTable(view, depth, fields, MAX_RECORD_BYTES);
    if (!scanned) {
      this.skipFile(file, 'damaged-json');
      return true;
    }
    const { table, values, timeCounted, times, nonObjects } = scanned;
    if (depth === 2 && table.length > 0) {
      const v = lightView(view, table[0] as number, table[1] as number, true);
      if (!v.eventName && !v.eventId) {
        if (this.ocsfAt(view, table[0] as number, table[1] as number)) return this.ocsfArray(view, table, nonObjects, file);
        this.skipFile(file, 'not-cloudtrail');
        return false;
      }
    }
    this.stats.filesRead++;
    const v3 = fields.values;
    // The times the scan counted: their earliest and latest noted once (noting each in turn keeps the same two).
    if (times) {
      this.noteTime(times.min);
      this.noteTime(times.max);
    }
    for (let r = 0, x = 0, i = 0; r < table.length; r += RECORD_STRIDE, x += 3, i++) {
      for (let k = 0; k < n; k++) fields.slots[k] = table[r + 2 + k] as number;
      v3[0] = values[x];
      v3[1] = values[x + 1];
      v3[2] = values[x + 2];
      this.range(fields, table[r] as number, table[r + 1] as number, file, timeCounted[i] === 1);
    }
    for (let i = 0; i < nonObjects; i++) {
      this.countRecord();
      this.skipUnparsed('malformed-record (not-an-object)');
    }
    return true;
  }

  /** A JSON array of OCSF events, its records' ranges found by the scan: each mapped and read. */
  private ocsfArray(view: Buffer, table: ArrayLike<number>, nonObjects: number, file: string): boolean {
    this.ocsfFile = true;
    this.stats.filesRead++;
    for (let r = 0; r < table.length; r += RECORD_STRIDE) this.ocsfRange(view, table[r] as number, table[r + 1] as number, file);
    for (let i = 0; i < nonObjects; i++) {
      this.countRecord();
      this.skipUnparsed('malformed-record (not-an-object)');
    }
    return true;
  }

  /** `LookupEvents` output: each element of `Events` found by the byte scanner and read alone. */
  private lookupFile(buf: Buffer, file: string, from = 0, to = buf.length, depth: 2 | 3 = 3): boolean {
    const ranges: number[] = [];
    let nonObjects = 0;
    const view = from === 0 && to === buf.length ? buf : buf.subarray(from, to);
    if (!scanObjectsAtDepth(view, depth, (s, e) => ranges.push(s + from, e + from), 0, view.length, () => nonObjects++)) {
      this.skipFile(file, 'damaged-json');
      return true;
    }
    this.stats.filesRead++;
    for (let i = 0; i < ranges.length; i += 2) this.lookupElement(buf, ranges[i] as number, ranges[i + 1] as number, file);
    for (let i = 0; i < nonObjects; i++) {
      this.countRecord();
      this.skipUnparsed('malformed-record (CloudTrailEvent missing or not a string)');
    }
    return true;
  }

  private objectOrLines(buf: Buffer, file: string): boolean {
    // Parsed whole only within a budget of objects and arrays (memory) and nesting (the stack);
    // past it, read line by line, where each record has its own byte budget.
    if (jsonShapeProblem(buf, MAX_RECORD_DEPTH)) return this.linesFile(buf, file);
    const text = buf.toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return this.linesFile(buf, file);
    }
    // Records and Events arrays were found from the bytes before (`topLevelArray`): what is
    // parsed whole here is a digest, a lone record or a foreign document.
    const o = doc as Record<string, unknown>;
    if ('digestStartTime' in o || 'logFiles' in o) {
      this.skipFile(file, 'digest-file');
      return false;
    }
    if (looksLikeOcsf(o)) {
      this.ocsfFile = true;
      this.stats.filesRead++;
      if (buf.length > MAX_RECORD_BYTES) {
        this.countRecord();
        this.skipUnparsed(TOO_LARGE);
      } else this.ocsfObject(o, file, buf.length);
      return true;
    }
    if (typeof o.eventID === 'string' || typeof o.eventVersion === 'string') {
      this.stats.filesRead++;
      if (buf.length > MAX_RECORD_BYTES) {
        this.countRecord();
        this.skipUnparsed(TOO_LARGE);
      } else this.object(o, file, buf.length);
      return true;
    }
    this.skipFile(file, 'not-cloudtrail');
    return false;
  }

  /** JSON Lines: one record a line; a line that is not a whole object is a malformed record. */
  private linesFile(buf: Buffer, file: string): boolean {
    let pos = 0;
    let lines = 0;
    let good = 0;
    const n = buf.length;
    const pending: [number, number][] = [];
    while (pos < n) {
      let nl = buf.indexOf(0x0a, pos);
      if (nl < 0) nl = n;
      let s = skipSpace(buf, pos);
      let e = nl;
      while (e > s && (buf[e - 1] === 0x0d || buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
      pos = nl + 1;
      if (s >= e) continue;
      lines++;
      if (buf[s] === 0x7b && buf[e - 1] === 0x7d) {
        good++;
        pending.push([s, e]);
      } else pending.push([-1, -1]);
      if (lines === 1 && buf[s] !== 0x7b) break;
      s = e;
    }
    if (good === 0) {
      this.skipFile(file, lines > 0 && buf[skipSpace(buf, 0)] === 0x7b ? 'damaged-json' : 'not-cloudtrail');
      return false;
    }
    this.stats.filesRead++;
    const first = pending.find(([s]) => s >= 0);
    // OCSF events (Security Lake) are known by the first whole line.
    this.ocsfFile = first !== undefined && this.ocsfAt(buf, first[0], first[1]);
    const fields = new FieldReader(buf);
    for (const [s, e] of pending) {
      if (s < 0) {
        this.countRecord();
        this.skipUnparsed('malformed-record (truncated line)');
      } else if (this.ocsfFile) this.ocsfRange(buf, s, e, file);
      else this.range(fields, s, e, file);
    }
    return true;
  }
}

/**
 * Reads the given files, keeping the records the selector wants (deduplicated by eventID,
 * also against `seen`). With `index`, records which files each access key id and principal
 * key occur in, so a later pass can reopen only those files.
 *
 * Every file and record has a byte budget: a file larger than `streamAbove` on disk, or whose
 * gunzipped content is, is read as a stream; a gzipped file that inflates past
 * `maxDecompressed` ({@link MAX_DECOMPRESSED_BYTES}, 512 MiB) is cut there and counted damaged
 * (`decompressed-too-large`), its records before the cut kept; a record larger than
 * {@link MAX_RECORD_BYTES} (1 MiB) is skipped and counted as malformed. Memory stays bounded by
 * the stream's chunk, one record and what the selector keeps, whatever the input; what it keeps
 * is at most `maxKept` records ({@link MAX_KEPT_RECORDS}) and `maxKeptBytes` bytes of them
 * ({@link MAX_KEPT_BYTES}).
 * @throws KeptRecordsError when the records kept would pass `maxKept` or `maxKeptBytes`.
 */
export async function readTrailFiles<S extends RecordSummary = RecordSummary>(files: string[], selector: RecordSelector, opts: ReadOptions<S> = {}): Promise<ReadResult<S>> {
  const stats = emptyStats();
  const collector = new Collector<S>(stats, { ...opts, countStructural: opts.countStructural ?? true });
  const reader = new FileReader<S>(selector, stats, collector, readerOptions(opts));
  const cloudTrailFlags: boolean[] = [];
  for (let i = 0; i < files.length; i++) {
    const idx = opts.fileIds?.[i] ?? i;
    cloudTrailFlags.push(await reader.read(files[i] as string, idx, opts.want?.get(idx) ?? null));
  }
  return { events: collector.events, summaries: collector.summaries, stats, cloudTrailFlags, keptBytes: collector.keptBytes, ordinals: collector.order };
}

/** Options of {@link readTrailFiles}: the reader's and the collector's. */
export interface ReadOptions<S extends RecordSummary = RecordSummary> extends CollectorOptions {
  /** The index of each file (default: its place in `files`). */
  fileIds?: number[];
  streamAbove?: number;
  maxDecompressed?: number;
  summarize?: (ev: TrailEvent) => S;
  wholeWithin?: { from: number; to: number } | null;
  /** Per file index: the positions of records kept whole whatever the selector says. */
  want?: Map<number, ReadonlySet<number>>;
}

/** The {@link FileReader} options of a read. */
export function readerOptions<S extends RecordSummary>(opts: ReadOptions<S>): FileReaderOptions<S> {
  const maxDecompressed = opts.maxDecompressed ?? MAX_DECOMPRESSED_BYTES;
  return {
    countStructural: opts.countStructural ?? true,
    streamAbove: Math.min(opts.streamAbove ?? STREAM_ABOVE_BYTES, maxDecompressed),
    maxDecompressed,
    withIndex: !!opts.index,
    summarize: opts.summarize,
    wholeWithin: opts.wholeWithin ?? null,
  };
}
