/**
 * Helpers for the template tests: parsing CloudFormation YAML (short-form intrinsics), walking
 * intrinsic references, reading a function's IAM policy, and finding the AWS SDK commands a
 * piece of source sends, mapped to the IAM actions that authorise them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, type Tags } from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');
export const TEMPLATE_FILE = path.join(ROOT, 'template.yaml');

/* ------------------------------------------------------------------ template */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface Resource {
  Type: string;
  Properties?: JsonObject;
  Metadata?: JsonObject;
  [k: string]: Json | undefined;
}

export interface Template {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Parameters: Record<string, { Type: string; Default?: Json; [k: string]: Json | undefined }>;
  Globals?: JsonObject;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json; Description?: string }>;
  Mappings?: JsonObject;
  Conditions?: JsonObject;
}

/** Short-form intrinsics and the long form each stands for (`!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`). */
const INTRINSICS: [string, string][] = [
  ['Ref', 'Ref'],
  ['Condition', 'Condition'],
  ...['GetAtt', 'Sub', 'Select', 'Join', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'Split', 'GetAZs', 'ImportValue', 'Base64', 'Cidr', 'Length', 'ToJsonString'].map(
    (n): [string, string] => [n, `Fn::${n}`],
  ),
];

/** yaml custom tags for every short-form intrinsic, in scalar, sequence and mapping form. */
export const CFN_TAGS: Tags = INTRINSICS.flatMap(([short, long]) => [
  { tag: `!${short}`, resolve: (s: string) => ({ [long]: short === 'GetAtt' ? s.split('.') : s }) },
  { tag: `!${short}`, collection: 'seq' as const, resolve: (s: { toJSON(): unknown }) => ({ [long]: s.toJSON() }) },
  { tag: `!${short}`, collection: 'map' as const, resolve: (m: { toJSON(): unknown }) => ({ [long]: m.toJSON() }) },
]) as unknown as Tags;

export function loadTemplate(file = TEMPLATE_FILE): Template {
  return parse(fs.readFileSync(file, 'utf8'), { customTags: CFN_TAGS }) as Template;
}

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An intrinsic function call: an object of one key, `Ref` or `Fn::*`. */
export function isIntrinsic(v: unknown): boolean {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0]!.startsWith('Fn::'));
}

/** Every `Ref` / `Fn::GetAtt` / `${…}` of `Fn::Sub` in a value: `[logicalId, attribute?]`. */
export function references(v: unknown, out: [string, string | undefined][] = []): [string, string | undefined][] {
  if (Array.isArray(v)) v.forEach((x) => references(x, out));
  else if (isObject(v)) {
    if (typeof v.Ref === 'string') out.push([v.Ref, undefined]);
    const ga = v['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') out.push([ga[0], typeof ga[1] === 'string' ? ga[1] : undefined]);
    const sub = v['Fn::Sub'];
    const subText = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
    const subVars = Array.isArray(sub) && isObject(sub[1]) ? Object.keys(sub[1]) : [];
    if (subText !== undefined) {
      for (const m of subText.matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const [id, attr] = m[1]!.split('.', 2) as [string, string | undefined];
        if (!subVars.includes(id)) out.push([id, attr]);
      }
    }
    for (const [k, x] of Object.entries(v)) if (k !== 'Ref' && !(k === 'Fn::Sub' && typeof x === 'string')) references(x, out);
  }
  return out;
}

export const getAtt = (id: string, attr = 'Arn'): Json => ({ 'Fn::GetAtt': [id, attr] });
export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The logical ID a `Ref` or `Fn::GetAtt` names, if the value is one. */
export function referencedId(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  const ga = v['Fn::GetAtt'];
  return Array.isArray(ga) && typeof ga[0] === 'string' ? ga[0] : undefined;
}

/* ------------------------------------------------------------------ IAM */

export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Json;
  NotResource?: unknown;
  Condition?: unknown;
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A policy's statements with `Fn::If` resolved both ways: a statement that exists under a
 * condition (`!If [Cond, {statement}, !Ref AWS::NoValue]`) is kept, with its condition in
 * `When` (the most a role can ever be granted); `AWS::NoValue` is dropped.
 */
export function flattenStatements(list: unknown[]): (Statement & { When?: string })[] {
  const out: (Statement & { When?: string })[] = [];
  for (const s of list) {
    const iff = isObject(s) ? s['Fn::If'] : undefined;
    if (Array.isArray(iff) && typeof iff[0] === 'string') {
      for (const branch of iff.slice(1)) {
        if (isObject(branch) && branch.Ref === 'AWS::NoValue') continue;
        for (const st of flattenStatements([branch])) out.push({ ...st, When: st.When ?? iff[0] });
      }
    } else out.push(s as Statement);
  }
  return out;
}

/** Each inline policy of a role: its name and its statements (conditional ones included, see {@link flattenStatements}). */
export function rolePolicies(role: Resource): { name: string; statements: (Statement & { When?: string })[] }[] {
  const policies = asList(role.Properties?.Policies as Json[] | undefined) as unknown as { PolicyName: string; PolicyDocument: { Statement: Statement | Statement[] } }[];
  return policies.map((p) => ({ name: p.PolicyName, statements: flattenStatements(asList(p.PolicyDocument.Statement)) }));
}

/** The statements of every inline policy of a role. */
export function roleStatements(role: Resource): Statement[] {
  return rolePolicies(role).flatMap((p) => p.statements);
}

/** Whether some Allow statement grants `action` (on `resource`, when given: the same expression or "*"). */
export function allows(statements: Statement[], action: string, resource?: Json): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      asList(s.Action).some((a) => a.toLowerCase() === action.toLowerCase()) &&
      (resource === undefined || asList(s.Resource as Json | Json[]).some((r) => r === '*' || sameValue(r, resource))),
  );
}

/* ------------------------------------------------------------------ SDK commands → IAM actions */

/** The IAM service prefix of each AWS SDK v3 package the project may use. */
export const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-athena': 'athena',
  '@aws-sdk/client-cloudtrail': 'cloudtrail',
  '@aws-sdk/client-detective': 'detective',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-guardduty': 'guardduty',
  '@aws-sdk/client-organizations': 'organizations',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-securityhub': 'securityhub',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-sts': 'sts',
};

/**
 * Operations whose IAM action is not the operation's name (Service Authorization Reference):
 * batch calls authorised by the single call, lib-dynamodb's document commands, S3's renamed
 * actions; `[]` for operations that need no permission.
 */
const ACTIONS_OF: Record<string, string[]> = {
  'sqs:SendMessageBatch': ['sqs:SendMessage'],
  'sqs:DeleteMessageBatch': ['sqs:DeleteMessage'],
  'sqs:ChangeMessageVisibilityBatch': ['sqs:ChangeMessageVisibility'],
  'dynamodb:TransactGetItems': ['dynamodb:GetItem'],
  'dynamodb:TransactWriteItems': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:ListObjects': ['s3:ListBucket'],
  's3:HeadObject': ['s3:GetObject'],
  's3:HeadBucket': ['s3:ListBucket'],
  's3:DeleteObjects': ['s3:DeleteObject'],
  'sts:GetCallerIdentity': [],
  // "BatchUpdateFindings and BatchUpdateFindingsV2 both use securityhub:BatchUpdateFindings";
  // "GetFindings and GetFindingsV2 both use securityhub:GetFindings" (API reference,
  // https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindingsV2.html, API_GetFindingsV2.html).
  'securityhub:BatchUpdateFindingsV2': ['securityhub:BatchUpdateFindings'],
  'securityhub:GetFindingsV2': ['securityhub:GetFindings'],
};
const LIB_DYNAMODB: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  Query: 'Query',
  Scan: 'Scan',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
  ExecuteStatement: 'PartiQLSelect',
};

/** The IAM actions that authorise one operation of an SDK package. */
export function iamActions(pkg: string, operation: string): string[] {
  const prefix = SERVICE_PREFIX[pkg];
  if (!prefix) throw new Error(`no IAM prefix known for ${pkg}: add it to SERVICE_PREFIX`);
  const op = pkg === '@aws-sdk/lib-dynamodb' ? (LIB_DYNAMODB[operation] ?? operation) : operation;
  const action = `${prefix}:${op}`;
  return ACTIONS_OF[action] ?? [action];
}

export interface SentCommand {
  file: string;
  pkg: string;
  command: string;
}

export interface ScanResult {
  sent: SentCommand[];
  /** `new XCommand(` or an aggregated client whose package could not be told: the IAM test cannot see those. */
  unknown: string[];
}

/** Names imported from `@aws-sdk/*` packages (ES imports and CommonJS destructuring requires): local name → [package, imported name]. */
function sdkImports(text: string): { names: Map<string, [string, string]>; namespaces: Map<string, string> } {
  const names = new Map<string, [string, string]>();
  const namespaces = new Map<string, string>();
  const add = (list: string, pkg: string) => {
    for (const raw of list.split(',')) {
      const spec = raw.replace(/\/\*[\s\S]*?\*\//g, '').trim().replace(/^type\s+/, '');
      if (!spec) continue;
      const [imported, local] = spec.split(/\s+as\s+|\s*:\s*/).map((x) => x.trim()) as [string, string | undefined];
      names.set(local ?? imported, [pkg, imported]);
    }
  };
  for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"](@aws-sdk\/[\w-]+)['"]/g)) add(m[1]!, m[2]!);
  for (const m of text.matchAll(/\{([^}]*)\}\s*=\s*require\(\s*['"](@aws-sdk\/[\w-]+)['"]\s*\)/g)) add(m[1]!, m[2]!);
  for (const m of text.matchAll(/import\s+\*\s+as\s+([\w$]+)\s+from\s*['"](@aws-sdk\/[\w-]+)['"]/g)) namespaces.set(m[1]!, m[2]!);
  for (const m of text.matchAll(/(?:const|let|var)\s+([\w$]+)\s*=\s*require\(\s*['"](@aws-sdk\/[\w-]+)['"]\s*\)/g)) namespaces.set(m[1]!, m[2]!);
  return { names, namespaces };
}

/**
 * The SDK commands one source file sends: each `new X(` of a `…Command` imported from a known
 * `@aws-sdk/*` package (aliases and namespace imports followed), and each `paginateX(`.
 */
export function scanSource(text: string, file: string): ScanResult {
  const { names, namespaces } = sdkImports(text);
  const sent: SentCommand[] = [];
  const unknown: string[] = [];
  for (const m of text.matchAll(/new\s+(?:([A-Za-z_$][\w$]*)\.)?([A-Za-z_$][\w$]*)\s*\(/g)) {
    const [ns, local] = [m[1], m[2]!];
    const found: [string, string] | undefined = ns !== undefined ? (namespaces.has(ns) ? [namespaces.get(ns)!, local] : undefined) : names.get(local);
    if (found && SERVICE_PREFIX[found[0]] && /Command$/.test(found[1])) sent.push({ file, pkg: found[0], command: found[1].replace(/Command$/, '') });
    else if (/Command$/.test(local) || (found && /Command$/.test(found[1])))
      unknown.push(`${file}: new ${ns ? `${ns}.` : ''}${local}( (not a command of a known @aws-sdk package)`);
    else if (found && found[0].startsWith('@aws-sdk/client-') && !/(Client|Command|Exception|Error)$/.test(found[1]))
      // An aggregated client (`new SecurityHub()` then `hub.getFindings()`) hides its calls from this scan.
      unknown.push(`${file}: aggregated client new ${local}() (send XCommand objects instead)`);
  }
  for (const m of text.matchAll(/\b(?:([A-Za-z_$][\w$]*)\.)?(paginate[A-Z][\w$]*)\s*\(/g)) {
    const [ns, local] = [m[1], m[2]!];
    const found: [string, string] | undefined = ns !== undefined ? (namespaces.has(ns) ? [namespaces.get(ns)!, local] : undefined) : names.get(local);
    if (found && SERVICE_PREFIX[found[0]]) sent.push({ file, pkg: found[0], command: found[1].replace(/^paginate/, '') });
  }
  return { sent, unknown };
}

/** Scans files relative to ROOT. */
export function scanFiles(files: string[]): ScanResult {
  const result: ScanResult = { sent: [], unknown: [] };
  for (const f of files) {
    const r = scanSource(fs.readFileSync(path.join(ROOT, f), 'utf8'), f);
    result.sent.push(...r.sent);
    result.unknown.push(...r.unknown);
  }
  return result;
}

export function actionsOf(sent: SentCommand[]): Set<string> {
  return new Set(sent.flatMap((s) => iamActions(s.pkg, s.command)));
}
