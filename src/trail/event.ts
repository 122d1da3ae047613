/**
 * One CloudTrail record, normalised: the fields the storyline uses, with the identity run
 * through the one identity normaliser and the time through the one time normaliser.
 *
 * Source: "CloudTrail record contents",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
import { classifySourceAddress, type SourceAddress } from '../identity/ip';
import { normalizeIdentity, type Principal } from '../identity/principal';
import { inRecordTimeRange, toEpochMs, toIsoUtc } from '../model/time';

export interface TrailEvent {
  /** CloudTrail `eventID`. */
  eventId: string;
  /** ISO 8601 UTC with `Z`. */
  eventTime: string;
  /** Milliseconds since the epoch, for ordering. */
  epochMs: number;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  /** `recipientAccountId`, else the identity's account. */
  accountId: string;
  /** `sourceIPAddress` as recorded. */
  sourceIPAddress: string;
  source: SourceAddress;
  userAgent: string;
  errorCode: string | null;
  errorMessage: string | null;
  readOnly: boolean | null;
  identity: Principal;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  additionalEventData: Record<string, unknown> | null;
  serviceEventDetails: Record<string, unknown> | null;
  resources: Record<string, unknown>[];
  sharedEventID: string | null;
  /** `requestID`: the same on both copies of a cross-account call. */
  requestId: string | null;
  eventType: string | null;
  /** `sessionCredentialFromConsole`. */
  fromConsole: boolean;
  /** The file the record came from (for evidence). */
  file: string;
}

function obj(v: unknown): Record<string, unknown> | null {
  if (typeof v === 'string') {
    // Some exports keep requestParameters/responseElements as JSON text.
    const t = v.trim();
    if (t.startsWith('{')) {
      try {
        return obj(JSON.parse(t));
      } catch {
        return null;
      }
    }
    return null;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Why a record could not be used. */
export type RecordProblem = 'not-an-object' | 'no-eventID' | 'no-eventTime' | 'bad-eventTime' | 'eventTime-out-of-range' | 'no-eventName' | 'no-userIdentity' | 'insight-event';

/**
 * Normalises one parsed record. Returns a {@link RecordProblem} instead of throwing when the
 * record lacks what every storyline needs (eventID, a readable eventTime, eventName, the
 * `userIdentity` object every API call record has), and for CloudTrail Insights events, which
 * are not API calls (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 */
export function toTrailEvent(raw: unknown, file: string): TrailEvent | RecordProblem {
  const r = obj(raw);
  if (!r) return 'not-an-object';
  if (r.eventType === 'AwsCloudTrailInsight' || r.insightDetails) return 'insight-event';
  const eventId = str(r.eventID);
  if (!eventId) return 'no-eventID';
  if (r.eventTime === undefined || r.eventTime === null) return 'no-eventTime';
  const eventTime = toIsoUtc(r.eventTime);
  const epochMs = toEpochMs(r.eventTime);
  if (!eventTime || epochMs === undefined) return 'bad-eventTime';
  if (!inRecordTimeRange(epochMs)) return 'eventTime-out-of-range';
  const eventName = str(r.eventName);
  if (!eventName) return 'no-eventName';
  if (!obj(r.userIdentity)) return 'no-userIdentity';
  const identity = normalizeIdentity(r.userIdentity);
  const sourceIPAddress = typeof r.sourceIPAddress === 'string' ? r.sourceIPAddress : '';
  const resources = Array.isArray(r.resources) ? (r.resources.filter((x) => obj(x)) as Record<string, unknown>[]) : [];
  return {
    eventId,
    eventTime,
    epochMs,
    eventSource: str(r.eventSource) ?? '',
    eventName,
    awsRegion: str(r.awsRegion) ?? '',
    accountId: str(r.recipientAccountId) ?? identity.accountId ?? '',
    sourceIPAddress,
    source: classifySourceAddress(sourceIPAddress),
    userAgent: typeof r.userAgent === 'string' ? r.userAgent : '',
    errorCode: str(r.errorCode),
    errorMessage: str(r.errorMessage),
    readOnly: typeof r.readOnly === 'boolean' ? r.readOnly : r.readOnly === 'true' ? true : r.readOnly === 'false' ? false : null,
    identity,
    requestParameters: obj(r.requestParameters),
    responseElements: obj(r.responseElements),
    additionalEventData: obj(r.additionalEventData),
    serviceEventDetails: obj(r.serviceEventDetails),
    resources,
    sharedEventID: str(r.sharedEventID),
    requestId: str(r.requestID),
    eventType: str(r.eventType),
    fromConsole: r.sessionCredentialFromConsole === true || r.sessionCredentialFromConsole === 'true',
    file,
  };
}
