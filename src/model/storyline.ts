/**
 * The storyline: the scored fields fixed by `shared/design/storyline-contract.md`
 * ("The fields that are scored") plus the fields trailstory adds for people and for the
 * Security Hub writer. Names of the scored fields must never change.
 */

import type { FindingAnnotation } from './finding';

/** A MITRE ATT&CK Enterprise tactic, by its ID (https://attack.mitre.org/tactics/enterprise/). */
export interface Tactic {
  id: string;
  name: string;
}

/** Why an event is a step: the rule of evidence that admitted it. */
export type StepReason =
  | 'attacker-source'
  | 'attacker-minted-credential'
  | 'attacker-created-principal'
  | 'service-for-attacker'
  | 'issued-for-attacker'
  | 'cross-account-copy'
  | 'took-control'
  | 'attack-sequence-signal';

export interface Step {
  /** CloudTrail `eventID`. */
  eventId: string;
  /** ISO 8601 UTC with `Z`. */
  eventTime: string;
  eventSource: string;
  eventName: string;
  accountId: string;
  region: string;
  /** `userIdentity.arn`; null where the record has none (an `AWSAccount` copy of a cross-account call). */
  principalArn: string | null;
  sourceIPAddress: string;
  tactic: Tactic | null;
  /** ATT&CK technique where the event makes it clear, e.g. `{id: "T1098.001", name: "Additional Cloud Credentials"}`. */
  technique?: { id: string; name: string } | null;
  /** Extra fields for people: not scored. */
  accessKeyId?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  reason: StepReason;
  /** Privilege escalation and credential minting: what the step granted. */
  grants?: Grant[];
}

/** What a privilege-escalation or credential step granted, read from its request and response. */
export interface Grant {
  kind:
    | 'managed-policy'
    | 'inline-policy'
    | 'policy-version'
    | 'group-membership'
    | 'trust-policy'
    | 'passed-role'
    | 'access-key'
    | 'login-profile'
    | 'session'
    | 'user';
  /** The user, role or group that received it. */
  target?: string;
  /** Policy ARN, group name, role ARN, access key id, session ARN, … */
  value?: string;
  /** Inline or version policy document, as text (URL-decoded). */
  document?: string;
}

/** An edge of the identity lineage: one credential or principal issued from another, with its evidence. */
export interface LineageEdge {
  from: string;
  to: string;
  /** `AssumeRole`, `CreateAccessKey`, `ConsoleLogin`, `CreateUser`, … */
  via: string;
  /** The CloudTrail eventID that is the evidence for the edge. */
  eventId: string;
  eventTime: string;
  /** Whether the edge was made by an attacker step (false: a legitimate issue, e.g. EC2 delivering instance credentials). */
  byAttacker: boolean;
}

export interface Coverage {
  sample: boolean;
  filesRead: number;
  filesSkipped: number;
  recordsRead: number;
  recordsSkipped: number;
  /** Why files and records were skipped: `{reason: count}`. */
  skippedReasons: Record<string, number>;
  /** Skipped files with their reason (at most 50 listed). */
  skippedFiles: { file: string; reason: string }[];
  accounts: string[];
  regions: string[];
  /** ISO times of the earliest and latest record read; null when none. */
  timeSpan: { from: string | null; to: string | null };
  /** What is missing, in words. */
  gaps: string[];
  /** Records that were read in full (JSON.parse'd) because they could matter. */
  recordsExamined: number;
  /** Records whose eventID was already read: each eventID is read once, from the first file in path order. */
  duplicateRecords?: number;
  /** What a querying source (Athena, Security Lake) spent on the finding: queries, rounds, bytes scanned, seconds. */
  queries?: { source: string; queries: number; rounds: number; bytesScanned: number; seconds: number };
  /** Steps found past the {@link MAX_LISTED_STEPS} listed (the latest ones); absent when every step is listed. */
  stepsNotListed?: number;
}

/**
 * The most steps a storyline lists: the earliest ones, the origin first. Past it, the latest
 * steps are counted in `coverage.stepsNotListed` and named in a gap, so the memory and the size
 * of every format stay bounded when stolen credentials made hundreds of thousands of calls.
 */
export const MAX_LISTED_STEPS = 25_000;

export interface Storyline {
  schemaVersion: '1';
  finding: {
    id: string;
    type: string;
    accountId: string;
    region: string;
    arn: string;
    severity?: number;
    title?: string;
    eventFirstSeen?: string;
    eventLastSeen?: string;
    /** The Note already on the finding (ASFF input only), which the Security Hub writer keeps. */
    note?: { text: string; updatedBy: string };
    /** The Types, RelatedFindings and UserDefinedFields already on the finding (ASFF input only), which the Security Hub writer keeps. */
    annotation?: FindingAnnotation;
  };
  origin: { eventId: string; eventTime: string; eventName: string; reason: string } | null;
  steps: Step[];
  /** Principal ARNs of the identity lineage (users, roles, sessions), actor first. */
  lineage: string[];
  lineageEdges: LineageEdge[];
  /** Addresses judged to be the attacker's, with why. */
  attackerSources: { ip: string; reason: string }[];
  coverage: Coverage;
  summary: string;
  /** Amazon Detective's part (Lambda path only): the investigation and how many indicators it gave. */
  detective?: { status: string; investigationId: string | null; indicators: number };
}
