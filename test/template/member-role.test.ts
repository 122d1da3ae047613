/**
 * templates/member-role.yaml (the member StackSet) and templates/management-account.yaml (the
 * same role as a plain stack in the management account), proven without AWS:
 *  - both parse (CloudFormation short-form tags), are plain CloudFormation (no SAM transform),
 *    and stay equal in parameters, resources and outputs;
 *  - every resource type, property name (nested) and required property exists in the
 *    CloudFormation resource specification (@aws-cdk/aws-service-spec); every Ref / GetAtt / ${…}
 *    resolves to a parameter, a pseudo parameter, a resource or an attribute the type has;
 *  - the trust policy: exactly one statement, Principal AWS = the EnrichWorkerRoleArn parameter,
 *    sts:AssumeRole, StringEquals aws:PrincipalOrgID = OrganizationId and sts:ExternalId = ExternalId;
 *  - the inline policy allows exactly cloudtrail:LookupEvents, securityhub:GetFindings and
 *    securityhub:BatchImportFindings, each on its resource, and the sources that use the member
 *    credentials send exactly those (plus BatchUpdateFindings, which stays with the admin's hub);
 *  - each allowed action is an operation of the service's API model (../shared/aws-models, or the
 *    copies bundled in test/emulator/models without it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SmithyModel } from '../emulator/models';
import { modelsDirOf } from '../emulator/server';
import { templateErrors } from './spec';
import { actionsOf, asList, loadTemplate, roleStatements, ROOT, scanFiles, type Json, type JsonObject, type Template } from './cfn';

const TEMPLATES = {
  member: path.join(ROOT, 'templates', 'member-role.yaml'),
  management: path.join(ROOT, 'templates', 'management-account.yaml'),
};
const MODELS = modelsDirOf(ROOT);

/** The files whose AWS calls run with the member role's credentials. */
const MEMBER_SOURCES = ['src/sources/cloudtrail-lookup.ts', 'src/enrich/enrich.ts', 'src/securityhub/writer.ts'];
const MEMBER_ACTIONS = ['cloudtrail:LookupEvents', 'securityhub:GetFindings', 'securityhub:BatchImportFindings'];
const sub = (s: string): Json => ({ 'Fn::Sub': s });
const RESOURCE_OF: Record<string, Json> = {
  'cloudtrail:LookupEvents': '*',
  'securityhub:GetFindings': sub('arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default'),
  'securityhub:BatchImportFindings': sub('arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default'),
};

const loaded = Object.entries(TEMPLATES).map(([name, file]) => ({ name, file, t: loadTemplate(file) }));
const roleOf = (t: Template) => {
  const roles = Object.values(t.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
  expect(roles).toHaveLength(1);
  return roles[0]!;
};

/* ------------------------------------------------------------------ tests */

describe.each(loaded)('templates ($name)', ({ t }) => {
  test('plain CloudFormation with the five parameters; ExternalId is NoEcho; MemberRoleName defaults as in template.yaml', () => {
    expect(t.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(t.Transform).toBeUndefined();
    expect(Object.keys(t.Parameters).sort()).toEqual(['AdministratorAccountId', 'EnrichWorkerRoleArn', 'ExternalId', 'MemberRoleName', 'OrganizationId']);
    expect(t.Parameters.ExternalId!.NoEcho).toBe(true);
    const main = loadTemplate();
    expect(t.Parameters.MemberRoleName!.Default).toBe('TrailstoryMemberRole');
    expect(t.Parameters.MemberRoleName!.Default).toBe(main.Parameters.MemberRoleName!.Default);
    expect(t.Parameters.MemberRoleName!.AllowedPattern).toBe(main.Parameters.MemberRoleName!.AllowedPattern);
    // The parameters' patterns accept what they should and reject the obvious mistakes.
    const re = (p: string) => new RegExp(`^(?:${t.Parameters[p]!.AllowedPattern as string})$`);
    expect(re('EnrichWorkerRoleArn').test('arn:aws:iam::123456789012:role/trailstory-EnrichWorkerRole-AbC123')).toBe(true);
    expect(re('EnrichWorkerRoleArn').test('arn:aws-us-gov:iam::123456789012:role/x')).toBe(true);
    expect(re('EnrichWorkerRoleArn').test('trailstory-EnrichWorkerRole-AbC123')).toBe(false);
    expect(re('OrganizationId').test('o-a1b2c3d4e5')).toBe(true);
    expect(re('OrganizationId').test('r-a1b2')).toBe(false);
    expect(re('AdministratorAccountId').test('123456789012')).toBe(true);
  });

  test('every resource type, property (nested) and reference is in the CloudFormation specification; every parameter is used; the output is the role ARN', () => {
    expect(templateErrors(t)).toEqual([]);
    expect(Object.keys(t.Resources)).toHaveLength(1);
    const [roleId] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role')!;
    expect(Object.values(t.Outputs ?? {}).map((o) => o.Value)).toEqual([{ 'Fn::GetAtt': [roleId, 'Arn'] }]);
    expect(roleOf(t).Properties!.RoleName).toEqual({ Ref: 'MemberRoleName' });
  });

  test('trust policy: exactly the EnrichWorkerRoleArn principal, sts:AssumeRole, PrincipalOrgID and ExternalId', () => {
    const trust = roleOf(t).Properties!.AssumeRolePolicyDocument as JsonObject;
    const statements = asList(trust.Statement as Json) as JsonObject[];
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: { Ref: 'EnrichWorkerRoleArn' } },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' }, 'sts:ExternalId': { Ref: 'ExternalId' } } },
      },
    ]);
  });

  test('inline policy: exactly LookupEvents, GetFindings (own hub), BatchImportFindings (own default product); no BatchUpdateFindings', () => {
    const role = roleOf(t);
    expect(asList(role.Properties!.Policies as Json[])).toHaveLength(1);
    const statements = roleStatements(role);
    expect(statements.every((s) => s.Effect === 'Allow' && s.NotAction === undefined && s.NotResource === undefined && s.Condition === undefined)).toBe(true);
    const granted = statements.flatMap((s) => asList(s.Action).map((a) => [a, s.Resource] as const));
    expect(granted.map(([a]) => a).sort()).toEqual([...MEMBER_ACTIONS].sort());
    for (const [action, resource] of granted) expect({ action, resource }).toEqual({ action, resource: RESOURCE_OF[action] });
    expect(granted.map(([a]) => a.toLowerCase())).not.toContain('securityhub:batchupdatefindings');
    expect(roleOf(t).Properties!.ManagedPolicyArns).toBeUndefined();
  });
});

test('management-account.yaml is the member role itself: same parameters, resources and outputs', () => {
  const [member, management] = loaded.map((l) => l.t);
  expect(management!.Parameters).toEqual(member!.Parameters);
  expect(management!.Resources).toEqual(member!.Resources);
  expect(management!.Outputs).toEqual(member!.Outputs);
});

test('the sources that use the member credentials send exactly LookupEvents, GetFindings, BatchImportFindings, BatchUpdateFindings', () => {
  const { sent, unknown } = scanFiles(MEMBER_SOURCES);
  expect(unknown).toEqual([]);
  const relevant = sent.filter((s) => s.pkg === '@aws-sdk/client-cloudtrail' || s.pkg === '@aws-sdk/client-securityhub');
  expect(new Set(relevant.map((s) => s.command))).toEqual(new Set(['LookupEvents', 'GetFindings', 'BatchImportFindings', 'BatchUpdateFindings']));
  // The member policy covers all of them but BatchUpdateFindings (annotated through the admin's own hub).
  const needed = [...actionsOf(relevant)].filter((a) => a !== 'securityhub:BatchUpdateFindings').sort();
  expect(needed).toEqual([...MEMBER_ACTIONS].sort());
});

test('each allowed action is an operation of its service API model (../shared/aws-models or the bundled copies)', () => {
  const files = fs.readdirSync(MODELS);
  for (const action of MEMBER_ACTIONS) {
    const [prefix, op] = action.split(':') as [string, string];
    const file = files.find((n) => n.startsWith(`${prefix}-`) && /\.json(\.gz)?$/.test(n));
    expect({ action, file: file !== undefined }).toEqual({ action, file: true });
    const shapes = SmithyModel.load(path.join(MODELS, file!)).shapes;
    const found = Object.entries(shapes).find(([k]) => k.endsWith(`#${op}`));
    expect({ action, type: found?.[1].type }).toEqual({ action, type: 'operation' });
  }
});

test('org-status uses the member credentials for STS GetCallerIdentity only, which needs no permission (STS API reference, GetCallerIdentity)', () => {
  const text = fs.readFileSync(path.join(ROOT, 'src', 'org', 'status.ts'), 'utf8');
  const uses = [...text.matchAll(/members\.for\([^)]*\)([^;]*)/g)].map((m) => m[1]!.trim());
  expect(uses.length).toBeGreaterThan(0);
  for (const u of uses) expect(u).toMatch(/^\.sts\(region\)\.send\(new GetCallerIdentityCommand\(\{\}\)\)\)$/);
});
