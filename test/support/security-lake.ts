/**
 * The test side of Amazon Security Lake's CloudTrail data (source version 2, OCSF 1.1.0 API
 * Activity): {@link ocsfFromCloudTrail} maps a CloudTrail record the way Security Lake does
 * (the mapping of `src/trail/ocsf-api-activity.ts`, whose header gives the sources), and the
 * writers lay the events out as the emulator serves them: JSON Lines, and Parquet files in
 * Security Lake's S3 layout `region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/<file>.parquet`
 * written with DuckDB (`@duckdb/node-api`) from the Glue column tree of
 * `src/sources/security-lake-tables.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { toEpochMs } from '../../src/model/time';
import { SECURITY_LAKE_COLUMNS, securityLakeLeaves, type OcsfColumn } from '../../src/sources/security-lake-tables';

type Rec = Record<string, unknown>;

function obj(v: unknown): Rec | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : null;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** CloudTrail's top-level fields with an OCSF place (the rest go to `unmapped`). */
const MAPPED_TOP = new Set(['eventID', 'eventTime', 'eventVersion', 'eventCategory', 'eventName', 'eventSource', 'apiVersion', 'awsRegion', 'recipientAccountId', 'sourceIPAddress', 'vpcEndpointId', 'userAgent', 'errorCode', 'errorMessage', 'requestParameters', 'responseElements', 'requestID', 'resources', 'userIdentity']);
/** `userIdentity` paths with an OCSF place. */
const MAPPED_IDENTITY = new Set(['type', 'principalId', 'arn', 'accountId', 'accessKeyId', 'userName', 'invokedBy', 'identityProvider', 'onBehalfOf.identityStoreArn', 'sessionContext.attributes.creationDate', 'sessionContext.attributes.mfaAuthenticated', 'sessionContext.sessionIssuer.arn']);

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** An address OCSF's `ip_t` takes (IPv4 without leading zeros, or IPv6). */
function isIp(s: string): boolean {
  const m = IPV4.exec(s);
  if (m) return m.slice(1).every((p) => String(Number(p)) === p && Number(p) <= 255);
  return /^[0-9a-fA-F:.]+$/.test(s) && s.includes(':');
}

/** Text of a value as Security Lake's `map<string,string>` holds it: strings as they are, the rest as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The activity of an operation, by its verb (OCSF API Activity: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other). */
function activityOf(eventName: string, readOnly: unknown): [number, string] {
  if (/^(Create|Run|Generate|Allocate|Import|Issue|Request)/.test(eventName)) return [1, 'Create'];
  if (readOnly === true || readOnly === 'true' || /^(Get|List|Describe|Head|Lookup|Search|Batch[GD]et)/.test(eventName)) return [2, 'Read'];
  if (/^(Update|Put|Modify|Set|Attach|Detach|Add|Associate|Disassociate|Enable|Disable|Start|Stop|Tag|Untag|Register|Deregister|Change|Reset|Replace|Revoke|Authorize)/.test(eventName)) return [3, 'Update'];
  if (/^(Delete|Terminate|Remove|Deactivate)/.test(eventName)) return [4, 'Delete'];
  return [99, 'Other'];
}

/** Drops undefined and empty objects, deep. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  const o = obj(v);
  if (!o) return v;
  const out: Rec = {};
  for (const [k, x] of Object.entries(o)) {
    if (x === undefined || x === null) continue;
    const p = prune(x);
    if (obj(p) && Object.keys(p as Rec).length === 0 && k !== 'unmapped') continue;
    out[k] = p;
  }
  return out;
}

/** Flattens the unmapped parts of `userIdentity` into `unmapped` under `userIdentity.<path>`. */
function flattenIdentity(v: unknown, at: string, into: Record<string, string>): void {
  const o = obj(v);
  if (o) {
    for (const [k, x] of Object.entries(o)) flattenIdentity(x, at ? `${at}.${k}` : k, into);
    return;
  }
  if (v === null || v === undefined || MAPPED_IDENTITY.has(at)) return;
  into[`userIdentity.${at}`] = text(v);
}

/**
 * One CloudTrail record as Security Lake (source version 2) maps it to OCSF 1.1.0 API Activity:
 * the table of `src/trail/ocsf-api-activity.ts`; `time` and `actor.session.created_time` epoch
 * milliseconds with their `_dt` text; `api.request.data`/`api.response.data` JSON text; the
 * CloudTrail fields with no OCSF place in `unmapped` (`map<string,string>`): top-level fields
 * by name (objects as JSON text), `userIdentity` leaves by dotted path.
 */
export function ocsfFromCloudTrail(record: Rec): Rec {
  const r = record;
  const ui = obj(r.userIdentity) ?? {};
  const ctx = obj(ui.sessionContext) ?? {};
  const attrs = obj(ctx.attributes) ?? {};
  const webId = obj(ctx.webIdFederationData) ?? {};
  const eventName = str(r.eventName) ?? '';
  const [activityId, activityName] = activityOf(eventName, r.readOnly);
  const ms = toEpochMs(r.eventTime);
  const unmapped: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) if (!MAPPED_TOP.has(k) && v !== null && v !== undefined) unmapped[k] = text(v);
  flattenIdentity(ui, '', unmapped);
  const created = toEpochMs(attrs.creationDate);
  // A creation date that is no time stays as written, unmapped.
  if (attrs.creationDate !== undefined && created === undefined) unmapped['userIdentity.sessionContext.attributes.creationDate'] = text(attrs.creationDate);
  const ip = str(r.sourceIPAddress);
  const failed = str(r.errorCode) !== undefined;
  const mfa = attrs.mfaAuthenticated === undefined ? undefined : String(attrs.mfaAuthenticated) === 'true';
  const idpName = str(ui.identityProvider) ?? str(webId.federatedProvider);
  const onBehalfOf = obj(ui.onBehalfOf);
  const ev = {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: 6,
    category_name: 'Application Activity',
    class_uid: 6003,
    class_name: 'API Activity',
    type_uid: 600300 + activityId,
    type_name: `API Activity: ${activityName}`,
    severity_id: 1,
    severity: 'Informational',
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    time: ms,
    time_dt: ms === undefined ? undefined : new Date(ms).toISOString(),
    metadata: {
      product: { name: 'CloudTrail', vendor_name: 'AWS', version: str(r.eventVersion), feature: { name: str(r.eventCategory) ?? 'Management' } },
      uid: str(r.eventID),
      profiles: ['cloud', 'datetime'],
      version: '1.1.0',
    },
    cloud: { provider: 'AWS', region: str(r.awsRegion), account: { uid: str(r.recipientAccountId) } },
    api: {
      operation: eventName || undefined,
      service: { name: str(r.eventSource) },
      version: str(r.apiVersion),
      // OCSF's request wants its uid: empty where CloudTrail gave no requestID (some service events).
      request: { uid: str(r.requestID) ?? (r.requestParameters === undefined || r.requestParameters === null ? undefined : ''), data: r.requestParameters === undefined || r.requestParameters === null ? undefined : text(r.requestParameters) },
      response: { error: str(r.errorCode), message: str(r.errorMessage), data: r.responseElements === undefined || r.responseElements === null ? undefined : text(r.responseElements) },
    },
    actor: {
      user: {
        type: str(ui.type),
        type_id: str(ui.type) ? 99 : undefined,
        uid: str(ui.arn),
        uid_alt: str(ui.principalId),
        // An AWS service acting (no ARN, name or account): the service as the user's name, as
        // OCSF's user wants one of account, name, uid.
        name: str(ui.userName) ?? (!str(ui.arn) && !str(ui.accountId) ? str(ui.invokedBy) : undefined),
        account: { uid: str(ui.accountId) },
        credential_uid: str(ui.accessKeyId),
      },
      session: {
        created_time: created,
        created_time_dt: created === undefined ? undefined : new Date(created).toISOString(),
        is_mfa: mfa,
        issuer: str(obj(ctx.sessionIssuer)?.arn),
      },
      invoked_by: str(ui.invokedBy),
      idp: { name: idpName, uid: str(onBehalfOf?.identityStoreArn) },
    },
    http_request: { user_agent: typeof r.userAgent === 'string' && r.userAgent.length > 0 ? r.userAgent : undefined },
    // A service (`ec2.amazonaws.com`) or `AWS Internal`: the dossier's `domain`, and `name` too, since
    // OCSF's endpoint wants one of ip, uid, name, hostname, svc_name, instance_uid, interface_*
    // (and API Activity its src_endpoint: an empty name where a record has no address).
    src_endpoint: { ip: ip && isIp(ip) ? ip : undefined, domain: ip && !isIp(ip) ? ip : undefined, name: ip && !isIp(ip) ? ip : ip ? undefined : '', uid: str(r.vpcEndpointId) },
    resources: Array.isArray(r.resources)
      ? r.resources.filter((x) => obj(x)).map((x) => {
          const o = x as Rec;
          return { uid: str(o.ARN) ?? str(o.arn), type: str(o.type), owner: { account: { uid: str(o.accountId) } } };
        })
      : undefined,
    unmapped,
  };
  return prune(ev) as Rec;
}

/** Writes OCSF events one a line (JSON Lines), as Athena's JSON export of the table gives them. */
export function writeOcsfJsonLines(records: Rec[], file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => JSON.stringify(ocsfFromCloudTrail(r))).join('\n') + '\n');
}

/** DuckDB's type of a Glue column. */
export function duckdbType(c: OcsfColumn): string {
  const q = (n: string) => `"${n}"`;
  switch (c.type) {
    case 'string':
      return 'VARCHAR';
    case 'bigint':
      return 'BIGINT';
    case 'int':
      return 'INTEGER';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'map':
      return 'MAP(VARCHAR, VARCHAR)';
    case 'struct':
      return `STRUCT(${c.fields.map((f) => `${q(f.name)} ${duckdbType(f)}`).join(', ')})`;
    case 'array':
      return c.of === 'string' ? 'VARCHAR[]' : `STRUCT(${c.of.map((f) => `${q(f.name)} ${duckdbType(f)}`).join(', ')})[]`;
  }
}

/** The `read_json` columns argument of the table: `{'metadata': 'STRUCT(…)', …}`. */
function readJsonColumns(): string {
  return `{${SECURITY_LAKE_COLUMNS.map((c) => `'${c.name}': '${duckdbType(c).replace(/'/g, "''")}'`).join(', ')}}`;
}

function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Writes the records as Security Lake stores them: OCSF 1.1.0 API Activity rows of the Glue
 * table's struct type ({@link duckdbType} of `SECURITY_LAKE_COLUMNS`), one Parquet file per
 * partition `dir/region=<awsRegion>/accountId=<recipientAccountId>/eventDay=<yyyyMMdd>/<name>.parquet`
 * (the partition values are folders, not columns). Records without a time or region are left out.
 * @returns the files written
 */
export async function writeSecurityLakeParquet(records: Rec[], dir: string): Promise<string[]> {
  const groups = new Map<string, Rec[]>();
  for (const r of records) {
    const ev = ocsfFromCloudTrail(r);
    const ms = ev.time as number | undefined;
    const region = str(r.awsRegion);
    if (ms === undefined || !region) continue;
    const account = str(r.recipientAccountId) ?? str(obj(r.userIdentity)?.accountId) ?? 'unknown';
    const day = new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
    const key = path.join(`region=${region}`, `accountId=${account}`, `eventDay=${day}`);
    const list = groups.get(key) ?? [];
    list.push(ev);
    groups.set(key, list);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const files: string[] = [];
  try {
    let n = 0;
    for (const [key, evs] of groups) {
      const folder = path.join(dir, key);
      fs.mkdirSync(folder, { recursive: true });
      const tmp = path.join(folder, `.rows-${n}.json`);
      // Timestamps as DuckDB reads them; the rest as the OCSF event holds it.
      fs.writeFileSync(tmp, evs.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const file = path.join(folder, `part-${String(n).padStart(5, '0')}.parquet`);
      await con.run(`COPY (SELECT * FROM read_json(${sqlText(tmp)}, format = 'newline_delimited', columns = ${readJsonColumns()}, timestampformat = '%Y-%m-%dT%H:%M:%S.%gZ')) TO ${sqlText(file)} (FORMAT PARQUET)`);
      fs.rmSync(tmp);
      files.push(file);
      n++;
    }
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  return files;
}

/**
 * Reads Parquet files written by {@link writeSecurityLakeParquet} back as Athena would return
 * the {@link securityLakeLeaves}: one row of alias → text (undefined for NULL) a record, arrays
 * and maps as JSON text, in file order.
 */
export async function readSecurityLakeParquet(files: string[]): Promise<Record<string, string | undefined>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const leaves = securityLakeLeaves();
    const items = leaves.map((l) => (l.json ? `CAST(to_json(${l.path}) AS VARCHAR) AS ${l.alias}` : `CAST(${l.path} AS VARCHAR) AS ${l.alias}`));
    const list = `[${files.map(sqlText).join(', ')}]`;
    const reader = await con.runAndReadAll(`SELECT ${items.join(', ')} FROM read_parquet(${list}, hive_partitioning = false)`);
    return reader.getRows().map((row) => {
      const out: Record<string, string | undefined> = {};
      leaves.forEach((l, i) => {
        const v = row[i];
        out[l.alias] = v === null || v === undefined ? undefined : String(v);
      });
      return out;
    });
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** Every CloudTrail record in a parsed JSON document, wherever it sits (Records, Events[].CloudTrailEvent text, test wrappers). */
export function recordsIn(doc: unknown, out: Rec[] = []): Rec[] {
  if (typeof doc === 'string') {
    const t = doc.trim();
    if (t.startsWith('{') && t.includes('"eventName"')) {
      try {
        recordsIn(JSON.parse(t), out);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }
  if (Array.isArray(doc)) {
    for (const x of doc) recordsIn(x, out);
    return out;
  }
  const o = obj(doc);
  if (!o) return out;
  if (typeof o.eventName === 'string' && o.userIdentity !== undefined) {
    out.push(o);
    return out;
  }
  for (const v of Object.values(o)) recordsIn(v, out);
  return out;
}

/** The CloudTrail records of every JSON, JSON Lines and `.json.gz` file under `dir`, file by file in sorted order. */
export function recordsUnder(dir: string): { file: string; records: Rec[] }[] {
  const out: { file: string; records: Rec[] }[] = [];
  const walk = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n));
      return;
    }
    if (!/\.(json|jsonl|json\.gz)$/.test(p)) return;
    let raw = fs.readFileSync(p);
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
    const textOf = raw.toString('utf8');
    let records: Rec[];
    try {
      records = recordsIn(JSON.parse(textOf));
    } catch {
      records = [];
      for (const line of textOf.split('\n')) {
        try {
          recordsIn(JSON.parse(line), records);
        } catch {
          /* a line that is not JSON */
        }
      }
    }
    out.push({ file: p, records });
  };
  walk(dir);
  return out;
}
