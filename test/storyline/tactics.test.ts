import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeIdentity } from '../../src/identity/principal';
import { classifySourceAddress } from '../../src/identity/ip';
import { EventMapError, loadDefaultEventMap, loadEventMap, tacticOf, type StepContext } from '../../src/storyline/tactics';
import type { TrailEvent } from '../../src/trail/event';

/** A minimal normalised event for tactic tests. */
function ev(eventName: string, extra: Partial<TrailEvent> = {}): TrailEvent {
  return {
    eventId: 'e1',
    eventTime: '2026-01-01T00:00:00Z',
    epochMs: Date.parse('2026-01-01T00:00:00Z'),
    eventSource: 'x.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    accountId: '111111111111',
    sourceIPAddress: '203.0.113.9',
    source: classifySourceAddress('203.0.113.9'),
    userAgent: 'aws-cli/2',
    errorCode: null,
    errorMessage: null,
    readOnly: null,
    identity: normalizeIdentity({ type: 'IAMUser', accountId: '111111111111', userName: 'u', arn: 'arn:aws:iam::111111111111:user/u' }),
    requestParameters: null,
    responseElements: null,
    additionalEventData: null,
    serviceEventDetails: null,
    resources: [],
    sharedEventID: null,
    requestId: null,
    eventType: null,
    fromConsole: false,
    file: 'f',
    ...extra,
  };
}

const ctx = (over: Partial<StepContext> = {}): StepContext => ({ launchRegions: new Map(), callerAccount: '111111111111', viaService: false, ...over });
const map = loadDefaultEventMap();

describe('tacticOf: the event map', () => {
  test.each([
    ['ConsoleLogin', 'TA0001'],
    ['CreateUser', 'TA0003'],
    ['AttachUserPolicy', 'TA0004'],
    ['CreatePolicyVersion', 'TA0004'],
    ['StopLogging', 'TA0005'],
    ['GetSecretValue', 'TA0006'],
    ['GetCallerIdentity', 'TA0007'],
    ['GetObject', 'TA0009'],
    ['ModifySnapshotAttribute', 'TA0010'],
    ['DeleteBucket', 'TA0040'],
    ['DescribeSomethingNew', 'TA0007'],
    ['SendCommand', 'TA0002'],
    ['GetCommandInvocation', 'TA0002'],
    ['ExecuteCommand', 'TA0002'],
    ['PublishLayerVersion20181031', 'TA0003'],
    ['AssociateIamInstanceProfile', 'TA0004'],
    ['ReplaceIamInstanceProfileAssociation', 'TA0004'],
  ])('%s -> %s', (name, id) => {
    expect(tacticOf(ev(name), map, ctx()).tactic?.id).toBe(id);
  });

  test('an unmapped write has no tactic', () => {
    expect(tacticOf(ev('CreateVpc'), map, ctx()).tactic).toBeNull();
  });
});

describe('tacticOf: tactics in context', () => {
  test('RunInstances of a GPU type, or of a type launched in several regions, is Impact; one t3 launch is Execution', () => {
    const gpu = ev('RunInstances', { requestParameters: { instanceType: 'p3.16xlarge' } });
    const small = ev('RunInstances', { requestParameters: { instanceType: 't3.micro' } });
    expect(tacticOf(gpu, map, ctx()).tactic?.id).toBe('TA0040');
    expect(tacticOf(small, map, ctx()).tactic?.id).toBe('TA0002');
    expect(tacticOf(small, map, ctx({ launchRegions: new Map([['t3.micro', new Set(['us-east-1', 'eu-west-1'])]]) })).tactic?.id).toBe('TA0040');
    // Another type's spree elsewhere does not make this launch Impact.
    expect(tacticOf(small, map, ctx({ launchRegions: new Map([['c5.24xlarge', new Set(['us-east-1', 'eu-west-1'])], ['t3.micro', new Set(['us-east-1'])]]) })).tactic?.id).toBe('TA0002');
  });

  test("AWS's delivery of a role to an instance or task the attacker controls is Credential Access, to a changed function Privilege Escalation", () => {
    expect(tacticOf(ev('AssumeRole'), map, ctx({ deliveredBy: 'ec2.amazonaws.com' })).tactic?.id).toBe('TA0006');
    expect(tacticOf(ev('AssumeRole'), map, ctx({ deliveredBy: 'ecs-tasks.amazonaws.com' })).tactic?.id).toBe('TA0006');
    expect(tacticOf(ev('AssumeRole'), map, ctx({ deliveredBy: 'lambda.amazonaws.com' })).tactic?.id).toBe('TA0004');
    expect(tacticOf(ev('AssumeRole'), map, ctx()).tactic?.id).toBe('TA0004');
  });

  test('AssumeRole into another account is Lateral Movement, same account Privilege Escalation', () => {
    const other = ev('AssumeRole', { requestParameters: { roleArn: 'arn:aws:iam::222222222222:role/R' } });
    const same = ev('AssumeRole', { requestParameters: { roleArn: 'arn:aws:iam::111111111111:role/R' } });
    expect(tacticOf(other, map, ctx()).tactic?.id).toBe('TA0008');
    expect(tacticOf(same, map, ctx()).tactic?.id).toBe('TA0004');
  });

  test('control of compute through which the role was taken is Credential Access (T1552.005)', () => {
    for (const name of ['SendCommand', 'GetCommandInvocation', 'StartSession', 'SendSSHPublicKey', 'ExecuteCommand']) {
      expect(tacticOf(ev(name), map, ctx({ tookCredentials: true }))).toEqual({
        tactic: { id: 'TA0006', name: 'Credential Access' },
        technique: { id: 'T1552.005', name: 'Unsecured Credentials: Cloud Instance Metadata API' },
      });
    }
    expect(tacticOf(ev('SendCommand'), map, ctx({ tookCredentials: false })).tactic?.id).toBe('TA0002');
  });

  test('a failed console sign-in is Credential Access; PutObject by a service for the attacker is Collection', () => {
    expect(tacticOf(ev('ConsoleLogin', { errorMessage: 'Failed authentication', responseElements: { ConsoleLogin: 'Failure' } }), map, ctx()).tactic?.id).toBe('TA0006');
    expect(tacticOf(ev('PutObject'), map, ctx({ viaService: true })).tactic?.id).toBe('TA0009');
    expect(tacticOf(ev('PutObject'), map, ctx()).tactic?.id).toBe('TA0040');
  });
});

describe('loadEventMap: user maps', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-map-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  test('a flat map and the wrapped shape both override the default', () => {
    const flat = loadEventMap(write('flat.json', '{"GetCallerIdentity": "TA0043"}'));
    const wrapped = loadEventMap(write('wrapped.json', '{"events": {"GetCallerIdentity": {"tactic": "TA0043", "technique": {"id": "T1592", "name": "Gather Victim Host Information"}}}}'));
    expect(tacticOf(ev('GetCallerIdentity'), flat, ctx()).tactic).toEqual({ id: 'TA0043', name: 'Reconnaissance' });
    expect(tacticOf(ev('GetCallerIdentity'), wrapped, ctx()).technique?.id).toBe('T1592');
    expect(tacticOf(ev('StopLogging'), flat, ctx()).tactic?.id).toBe('TA0005');
  });

  test.each([
    ['missing.json', null, /cannot read the event map: no such file .*\(ENOENT\)/],
    ['bad.json', 'not json', /not valid JSON/],
    ['array.json', '[]', /JSON object/],
    ['bogus.json', '{"X": "bogus"}', /entry "X" needs an ATT&CK Enterprise tactic ID/],
    ['unknown.json', '{"X": "TA9999"}', /entry "X"/],
  ])('%s is refused with one line naming the file', (name, text, message) => {
    const f = text === null ? path.join(dir, name) : write(name, text);
    expect(() => loadEventMap(f)).toThrow(EventMapError);
    expect(() => loadEventMap(f)).toThrow(message);
    try {
      loadEventMap(f);
    } catch (e) {
      expect((e as Error).message.startsWith(f)).toBe(true);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});
