/**
 * Context sources behind one interface (architecture: "Context sources behind one interface,
 * each with a descriptor"). A source gathers what it can for one finding and says what it could
 * not; it assumes no other source ran. The CLI's file reader and the Lambda's CloudTrail
 * LookupEvents are two sources of the same records.
 */
import type { NormalizedFinding } from '../model/finding';
import type { TrailEvent } from '../trail/event';
import type { ReadStats } from '../trail/read';

/** What a source needs and how far it goes: documentation and IAM policies are generated from it. */
export interface SourceDescriptor {
  id: string;
  /** IAM actions the source calls, e.g. `cloudtrail:LookupEvents`. */
  iamActions: string[];
  /** Its limits, in words (API quotas, caps it applies). */
  limits: string[];
}

/** Records a source gathered for one finding, with the reader's counts and what is missing. */
export interface SourceResult {
  events: TrailEvent[];
  stats: ReadStats;
  /** What could not be gathered and why (merged into the storyline's coverage gaps). */
  gaps: string[];
  /** True when the data may not be complete yet (events not delivered yet): enrich again later. */
  incomplete: boolean;
  /** AWS requests made, by API (`cloudtrail:LookupEvents` → count). */
  requests: Record<string, number>;
  /** Queries, rounds, bytes scanned and seconds, for a source that queries (Athena, Security Lake). */
  usage?: SourceUsage;
  /** The time span looked up (epoch ms), when the source works in a window. */
  window?: { from: number; to: number };
}

/** What a querying source spent on one finding (coverage `queries`, metrics). */
export interface SourceUsage {
  /** The source's id (`athena`). */
  source: string;
  queries: number;
  rounds: number;
  /** Bytes the queries scanned (Athena's DataScannedInBytes). */
  bytesScanned: number;
  /** Seconds from the first query's start to the last one's end. */
  seconds: number;
}

/** Options of one collection: `since` (epoch ms) looks up only what came after an earlier run. */
export interface CollectOptions {
  since?: number;
}

export interface TrailSource {
  descriptor: SourceDescriptor;
  /** Gathers the records that can matter for `finding`. Never throws for partial failures: says so in `gaps`. */
  collect(finding: NormalizedFinding, opts?: CollectOptions): Promise<SourceResult>;
}
