/**
 * Seeding the emulator from a scenario directory (the layout of /work/shared/scenarios/*):
 * `finding.json` (GuardDuty native, GuardDuty GetFindings output, EventBridge event, or ASFF)
 * and `cloudtrail/` (S3 delivery `.json` / `.json.gz`, LookupEvents pages, arrays, JSON Lines);
 * and an organisation from a spec ({@link seedOrganization}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { asffTypesOfGuardDutyType } from '../../src/findings/guardduty-asff-types';
import type { AwsEmulator } from './server';
import type { Json, Organization, OrgAccount } from './services';

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** What {@link seedScenario} loaded. */
export interface SeedResult {
  /** GuardDuty findings seeded (native, camelCase), each also in Security Hub as ASFF. */
  guardDutyFindings: Json[];
  /** ASFF findings put in Security Hub (mapped from GuardDuty, or read as ASFF). */
  asffFindings: Json[];
  /** OCSF findings put in the new Security Hub (mapped from GuardDuty by {@link guardDutyToOcsf}). */
  ocsfFindings: Json[];
  /** CloudTrail records added to the LookupEvents stores. */
  records: number;
  /** Entries that could not be read (truncated or null `CloudTrailEvent`, records without account or region, unreadable files). */
  skipped: number;
}

/** ASFF severity label of a GuardDuty severity (GuardDuty: 1–3.9 low, 4–6.9 medium, 7–8.9 high, 9+ critical). */
export function severityLabel(sev: number): string {
  if (sev >= 9) return 'CRITICAL';
  if (sev >= 7) return 'HIGH';
  if (sev >= 4) return 'MEDIUM';
  if (sev > 0) return 'LOW';
  return 'INFORMATIONAL';
}

function flatten(o: unknown, prefix: string, out: Record<string, string>): void {
  if (Object.keys(out).length >= 50) return;
  if (Array.isArray(o)) o.forEach((v, i) => flatten(v, `${prefix}/${i}`, out));
  else if (isObj(o)) for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}/${k}` : k, out);
  else if (o !== undefined && o !== null && Object.keys(out).length < 50) out[prefix] = String(o).slice(0, 2048);
}

/**
 * Maps a native GuardDuty finding (camelCase, as in EventBridge `detail` / GetFindings wire form)
 * to the ASFF finding GuardDuty's Security Hub integration publishes: Id = the finding ARN,
 * ProductArn `arn:<partition>:securityhub:<region>::product/aws/guardduty`, Types from the type
 * (`asffTypesOfGuardDutyType`, src/findings/guardduty-asff-types.ts),
 * Severity (Product, Label, Normalized), Resources (AwsIamAccessKey details for AccessKey
 * findings, AwsEc2Instance for Instance, else the resource type), ProductFields
 * (`aws/guardduty/service/...` flattened, at most 50 pairs).
 */
export function guardDutyToAsff(f: Json): Json {
  const region = str(f.region) ?? 'us-east-1';
  const partition = str(f.partition) ?? 'aws';
  const account = str(f.accountId) ?? '';
  const svc = isObj(f.service) ? f.service : {};
  const detectorId = str(svc.detectorId) ?? '';
  const arn = str(f.arn) ?? `arn:${partition}:guardduty:${region}:${account}:detector/${detectorId}/finding/${str(f.id) ?? ''}`;
  const sev = Number(f.severity ?? 0);
  const type = str(f.type) ?? 'Unknown:Unknown/Unknown';
  const res = isObj(f.resource) ? f.resource : {};
  const resources: Json[] = [];
  const ak = isObj(res.accessKeyDetails) ? res.accessKeyDetails : undefined;
  if (res.resourceType === 'AccessKey' && ak) {
    resources.push({
      Type: 'AwsIamAccessKey', Id: `AWS::IAM::AccessKey:${str(ak.accessKeyId) ?? ''}`, Partition: partition, Region: region,
      Details: { AwsIamAccessKey: { PrincipalId: ak.principalId, PrincipalName: ak.userName, PrincipalType: ak.userType, ...(ak.accessKeyId ? { AccessKeyId: ak.accessKeyId } : {}) } },
    });
  } else if (res.resourceType === 'Instance' && isObj(res.instanceDetails)) {
    resources.push({ Type: 'AwsEc2Instance', Id: `arn:${partition}:ec2:${region}:${account}:instance/${str(res.instanceDetails.instanceId) ?? ''}`, Partition: partition, Region: region });
  } else {
    resources.push({ Type: 'Other', Id: `${String(res.resourceType ?? 'Unknown')}:${str(f.id) ?? ''}`, Partition: partition, Region: region });
  }
  const pf: Record<string, string> = {};
  flatten(svc, 'aws/guardduty/service', pf);
  pf['aws/securityhub/FindingId'] = `arn:${partition}:securityhub:${region}::product/aws/guardduty/${arn}`;
  pf['aws/securityhub/ProductName'] = 'GuardDuty';
  pf['aws/securityhub/CompanyName'] = 'Amazon';
  while (Object.keys(pf).length > 50) delete pf[Object.keys(pf)[0] ?? ''];
  // The Types Security Hub CSPM gives GuardDuty's type: the product's own mapping, one source for both.
  const types = asffTypesOfGuardDutyType(type);
  const severity = { Product: sev, Label: severityLabel(sev), Normalized: Math.round(sev * 10) };
  return {
    SchemaVersion: '2018-10-08', Id: arn, ProductArn: `arn:${partition}:securityhub:${region}::product/aws/guardduty`,
    ProductName: 'GuardDuty', CompanyName: 'Amazon', Region: region, GeneratorId: `arn:${partition}:guardduty:${region}:${account}:detector/${detectorId}`,
    AwsAccountId: account, Types: types,
    ...(svc.eventFirstSeen ? { FirstObservedAt: svc.eventFirstSeen } : {}), ...(svc.eventLastSeen ? { LastObservedAt: svc.eventLastSeen } : {}),
    CreatedAt: f.createdAt, UpdatedAt: f.updatedAt, Severity: severity, Title: f.title, Description: f.description,
    ProductFields: pf, Resources: resources, RecordState: svc.archived === true ? 'ARCHIVED' : 'ACTIVE', Workflow: { Status: 'NEW' }, WorkflowState: 'NEW',
    FindingProviderFields: { Severity: { Label: severity.Label, Original: String(sev) }, Types: types },
    Sample: false,
  };
}

/** OCSF `severity_id` of a GuardDuty severity (Low 2, Medium 3, High 4, Critical 5; as severityLabel's bands). */
function ocsfSeverityId(sev: number): number {
  if (sev >= 9) return 5;
  if (sev >= 7) return 4;
  if (sev >= 4) return 3;
  if (sev > 0) return 2;
  return 1;
}

const OCSF_SEVERITY_CAPTION = ['Unknown', 'Informational', 'Low', 'Medium', 'High', 'Critical'];

function epochMs(v: unknown): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Maps a native GuardDuty finding to the OCSF Detection Finding (class 2004, OCSF 1.1.0) the new
 * Security Hub holds for it. No GuardDuty sample in OCSF was found in the stored references, so
 * the fields follow the OCSF 1.1.0 `detection_finding` class and the field paths the Security Hub
 * API filters on (`OcsfStringField`, `OcsfDateField`, `OcsfNumberField` in the API reference):
 * `finding_info.uid` the finding ARN (ASFF `Id`), `metadata.product.uid` GuardDuty's product ARN
 * (ASFF `ProductArn`), `metadata.product.name` `GuardDuty`, `cloud.account.uid` / `cloud.region`,
 * `finding_info.types` [GuardDuty's type], `finding_info.created_time` / `modified_time` (epoch ms,
 * with `_dt` ISO twins) from `createdAt` / `updatedAt`, `first_seen_time` / `last_seen_time` from
 * `service.eventFirstSeen` / `eventLastSeen`, `severity_id` by GuardDuty's bands, `status_id` 1 New,
 * `evidences[0]` the API call (`api.operation`, `api.service.name`, `src_endpoint.ip`, the
 * `actor.user` of `accessKeyDetails`), `resources[0]` the resource, `metadata.uid` derived from
 * the ARN (stable across updates).
 */
export function guardDutyToOcsf(f: Json): Json {
  const asff = guardDutyToAsff(f);
  const arn = String(asff.Id);
  const sev = Number(f.severity ?? 0);
  const svc = isObj(f.service) ? f.service : {};
  const res = isObj(f.resource) ? f.resource : {};
  const action = isObj(svc.action) ? svc.action : {};
  const api = isObj(action.awsApiCallAction) ? action.awsApiCallAction : undefined;
  const ak = isObj(res.accessKeyDetails) ? res.accessKeyDetails : undefined;
  const ip = api && isObj(api.remoteIpDetails) ? (str(api.remoteIpDetails.ipAddressV4) ?? str(api.remoteIpDetails.ipAddressV6)) : undefined;
  const time = (name: string, v: unknown): Json => {
    const ms = epochMs(v);
    return ms === undefined ? {} : { [name]: ms, [`${name}_dt`]: new Date(ms).toISOString() };
  };
  const evidence: Json = {};
  if (api) evidence.api = { operation: api.api, service: { name: api.serviceName }, ...(api.errorCode ? { response: { error: api.errorCode } } : {}) };
  if (ip) evidence.src_endpoint = { ip };
  if (ak) evidence.actor = { user: { uid: ak.principalId, name: ak.userName, type: ak.userType, credential_uid: ak.accessKeyId } };
  const r0 = isObj((asff.Resources as Json[])[0]) ? (asff.Resources as Json[])[0]! : {};
  const severityId = ocsfSeverityId(sev);
  return {
    class_uid: 2004, class_name: 'Detection Finding', category_uid: 2, category_name: 'Findings',
    activity_id: 1, activity_name: 'Create', type_uid: 200401, type_name: 'Detection Finding: Create',
    severity_id: severityId, severity: OCSF_SEVERITY_CAPTION[severityId], status_id: 1, status: 'New',
    ...time('time', f.updatedAt),
    finding_info: {
      uid: arn, title: f.title, desc: f.description, types: [f.type],
      ...time('created_time', f.createdAt), ...time('modified_time', f.updatedAt),
      ...time('first_seen_time', svc.eventFirstSeen), ...time('last_seen_time', svc.eventLastSeen),
    },
    metadata: {
      uid: createHash('sha256').update(arn).digest('hex'), version: '1.1.0',
      product: { uid: asff.ProductArn, name: 'GuardDuty', vendor_name: 'AWS' },
    },
    cloud: { provider: 'AWS', region: asff.Region, account: { uid: asff.AwsAccountId, type: 'AWS Account' } },
    resources: [{ type: r0.Type, uid: r0.Id, region: r0.Region, cloud_partition: r0.Partition }],
    evidences: Object.keys(evidence).length ? [evidence] : [],
    vendor_attributes: { severity_id: severityId, severity: OCSF_SEVERITY_CAPTION[severityId] },
  };
}

function isAsff(v: unknown): boolean {
  return isObj(v) && typeof v.SchemaVersion === 'string' && typeof v.ProductArn === 'string';
}

/**
 * Reads the findings of a finding document in any supported form. GuardDuty findings come back
 * native (camelCase; PascalCase SDK / CLI output is converted with the GuardDuty model's
 * `@jsonName`s), ASFF findings as they are.
 */
export function readFindingDocument(emu: AwsEmulator, doc: unknown): { native: Json[]; asff: Json[] } {
  const native: Json[] = [];
  const asff: Json[] = [];
  const gd = emu.models.get('guardduty');
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!isObj(v)) return;
    if (isObj(v.detail) && (v['detail-type'] !== undefined || v.source !== undefined)) {
      const d = v.detail;
      if (Array.isArray(d.findings)) d.findings.forEach(visit);
      else if (v['detail-type'] === 'GuardDuty Finding' || (typeof d.type === 'string' && typeof d.accountId === 'string')) visit(d);
      return;
    }
    if (Array.isArray(v.Findings)) { v.Findings.forEach(visit); return; }
    if (Array.isArray(v.findings)) { v.findings.forEach(visit); return; }
    if (isAsff(v)) { asff.push(v); return; }
    if (typeof v.type === 'string' && typeof v.accountId === 'string') { native.push(v); return; }
    if (typeof v.Type === 'string' && typeof v.AccountId === 'string' && gd) {
      native.push(gd.toWire('com.amazonaws.guardduty#Finding', v) as Json);
    }
  };
  visit(doc);
  return { native, asff };
}

/** Yields the files under a directory, sorted, recursively. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/\.(json|jsonl|ndjson)(\.gz)?$/i.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Reads the CloudTrail records of one file: S3 delivery `{"Records":[…]}`, a LookupEvents page
 * `{"Events":[{"CloudTrailEvent":"…"}]}`, an array of records or of LookupEvents events, or JSON
 * Lines; gzip by magic bytes. Truncated or null `CloudTrailEvent` strings are counted as skipped.
 */
export function readTrailFile(file: string): { records: Json[]; skipped: number } {
  let buf = fs.readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const text = buf.toString('utf8');
  let docs: unknown[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    docs = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try { docs.push(JSON.parse(line)); } catch { docs.push(null); }
    }
  }
  const records: Json[] = [];
  let skipped = 0;
  const item = (v: unknown): void => {
    if (isObj(v) && 'CloudTrailEvent' in v) {
      try {
        const r: unknown = JSON.parse(String(v.CloudTrailEvent));
        if (isObj(r)) records.push(r);
        else skipped++;
      } catch { skipped++; }
    } else if (isObj(v) && (v.eventID !== undefined || v.eventName !== undefined)) records.push(v);
    else if (isObj(v) && Array.isArray(v.Records)) v.Records.forEach(item);
    else if (isObj(v) && Array.isArray(v.Events)) v.Events.forEach(item);
    else if (Array.isArray(v)) v.forEach(item);
    else skipped++;
  };
  docs.forEach(item);
  return { records, skipped };
}

/**
 * Seeds an emulator from a scenario directory:
 * - `<dir>/finding.json`: GuardDuty findings go to GuardDuty (detector of their account and
 *   region, created when missing) and, mapped by {@link guardDutyToAsff}, to Security Hub CSPM
 *   and, mapped by {@link guardDutyToOcsf}, to the new Security Hub;
 *   ASFF findings go to Security Hub only.
 * - every file under `<dir>/cloudtrail`: records go to the LookupEvents store of their account
 *   (`recipientAccountId`) and region (`awsRegion`; IAM / STS / sign-in events to us-east-1).
 * A missing finding.json or cloudtrail directory is not an error.
 */
export function seedScenario(emu: AwsEmulator, dir: string): SeedResult {
  const result: SeedResult = { guardDutyFindings: [], asffFindings: [], ocsfFindings: [], records: 0, skipped: 0 };
  const fFile = path.join(dir, 'finding.json');
  if (fs.existsSync(fFile)) {
    const { native, asff } = readFindingDocument(emu, JSON.parse(fs.readFileSync(fFile, 'utf8')));
    for (const n of native) {
      emu.guardDuty.addFinding(n);
      const a = guardDutyToAsff(n);
      emu.securityHub.put(a);
      const o = guardDutyToOcsf(n);
      emu.securityHub.putOcsf(o);
      result.guardDutyFindings.push(n);
      result.asffFindings.push(a);
      result.ocsfFindings.push(o);
    }
    for (const a of asff) {
      emu.securityHub.put(a);
      result.asffFindings.push(a);
    }
  }
  const ctDir = path.join(dir, 'cloudtrail');
  if (fs.existsSync(ctDir)) {
    for (const file of walk(ctDir)) {
      try {
        const { records, skipped } = readTrailFile(file);
        result.skipped += skipped;
        for (const r of records) {
          if (emu.cloudTrail.add(r)) result.records++;
          else result.skipped++;
        }
      } catch {
        result.skipped++;
      }
    }
  }
  return result;
}

/** One account of {@link OrganizationSpec}. */
export interface OrganizationAccountSpec {
  id: string;
  name: string;
  /** Regions the account works in; the opt-in ones among them are enabled for it. */
  regions?: string[];
  /** Default ACTIVE. */
  status?: OrgAccount['Status'];
}

/** What {@link seedOrganization} builds. */
export interface OrganizationSpec {
  /** The management account (under the root). */
  managementAccount: string;
  /** `o-[a-z0-9]{10,32}`; default derived from the management account. */
  orgId?: string;
  /** Name of the management account (default `management`). */
  managementName?: string;
  /** Regions of the management account (opt-in ones are enabled). */
  managementRegions?: string[];
  /** OUs directly under the root, with their accounts. */
  ous: { name: string; accounts: OrganizationAccountSpec[] }[];
  /** Delegated administrators per service principal (`securityhub.amazonaws.com`, …). */
  delegatedAdmins?: { account: string; servicePrincipal: string }[];
}

/** What {@link seedOrganization} made: the organisation and the OU ids by name. */
export interface SeededOrganization {
  organization: Organization;
  rootId: string;
  ouIds: Record<string, string>;
}

/**
 * Creates the emulator's organisation (replacing any previous one): the management account
 * under the root, one OU per `ous` entry with its accounts, the delegated administrators; the
 * opt-in regions listed in an account's `regions` are enabled for it. IAM roles are not made:
 * put them with `emu.identities.putRole`.
 */
export function seedOrganization(emu: AwsEmulator, spec: OrganizationSpec): SeededOrganization {
  const orgs = emu.organizations;
  const organization = orgs.createOrganization(spec.managementAccount, { name: spec.managementName ?? 'management', ...(spec.orgId ? { orgId: spec.orgId } : {}) });
  const optIn = (regions: string[] | undefined): string[] => (regions ?? []).filter((r) => emu.optInRegions.has(r));
  emu.enableRegions(spec.managementAccount, ...optIn(spec.managementRegions));
  const ouIds: Record<string, string> = {};
  for (const ou of spec.ous) {
    const unit = orgs.addOrganizationalUnit(ou.name);
    ouIds[ou.name] = unit.Id;
    for (const a of ou.accounts) {
      orgs.addAccount(a.id, a.name, { parentId: unit.Id, ...(a.status ? { status: a.status } : {}) });
      emu.enableRegions(a.id, ...optIn(a.regions));
    }
  }
  for (const d of spec.delegatedAdmins ?? []) orgs.registerDelegatedAdministrator(d.account, d.servicePrincipal);
  return { organization, rootId: organization.rootId, ouIds };
}
