/**
 * template.yaml, proven without AWS and without the SAM CLI:
 *  - its shape: runtime, esbuild metadata, parameters, environment, queues, rules, table;
 *  - it validates against SAM's JSON schema (../shared/schemas/sam.schema.json, draft-04);
 *  - every other resource's type, property names (nested too) and GetAtt attributes exist in
 *    the CloudFormation resource specification (`@aws-cdk/aws-service-spec`'s database);
 *  - each function's role allows every AWS call its code sends, and nothing else (the calls
 *    found in the sources esbuild bundled, from the metafile);
 *  - `npm run build` bundles each function as CommonJS with the SDK inside, and each bundle
 *    loads on its own, away from the repository, under the template's environment (pitfall 20);
 *  - the file each function loads at start is under 1.5 MB and holds only the SDK clients its
 *    use case names; the enrich worker's report renderers and elkjs are a file of their own
 *    (report.js), loaded from beside the handler on the first report;
 *  - the inline custom resource that creates the Security Hub custom action answers
 *    CloudFormation for every request type.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { isBuiltin } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import Ajv from 'ajv-draft-04';
import { checkProps, specOf } from './spec';
import { buildHealthyOrganization } from '../e2e/org-fixture';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';
import { sqsEvent, startDynamo } from '../e2e/harness';
import type { Metafile } from 'esbuild';
import { parseFindings } from '../../src/findings/normalize';
import { messageFor } from '../../src/lambda/messages';
import { REPORT_FILE } from '../../src/report/renderer';
import { CLOUDTRAIL_COLUMNS, CLOUDTRAIL_PARTITIONS, hiveType } from '../../src/sources/athena-tables';
import { PARQUET_TABLE, partitionPrefix } from '../../src/layout/insert';
import {
  actionsOf,
  allows,
  asList,
  getAtt,
  isObject,
  loadTemplate,
  references,
  referencedId,
  rolePolicies,
  roleStatements,
  ROOT,
  sameValue,
  scanFiles,
  scanSource,
  type Json,
  type JsonObject,
  type Statement,
} from './cfn';

const SAM_SCHEMA = path.resolve(ROOT, '..', 'shared', 'schemas', 'sam.schema.json');
const BUILD_DIR = path.join(ROOT, '.build');

const t = loadTemplate();
const R = t.Resources;
const props = (id: string): JsonObject => R[id]?.Properties ?? {};
const globalsFn: JsonObject = isObject(t.Globals) && isObject(t.Globals.Function) ? t.Globals.Function : {};
/** A function property with its Globals default. */
const fnProp = (id: string, name: string): Json | undefined => props(id)[name] ?? globalsFn[name];

const serverlessFunctions = Object.keys(R).filter((id) => R[id]!.Type === 'AWS::Serverless::Function');
/** The functions `npm run build` bundles: `{ id, name, entry, entries }`, `entry` the handler's (the first of its EntryPoints). */
const bundled = serverlessFunctions
  .filter((id) => isObject(R[id]!.Metadata) && R[id]!.Metadata!.BuildMethod === 'esbuild')
  .map((id) => {
    const bp = R[id]!.Metadata!.BuildProperties as JsonObject;
    const entries = bp.EntryPoints as string[];
    return { id, name: id.replace(/Function$/, ''), entry: entries[0]!, entries, build: bp };
  });

const metafiles = new Map<string, Metafile>();

beforeAll(() => {
  // Prepare: `npm run build` (the same script), into .build/.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.js')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.js failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  for (const b of bundled) metafiles.set(b.id, JSON.parse(fs.readFileSync(path.join(BUILD_DIR, `${b.name}.meta.json`), 'utf8')) as Metafile);
});

/** The metafile key of the output file esbuild wrote for one of a function's entry points (`.build/<Name>/<file>.js`). */
const outputOf = (id: string, entry: string): string => {
  const outs = Object.entries(metafiles.get(id)!.outputs).filter(([, o]) => o.entryPoint === entry);
  if (outs.length !== 1) throw new Error(`${id}: ${outs.length} output files for ${entry}`);
  return outs[0]![0];
};
/** The inputs that went into that output file (with bytes in it). */
const inputsOf = (id: string, entry: string): string[] =>
  Object.entries(metafiles.get(id)!.outputs[outputOf(id, entry)]!.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([f]) => f);
/** The `@aws-sdk/client-*` packages in that output file, without the prefix. */
const sdkClients = (id: string, entry: string): string[] =>
  [...new Set(inputsOf(id, entry).map((f) => /node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//.exec(f)?.[1]).filter((c): c is string => c !== undefined))].sort();

/** The repository's own sources esbuild put in a function's bundle. */
const ownInputs = (id: string): string[] => Object.keys(metafiles.get(id)!.inputs).filter((f) => /^(src|functions)\//.test(f));
/** Bundled third-party code that may call AWS (the SDK itself excluded). */
const libraryInputs = (id: string): string[] =>
  Object.keys(metafiles.get(id)!.inputs).filter((f) => f.includes('node_modules/') && !/node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//.test(f) && /\.[cm]?js$/.test(f));

/** The Security Lake region as the template computes it (the stack's when SecurityLakeRegion is empty), and with underscores. */
const SL_REGION: Json = { 'Fn::If': ['SecurityLakeRegionGiven', { Ref: 'SecurityLakeRegion' }, { Ref: 'AWS::Region' }] };
const SL_REGION_: Json = { 'Fn::Join': ['_', { 'Fn::Split': ['-', SL_REGION] }] };

/* ====================================================================== shape */

describe('template.yaml: what the issue asks for', () => {
  test('SAM transform; every function on nodejs22.x', () => {
    expect(t.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(serverlessFunctions.length).toBeGreaterThanOrEqual(3);
    for (const id of serverlessFunctions) expect([id, fnProp(id, 'Runtime')]).toEqual([id, 'nodejs22.x']);
  });

  test('parameters, each with its default', () => {
    const defaults = Object.fromEntries(Object.entries(t.Parameters).map(([k, p]) => [k, p.Default]));
    expect(defaults).toMatchObject({
      MinSeverity: 4,
      BackfillDays: 7,
      BackfillSchedule: 'rate(1 day)',
      LookupExtraRegions: '',
      ReenrichDelaySeconds: 900,
      MaxReceives: 3,
      LogLevel: 'INFO',
      OrgStatusRegions: '',
      OrgStatusSchedule: 'rate(1 day)',
      SecurityHubTarget: 'cspm',
      SecurityHubV2SetSeverity: 'false',
      SecurityHubV2SetStatus: 'false',
    });
    // Comma-separated region lists: the same pattern for both.
    expect(t.Parameters.OrgStatusRegions!.AllowedPattern).toBe(t.Parameters.LookupExtraRegions!.AllowedPattern);
    for (const [k, p] of Object.entries(t.Parameters)) expect([k, p.Default !== undefined]).toEqual([k, true]);
  });

  test.each([
    ['IntakeFunction', ['functions/intake.ts'], 'intake.handler'],
    // The worker's second entry point: the report's renderers, written beside the handler as report.js.
    ['EnrichWorkerFunction', ['functions/enrich-worker.ts', 'functions/report.ts'], 'enrich-worker.handler'],
    ['BackfillFunction', ['functions/backfill.ts'], 'backfill.handler'],
    ['OrgStatusFunction', ['functions/org-status.ts'], 'org-status.handler'],
    ['LayoutFunction', ['functions/layout.ts'], 'layout.handler'],
  ])('%s: esbuild, CommonJS, node20, ES modules first, minified, the SDK bundled; Handler names the first entry point', (id, entries, handler) => {
    expect(R[id]?.Metadata).toEqual({
      BuildMethod: 'esbuild',
      BuildProperties: { Format: 'cjs', Target: 'node20', EntryPoints: entries, MainFields: 'module,main', Minify: true, Sourcemap: true, External: [] },
    });
    for (const entry of entries) expect(fs.existsSync(path.join(ROOT, entry))).toBe(true);
    // One folder: esbuild (no outbase, as `sam build` runs it) writes them side by side.
    expect(new Set(entries.map((e) => path.dirname(e)))).toEqual(new Set(['functions']));
    expect(props(id).Handler).toBe(handler);
    expect(`${path.basename(entries[0]!, '.ts')}.handler`).toBe(handler);
    expect(props(id).CodeUri).toBe('./');
  });

  describe('environment: exactly what src/config reads for the code each function bundles', () => {
    const configText = fs.readFileSync(path.join(ROOT, 'src/config/index.ts'), 'utf8');
    /** Config field → its variables, from the `VAR`s in each field's doc comment (`athena` reads four). */
    const fieldVars = new Map<string, string[]>();
    for (const m of configText.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+)\s*:/g)) {
      const vs = [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((x) => x[1]!);
      if (vs.length) fieldVars.set(m[2]!, vs);
    }
    const readVars = new Set([...configText.matchAll(/env\.([A-Z][A-Z0-9_]+)|(?:num|oneOf|flag|required|glueNames?|s3Location)\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => (m[1] ?? m[2])!));
    const POWERTOOLS = { POWERTOOLS_SERVICE_NAME: 'trailstory', POWERTOOLS_METRICS_NAMESPACE: 'trailstory', POWERTOOLS_LOG_LEVEL: { Ref: 'LogLevel' } };
    const WIRING: Record<string, Json> = {
      ENRICH_QUEUE_URL: { Ref: 'EnrichQueue' },
      ENRICH_DLQ_URL: { Ref: 'EnrichDLQ' },
      IDEMPOTENCY_TABLE: { Ref: 'IdempotencyTable' },
      MIN_SEVERITY: { Ref: 'MinSeverity' },
      LOOKUP_EXTRA_REGIONS: { Ref: 'LookupExtraRegions' },
      REENRICH_DELAY_SECONDS: { Ref: 'ReenrichDelaySeconds' },
      MAX_RECEIVES: { Ref: 'MaxReceives' },
      BACKFILL_DAYS: { Ref: 'BackfillDays' },
      REPORT_BUCKET: { Ref: 'ReportBucket' },
      USE_DETECTIVE: { Ref: 'UseDetective' },
      OWN_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
      MEMBER_ROLE_NAME: { Ref: 'MemberRoleName' },
      MEMBER_EXTERNAL_ID: { Ref: 'MemberExternalId' },
      ORG_STATUS_REGIONS: { Ref: 'OrgStatusRegions' },
      SECURITY_HUB_TARGET: { Ref: 'SecurityHubTarget' },
      SECURITY_HUB_V2_SET_SEVERITY: { Ref: 'SecurityHubV2SetSeverity' },
      SECURITY_HUB_V2_SET_STATUS: { Ref: 'SecurityHubV2SetStatus' },
      // The CloudTrail source: in the enrich worker, each empty unless its source is deployed.
      TRAIL_SOURCE: { Ref: 'TrailSource' },
      ATHENA_WORKGROUP: { 'Fn::If': ['QueriesAthena', { Ref: 'AthenaWorkGroup' }, ''] },
      ATHENA_DATABASE: { 'Fn::If': ['UsesAthena', { Ref: 'TrailDatabase' }, ''] },
      ATHENA_TABLE: { 'Fn::If': ['UsesAthena', { Ref: 'CloudTrailTable' }, ''] },
      ATHENA_PARQUET_TABLE: { 'Fn::If': ['HasParquetLayout', { Ref: 'CloudTrailParquetTable' }, ''] },
      TRAIL_REGIONS: { 'Fn::If': ['QueriesAthena', { Ref: 'TrailRegions' }, ''] },
      TRAIL_ACCOUNTS: { 'Fn::If': ['QueriesAthena', { Ref: 'TrailAccounts' }, ''] },
      LOOKBACK_DAYS: { Ref: 'LookbackDays' },
      FINDING_BYTES_BUDGET: { Ref: 'FindingBytesBudget' },
      SECURITY_LAKE_REGION: { 'Fn::If': ['UsesSecurityLake', SL_REGION, ''] },
      SECURITY_LAKE_DATABASE: {
        'Fn::If': ['UsesSecurityLake', { 'Fn::If': ['SecurityLakeDatabaseGiven', { Ref: 'SecurityLakeDatabase' }, { 'Fn::Join': ['', ['amazon_security_lake_glue_db_', SL_REGION_]] }] }, ''],
      },
      SECURITY_LAKE_TABLE: {
        'Fn::If': ['UsesSecurityLake', { 'Fn::If': ['SecurityLakeTableGiven', { Ref: 'SecurityLakeTable' }, { 'Fn::Join': ['', ['amazon_security_lake_table_', SL_REGION_, '_cloud_trail_mgmt_2_0']] }] }, ''],
      },
      ATHENA_LAYOUT_WORKGROUP: { Ref: 'LayoutWorkGroup' },
      ATHENA_PARQUET_LOCATION: { 'Fn::Sub': 's3://${AthenaBucket}/cloudtrail-parquet/' },
      LAYOUT_CONCURRENCY: { Ref: 'LayoutConcurrency' },
    };
    /**
     * A function that exists only with its source (the layout, under HasParquetLayout) names its
     * resources without `Fn::If`, and runs with TRAIL_SOURCE athena.
     */
    const WIRING_OF: Record<string, Record<string, Json>> = {
      LayoutFunction: {
        TRAIL_SOURCE: 'athena',
        ATHENA_WORKGROUP: { Ref: 'AthenaWorkGroup' },
        ATHENA_DATABASE: { Ref: 'TrailDatabase' },
        ATHENA_TABLE: { Ref: 'CloudTrailTable' },
        ATHENA_PARQUET_TABLE: { Ref: 'CloudTrailParquetTable' },
        TRAIL_REGIONS: { Ref: 'TrailRegions' },
      },
    };
    /**
     * Variables wired to the enrich worker for the Athena and Security Lake sources written beside
     * this change (src/sources): its code does not read them through src/config yet. Once it does,
     * the scan finds them and this list only repeats what is needed.
     */
    const PENDING: Record<string, string[]> = {

    };
    /**
     * Variables an entry point reads itself (`process.env.X`, not through src/config), with their
     * wiring; Lambda's own `AWS_*` variables (AWS_REGION) excepted.
     */
    const ENTRY_WIRING: Record<string, Json> = {};

    test('every variable src/config reads is documented on its field (this test reads them there)', () => {
      expect(new Set([...fieldVars.values()].flat())).toEqual(readVars);
      expect([...readVars].filter((v) => v !== 'AWS_ENDPOINT_URL').sort()).toEqual(Object.keys(WIRING).sort());
    });

    test('every variable an entry point reads itself is read by one (ENTRY_WIRING is not stale)', () => {
      const read = new Set(bundled.flatMap((b) => [...fs.readFileSync(path.join(ROOT, b.entry), 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!)));
      expect(Object.keys(ENTRY_WIRING).filter((v) => !read.has(v))).toEqual([]);
    });

    test.each(bundled.map((b) => [b.id]))('%s', (id) => {
      const used = new Set<string>();
      for (const f of ownInputs(id)) for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/\bconfig\.(\w+)/g)) used.add(m[1]!);
      const fileText = fs.readFileSync(path.join(ROOT, bundled.find((b) => b.id === id)!.entry), 'utf8');
      const needs = [...(/readConfig\(\[([^\]]*)\]/.exec(fileText)?.[1] ?? '').matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
      const wanted = new Set([...used].flatMap((f) => fieldVars.get(f) ?? []).filter((v) => v !== 'AWS_ENDPOINT_URL'));
      for (const n of needs) wanted.add(n);
      for (const v of PENDING[id] ?? []) wanted.add(v);
      const direct = [...fileText.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!).filter((v) => !v.startsWith('AWS_'));
      expect([id, direct.filter((v) => ENTRY_WIRING[v] === undefined)]).toEqual([id, []]);
      const expected: JsonObject = { ...POWERTOOLS, NODE_OPTIONS: '--enable-source-maps' };
      for (const v of wanted) expected[v] = WIRING_OF[id]?.[v] ?? WIRING[v]!;
      for (const v of direct) expected[v] = ENTRY_WIRING[v]!;
      const env = (props(id).Environment as JsonObject | undefined)?.Variables;
      expect(env).toEqual(expected);
    });
  });

  test('enrich queue: visibility at least 6x the worker timeout; redrive to the DLQ at MaxReceives + 1', () => {
    const q = props('EnrichQueue');
    expect(q.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (fnProp('EnrichWorkerFunction', 'Timeout') as number));
    const redrive = q.RedrivePolicy as JsonObject;
    expect(redrive.deadLetterTargetArn).toEqual(getAtt('EnrichDLQ'));
    // maxReceiveCount = MaxReceives + 1 for every value the parameter allows (CloudFormation has no arithmetic).
    const [index, list] = (redrive.maxReceiveCount as JsonObject)['Fn::Select'] as [Json, number[]];
    expect(index).toEqual({ Ref: 'MaxReceives' });
    const p = t.Parameters.MaxReceives!;
    for (let n = p.MinValue as number; n <= (p.MaxValue as number); n++) expect(list[n]).toBe(n + 1);
    expect(props('EnrichDLQ').MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  test('the worker reads the queue in batches of 10 with partial batch responses', () => {
    const events = Object.values(props('EnrichWorkerFunction').Events as JsonObject) as JsonObject[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ Type: 'SQS', Properties: { Queue: getAtt('EnrichQueue'), BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] } });
  });

  test('the intake: GuardDuty findings and the Enrich custom action, nothing else', () => {
    const events = props('IntakeFunction').Events as JsonObject;
    const patterns = Object.values(events).map((e) => {
      expect((e as JsonObject).Type).toBe('EventBridgeRule');
      return ((e as JsonObject).Properties as JsonObject).Pattern;
    });
    expect(patterns).toEqual(
      expect.arrayContaining([
        { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] },
        { source: ['aws.securityhub'], 'detail-type': ['Security Hub Findings - Custom Action'], resources: [getAtt('EnrichActionTarget')] },
      ]),
    );
    expect(patterns).toHaveLength(2);
  });

  test('nothing subscribes to "Security Hub Findings - Imported" (our own writes emit it)', () => {
    const patterns: JsonObject[] = [];
    for (const id of serverlessFunctions) {
      for (const e of Object.values((props(id).Events ?? {}) as JsonObject) as JsonObject[]) {
        if (e.Type === 'EventBridgeRule' || e.Type === 'CloudWatchEvent') patterns.push((e.Properties as JsonObject).Pattern as JsonObject);
      }
    }
    for (const r of Object.values(R)) if (r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern) patterns.push(r.Properties.EventPattern as JsonObject);
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) {
      expect(JSON.stringify(p)).not.toMatch(/Security Hub Findings - Imported/);
      // Security Hub events only from the custom action and the new Security Hub's GuardDuty imports
      // (a pattern without detail-type would match CSPM's Imported too).
      if (asList(p.source as string[]).includes('aws.securityhub')) expect([['Security Hub Findings - Custom Action'], ['Findings Imported V2']]).toContainEqual(p['detail-type']);
    }
  });

  test('the new Security Hub: a rule for its Findings Imported V2 events of GuardDuty findings to the intake, only when SecurityHubTarget is new or both', () => {
    expect(t.Parameters.SecurityHubTarget).toMatchObject({ Default: 'cspm', AllowedValues: ['cspm', 'new', 'both'] });
    expect(t.Parameters.SecurityHubV2SetSeverity).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    expect(t.Parameters.SecurityHubV2SetStatus).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    expect(t.Conditions?.WritesNewSecurityHub).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SecurityHubTarget' }, 'cspm'] }] });
    const rules = Object.entries(R).filter(([, r]) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties?.EventPattern ?? {}).includes('Findings Imported V2'));
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect((rule as JsonObject).Condition).toBe('WritesNewSecurityHub');
    // Filtered to GuardDuty's product: other products' findings never reach the intake.
    expect(rule.Properties!.EventPattern).toEqual({ source: ['aws.securityhub'], 'detail-type': ['Findings Imported V2'], detail: { findings: { metadata: { product: { name: ['GuardDuty'] } } } } });
    expect(rule.Properties!.Targets).toEqual([{ Id: 'intake', Arn: getAtt('IntakeFunction') }]);
    const perms = Object.values(R).filter((r) => r.Type === 'AWS::Lambda::Permission' && sameValue(r.Properties?.SourceArn as Json, getAtt(ruleId)));
    expect(perms).toHaveLength(1);
    expect(perms[0]).toMatchObject({ Condition: 'WritesNewSecurityHub', Properties: { Action: 'lambda:InvokeFunction', FunctionName: { Ref: 'IntakeFunction' }, Principal: 'events.amazonaws.com' } });
  });

  test('the custom action "Enrich": Id TrailstoryEnrich, within CreateActionTarget limits', () => {
    const a = props('EnrichActionTarget');
    expect(R.EnrichActionTarget!.Type).toMatch(/^Custom::/);
    expect(a.ServiceToken).toEqual(getAtt('ActionTargetFunction'));
    expect(a).toMatchObject({ Id: 'TrailstoryEnrich', Name: 'Enrich' });
    expect(a.Id as string).toMatch(/^[A-Za-z0-9]{1,20}$/);
    expect((a.Name as string).length).toBeLessThanOrEqual(20);
    expect((a.Description as string).length).toBeGreaterThan(0);
    expect((a.Description as string).length).toBeLessThanOrEqual(256);
  });

  test('the backfill runs on the BackfillSchedule parameter', () => {
    expect(Object.values(props('BackfillFunction').Events as JsonObject)).toEqual([
      expect.objectContaining({ Type: 'Schedule', Properties: expect.objectContaining({ Schedule: { Ref: 'BackfillSchedule' } }) }),
    ]);
  });

  test('org-status runs on the OrgStatusSchedule parameter, for up to 900 s, logging to its own group', () => {
    expect(Object.values(props('OrgStatusFunction').Events as JsonObject)).toEqual([
      expect.objectContaining({ Type: 'Schedule', Properties: expect.objectContaining({ Schedule: { Ref: 'OrgStatusSchedule' } }) }),
    ]);
    expect(fnProp('OrgStatusFunction', 'Timeout')).toBe(900);
    expect(props('OrgStatusFunction').LoggingConfig).toEqual({ LogGroup: { Ref: 'OrgStatusLogGroup' } });
  });

  test('each function logs to a log group of its own', () => {
    const groups = serverlessFunctions.map((id) => referencedId((props(id).LoggingConfig as JsonObject | undefined)?.LogGroup));
    expect(groups.every((g) => g !== undefined && R[g]?.Type === 'AWS::Logs::LogGroup')).toBe(true);
    expect(new Set(groups).size).toBe(groups.length);
  });

  test("idempotency table: Powertools' default attribute names, on demand, encrypted", () => {
    expect(R.IdempotencyTable!.Type).toBe('AWS::DynamoDB::Table');
    expect(props('IdempotencyTable')).toEqual({
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('outputs: queue URLs, DLQ URL, the action target ARN, the table name', () => {
    const values = Object.values(t.Outputs ?? {}).map((o) => o.Value);
    expect(values).toEqual(
      expect.arrayContaining([{ Ref: 'EnrichQueue' }, { Ref: 'EnrichDLQ' }, { Ref: 'IntakeDLQ' }, getAtt('EnrichActionTarget'), { Ref: 'IdempotencyTable' }]),
    );
  });

  test('every Ref, GetAtt and ${} names a parameter, a resource or a pseudo parameter', () => {
    const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];
    const known = new Set([...Object.keys(t.Parameters), ...Object.keys(R), ...PSEUDO]);
    const refs = references([R, t.Outputs]);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter(([id]) => !known.has(id))).toEqual([]);
  });
});

/* ====================================================================== SAM schema */

describe('SAM schema (../shared/schemas/sam.schema.json)', () => {
  const present = fs.existsSync(SAM_SCHEMA);
  if (!present) process.stdout.write(`template.test: ${SAM_SCHEMA} not found: skipping the SAM schema validation\n`);
  /** Every template of the repository: the main stack and the ones the rollout deploys beside it. */
  const TEMPLATES = ['template.yaml', ...fs.readdirSync(path.join(ROOT, 'templates')).filter((f) => f.endsWith('.yaml')).map((f) => `templates/${f}`)];
  (present ? test.each(TEMPLATES.map((f) => [f])) : test.skip.each(TEMPLATES.map((f) => [f])))('%s validates (draft-04, the draft the schema declares)', (file) => {
    const schema = JSON.parse(fs.readFileSync(SAM_SCHEMA, 'utf8')) as { $schema: string };
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    // ajv-draft-04: Ajv for draft-04 schemas; strict off for the schema's own annotation keywords.
    const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
    const validate = ajv.compile(schema);
    const doc = file === 'template.yaml' ? t : loadTemplate(path.join(ROOT, file));
    const ok = validate(JSON.parse(JSON.stringify(doc)));
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).slice(0, 20)).toEqual([]);
  });

  (present ? test : test.skip)('and the schema does catch a broken function (the test is not vacuous)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(SAM_SCHEMA, 'utf8')) as object);
    const broken = JSON.parse(JSON.stringify(t)) as { Resources: Record<string, { Properties: JsonObject }> };
    broken.Resources.IntakeFunction!.Properties.Handlr = 'intake.handler';
    expect(validate(broken)).toBe(false);
  });
});

/* ====================================================================== CloudFormation resource specification */

describe('CloudFormation resource specification (@aws-cdk/aws-service-spec)', () => {
  test('every non-Serverless resource: its type, property names (nested) and required properties', () => {
    const errors: string[] = [];
    let checked = 0;
    for (const [id, r] of Object.entries(R)) {
      if (r.Type.startsWith('AWS::Serverless::')) continue;
      if (r.Type.startsWith('Custom::')) {
        // A custom resource: AWS::CloudFormation::CustomResource's properties plus the provider's own.
        const spec = specOf('AWS::CloudFormation::CustomResource')!;
        for (const [k, p] of Object.entries(spec.properties)) if (p.required && !(k in (r.Properties ?? {}))) errors.push(`${id}.${k}: required`);
        checked++;
        continue;
      }
      const spec = specOf(r.Type);
      if (!spec) {
        errors.push(`${id}: ${r.Type} is not a CloudFormation resource type`);
        continue;
      }
      checkProps(r.Properties ?? {}, spec.properties, id, errors);
      checked++;
    }
    expect(errors).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  test('every Fn::GetAtt names an attribute the resource type has', () => {
    const SAM_ATTRS: Record<string, string[]> = { 'AWS::Serverless::Function': ['Arn'] };
    const errors: string[] = [];
    for (const [id, attr] of references([R, t.Outputs])) {
      const r = R[id];
      if (!r || attr === undefined || r.Type.startsWith('Custom::')) continue;
      const known = SAM_ATTRS[r.Type] ?? Object.keys(specOf(r.Type)?.attributes ?? {});
      if (!known.includes(attr)) errors.push(`${id}.${attr} (${r.Type} has ${known.join(', ')})`);
    }
    expect(errors).toEqual([]);
  });

  test('the check catches what it should (a made-up type and a misspelt property)', () => {
    expect(specOf('AWS::SecurityHub::ActionTarget')).toBeUndefined(); // why the custom action is a custom resource
    const errors: string[] = [];
    checkProps({ VisibilityTimout: 30 }, specOf('AWS::SQS::Queue')!.properties, 'Q', errors);
    checkProps({ SSESpecification: { Enabled: true }, KeySchema: [] }, specOf('AWS::DynamoDB::Table')!.properties, 'T', errors);
    expect(errors).toEqual(['Q.VisibilityTimout: no such property', 'T.SSESpecification.Enabled: no such property', 'T.SSESpecification.SSEEnabled: required']);
  });
});

/* ====================================================================== IAM: least privilege */

/** The Lambda functions, each with its role and the code that runs in it. */
const allFunctions = serverlessFunctions.map((id) => {
  const roleId = referencedId(props(id).Role);
  return { id, roleId, role: roleId ? R[roleId] : undefined, inline: props(id).InlineCode as string | undefined };
});

/**
 * The one deliberate exception to "a role of its own" (function → the function whose role it
 * runs as): OrgStatus checks that the member role can be assumed, and the member role trusts
 * only the enrich worker's role (by ARN), so it must run as that role.
 */
const SHARED_ROLE: Record<string, string> = { OrgStatusFunction: 'EnrichWorkerFunction' };

/** The functions that run as a role. */
const usersOf = (roleId: string): string[] => allFunctions.filter((f) => f.roleId === roleId).map((f) => f.id);

/** The name of a function's inline policy: the function's name in kebab case (`org-status` for OrgStatusFunction). */
const policyName = (id: string): string => id.replace(/Function$/, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** The statements of a function's own inline policy (a shared role has one policy a function). */
const ownStatements = (id: string): Statement[] => {
  const f = allFunctions.find((x) => x.id === id)!;
  return rolePolicies(f.role!).find((p) => p.name === policyName(id))?.statements ?? [];
};

/** The services whose delegated administrators org-status reads (src/org/status.ts, SERVICE_PRINCIPALS). */
const DELEGATED_SERVICES = [
  ...(/SERVICE_PRINCIPALS[^=]*=\s*\{([^}]*)\}/.exec(fs.readFileSync(path.join(ROOT, 'src/org/status.ts'), 'utf8'))?.[1] ?? '').matchAll(/'([a-z0-9.-]+\.amazonaws\.com)'/g),
].map((m) => m[1]!);

/**
 * What Athena does with the caller's credentials while a query of the function runs (Athena user
 * guide, "Identity and access management in Athena": the S3 data and results locations, the Glue
 * Data Catalog's definitions; "Manage Lake Formation and Athena user permissions":
 * lakeformation:GetDataAccess for data registered with Lake Formation, as Security Lake's is),
 * by the workgroups and tables in its environment. An INSERT (the layout) also writes the
 * table's files and may register their partitions.
 */
const ATHENA_READS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions', 's3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'];
const ATHENA_RESULTS = ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:ListBucket', 's3:GetBucketLocation'];
function athenaNeeds(id: string): string[] {
  const env = ((props(id).Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject;
  const out = new Set<string>();
  if (env.ATHENA_WORKGROUP !== undefined) for (const a of [...ATHENA_READS, ...ATHENA_RESULTS, 'kms:Decrypt']) out.add(a);
  if (env.SECURITY_LAKE_DATABASE !== undefined) out.add('lakeformation:GetDataAccess');
  if (env.ATHENA_LAYOUT_WORKGROUP !== undefined) for (const a of ['s3:PutObject', 's3:DeleteObject', 'glue:GetPartition', 'glue:CreatePartition', 'glue:BatchCreatePartition']) out.add(a);
  return [...out];
}

/**
 * The Athena calls the enrich worker's sources make (src/sources, written beside this change):
 * granted under the sources' conditions before the code that sends them is in this tree.
 */
const PENDING_CALLS: Record<string, string[]> = {};

/** What a function's configuration needs from its role (not sent by its code): logs, the SQS poller, failure destinations. */
function configNeeds(id: string): { action: string; resource: Json }[] {
  const out: { action: string; resource: Json }[] = [];
  const logGroup = (props(id).LoggingConfig as JsonObject | undefined)?.LogGroup;
  const lgId = referencedId(logGroup);
  for (const a of ['logs:CreateLogStream', 'logs:PutLogEvents']) out.push({ action: a, resource: lgId ? getAtt(lgId) : '*' });
  for (const e of Object.values((props(id).Events ?? {}) as JsonObject) as JsonObject[]) {
    if (e.Type === 'SQS') {
      for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) out.push({ action: a, resource: (e.Properties as JsonObject).Queue! });
    }
  }
  const DEST: Record<string, string> = { SQS: 'sqs:SendMessage', SNS: 'sns:Publish', Lambda: 'lambda:InvokeFunction', EventBridge: 'events:PutEvents' };
  const dc = ((props(id).EventInvokeConfig as JsonObject | undefined)?.DestinationConfig ?? {}) as JsonObject;
  for (const d of Object.values(dc) as JsonObject[]) out.push({ action: DEST[d.Type as string]!, resource: d.Destination! });
  const dlq = props(id).DeadLetterQueue as JsonObject | undefined;
  if (dlq) out.push({ action: DEST[dlq.Type as string]!, resource: dlq.TargetArn! });
  return out;
}

/**
 * Actions that have no resource-level permission: the only ones a policy may grant on "*", and
 * only on "*" (a statement naming an ARN never matches them). Each is listed with an empty
 * "Resource types" column in the Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/ :
 *  - list_awscloudtrail.html ("... for AWS CloudTrail"): LookupEvents;
 *  - list_amazondetective.html ("... for Amazon Detective"): ListGraphs;
 *  - list_awsorganizations.html ("... for AWS Organizations"): DescribeOrganization, ListAccounts,
 *    ListDelegatedAdministrators (condition key organizations:ServicePrincipal);
 *  - list_awssecurityhub.html ("... for AWS Security Hub"): ListFindingAggregators;
 *  - list_amazonguardduty.html ("... for Amazon GuardDuty"): ListDetectors,
 *    DescribeOrganizationConfiguration, ListMembers, GetFindings (the current page lists no resource
 *    type for the finding actions; older copies listed `detector*`, which would not match today).
 * The same pages give the ARN-scoped ones org-status reads: securityhub DescribeHub,
 * DescribeOrganizationConfiguration, ListMembers on `hub` (hub/default), GetFindingAggregator on
 * `finding-aggregator` (required); guardduty GetDetector on `detector` (required); detective
 * DescribeOrganizationConfiguration and ListMembers on `Graph` (required).
 */
const NO_RESOURCE_LEVEL = new Set([
  'cloudtrail:LookupEvents',
  'guardduty:GetFindings',
  'detective:ListGraphs',
  'organizations:DescribeOrganization',
  'organizations:ListAccounts',
  'organizations:ListDelegatedAdministrators',
  'securityhub:ListFindingAggregators',
  'guardduty:ListDetectors',
  'guardduty:DescribeOrganizationConfiguration',
  'guardduty:ListMembers',
  // list_awslakeformation.html ("... for AWS Lake Formation"): GetDataAccess.
  'lakeformation:GetDataAccess',
]);

describe('IAM: one least-privilege role per function (OrgStatus runs as the enrich worker\'s)', () => {
  test('the command scan sees through aliases, namespaces, paginators and lib-dynamodb, and flags what it cannot see', () => {
    const src = `
      import { SendMessageBatchCommand as Batch, type SQSClient } from '@aws-sdk/client-sqs';
      import * as ct from '@aws-sdk/client-cloudtrail';
      import { paginateGetFindings, SecurityHub } from '@aws-sdk/client-securityhub';
      import { PutCommand } from '@aws-sdk/lib-dynamodb';
      new Batch({}); new ct.LookupEventsCommand({}); paginateGetFindings({ client }, {}); new PutCommand({});
      new SecurityHub({}); new MadeUpCommand({}); new Error('x');`;
    const r = scanSource(src, 'x.ts');
    expect([...actionsOf(r.sent)].sort()).toEqual(['cloudtrail:LookupEvents', 'dynamodb:PutItem', 'securityhub:GetFindings', 'sqs:SendMessage']);
    expect(r.unknown).toEqual(['x.ts: aggregated client new SecurityHub() (send XCommand objects instead)', 'x.ts: new MadeUpCommand( (not a command of a known @aws-sdk package)']);
  });

  test('each function has a role of its own but OrgStatus (the enrich worker\'s), assumable by Lambda only, with inline policies only', () => {
    const roles = allFunctions.map((f) => f.roleId);
    expect(roles.every((r) => r !== undefined)).toBe(true);
    // Role → the functions that run as it: one each, but the enrich worker's, which OrgStatus shares.
    const own = allFunctions.filter((f) => SHARED_ROLE[f.id] === undefined);
    expect(new Set(own.map((f) => f.roleId)).size).toBe(own.length);
    const expected = Object.fromEntries(own.map((f) => [f.roleId!, [f.id, ...Object.keys(SHARED_ROLE).filter((x) => SHARED_ROLE[x] === f.id)].sort()]));
    const actual = Object.fromEntries([...new Set(roles)].map((r) => [r!, usersOf(r!).sort()]));
    expect(actual).toEqual(expected);
    expect(actual.EnrichWorkerRole).toEqual(['EnrichWorkerFunction', 'OrgStatusFunction']);
    expect(referencedId(props('OrgStatusFunction').Role)).toBe('EnrichWorkerRole');
    expect(props('OrgStatusFunction').Role).toEqual(getAtt('EnrichWorkerRole'));
    // One inline policy a function of the role, named for it (intake, enrich-worker, org-status, ...).
    for (const r of new Set(roles)) expect([r, rolePolicies(R[r!]!).map((p) => p.name).sort()]).toEqual([r, usersOf(r!).map(policyName).sort()]);
    for (const f of allFunctions) {
      expect(f.role?.Type).toBe('AWS::IAM::Role');
      expect(props(f.id).Policies).toBeUndefined(); // SAM would add a role's worth of policies of its own
      const rp = f.role!.Properties!;
      expect(rp.ManagedPolicyArns).toBeUndefined();
      expect(rp.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
      for (const s of roleStatements(f.role!)) {
        expect([f.roleId, s.Sid, s.Effect, s.NotAction, s.NotResource]).toEqual([f.roleId, s.Sid, 'Allow', undefined, undefined]);
        for (const a of asList(s.Action)) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/); // no wildcards
      }
    }
  });

  /** Every action a function needs: its code's commands, its bundled libraries' commands, its configuration's. */
  function needs(id: string): { code: Set<string>; library: Set<string>; config: Set<string>; unknown: string[] } {
    const inline = props(id).InlineCode as string | undefined;
    const own = inline !== undefined ? scanSource(inline, `${id}.InlineCode`) : scanFiles(ownInputs(id));
    const lib = inline !== undefined ? { sent: [] } : scanFiles(libraryInputs(id));
    const library = actionsOf(lib.sent);
    // The SDK's fromTemporaryCredentials provider sends STS AssumeRole itself (member accounts).
    if (inline === undefined && Object.keys(metafiles.get(id)!.inputs).some((f) => /credential-providers\/dist-(cjs|es)\/loadSts/.test(f))) library.add('sts:AssumeRole');
    const config = new Set([...configNeeds(id).map((n) => n.action), ...athenaNeeds(id), ...(PENDING_CALLS[id] ?? [])]);
    return { code: actionsOf(own.sent), library, config, unknown: own.unknown };
  }

  /** Every action a function needs, in one set. */
  const allNeeds = (id: string): Set<string> => {
    const n = needs(id);
    return new Set([...n.code, ...n.library, ...n.config]);
  };

  test.each(serverlessFunctions.map((id) => [id]))('%s: its role allows exactly the actions it needs (with those of the functions sharing it)', (id) => {
    const n = needs(id);
    expect(n.unknown).toEqual([]);
    expect(n.code.size).toBeGreaterThan(0);
    const needed = allNeeds(id);
    const roleId = allFunctions.find((f) => f.id === id)!.roleId!;
    const statements = roleStatements(R[roleId]!);
    const granted = new Set(statements.flatMap((s) => asList(s.Action)));
    expect([...needed].filter((a) => !allows(statements, a)).sort()).toEqual([]); // every call it makes is allowed
    // Nothing that no function running as this role makes (the union of their needs; its own alone for an unshared role).
    const neededByRole = new Set(usersOf(roleId).flatMap((u) => [...allNeeds(u)]));
    expect([...granted].filter((a) => !neededByRole.has(a)).sort()).toEqual([]);
    // And its own policy grants nothing it does not make (org-status nothing only the worker uses, and the reverse).
    const mine = ownStatements(id);
    expect(mine.length).toBeGreaterThan(0);
    expect([...new Set(mine.flatMap((s) => asList(s.Action)))].filter((a) => !needed.has(a)).sort()).toEqual([]);
  });

  test("bundled libraries' calls: the worker's idempotency layer (exactly the four DynamoDB actions granted for it), the member-role credentials (sts:AssumeRole)", () => {
    const LIBRARY: Record<string, string[]> = {
      EnrichWorkerFunction: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sts:AssumeRole'],
      OrgStatusFunction: ['sts:AssumeRole'],
    };
    for (const b of bundled) expect([b.id, [...needs(b.id).library].sort()]).toEqual([b.id, LIBRARY[b.id] ?? []]);
  });

  test('ListDelegatedAdministrators: only for the services org-status asks about (organizations:ServicePrincipal)', () => {
    expect(DELEGATED_SERVICES.sort()).toEqual(['detective.amazonaws.com', 'guardduty.amazonaws.com', 'securityhub.amazonaws.com']);
    const granting = ownStatements('OrgStatusFunction').filter((s) => asList(s.Action).includes('organizations:ListDelegatedAdministrators'));
    expect(granting).toHaveLength(1);
    expect(granting[0]).toMatchObject({ Action: 'organizations:ListDelegatedAdministrators', Resource: '*' });
    expect((granting[0]!.Condition as JsonObject).StringEquals).toEqual({ 'organizations:ServicePrincipal': expect.arrayContaining(DELEGATED_SERVICES) });
    expect(((granting[0]!.Condition as JsonObject).StringEquals as JsonObject)['organizations:ServicePrincipal']).toHaveLength(DELEGATED_SERVICES.length);
  });

  test.each(serverlessFunctions.map((id) => [id]))('%s: each permission on the specific resource', (id) => {
    const statements = roleStatements(allFunctions.find((f) => f.id === id)!.role!);
    // What its configuration needs, on the resource the configuration names.
    for (const c of configNeeds(id)) expect([c.action, allows(statements, c.action, c.resource)]).toEqual([c.action, true]);
    // Queues and the table its code writes to: those its environment names, and only by ARN.
    const env = ((props(id).Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject;
    const envIds = Object.values(env).map(referencedId).filter((x): x is string => x !== undefined && R[x] !== undefined);
    const n = needs(id);
    for (const a of n.code) {
      if (a.startsWith('sqs:')) for (const q of envIds.filter((x) => R[x]!.Type === 'AWS::SQS::Queue')) expect([a, q, allows(statements, a, getAtt(q))]).toEqual([a, q, true]);
    }
    for (const a of n.library) {
      if (a.startsWith('dynamodb:')) for (const tb of envIds.filter((x) => R[x]!.Type === 'AWS::DynamoDB::Table')) expect([a, allows(statements, a, getAtt(tb))]).toEqual([a, true]);
    }
    const ownResources = new Set([...envIds, referencedId((props(id).LoggingConfig as JsonObject | undefined)?.LogGroup)]);
    for (const c of configNeeds(id)) ownResources.add(referencedId(c.resource));
    // The statements of its own policy (those of a shared role's other policies are checked with their function).
    const own = ownStatements(id);
    expect(own.length).toBeGreaterThan(0);
    for (const s of own) {
      const actions = asList(s.Action);
      // A condition only where it narrows ListDelegatedAdministrators to the services org-status asks about.
      // A condition only where it narrows ListDelegatedAdministrators to the services org-status
      // asks about, or an S3 ListBucket to the prefixes the function reads.
      if (s.Condition !== undefined && !sameValue(actions, ['s3:ListBucket'])) expect([s.Sid, actions]).toEqual([s.Sid, ['organizations:ListDelegatedAdministrators']]);
      if (s.Condition !== undefined && sameValue(actions, ['s3:ListBucket'])) expect([s.Sid, Object.keys((s.Condition as JsonObject).StringLike as JsonObject)]).toEqual([s.Sid, ['s3:prefix']]);
      for (const r of asList(s.Resource as Json | Json[])) {
        if (r === '*') {
          expect([s.Sid, actions.filter((a) => !NO_RESOURCE_LEVEL.has(a))]).toEqual([s.Sid, []]);
          continue;
        }
        // An action without resource types on an ARN would never be allowed.
        expect([s.Sid, actions.filter((a) => NO_RESOURCE_LEVEL.has(a))]).toEqual([s.Sid, []]);
        if (actions.some((a) => a.startsWith('organizations:'))) {
          // Organizations: only reads of the organisation, none of which has a resource type.
          throw new Error(`${s.Sid}: organizations actions on ${JSON.stringify(r)}: the ones org-status sends take "*" only`);
        } else if (actions.some((a) => /^(sqs|dynamodb|logs):/.test(a))) {
          // A resource of this stack that the function uses, by its ARN.
          const rid = referencedId(r);
          expect([s.Sid, rid !== undefined && ownResources.has(rid) && sameValue(r, getAtt(rid!))]).toEqual([s.Sid, true]);
        } else if (actions.every((a) => a.startsWith('sts:'))) {
          // STS: only the member role, by its name, in any account of the organisation.
          expect(actions).toEqual(['sts:AssumeRole']);
          expect(r).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}' });
        } else if (actions.every((a) => a.startsWith('guardduty:'))) {
          // GuardDuty: this account's detectors only.
          expect(r).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*' });
        } else if (actions.every((a) => a.startsWith('detective:'))) {
          // Detective: this account's behavior graphs only.
          expect(r).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:detective:*:${AWS::AccountId}:graph:*' });
        } else if (actions.every((a) => a.startsWith('s3:'))) {
          const text = JSON.stringify(r);
          if (text.includes('ReportBucket')) {
            // S3: only the report keys of the bucket its environment names.
            expect(actions).toEqual(['s3:PutObject', 's3:GetObject']);
            expect(envIds).toContain('ReportBucket');
            expect(r).toEqual({ 'Fn::Sub': '${ReportBucket.Arn}/reports/*' });
          } else if (text.includes('TrailBucketName')) {
            // The organisation trail's bucket: read only, its organisation's logs only.
            expect([s.Sid, actions.every((a) => ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'].includes(a))]).toEqual([s.Sid, true]);
            expect([
              { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${TrailBucketName}/AWSLogs/${TrailOrgId}/*' },
              { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${TrailBucketName}' },
            ]).toContainEqual(r);
            if (actions.includes('s3:ListBucket')) expect(s.Condition).toEqual({ StringLike: { 's3:prefix': { 'Fn::Sub': 'AWSLogs/${TrailOrgId}/*' } } });
          } else {
            // The stack's Athena bucket: results and the Parquet copy (written by the layout only).
            expect([getAtt('AthenaBucket'), { 'Fn::Sub': '${AthenaBucket.Arn}/athena-results/*' }, { 'Fn::Sub': '${AthenaBucket.Arn}/cloudtrail-parquet/*' }]).toContainEqual(r);
            if (actions.some((a) => a === 's3:PutObject' || a === 's3:DeleteObject') && text.includes('cloudtrail-parquet')) expect(id).toBe('LayoutFunction');
          }
        } else if (actions.every((a) => a.startsWith('athena:'))) {
          // Athena: the function's own workgroup only.
          const wg = id === 'LayoutFunction' ? 'LayoutWorkGroup' : 'AthenaWorkGroup';
          expect(r).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:athena:\${AWS::Region}:\${AWS::AccountId}:workgroup/\${${wg}}` });
        } else if (actions.every((a) => a.startsWith('glue:'))) {
          // Glue: this stack's trail database and its two tables, or Security Lake's shared database through this account's resource links.
          const arn = (r as JsonObject)['Fn::Sub'];
          const text = typeof arn === 'string' ? arn : (arn as Json[])[0] as string;
          expect([s.Sid, text]).toEqual([
            s.Sid,
            expect.stringMatching(/^arn:\$\{AWS::Partition\}:glue:(\$\{AWS::Region\}|\*):\$\{(AWS::AccountId|Owner)\}:(catalog|database\/(\$\{TrailDatabase\}|\*|amazon_security_lake_glue_db_\*)|table\/(\$\{TrailDatabase\}\/cloudtrail(_parquet)?|\*\/\*|amazon_security_lake_glue_db_\*\/\*))$/),
          ]);
          // Writes (partition registration) on the Parquet table only, by the layout.
          if (actions.some((a) => /Create/.test(a))) expect([id, text.includes(':table/') ? text.endsWith('/cloudtrail_parquet') : true]).toEqual(['LayoutFunction', true]);
        } else if (actions.every((a) => a.startsWith('kms:'))) {
          expect([s.Sid, actions, r, (s as { When?: string }).When]).toEqual([s.Sid, ['kms:Decrypt'], { Ref: 'TrailKmsKeyArn' }, 'TrailEncrypted']);
        } else {
          // Security Hub: this account's hub, default product or finding aggregator, never another account's.
          expect(actions.every((a) => a.startsWith('securityhub:'))).toBe(true);
          const arn = (r as JsonObject)['Fn::Sub'] as string;
          expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:securityhub:(\*|\$\{AWS::Region\}):\$\{AWS::AccountId\}:(hub\/default|product\/\$\{AWS::AccountId\}\/default|finding-aggregator\/\*)$/);
          // The aggregator ARN is GetFindingAggregator's only resource type, and GetFindingAggregator takes no other.
          expect([s.Sid, arn.endsWith(':finding-aggregator/*')]).toEqual([s.Sid, actions.includes('securityhub:GetFindingAggregator')]);
          if (arn.endsWith(':finding-aggregator/*')) expect(actions).toEqual(['securityhub:GetFindingAggregator']);
        }
      }
    }
  });
});

/* ====================================================================== bundles */

/** Parameters without a usable default for a function that exists only with its source (the layout: TrailSource athena). */
const DUMMY_PARAMETERS: Record<string, string> = { TrailRegions: 'us-east-1,eu-west-1', TrailBucketName: 'org-trail', TrailOrgId: 'o-abcdefghij' };

/** A dummy value of a template expression: parameters' defaults, resources' names, `Fn::If` as its true branch, `Fn::Sub` filled in. */
function dummyValue(v: Json): string {
  if (!isObject(v)) return String(v);
  if (typeof v.Ref === 'string') {
    const ref = v.Ref;
    if (t.Parameters[ref]) return DUMMY_PARAMETERS[ref] ?? String(t.Parameters[ref]!.Default);
    if (ref === 'AWS::Region') return 'us-east-1';
    if (ref === 'AWS::AccountId') return '123456789012';
    const type = R[ref]?.Type;
    if (type === 'AWS::SQS::Queue') return `https://sqs.us-east-1.amazonaws.com/123456789012/${ref}`;
    if (type?.startsWith('AWS::Glue::')) return `trailstory_${ref.toLowerCase()}`; // Glue names: no hyphens
    if (type === 'AWS::S3::Bucket') return `trailstory-${ref.toLowerCase()}`;
    return `trailstory-${ref}`;
  }
  const iff = v['Fn::If'];
  if (Array.isArray(iff)) return dummyValue(iff[1]!);
  const sub = v['Fn::Sub'];
  if (typeof sub === 'string') return sub.replace(/\$\{([^!}][^}]*)\}/g, (_, name: string) => dummyValue({ Ref: name.split('.')[0]! }));
  const join = v['Fn::Join'];
  if (Array.isArray(join)) {
    const parts = join[1];
    const list = isObject(parts) && Array.isArray(parts['Fn::Split']) ? dummyValue(parts['Fn::Split'][1]!).split(String(parts['Fn::Split'][0])) : (parts as Json[]).map(dummyValue);
    return list.join(String(join[0]));
  }
  return JSON.stringify(v);
}

/** Dummy values for a function's environment. */
function dummyEnv(id: string): Record<string, string> {
  const vars = ((props(id).Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, dummyValue(v)]));
}

/** Runs a script in a fresh Node with only the given environment (no AWS credentials, no repository on the module path). */
function runNode(script: string, args: string[], env: Record<string, string>, cwd: string) {
  return spawnSync(process.execPath, ['-e', script, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'test', ...env },
  });
}

const LOAD = `const m = require(process.argv[1]); if (typeof m.handler !== 'function') throw new Error('no handler export'); process.stdout.write('handler:' + typeof m.handler);`;

describe('bundles (.build/, npm run build)', () => {
  let tmp: string;
  /** A copy of the bundle alone in `<tmp>/<Name>/var/task/`, as Lambda unpacks it. */
  const taskDir = (name: string) => path.join(tmp, name, 'var', 'task');
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-bundles-'));
    for (const b of bundled) {
      fs.mkdirSync(taskDir(b.name), { recursive: true });
      for (const f of fs.readdirSync(path.join(BUILD_DIR, b.name))) fs.copyFileSync(path.join(BUILD_DIR, b.name, f), path.join(taskDir(b.name), f));
    }
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test.each(bundled.flatMap((b) => b.entries.map((e) => [b.name, e, b.id])))('%s %s: CommonJS, nothing required from outside but Node built-ins', (name, entry, id) => {
    const meta = metafiles.get(id)!;
    const outKey = outputOf(id, entry);
    const out = meta.outputs[outKey]!;
    expect(out.entryPoint).toBe(entry);
    expect(out.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path)).toEqual([]);
    const code = fs.readFileSync(path.join(ROOT, outKey), 'utf8');
    expect(code).not.toMatch(/^\s*(import|export)\s/m); // not ESM
    expect(fs.existsSync(path.join(ROOT, `${outKey}.map`))).toBe(true);
    expect(`.build/${name}/${path.basename(entry, '.ts')}.js`).toBe(outKey);
  });

  /** The SDK clients each function's code uses (its use case's *_CLIENTS; the worker's idempotency layer: DynamoDB), and none other. */
  const CLIENTS: Record<string, string[]> = {
    IntakeFunction: ['sqs'],
    EnrichWorkerFunction: ['athena', 'cloudtrail', 'detective', 'dynamodb', 'guardduty', 's3', 'securityhub', 'sqs'],
    BackfillFunction: ['securityhub', 'sqs'],
    OrgStatusFunction: ['detective', 'guardduty', 'organizations', 'securityhub', 'sts'],
    LayoutFunction: ['athena', 'organizations', 's3'],
  };

  test.each(bundled.map((b) => [b.name, b.id, b.entry]))('%s: the file loaded at start is under 1.5 MB and holds exactly the SDK clients its code uses, the SDK inside', (name, id, entry) => {
    const outKey = outputOf(id, entry);
    const bytes = fs.statSync(path.join(ROOT, outKey)).size;
    expect(bytes).toBe(metafiles.get(id)!.outputs[outKey]!.bytes);
    expect(bytes).toBeLessThan(1.5e6);
    expect([name, sdkClients(id, entry)]).toEqual([name, CLIENTS[id]]);
  });

  test('EnrichWorker: elkjs and the report renderers are in report.js, not in the entry file', () => {
    const entryInputs = inputsOf('EnrichWorkerFunction', 'functions/enrich-worker.ts');
    const reportInputs = inputsOf('EnrichWorkerFunction', 'functions/report.ts');
    const RENDERERS = ['src/render/html.ts', 'src/render/svg.ts', 'src/render/story-graph.ts'];
    expect(entryInputs.filter((f) => f.includes('node_modules/elkjs/') || RENDERERS.includes(f))).toEqual([]);
    expect(entryInputs).toContain('src/report/renderer.ts'); // what requires report.js on the first report
    expect(entryInputs).toContain('src/report/s3.ts');
    expect(reportInputs).toEqual(expect.arrayContaining(['node_modules/elkjs/lib/elk.bundled.js', ...RENDERERS, 'functions/report.ts']));
    expect(reportInputs.filter((f) => f.includes('node_modules/@aws-sdk/'))).toEqual([]);
    // elkjs is most of report.js, and report.js is bigger than the entry file.
    const meta = metafiles.get('EnrichWorkerFunction')!;
    const report = meta.outputs[outputOf('EnrichWorkerFunction', 'functions/report.ts')]!;
    expect(report.inputs['node_modules/elkjs/lib/elk.bundled.js']!.bytesInOutput).toBeGreaterThan(1e6);
    // The file the worker requires is the one the build writes.
    expect(path.basename(outputOf('EnrichWorkerFunction', 'functions/report.ts'))).toBe(REPORT_FILE);
  });

  test('no other function carries elkjs or a second file', () => {
    for (const b of bundled.filter((x) => x.id !== 'EnrichWorkerFunction')) {
      expect([b.id, b.entries]).toEqual([b.id, [b.entry]]);
      expect([b.id, Object.keys(metafiles.get(b.id)!.inputs).filter((f) => f.includes('elkjs') || f.startsWith('src/render/'))]).toEqual([b.id, []]);
      expect([b.id, fs.readdirSync(path.join(BUILD_DIR, b.name)).sort()]).toEqual([b.id, [`${path.basename(b.entry, '.ts')}.js`, `${path.basename(b.entry, '.ts')}.js.map`]]);
    }
  });

  test.each(bundled.map((b) => [b.name, b.id, b.entry]))(
    '%s loads on its own under the template environment and exports handler',
    (name, id, entry) => {
      const file = path.join(taskDir(name), `${path.basename(entry, '.ts')}.js`);
      const r = runNode(LOAD, [file], dummyEnv(id), taskDir(name));
      expect([r.status, r.stdout, r.stderr.split('\n').filter((l) => /Error/.test(l)).map((l) => l.slice(0, 300))]).toEqual([0, 'handler:function', []]);
    },
  );

  test('OrgStatus: the bundled function checks an emulated organisation as the worker role and logs one warning per gap', async () => {
    const emu = await AwsEmulator.start({ seed: 2 });
    try {
      buildHealthyOrganization(emu, { management: '800000000000', admin: '800000000001', members: ['800000000002'], regions: ['us-east-1', 'eu-west-1'], workerRole: 'EnrichWorkerRole', externalId: 'x-1' });
      emu.guardDuty.setAdministrator('eu-west-1', '800000000001', { autoEnableOrganizationMembers: 'NONE' }); // the one gap
      const creds = emu.sessionClientConfig('800000000001', 'EnrichWorkerRole', 'us-east-1', { sessionName: 'org-status' }).credentials;
      const script = `
        const { handler } = require(process.argv[1]);
        const context = { functionName: 'org-status', functionVersion: '1', memoryLimitInMB: '256', awsRequestId: 'r-1',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:800000000001:function:org-status', getRemainingTimeInMillis: () => 900000 };
        handler({}, context).then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r)), (e) => { process.stdout.write('\\nFAILED ' + e.stack); process.exitCode = 1; });`;
      const env = {
        ...dummyEnv('OrgStatusFunction'), PATH: process.env.PATH ?? '', HOME: taskDir('OrgStatus'), AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'org-status',
        AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken, AWS_ENDPOINT_URL: emu.endpoint,
        ORG_STATUS_REGIONS: 'us-east-1,eu-west-1', MEMBER_EXTERNAL_ID: 'x-1',
      };
      // Asynchronously: the emulator answers from this process while the function runs.
      const child = spawn(process.execPath, ['-e', script, path.join(taskDir('OrgStatus'), 'org-status.js')], { cwd: taskDir('OrgStatus'), env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect([code, /^FAILED (.*)$/m.exec(stdout)?.[1]]).toEqual([0, undefined]);
      const report = JSON.parse(/^RESULT (.*)$/m.exec(stdout)?.[1] ?? 'null') as { gaps: { account: string; region: string; component: string }[]; accounts: { memberRole: string }[] };
      expect(report.gaps.map((g) => `${g.account} ${g.region} ${g.component}`)).toEqual(['800000000001 eu-west-1 GuardDuty']);
      expect(report.accounts.filter((a) => a.memberRole === 'ok')).toHaveLength(2 * 2); // management and the member, in both regions
      // Powertools writes each level through its console method: INFO to stdout, WARN to stderr.
      const logs = `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs.find((l) => l.message === 'org-status')).toMatchObject({ level: 'INFO', gaps: 1, accounts: 3, regions: ['us-east-1', 'eu-west-1'] });
      expect(logs.filter((l) => l.message === 'org-status gap').map((l) => [l.level, l.component, l.region])).toEqual([['WARN', 'GuardDuty', 'eu-west-1']]);
    } finally {
      await emu.stop();
    }
  }, 60_000);

  test('Intake: the bundled middy chain runs (an event that is not a finding is dropped, no AWS call)', () => {
    const file = path.join(taskDir('Intake'), 'intake.js');
    const script = `
      const { handler } = require(process.argv[1]);
      const context = { functionName: 'intake', functionVersion: '1', memoryLimitInMB: '256', awsRequestId: 'r-1',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:intake', getRemainingTimeInMillis: () => 10000 };
      handler({ source: 'aws.guardduty', 'detail-type': 'AWS API Call via CloudTrail', detail: {} }, context)
        .then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r)), (e) => { process.stdout.write('\\nFAILED ' + e.message); process.exitCode = 1; });`;
    const r = runNode(script, [file], dummyEnv('IntakeFunction'), taskDir('Intake'));
    expect(r.status).toBe(0);
    const result = /^RESULT (.*)$/m.exec(r.stdout)?.[1];
    expect(JSON.parse(result ?? 'null')).toMatchObject({ queued: 0 });
    expect(r.stdout).toContain('"message":"dropped: not a finding"');
  });

  test('EnrichWorker: the bundled worker, alone in its folder, enriches a finding and writes the HTML report through report.js, required on the first report', async () => {
    // Prepare: a small story (its finding and CloudTrail) in the emulator; the idempotency table
    // in dynalite; one endpoint for the bundle's clients that sends DynamoDB to dynalite and the
    // rest to the emulator (the emulator has no DynamoDB).
    const dir = path.join(ROOT, 'test/scenarios/b2-08-federation-token-console');
    const emu = await AwsEmulator.start({ seed: 3 });
    const dynamo = await startDynamo('idempotency');
    const proxy = http.createServer((req, res) => {
      const target = String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_') ? (dynamo.server.address() as AddressInfo).port : Number(new URL(emu.endpoint).port);
      const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      emu.knobs.lookupEventsPerSecond = 0;
      seedScenario(emu, dir);
      const event = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as unknown;
      const f = parseFindings(event, 'finding.json')[0]!;
      const bucket = 'trailstory-reports';
      emu.s3.createBucket(bucket, f.accountId, f.region);
      const queueUrl = emu.sqs.createQueue('enrich', f.accountId, f.region);
      const dlqUrl = emu.sqs.createQueue('enrich-dlq', f.accountId, f.region);
      const eventFile = path.join(tmp, 'worker-event.json');
      fs.writeFileSync(eventFile, JSON.stringify(sqsEvent([JSON.stringify(messageFor(f, 'guardduty-event'))], f.region)));
      const creds = emu.clientConfig(f.accountId, f.region).credentials;
      // The worker runs an hour after GuardDuty's update, as in the account (the story is older than
      // CloudTrail's 90 days of event history): the child's clock is moved, nothing else.
      const script = `
        const path = require('path');
        const offset = Number(process.argv[3]) - Date.now();
        const realNow = Date.now;
        Date.now = () => realNow() + offset;
        const reportLoaded = () => Object.keys(require.cache).filter((f) => path.basename(f) === ${JSON.stringify(REPORT_FILE)});
        const { handler } = require(process.argv[1]);
        const before = reportLoaded();
        const event = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
        const context = { functionName: 'enrich-worker', functionVersion: '1', memoryLimitInMB: '1024', awsRequestId: 'r-1',
          invokedFunctionArn: 'arn:aws:lambda:${f.region}:${f.accountId}:function:enrich-worker', getRemainingTimeInMillis: () => 600000 };
        handler(event, context).then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify({ r, before, after: reportLoaded() }) + '\\n'),
          (e) => { process.stdout.write('\\nFAILED ' + e.stack); process.exitCode = 1; });`;
      const env = {
        ...dummyEnv('EnrichWorkerFunction'), PATH: process.env.PATH ?? '', HOME: taskDir('EnrichWorker'), AWS_REGION: f.region, AWS_LAMBDA_FUNCTION_NAME: 'enrich-worker',
        AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_ENDPOINT_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', REPORT_BUCKET: bucket, OWN_ACCOUNT_ID: f.accountId, USE_DETECTIVE: 'false',
      };
      const entry = path.join(taskDir('EnrichWorker'), 'enrich-worker.js');
      // Asynchronously: the emulator and dynalite answer from this process while the function runs.
      const child = spawn(process.execPath, ['-e', script, entry, eventFile, String(Date.parse(f.updatedAt ?? '') + 3600_000)], { cwd: taskDir('EnrichWorker'), env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));

      // Assess: the batch succeeded; report.js was not loaded at start, and was on the first report, from beside the handler.
      expect([code, /^FAILED (.*)$/m.exec(stdout)?.[1], stderr.split('\n').filter((l) => /Error/.test(l)).slice(0, 3)]).toEqual([0, undefined, []]);
      const result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)?.[1] ?? 'null') as { r: { batchItemFailures: unknown[] }; before: string[]; after: string[] };
      expect(result.r.batchItemFailures).toEqual([]);
      expect(result.before).toEqual([]);
      expect(result.after).toEqual([fs.realpathSync(path.join(taskDir('EnrichWorker'), REPORT_FILE))]);
      // The report: in the bucket, linked from the finding, telling the story the finding's annotation
      // tells (its origin, its steps), with the flow diagram laid out (elkjs: the origin box placed).
      const key = `reports/${f.accountId}/${f.region}/${f.id}.html`;
      const annotated = emu.securityHub.get(f.arn) as { UserDefinedFields?: Record<string, string> } | undefined;
      const udf = annotated?.UserDefinedFields ?? {};
      expect(udf['trailstory.8.report']).toContain(`prefix=${encodeURIComponent(key)}`);
      const companion = emu.securityHub.get(`${f.arn}/trailstory-storyline`) as { ProductFields?: Record<string, string> } | undefined;
      const origin = companion?.ProductFields?.['trailstory/origin/eventId'] ?? '';
      expect(origin).toMatch(/^[0-9a-f-]{36}$/);
      const html = emu.s3.getObject(bucket, key)?.body.toString('utf8') ?? '';
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(/<g data-node="origin" data-event-id="([^"]+)"/.exec(html)?.[1]).toBe(origin);
      expect(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" rx="14"/.test(html)).toBe(true);
      expect(String(html.match(/<tr id="ev-\d+" data-event-id=/g)?.length)).toBe(udf['trailstory.4.steps']);
      expect(Number(udf['trailstory.4.steps'])).toBeGreaterThan(1);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
      await dynamo.stop();
      await emu.stop();
    }
  }, 120_000);
});

/* ====================================================================== the custom action's custom resource */

describe('custom resource: the Security Hub custom action', () => {
  const code = props('ActionTargetFunction').InlineCode as string;
  const ARN = 'arn:aws:securityhub:us-east-1:123456789012:action/custom/TrailstoryEnrich';

  /** Runs the inline handler with a fake SDK and a fake https; returns the calls and the answer PUT to CloudFormation. */
  async function invoke(event: JsonObject, fail: Record<string, string> = {}) {
    const calls: { command: string; input: JsonObject }[] = [];
    const responses: { url: string; body: JsonObject }[] = [];
    const command = (name: string) =>
      class {
        readonly name = name;
        constructor(readonly input: JsonObject) {}
      };
    const sdk = {
      SecurityHubClient: class {
        async send(c: { name: string; input: JsonObject }) {
          calls.push({ command: c.name, input: c.input });
          if (fail[c.name]) throw Object.assign(new Error(`${c.name} failed`), { name: fail[c.name] });
          return c.name === 'CreateActionTarget' ? { ActionTargetArn: ARN } : {};
        }
      },
      CreateActionTargetCommand: command('CreateActionTarget'),
      UpdateActionTargetCommand: command('UpdateActionTarget'),
      DeleteActionTargetCommand: command('DeleteActionTarget'),
    };
    const https = {
      request(url: string, opts: { method: string }, cb: (res: { resume(): void; on(ev: string, fn: () => void): void }) => void) {
        return {
          on: () => undefined,
          end(body: string) {
            expect(opts.method).toBe('PUT');
            responses.push({ url, body: JSON.parse(body) as JsonObject });
            cb({ resume: () => undefined, on: (_ev, fn) => fn() });
          },
        };
      },
    };
    const mod = { exports: {} as { handler?: (e: unknown, c: unknown) => Promise<unknown> } };
    const modules: Record<string, unknown> = { '@aws-sdk/client-securityhub': sdk, 'node:https': https };
    vm.runInNewContext(code, {
      require: (m: string) => modules[m] ?? (() => { throw new Error(`unexpected require ${m}`); })(),
      exports: mod.exports,
      module: mod,
      Buffer,
      console: { error: () => undefined, log: () => undefined },
    });
    await mod.exports.handler!({ StackId: 'stack', RequestId: 'req', LogicalResourceId: 'EnrichActionTarget', ResponseURL: 'https://cfn.example/response', ...event }, { logStreamName: 'log-stream' });
    return { calls, responses };
  }

  const wanted = { Id: 'TrailstoryEnrich', Name: 'Enrich', Description: 'd' };

  test('fits in InlineCode (ZipFile: 4096 characters at most)', () => {
    expect(code.length).toBeLessThan(4096);
  });

  test('Create: CreateActionTarget, SUCCESS with the ARN as physical ID and as Arn', async () => {
    const { calls, responses } = await invoke({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'x', ...wanted } });
    expect(calls).toEqual([{ command: 'CreateActionTarget', input: wanted }]);
    expect(responses).toEqual([
      { url: 'https://cfn.example/response', body: expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: ARN, Data: { Arn: ARN }, RequestId: 'req', StackId: 'stack', LogicalResourceId: 'EnrichActionTarget' }) },
    ]);
  });

  test('Update of the name: UpdateActionTarget in place', async () => {
    const { calls, responses } = await invoke({ RequestType: 'Update', PhysicalResourceId: ARN, ResourceProperties: { ...wanted, Name: 'Story' }, OldResourceProperties: wanted });
    expect(calls).toEqual([{ command: 'UpdateActionTarget', input: { ActionTargetArn: ARN, Name: 'Story', Description: 'd' } }]);
    expect(responses[0]!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ARN, Data: { Arn: ARN } });
  });

  test('Update of the Id: a new action (CloudFormation then deletes the old one)', async () => {
    const { calls } = await invoke({ RequestType: 'Update', PhysicalResourceId: ARN, ResourceProperties: { ...wanted, Id: 'Other' }, OldResourceProperties: wanted });
    expect(calls.map((c) => c.command)).toEqual(['CreateActionTarget']);
  });

  test('Delete: DeleteActionTarget; already gone or Security Hub disabled is still SUCCESS', async () => {
    for (const fail of [{}, { DeleteActionTarget: 'ResourceNotFoundException' }, { DeleteActionTarget: 'InvalidAccessException' }] as Record<string, string>[]) {
      const { calls, responses } = await invoke({ RequestType: 'Delete', PhysicalResourceId: ARN, ResourceProperties: wanted }, fail);
      expect(calls).toEqual([{ command: 'DeleteActionTarget', input: { ActionTargetArn: ARN } }]);
      expect(responses[0]!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ARN });
    }
  });

  test('a failed Create answers FAILED with the reason, and its rollback Delete touches nothing', async () => {
    const created = await invoke({ RequestType: 'Create', ResourceProperties: wanted }, { CreateActionTarget: 'ResourceConflictException' });
    expect(created.responses[0]!.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'log-stream', Reason: 'ResourceConflictException: CreateActionTarget failed' });
    const rollback = await invoke({ RequestType: 'Delete', PhysicalResourceId: 'log-stream', ResourceProperties: wanted });
    expect(rollback.calls).toEqual([]);
    expect(rollback.responses[0]!.body).toMatchObject({ Status: 'SUCCESS' });
  });

  test('a Delete that fails otherwise answers FAILED (never leaves CloudFormation waiting)', async () => {
    const { responses } = await invoke({ RequestType: 'Delete', PhysicalResourceId: ARN, ResourceProperties: wanted }, { DeleteActionTarget: 'ThrottlingException' });
    expect(responses[0]!.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: ARN });
  });
});

/* ====================================================================== cfn-lint, where installed */

describe('cfn-lint (where installed: it runs the SAM transform and checks the result)', () => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const present = probe.status === 0;
  if (!present) process.stdout.write('template.test: cfn-lint not found: skipping the cfn-lint check\n');
  const files = ['template.yaml', ...fs.readdirSync(path.join(ROOT, 'templates')).filter((f) => f.endsWith('.yaml')).map((f) => `templates/${f}`)];
  (present ? test.each(files.map((f) => [f])) : test.skip.each(files.map((f) => [f])))('%s: no errors', (file) => {
    const r = spawnSync('cfn-lint', ['--non-zero-exit-code', 'error', '--', path.join(ROOT, file)], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status === 0 ? 'no errors' : `${r.stdout}${r.stderr}`).toBe('no errors');
  });
});

/* ====================================================================== the CloudTrail sources over Athena */

describe('CloudTrail through Athena: parameters, tables, workgroups', () => {
  const table = (id: string) => props(id).TableInput as JsonObject;
  const sd = (id: string) => table(id).StorageDescriptor as JsonObject;
  const params = (id: string) => table(id).Parameters as JsonObject;

  test('parameters: the source, its defaults and its checks', () => {
    expect(t.Parameters.TrailSource).toMatchObject({ Default: 'lookup-events', AllowedValues: ['lookup-events', 'athena', 'security-lake'] });
    expect(t.Parameters.ParquetLayout).toMatchObject({ Default: 'true', AllowedValues: ['true', 'false'] });
    expect(t.Parameters.LookbackDays).toMatchObject({ Default: 30, MinValue: 1, MaxValue: 400 });
    expect(t.Parameters.FindingBytesBudget).toMatchObject({ Default: 10737418240 });
    expect(t.Parameters.AthenaBytesScannedCutoffPerQuery).toMatchObject({ Default: 10 * 1024 ** 3, MinValue: 10_000_000 }); // Athena's smallest per-query control is 10 MB
    expect(t.Parameters.TrailRegions!.AllowedPattern).toBe(t.Parameters.LookupExtraRegions!.AllowedPattern);
    const ok = (name: string, v: string) => new RegExp(t.Parameters[name]!.AllowedPattern as string).test(v);
    expect([ok('TrailOrgId', 'o-a1b2c3d4e5'), ok('TrailOrgId', ''), ok('TrailOrgId', 'a1b2c3d4e5')]).toEqual([true, true, false]);
    expect([ok('TrailBucketName', 'my-org-trail.logs'), ok('TrailBucketName', 'My_Bucket')]).toEqual([true, false]);
    expect([ok('TrailKmsKeyArn', ''), ok('TrailKmsKeyArn', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'), ok('TrailKmsKeyArn', 'alias/x')]).toEqual([true, true, false]);
    expect([ok('TrailStartDate', '2024/01/01'), ok('TrailStartDate', '2024-01-01')]).toEqual([true, false]);
    expect([ok('SecurityLakeRegion', 'eu-west-1'), ok('SecurityLakeRegion', ''), ok('SecurityLakeRegion', 'eu west')]).toEqual([true, true, false]);
    // athena needs the trail's bucket, organisation and regions.
    const rule = (t as unknown as { Rules: Record<string, { RuleCondition: Json; Assertions: { Assert: Json }[] }> }).Rules.AthenaNeedsTheTrail!;
    expect(rule.RuleCondition).toEqual({ 'Fn::Equals': [{ Ref: 'TrailSource' }, 'athena'] });
    expect(rule.Assertions.map((a) => JSON.stringify(a.Assert))).toEqual(['TrailBucketName', 'TrailOrgId', 'TrailRegions'].map((p) => JSON.stringify({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: p }, ''] }] })));
  });

  test('each Athena resource exists only with its source', () => {
    const cond: Record<string, string> = {
      AthenaBucket: 'QueriesAthena', AthenaBucketPolicy: 'QueriesAthena', AthenaWorkGroup: 'QueriesAthena', TrailDatabase: 'UsesAthena', CloudTrailTable: 'UsesAthena',
      CloudTrailParquetTable: 'HasParquetLayout', LayoutWorkGroup: 'HasParquetLayout', LayoutFunction: 'HasParquetLayout', LayoutRole: 'HasParquetLayout', LayoutLogGroup: 'HasParquetLayout',
    };
    for (const [id, c] of Object.entries(cond)) expect([id, R[id]?.Condition]).toEqual([id, c]);
    expect(t.Conditions).toMatchObject({
      UsesAthena: { 'Fn::Equals': [{ Ref: 'TrailSource' }, 'athena'] },
      UsesSecurityLake: { 'Fn::Equals': [{ Ref: 'TrailSource' }, 'security-lake'] },
      QueriesAthena: { 'Fn::Or': [{ Condition: 'UsesAthena' }, { Condition: 'UsesSecurityLake' }] },
      HasParquetLayout: { 'Fn::And': [{ Condition: 'UsesAthena' }, { 'Fn::Equals': [{ Ref: 'ParquetLayout' }, 'true'] }] },
      TrailEncrypted: { 'Fn::And': [{ Condition: 'UsesAthena' }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TrailKmsKeyArn' }, ''] }] }] },
    });
  });

  test("both tables' columns are CLOUDTRAIL_COLUMNS with hiveType's types, and their partition keys CLOUDTRAIL_PARTITIONS", () => {
    const want = CLOUDTRAIL_COLUMNS.map((c) => ({ Name: c.name, Type: hiveType(c) }));
    expect(sd('CloudTrailTable').Columns).toEqual(want);
    expect(sd('CloudTrailParquetTable').Columns).toEqual(want);
    for (const id of ['CloudTrailTable', 'CloudTrailParquetTable']) expect(table(id).PartitionKeys).toEqual(CLOUDTRAIL_PARTITIONS.map((n) => ({ Name: n, Type: 'string' })));
    expect([table('CloudTrailTable').Name, table('CloudTrailParquetTable').Name]).toEqual(['cloudtrail', PARQUET_TABLE]);
  });

  test('the raw table: the user guide\'s SerDe and formats, projection over the organisation trail\'s folders', () => {
    expect(sd('CloudTrailTable')).toMatchObject({
      InputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
      Location: { 'Fn::Sub': 's3://${TrailBucketName}/AWSLogs/${TrailOrgId}/' },
    });
    expect(params('CloudTrailTable')).toMatchObject({
      'projection.enabled': 'true',
      'projection.account.type': 'injected',
      'projection.region.type': 'enum',
      'projection.region.values': { 'Fn::Join': ['', { 'Fn::Split': [' ', { Ref: 'TrailRegions' }] }] },
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy/MM/dd',
      'projection.day.range': { 'Fn::Sub': '${TrailStartDate},NOW' },
      'projection.day.interval': '1',
      'projection.day.interval.unit': 'DAYS',
      // ${!x} is Fn::Sub's literal ${x}: the projection's own placeholders.
      'storage.location.template': { 'Fn::Sub': 's3://${TrailBucketName}/AWSLogs/${TrailOrgId}/${!account}/CloudTrail/${!region}/${!day}' },
    });
  });

  test('the Parquet table: Parquet SerDe and formats, Hive-style account=/region=/day=yyyy-MM-dd under the stack bucket, projected too', () => {
    expect(sd('CloudTrailParquetTable')).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      Location: { 'Fn::Sub': 's3://${AthenaBucket}/cloudtrail-parquet/' },
    });
    expect(params('CloudTrailParquetTable')).toMatchObject({
      'projection.enabled': 'true',
      'projection.account.type': 'injected',
      'projection.region.type': 'enum',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy-MM-dd',
      'storage.location.template': { 'Fn::Sub': 's3://${AthenaBucket}/cloudtrail-parquet/account=${!account}/region=${!region}/day=${!day}/' },
    });
    // The layout job writes and clears exactly those folders.
    expect(partitionPrefix('cloudtrail-parquet/', { account: '123456789012', region: 'eu-west-1' }, '2025-06-30')).toBe('cloudtrail-parquet/account=123456789012/region=eu-west-1/day=2025-06-30/');
  });

  test('workgroups: engine version 3, enforced, results in the stack bucket; the worker\'s with the per-query cutoff, the layout\'s without', () => {
    for (const id of ['AthenaWorkGroup', 'LayoutWorkGroup']) {
      expect(props(id).WorkGroupConfiguration).toMatchObject({
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { OutputLocation: { 'Fn::Sub': 's3://${AthenaBucket}/athena-results/' } },
      });
    }
    expect((props('AthenaWorkGroup').WorkGroupConfiguration as JsonObject).BytesScannedCutoffPerQuery).toEqual({ Ref: 'AthenaBytesScannedCutoffPerQuery' });
    expect((props('LayoutWorkGroup').WorkGroupConfiguration as JsonObject).BytesScannedCutoffPerQuery).toBeUndefined();
  });

  test('the Athena bucket: private, TLS only, results expire after 7 days, the Parquet copy after ParquetRetentionDays; the report bucket untouched', () => {
    const rules = ((props('AthenaBucket').LifecycleConfiguration as JsonObject).Rules as JsonObject[]).map((r) => [r.Prefix, r.ExpirationInDays, r.Status]);
    expect(rules).toEqual([
      ['athena-results/', 7, 'Enabled'],
      ['cloudtrail-parquet/', { Ref: 'ParquetRetentionDays' }, 'Enabled'],
    ]);
    expect(props('AthenaBucket').PublicAccessBlockConfiguration).toEqual(props('ReportBucket').PublicAccessBlockConfiguration);
    expect(JSON.stringify(props('AthenaBucketPolicy'))).toContain('aws:SecureTransport');
    expect(((props('ReportBucket').LifecycleConfiguration as JsonObject).Rules as JsonObject[]).map((r) => r.Id)).toEqual(['expire-reports']);
  });

  test('the layout runs on LayoutSchedule, up to 900 s', () => {
    expect(t.Parameters.LayoutSchedule!.Default).toBe('cron(30 1 * * ? *)');
    expect(Object.values(props('LayoutFunction').Events as JsonObject)).toEqual([expect.objectContaining({ Type: 'Schedule', Properties: expect.objectContaining({ Schedule: { Ref: 'LayoutSchedule' } }) })]);
    expect(fnProp('LayoutFunction', 'Timeout')).toBe(900);
  });

  test('the worker\'s Athena grants exist only with a source that queries Athena; its KMS grant only with an encrypted trail', () => {
    const st = rolePolicies(R.EnrichWorkerRole!).find((p) => p.name === 'enrich-worker')!.statements;
    const when = (action: string) => [...new Set(st.filter((x) => asList(x.Action).includes(action)).map((x) => x.When))].sort();
    expect(when('athena:StartQueryExecution')).toEqual(['QueriesAthena']);
    expect(when('lakeformation:GetDataAccess')).toEqual(['UsesSecurityLake']);
    expect(when('kms:Decrypt')).toEqual(['TrailEncrypted']);
    expect(when('glue:GetTable')).toEqual(['UsesAthena', 'UsesSecurityLake']);
    expect(when('cloudtrail:LookupEvents')).toEqual([undefined]);
  });
});
