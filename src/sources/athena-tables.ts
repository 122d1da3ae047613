/**
 * The tables trailstory reads CloudTrail from through Amazon Athena, as data: one column tree
 * that gives the Glue table's columns (template.yaml holds the same, a test keeps them in
 * step), the leaves a query selects, and how a result row is turned back into a CloudTrail
 * record.
 *
 * - `cloudtrail` (raw): the organisation trail's delivery files in S3, read with the JSON SerDe
 *   and `CloudTrailInputFormat`, partitioned by projection over
 *   `AWSLogs/<org-id>/<account>/CloudTrail/<region>/<yyyy/MM/dd>`. The columns are the Athena
 *   user guide's ("Create the table for CloudTrail logs in Athena using partition projection",
 *   https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html)
 *   with the `userIdentity` fields the lineage reads that the guide leaves out
 *   (`identityprovider`, `sourceidentity`, `sessioncontext.sourceidentity`).
 * - `cloudtrail_parquet`: the same columns in Parquet, partitioned by account, region and day,
 *   each file sorted by access key and caller ARN, so a pivot reads the row groups of its
 *   keys only. Kept current by the scheduled `INSERT INTO` of {@link insertIntoParquetSql}.
 *
 * Names are Hive's: lower case, as Athena returns them.
 */

/** A column: a Hive scalar type, or a struct of columns, or an array of structs. */
export type Column =
  | { name: string; type: 'string' }
  | { name: string; type: 'struct'; fields: Column[] }
  | { name: string; type: 'array'; of: Column[] }
  | { name: string; type: 'map' };

const s = (name: string): Column => ({ name, type: 'string' });
const struct = (name: string, fields: Column[]): Column => ({ name, type: 'struct', fields });

/** The CloudTrail record's columns, in the user guide's order (plus the three noted above). */
export const CLOUDTRAIL_COLUMNS: readonly Column[] = [
  s('eventversion'),
  struct('useridentity', [
    s('type'),
    s('principalid'),
    s('arn'),
    s('accountid'),
    s('invokedby'),
    s('accesskeyid'),
    s('username'),
    struct('onbehalfof', [s('userid'), s('identitystorearn')]),
    struct('sessioncontext', [
      struct('attributes', [s('mfaauthenticated'), s('creationdate')]),
      struct('sessionissuer', [s('type'), s('principalid'), s('arn'), s('accountid'), s('username')]),
      s('ec2roledelivery'),
      struct('webidfederationdata', [s('federatedprovider'), { name: 'attributes', type: 'map' }]),
      s('sourceidentity'),
    ]),
    s('identityprovider'),
    s('sourceidentity'),
  ]),
  s('eventtime'),
  s('eventsource'),
  s('eventname'),
  s('awsregion'),
  s('sourceipaddress'),
  s('useragent'),
  s('errorcode'),
  s('errormessage'),
  s('requestparameters'),
  s('responseelements'),
  s('additionaleventdata'),
  s('requestid'),
  s('eventid'),
  s('readonly'),
  { name: 'resources', type: 'array', of: [s('arn'), s('accountid'), s('type')] },
  s('eventtype'),
  s('apiversion'),
  s('recipientaccountid'),
  s('serviceeventdetails'),
  s('sharedeventid'),
  s('vpcendpointid'),
  s('vpcendpointaccountid'),
  s('eventcategory'),
  s('sessioncredentialfromconsole'),
];

/** The partition keys of both tables, in folder order. */
export const CLOUDTRAIL_PARTITIONS = ['account', 'region', 'day'] as const;

/** The CloudTrail record field of each lower-case column name (Hive folds case; CloudTrail does not). */
export const CLOUDTRAIL_FIELD_NAMES: Readonly<Record<string, string>> = {
  eventversion: 'eventVersion',
  useridentity: 'userIdentity',
  principalid: 'principalId',
  accountid: 'accountId',
  invokedby: 'invokedBy',
  accesskeyid: 'accessKeyId',
  username: 'userName',
  onbehalfof: 'onBehalfOf',
  userid: 'userId',
  identitystorearn: 'identityStoreArn',
  sessioncontext: 'sessionContext',
  mfaauthenticated: 'mfaAuthenticated',
  creationdate: 'creationDate',
  sessionissuer: 'sessionIssuer',
  ec2roledelivery: 'ec2RoleDelivery',
  webidfederationdata: 'webIdFederationData',
  federatedprovider: 'federatedProvider',
  sourceidentity: 'sourceIdentity',
  identityprovider: 'identityProvider',
  eventtime: 'eventTime',
  eventsource: 'eventSource',
  eventname: 'eventName',
  awsregion: 'awsRegion',
  sourceipaddress: 'sourceIPAddress',
  useragent: 'userAgent',
  errorcode: 'errorCode',
  errormessage: 'errorMessage',
  requestparameters: 'requestParameters',
  responseelements: 'responseElements',
  additionaleventdata: 'additionalEventData',
  requestid: 'requestID',
  eventid: 'eventID',
  readonly: 'readOnly',
  eventtype: 'eventType',
  apiversion: 'apiVersion',
  recipientaccountid: 'recipientAccountId',
  serviceeventdetails: 'serviceEventDetails',
  sharedeventid: 'sharedEventID',
  vpcendpointid: 'vpcEndpointId',
  vpcendpointaccountid: 'vpcEndpointAccountId',
  eventcategory: 'eventCategory',
  sessioncredentialfromconsole: 'sessionCredentialFromConsole',
};

/** The Hive type of a column, as Glue and a `CREATE TABLE` write it: `struct<type:string,…>`. */
export function hiveType(c: Column): string {
  switch (c.type) {
    case 'string':
      return 'string';
    case 'map':
      return 'map<string,string>';
    case 'struct':
      return `struct<${c.fields.map((f) => `${f.name}:${hiveType(f)}`).join(',')}>`;
    case 'array':
      return `array<struct<${c.of.map((f) => `${f.name}:${hiveType(f)}`).join(',')}>>`;
  }
}

/**
 * The leaves a query selects, each as `[path, alias]`: `useridentity.sessioncontext.sessionissuer.arn`
 * as `useridentity__sessioncontext__sessionissuer__arn`. Arrays and maps are selected whole
 * (as JSON text with `json_format(CAST(… AS JSON))`); Parquet reads only the leaves named.
 */
export function selectedLeaves(columns: readonly Column[] = CLOUDTRAIL_COLUMNS): { path: string; alias: string; json: boolean }[] {
  const out: { path: string; alias: string; json: boolean }[] = [];
  const walk = (cs: readonly Column[], prefix: string[]) => {
    for (const c of cs) {
      const p = [...prefix, c.name];
      if (c.type === 'struct') walk(c.fields, p);
      else out.push({ path: p.join('.'), alias: p.join('__'), json: c.type !== 'string' });
    }
  };
  walk(columns, []);
  return out;
}

/** The leaves of {@link CLOUDTRAIL_COLUMNS}, walked once (every result row is rebuilt from them). */
const CLOUDTRAIL_LEAVES = selectedLeaves();

/**
 * A CloudTrail record (camel-case fields, as in a delivery file) from a result row of the
 * {@link selectedLeaves}: nulls and empty strings are left out, arrays and maps parsed from
 * their JSON text. `requestParameters` and the other JSON text columns stay text:
 * `toTrailEvent` parses them.
 * @param row alias → value (Athena's `VarCharValue`; undefined for SQL NULL)
 */
export function recordFromRow(row: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  return nestRow(row, CLOUDTRAIL_LEAVES, (leaf, value) => (Array.isArray(value) ? value.map((x) => (x && typeof x === 'object' ? camelKeys(x as Record<string, unknown>) : x)) : value), fieldName);
}

/**
 * A nested object from a result row of selected leaves: each leaf's text put at its dotted path
 * (each part named by `name`), SQL NULL and empty text left out, JSON leaves parsed (a leaf whose
 * JSON does not parse, or is null, is left out), and every value passed through `convert`
 * (undefined: left out). Shared by the CloudTrail and the Security Lake tables.
 */
export function nestRow<L extends { path: string; alias: string; json: boolean }>(
  row: Readonly<Record<string, string | undefined>>,
  leaves: readonly L[],
  convert: (leaf: L, value: unknown, text: string) => unknown,
  name: (part: string) => string = (p) => p,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const leaf of leaves) {
    const v = row[leaf.alias];
    if (v === undefined || v === null || v === '') continue;
    let parsed: unknown = v;
    if (leaf.json) {
      try {
        parsed = JSON.parse(v);
      } catch {
        continue;
      }
      if (parsed === null) continue;
    }
    const value = convert(leaf, parsed, v);
    if (value === undefined) continue;
    const parts = leaf.path.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) {
      const k = name(part);
      const next = at[k];
      if (next && typeof next === 'object') at = next as Record<string, unknown>;
      else {
        const o: Record<string, unknown> = {};
        at[k] = o;
        at = o;
      }
    }
    at[name(parts[parts.length - 1] as string)] = value;
  }
  return out;
}

function fieldName(hive: string): string {
  return CLOUDTRAIL_FIELD_NAMES[hive] ?? hive;
}

function camelKeys(o: Record<string, unknown>): Record<string, unknown> {
  // Resources are `{ARN, accountId, type}` in CloudTrail.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k === 'arn' ? 'ARN' : fieldName(k)] = v;
  return out;
}
