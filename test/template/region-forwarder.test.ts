/**
 * templates/region-forwarder.yaml, proven without AWS: valid against the CloudFormation
 * specification; it forwards exactly the events the main stack's intake subscribes to (the same
 * pattern as template.yaml's GuardDutyFinding rule) to the default bus of the stack's region,
 * with a role only EventBridge can assume that may only put events on that one bus; and it
 * refuses to be deployed in the stack's own region.
 */
import * as path from 'node:path';
import { asList, loadTemplate, roleStatements, ROOT, type JsonObject } from './cfn';
import { templateErrors } from './spec';

const t = loadTemplate(path.join(ROOT, 'templates', 'region-forwarder.yaml'));
const BUS = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${StackRegion}:${AWS::AccountId}:event-bus/default' };

test('valid against the CloudFormation specification; plain CloudFormation; one parameter', () => {
  expect(templateErrors(t)).toEqual([]);
  expect(t.Transform).toBeUndefined();
  expect(Object.keys(t.Parameters)).toEqual(['StackRegion']);
  const re = new RegExp(`^(?:${t.Parameters.StackRegion!.AllowedPattern as string})$`);
  expect(['us-east-1', 'me-central-1', 'us-gov-west-1', 'ap-southeast-7'].every((r) => re.test(r))).toBe(true);
  expect(['US-EAST-1', 'useast1', 'eu-west', ''].some((r) => re.test(r))).toBe(false);
});

test('the rule forwards exactly what the intake subscribes to, to the stack region\'s default bus', () => {
  const rule = t.Resources.ForwardGuardDutyFindings!;
  const main = loadTemplate();
  const intake = Object.values(main.Resources).find((r) => r.Type === 'AWS::Serverless::Function' && (r.Properties?.Events as JsonObject | undefined)?.GuardDutyFinding);
  const intakePattern = (((intake!.Properties!.Events as JsonObject).GuardDutyFinding as JsonObject).Properties as JsonObject).Pattern;
  expect(rule.Properties!.EventPattern).toEqual(intakePattern);
  expect(rule.Properties!.State).toBe('ENABLED');
  expect(rule.Properties!.Targets).toEqual([{ Id: 'trailstory-stack-region', Arn: BUS, RoleArn: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] } }]);
});

test('the role: assumable by EventBridge only, allowed events:PutEvents on that one bus only', () => {
  const role = t.Resources.ForwardRole!;
  expect(role.Properties!.AssumeRolePolicyDocument).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const statements = roleStatements(role);
  expect(statements.map((s) => [asList(s.Action), s.Resource, s.Effect, s.Condition])).toEqual([[['events:PutEvents'], BUS, 'Allow', undefined]]);
  expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
});

test('a rule refuses the stack\'s own region', () => {
  const rules = (t as unknown as { Rules: JsonObject }).Rules;
  expect(rules).toEqual({
    NotTheStackRegion: { Assertions: [{ Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'StackRegion' }] }] }, AssertDescription: expect.any(String) }] },
  });
});
