/**
 * The use case behind `trailstory investigate` with the file source: read the finding,
 * gather the CloudTrail records that can matter in (at most) two passes, reconstruct.
 *
 * Pass 1 reads every file once and parses only the issuing events (AssumeRole,
 * CreateAccessKey, ConsoleLogin, …) and the records of the finding's own credentials and
 * principals; it also notes which files each access key and principal occur in. The lineage
 * closure over the issuing events then names every credential and principal that can take
 * part, and pass 2 reopens only the files where the new ones occur.
 */
import type { NormalizedFinding } from '../model/finding';
import { readJsonFile } from '../model/json-file';
import type { Storyline } from '../model/storyline';
import { FindingInputError } from '../findings/errors';
import { parseFindings, selectFinding } from '../findings/normalize';
import type { TrailEvent } from '../trail/event';
import { KeptRecordsError, listTrailFiles, MAX_KEPT_BYTES, MAX_KEPT_RECORDS, MAX_KEPT_SUMMARIES, noteSkippedFile, reasonsInWords, TrailInputError, type ReadStats, type TokenIndex } from '../trail/read';
import { selectSpec, type Tokens } from './closure';
import { readInParallel } from './parallel-read';
import { reconstruct } from './reconstruct';
import { closeInRounds, type RoundAnswer, type RoundRequest, type RoundSource } from './rounds';
import { loadEventMap } from './tactics';

export interface InvestigateOptions {
  /** Path of the finding file (any accepted form). */
  findingFile: string;
  /** GuardDuty finding id or ARN, for files holding several findings. */
  findingId?: string;
  /** Files or folders of CloudTrail records. */
  cloudtrail: string[];
  /** A user event map (JSON) merged over `data/event-tactics.json`. */
  eventMapFile?: string;
  /** Reader threads (0: the main thread only); default: one per core for a large read (see `workersFor`). */
  threads?: number;
  /** The finding already read from `findingFile` (by {@link readFinding}), so it is not read twice. */
  finding?: NormalizedFinding;
}

/**
 * Reads and selects the finding.
 * @throws FindingInputError (one line naming the file) when the file is missing, not JSON,
 *   not a finding, or holds several findings and no id was chosen (AmbiguousFindingError).
 */
export function readFinding(file: string, findingId?: string): NormalizedFinding {
  const doc = readJsonFile(file, { kind: 'finding file', unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }, (problem) => new FindingInputError(file, problem));
  return selectFinding(parseFindings(doc, file), file, findingId);
}

export { closeTokens, lineageClosure, seedTokens, type Tokens } from './closure';

function mergeSkips(into: ReadStats, from: ReadStats): void {
  into.recordsExamined += from.recordsExamined;
  for (const [reason, n] of Object.entries(from.skippedReasons)) {
    if (!/^malformed-record \((invalid JSON|no-|bad-|eventTime-out-of-range)/.test(reason)) continue;
    into.skippedReasons[reason] = (into.skippedReasons[reason] ?? 0) + n;
    into.recordsSkipped += n;
  }
}

/** The skips of a read in a few words: `1 file skipped (damaged-gzip); 3 records skipped (malformed-record (no-eventID))`. */
function whatWasSkipped(stats: ReadStats): string {
  const reasons = (keep: (r: string) => boolean) => reasonsInWords(stats.skippedReasons, keep);
  const isRecord = (r: string) => r.startsWith('malformed-record') || r === 'insight-event';
  const parts: string[] = [];
  if (stats.filesSkipped > 0) parts.push(`${stats.filesSkipped} file${stats.filesSkipped > 1 ? 's' : ''} skipped: ${reasons((r) => !isRecord(r))}`);
  if (stats.recordsSkipped > 0) parts.push(`${stats.recordsSkipped} record${stats.recordsSkipped > 1 ? 's' : ''} skipped: ${reasons(isRecord)}`);
  return parts.join('; ');
}

/** What {@link collectTrail} gathered. */
export interface Collected {
  events: TrailEvent[];
  stats: ReadStats;
  passes: number;
  filesReopened: number;
}

/**
 * Gathers the records that can matter for `finding` from local files.
 * @throws TrailInputError when a path does not exist or holds no CloudTrail file at all, and
 *   when not one record could be read from all of them (every file damaged, every record
 *   malformed, or no record at all: `{"Records":[]}`); and when more records would be kept than one run holds
 *   (`MAX_KEPT_RECORDS`).
 */
export async function collectTrail(finding: NormalizedFinding, paths: string[], workers?: number): Promise<Collected> {
  try {
    return await collectWithin(finding, paths, workers);
  } catch (e) {
    // The whole run's budgets, not what a second pass had left of them.
    if (e instanceof KeptRecordsError) throw new TrailInputError(`${paths.join(', ')}: ${new KeptRecordsError(MAX_KEPT_RECORDS, MAX_KEPT_BYTES, MAX_KEPT_SUMMARIES).message}; give --cloudtrail fewer days around the finding`);
    throw e;
  }
}

async function collectWithin(finding: NormalizedFinding, paths: string[], workers?: number): Promise<Collected> {
  const unlisted: { file: string; reason: string }[] = [];
  const perPath = paths.map((p) => {
    const before = unlisted.length;
    const files = listTrailFiles([p], unlisted);
    return { p, files, left: unlisted.slice(before) };
  });
  const files = perPath.flatMap((x) => x.files);
  const source = new FileRoundSource(files, workers);
  const result = await closeInRounds(finding, {
    round: async (req) => {
      const answer = await source.round(req);
      if (req.round === 0) {
        // Each path must hold CloudTrail, and the read must hold at least one usable record.
        let offset = 0;
        for (const { p, files: fs1, left } of perPath) {
          const flags = source.cloudTrailFlags.slice(offset, offset + fs1.length);
          offset += fs1.length;
          if (!flags.some(Boolean)) {
            const reasons = [...new Set(left.map((u) => u.reason))].join(', ');
            const none = left.length > 0 ? `holds no file that can be read (${left.length} entr${left.length > 1 ? 'ies' : 'y'} left out: ${reasons})` : 'holds no files';
            throw new TrailInputError(fs1.length === 0 ? `${p}: ${none}` : `${p}: holds no CloudTrail file (${fs1.length} file(s) read, none of them CloudTrail records)`);
          }
        }
        const stats = source.stats as ReadStats;
        const usable = stats.recordsRead - stats.recordsSkipped;
        if (usable <= 0) throw new TrailInputError(`${paths.join(', ')}: no CloudTrail record could be read (${whatWasSkipped(stats) || 'the files hold no records'})`);
      }
      return answer;
    },
  });
  const stats = source.stats as ReadStats;
  for (const u of unlisted) noteSkippedFile(stats, u.file, u.reason);
  // The records in the order a read of every record whole would have kept them.
  const kept = [...result.events].sort((a, b) => (source.order.get(a.eventId) ?? 0) - (source.order.get(b.eventId) ?? 0));
  return { events: kept, stats, passes: result.rounds, filesReopened: source.filesReopened.size };
}

/**
 * Local files as a {@link RoundSource}. The first round reads every file once: the records of
 * the finding's own tokens whole, every other issuing, creating, control and portal record as
 * its closure row (whole within the finding's anchor window), and notes in which files each
 * key, principal and session occurs. Later rounds reopen only the files where the frontier's
 * tokens occur, and fetch the rows wanted whole by their position.
 */
class FileRoundSource implements RoundSource {
  stats: ReadStats | null = null;
  cloudTrailFlags: boolean[] = [];
  /** eventID → place in path order. */
  readonly order = new Map<string, number>();
  readonly filesReopened = new Set<number>();
  private readonly index: TokenIndex = new Map();
  private readonly seen = new Set<string>();
  /** Rows known by their place: eventID → file, position and place in path order. */
  private readonly places = new Map<string, { fileIdx: number; pos: number; ordinal: number }>();
  private ordinalBase = 0;
  private kept = 0;
  private keptBytes = 0;

  constructor(
    private readonly files: string[],
    private readonly workers?: number,
  ) {}

  async round(req: RoundRequest): Promise<RoundAnswer> {
    if (req.round === 0) {
      const r1 = await readInParallel(this.files, selectSpec(req.frontier, true), { index: this.index, seen: this.seen, wholeWithin: req.anchors, workers: this.workers });
      this.stats = r1.stats;
      this.cloudTrailFlags = r1.cloudTrailFlags;
      for (const ev of r1.events) this.order.set(ev.eventId, r1.ordinals.get(ev.eventId) ?? 0);
      for (const s of r1.summaries) this.places.set(s.summary.eventId, { fileIdx: s.fileIdx, pos: s.pos, ordinal: s.ordinal });
      this.ordinalBase = r1.events.length + r1.summaries.length;
      this.kept = r1.events.length;
      this.keptBytes = r1.keptBytes;
      return { events: r1.events, rows: r1.summaries.map((s) => s.summary) };
    }
    const t = req.frontier;
    const fileIds = new Set<number>();
    for (const tok of [...t.keys, ...t.principals, ...[...t.sessionNames].map((s) => `session:${s}`)]) for (const i of this.index.get(tok) ?? []) fileIds.add(i);
    // The rows wanted whole: fetched from their files by position.
    const want = new Map<number, Set<number>>();
    const fetch = new Map<string, number>();
    for (const id of t.eventIds) {
      const at = this.places.get(id);
      if (!at) continue;
      fileIds.add(at.fileIdx);
      const set = want.get(at.fileIdx);
      if (set) set.add(at.pos);
      else want.set(at.fileIdx, new Set([at.pos]));
      fetch.set(`${at.fileIdx}:${at.pos}`, at.ordinal);
    }
    if (fileIds.size === 0) return { events: [] };
    for (const i of fileIds) this.filesReopened.add(i);
    const ids = [...fileIds].sort((a, b) => a - b);
    const delta: Tokens = { keys: t.keys, principals: t.principals, sessionNames: t.sessionNames, eventIds: new Set(), eventNames: new Set() };
    const r = await readInParallel(
      ids.map((i) => this.files[i] as string),
      selectSpec(delta, false),
      {
        seen: this.seen,
        fileIds: ids,
        want,
        fetch,
        ordinalBase: this.ordinalBase,
        countStructural: false,
        maxKept: Math.max(0, MAX_KEPT_RECORDS - this.kept),
        maxKeptBytes: Math.max(0, MAX_KEPT_BYTES - this.keptBytes),
        workers: this.workers,
      },
    );
    for (const ev of r.events) this.order.set(ev.eventId, r.ordinals.get(ev.eventId) ?? 0);
    this.ordinalBase += r.events.length;
    this.kept += r.events.length;
    this.keptBytes += r.keptBytes;
    mergeSkips(this.stats as ReadStats, r.stats);
    return { events: r.events };
  }
}

/**
 * Investigates one finding against local CloudTrail: the whole main job of the CLI.
 * @throws FindingInputError for a bad finding file, TrailInputError for a bad trail path.
 */
export async function investigate(opts: InvestigateOptions): Promise<Storyline> {
  const finding = opts.finding ?? readFinding(opts.findingFile, opts.findingId);
  const eventMap = loadEventMap(opts.eventMapFile);
  const { events, stats } = await collectTrail(finding, opts.cloudtrail, opts.threads);
  return reconstruct(finding, events, stats, { eventMap });
}
