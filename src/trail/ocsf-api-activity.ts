/**
 * Amazon Security Lake's CloudTrail data (OCSF 1.1.0 API Activity, class 6003: Security Lake
 * "source version 2") read back as the CloudTrail records the engine reads.
 *
 * What Security Lake writes, and where this mapping follows it:
 * - Tables and versions: "Open Cybersecurity Schema Framework (OCSF) in Security Lake"
 *   (https://docs.aws.amazon.com/security-lake/latest/userguide/open-cybersecurity-schema-framework.html):
 *   source version 1 writes OCSF `1.0.0-rc.2` (CloudTrail management events as API Activity,
 *   Authentication and Account Change, class ids of rc.2: 3005, 3002, 3001), source version 2
 *   writes OCSF `1.1.0`, every CloudTrail record as API Activity 6003 (`metadata.product.name`
 *   `CloudTrail`, `metadata.product.feature.name` `Management` or `Data`). Tables
 *   `amazon_security_lake_table_<region>_cloud_trail_mgmt_2_0`, `…_s3_data_2_0`,
 *   `…_lambda_execution_2_0` (see `src/sources/security-lake-tables.ts`).
 * - The field mapping, OCSF 1.1.0 (the CloudTrail API Activity dossier of the OCSF examples,
 *   https://github.com/ocsf/examples/tree/main/mappings/markdown/AWS/v1.1.0/CloudTrail/API%20Activity,
 *   and its Bloblang form `mappings/bloblang/AWS/CloudTrail/v1.1.0/cloudtrail_api_activity.blobl`;
 *   the Security Lake user guide's source version 2 CloudTrail queries use the same paths:
 *   `actor.user.uid`, `actor.user.uid_alt`, `actor.user.account.uid`, `actor.user.credential_uid`,
 *   `api.response.error`, `api.response.message`, `api.response.data`, `api.request.uid`,
 *   `json_extract_scalar(api.request.data, '$.x')`, so `api.request.data` is JSON text):
 *
 *   | CloudTrail | OCSF 1.1.0 |
 *   | --- | --- |
 *   | eventID | metadata.uid |
 *   | eventTime | time (epoch ms), time_dt |
 *   | eventVersion | metadata.product.version |
 *   | eventCategory | metadata.product.feature.name |
 *   | eventName / eventSource / apiVersion | api.operation / api.service.name / api.version |
 *   | awsRegion | cloud.region (`cloud.provider` AWS) |
 *   | recipientAccountId | cloud.account.uid |
 *   | sourceIPAddress | src_endpoint.ip (an address), else src_endpoint.domain (`ec2.amazonaws.com`, `AWS Internal`; also read from `name`) |
 *   | vpcEndpointId | src_endpoint.uid |
 *   | userAgent | http_request.user_agent |
 *   | errorCode / errorMessage | api.response.error / api.response.message (status_id 2 Failure, else 1 Success) |
 *   | requestParameters / responseElements | api.request.data / api.response.data (JSON text) |
 *   | requestID | api.request.uid |
 *   | resources[].ARN / accountId / type | resources[].uid / owner.account.uid / type |
 *   | userIdentity.type | actor.user.type |
 *   | userIdentity.arn | actor.user.uid (1.1.0; rc.2 had it in `uuid`) |
 *   | userIdentity.principalId | actor.user.uid_alt (1.1.0; rc.2 had it in `uid`) |
 *   | userIdentity.accountId | actor.user.account.uid |
 *   | userIdentity.accessKeyId | actor.user.credential_uid |
 *   | userIdentity.userName | actor.user.name |
 *   | userIdentity.invokedBy | actor.invoked_by |
 *   | userIdentity.identityProvider, sessionContext.webIdFederationData.federatedProvider | actor.idp.name |
 *   | userIdentity.onBehalfOf.identityStoreArn | actor.idp.uid |
 *   | sessionContext.attributes.creationDate | actor.session.created_time (epoch ms), created_time_dt |
 *   | sessionContext.attributes.mfaAuthenticated | actor.session.is_mfa |
 *   | sessionContext.sessionIssuer.arn | actor.session.issuer |
 *   | everything else | unmapped (below) |
 *
 * - `unmapped`: "Any fields not present in an explicit mapping will be mapped to the unmapped
 *   object" (the dossier). In Security Lake's tables `unmapped` is a `map<string,string>`; its
 *   source version 1 queries read flattened CloudTrail paths from it
 *   (`unmapped['requestParameters.userName']`, `unmapped['responseElements.accessKey.accessKeyId']`,
 *   https://github.com/awslabs/aws-security-analytics-bootstrap, `amazon_security_lake_queries_cloudtrail_management.md`).
 *   The fields the engine reads from it: `eventType`, `readOnly`, `sharedEventID`,
 *   `sessionCredentialFromConsole`, `additionalEventData`, `serviceEventDetails`,
 *   `userIdentity.sessionContext.sourceIdentity`, `userIdentity.sessionContext.sessionIssuer.userName`
 *   (`.type`, `.accountId`, `.principalId`), `userIdentity.onBehalfOf.userId`,
 *   `userIdentity.sessionContext.webIdFederationData.federatedProvider`, `userIdentity.additionalContext.*`.
 *   Read here in every form met: a key naming a whole field (`additionalEventData`) with its value as
 *   JSON text, or flattened dotted keys (`additionalEventData.MFAUsed`) rebuilt into the object; the
 *   map as a JSON object, as JSON text, or as Athena's `[{key, value}]` rows.
 *
 * Not verified against a live Security Lake (no public sample of a source version 2 CloudTrail row
 * was found): which exact keys `unmapped` holds, and whether `eventType` also goes to
 * `metadata.event_code` (the dossier maps it there; both are read).
 */
import { toEpochMs } from '../model/time';

/** Why an OCSF event gives no CloudTrail record. */
export interface OcsfProblem {
  /** Short, for a skip reason: `not-an-object`, `not-api-activity`, `ocsf-version-1`, `no-metadata-uid`, `no-time`, `no-api-operation`. */
  problem: 'not-an-object' | 'not-api-activity' | 'ocsf-version-1' | 'no-metadata-uid' | 'no-time' | 'no-api-operation';
  /** One line for a person. */
  message: string;
}

/** The OCSF class of API Activity (category 6 Application Activity × 1000 + 3), OCSF 1.1.0. */
export const API_ACTIVITY_CLASS_UID = 6003;

/** The one line a Security Lake source version 1 record or table is refused with. */
export const VERSION_1_REFUSAL = 'Security Lake source version 1 (OCSF 1.0.0-rc.2) tables are not served: read the source version 2 tables (OCSF 1.1.0, `…_2_0`)';

function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** JSON text (`{…}`, `[…]`) parsed; other values as they are. */
function jsonValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

/**
 * Whether a parsed JSON value has the shape of an OCSF event rather than a CloudTrail record:
 * a numeric `class_uid` and a `metadata` object, and no `eventID`/`eventName`.
 */
export function looksLikeOcsf(v: unknown): boolean {
  const o = obj(v);
  if (!o) return false;
  return (typeof o.class_uid === 'number' || (typeof o.class_uid === 'string' && /^\d+$/.test(o.class_uid))) && obj(o.metadata) !== null && o.eventID === undefined && o.eventName === undefined;
}

/** Epoch milliseconds as ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ` (with `.sss` when not zero), as CloudTrail writes times. */
function isoOfMs(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** A time column: epoch ms (number, or its text as Athena returns a bigint), else an RFC 3339 `_dt` text. */
function msOf(v: unknown, dt: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return dt === undefined || dt === null ? undefined : toEpochMs(dt);
}

/** The `unmapped` map in any form it is found in (object, JSON text, Athena `[{key, value}]` rows), as string → value. */
function unmappedEntries(v: unknown): [string, unknown][] {
  const u = jsonValue(v);
  if (Array.isArray(u)) {
    const out: [string, unknown][] = [];
    for (const e of u) {
      const o = obj(e);
      if (o && typeof o.key === 'string') out.push([o.key, o.value]);
    }
    return out;
  }
  const o = obj(u);
  return o ? Object.entries(o) : [];
}

/** Sets `value` at the dotted `path` of `into`, making the objects on the way (a value already there that is not an object is kept). */
function setPath(into: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = into;
  for (const part of parts.slice(0, -1)) {
    const next = obj(at[part]);
    if (next) at = next;
    else if (at[part] === undefined) {
      const o: Record<string, unknown> = {};
      at[part] = o;
      at = o;
    } else return;
  }
  const last = parts[parts.length - 1] as string;
  const had = obj(at[last]);
  const val = obj(value);
  // A whole object and flattened keys into it: both kept.
  if (had && val) Object.assign(had, val);
  else at[last] = value;
}

/** CloudTrail's top-level fields that hold booleans (kept as text in `unmapped`). */
const BOOLEAN_FIELDS = new Set(['readOnly', 'managementEvent']);

/** Sets a field when the value is there (not null, not empty text). */
function put(o: Record<string, unknown>, key: string, v: unknown): void {
  if (v === undefined || v === null || v === '') return;
  o[key] = v;
}

/**
 * One OCSF API Activity event (OCSF 1.1.0, class 6003: as Security Lake source version 2 writes
 * CloudTrail, a row of its tables exported to JSON by Athena, or {@link cloudTrailRecordFromOcsf}'s
 * inverse in the tests) as the CloudTrail record it came from, camel-case as in a delivery file
 * ("CloudTrail record contents",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
 * `{eventID, eventTime, eventName, eventSource, awsRegion, recipientAccountId, sourceIPAddress,
 * userAgent, errorCode, errorMessage, requestParameters, responseElements, additionalEventData,
 * userIdentity{type, principalId, arn, accountId, accessKeyId, userName, invokedBy,
 * sessionContext{attributes{creationDate, mfaAuthenticated}, sessionIssuer{…}, sourceIdentity,
 * webIdFederationData}, onBehalfOf, identityProvider}, resources, sharedEventID, requestID,
 * eventType, readOnly, sessionCredentialFromConsole, …}`; the field mapping is the module
 * header's. Fields with no value are left out. Times: `time` (epoch milliseconds; `time_dt`
 * when it is missing) gives `eventTime` as ISO 8601 UTC (`2026-10-01T00:00:00Z`);
 * `actor.session.created_time` (epoch ms) gives `creationDate` the same way, and `is_mfa`
 * gives `mfaAuthenticated` as CloudTrail's `"true"`/`"false"`. `api.request.data` and
 * `api.response.data` are parsed when they are JSON text.
 *
 * Never throws.
 * @returns the record, or an {@link OcsfProblem}: not an object; a class other than 6003
 *   (`not-api-activity`); an OCSF `metadata.version` of a release candidate, which is Security
 *   Lake source version 1 (`ocsf-version-1`, with {@link VERSION_1_REFUSAL}); no `metadata.uid`,
 *   no time, or no `api.operation`.
 */
export function cloudTrailRecordFromOcsf(ocsf: unknown): Record<string, unknown> | OcsfProblem {
  const o = obj(ocsf);
  if (!o) return { problem: 'not-an-object', message: 'the OCSF event is not a JSON object' };
  const metadata = obj(o.metadata) ?? {};
  const version = str(metadata.version);
  if (version && /-rc\b|^1\.0\.0-/i.test(version)) return { problem: 'ocsf-version-1', message: `OCSF ${version}: ${VERSION_1_REFUSAL}` };
  const classUid = typeof o.class_uid === 'string' ? Number(o.class_uid) : o.class_uid;
  if (classUid !== API_ACTIVITY_CLASS_UID) return { problem: 'not-api-activity', message: `class_uid ${JSON.stringify(o.class_uid ?? null)} is not API Activity (${API_ACTIVITY_CLASS_UID}): only CloudTrail's API Activity events are read` };
  const eventId = str(metadata.uid);
  if (!eventId) return { problem: 'no-metadata-uid', message: 'no metadata.uid (the CloudTrail eventID)' };
  const ms = msOf(o.time, o.time_dt);
  if (ms === undefined) return { problem: 'no-time', message: 'no time (epoch milliseconds) or time_dt' };
  const api = obj(o.api) ?? {};
  const operation = str(api.operation);
  if (!operation) return { problem: 'no-api-operation', message: 'no api.operation (the CloudTrail eventName)' };

  // What OCSF has no place for first, then the mapped fields over it.
  const rec: Record<string, unknown> = {};
  for (const [k, v] of unmappedEntries(o.unmapped)) {
    if (v === null || v === undefined) continue;
    let value = jsonValue(v);
    if (BOOLEAN_FIELDS.has(k) && (value === 'true' || value === 'false')) value = value === 'true';
    setPath(rec, k, value);
  }
  const request = obj(api.request) ?? {};
  const response = obj(api.response) ?? {};
  const service = obj(api.service) ?? {};
  const cloud = obj(o.cloud) ?? {};
  const product = obj(metadata.product) ?? {};
  const src = obj(o.src_endpoint) ?? {};
  const http = obj(o.http_request) ?? {};

  put(rec, 'eventVersion', str(product.version));
  rec.eventID = eventId;
  rec.eventTime = isoOfMs(ms);
  rec.eventName = operation;
  put(rec, 'eventSource', str(service.name));
  put(rec, 'apiVersion', str(api.version));
  put(rec, 'eventCategory', str(obj(product.feature)?.name));
  put(rec, 'awsRegion', str(cloud.region));
  put(rec, 'recipientAccountId', str(obj(cloud.account)?.uid));
  put(rec, 'sourceIPAddress', str(src.ip) ?? str(src.domain) ?? str(src.name));
  put(rec, 'vpcEndpointId', str(src.uid));
  put(rec, 'userAgent', str(http.user_agent));
  put(rec, 'errorCode', str(response.error));
  put(rec, 'errorMessage', str(response.message));
  put(rec, 'requestParameters', jsonValue(request.data));
  put(rec, 'responseElements', jsonValue(response.data));
  put(rec, 'requestID', str(request.uid));
  if (rec.eventType === undefined) put(rec, 'eventType', str(metadata.event_code));
  const resources = Array.isArray(o.resources) ? o.resources : typeof o.resources === 'string' ? jsonValue(o.resources) : null;
  if (Array.isArray(resources)) {
    rec.resources = resources.map((x) => {
      const r = obj(x) ?? {};
      const out: Record<string, unknown> = {};
      put(out, 'accountId', str(obj(obj(r.owner)?.account)?.uid) ?? str(obj(r.owner)?.account_uid));
      put(out, 'type', str(r.type));
      put(out, 'ARN', str(r.uid));
      return out;
    });
  }
  rec.userIdentity = userIdentityOf(obj(o.actor) ?? {}, obj(rec.userIdentity) ?? {});
  return rec;
}

/** `userIdentity` from `actor`, over what `unmapped` held of it. */
function userIdentityOf(actor: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const ui = base;
  const user = obj(actor.user) ?? {};
  const session = obj(actor.session) ?? {};
  const idp = obj(actor.idp) ?? {};
  put(ui, 'type', str(user.type));
  put(ui, 'principalId', str(user.uid_alt));
  put(ui, 'arn', str(user.uid));
  put(ui, 'accountId', str(obj(user.account)?.uid));
  put(ui, 'accessKeyId', str(user.credential_uid));
  const invokedBy = str(actor.invoked_by);
  // A service acting is also named as the user (OCSF's user wants one of account, name, uid): not a user name.
  if (!(invokedBy && str(user.name) === invokedBy && !str(user.uid) && !str(obj(user.account)?.uid))) put(ui, 'userName', str(user.name));
  put(ui, 'invokedBy', invokedBy);
  const ctx = obj(ui.sessionContext) ?? {};
  const webId = obj(ctx.webIdFederationData);
  const idpName = str(idp.name);
  // One OCSF place for two CloudTrail fields: the web identity's provider when unmapped names it so.
  if (idpName && str(webId?.federatedProvider) !== idpName) put(ui, 'identityProvider', idpName);
  const idpUid = str(idp.uid);
  if (idpUid) setPath(ui, 'onBehalfOf.identityStoreArn', idpUid);
  const created = msOf(session.created_time, session.created_time_dt);
  const attrs: Record<string, unknown> = obj(ctx.attributes) ?? {};
  if (created !== undefined) attrs.creationDate = isoOfMs(created);
  if (typeof session.is_mfa === 'boolean') attrs.mfaAuthenticated = String(session.is_mfa);
  else if (session.is_mfa === 'true' || session.is_mfa === 'false') attrs.mfaAuthenticated = session.is_mfa;
  if (Object.keys(attrs).length > 0) ctx.attributes = attrs;
  const issuer = str(session.issuer);
  if (issuer) ctx.sessionIssuer = { ...(obj(ctx.sessionIssuer) ?? {}), arn: issuer };
  if (Object.keys(ctx).length > 0) ui.sessionContext = ctx;
  return ui;
}

/** Whether a value is an {@link OcsfProblem} (and not a record). */
export function isOcsfProblem(v: Record<string, unknown> | OcsfProblem): v is OcsfProblem {
  return typeof (v as OcsfProblem).problem === 'string' && typeof (v as OcsfProblem).message === 'string' && (v as Record<string, unknown>).eventID === undefined;
}
