/**
 * The real trail the repository ships (events/invictus: the Invictus IR AWS dataset, a Stratus
 * Red Team run on 2023-07-10) under three findings, one incident: the key AKIATFQR7NSC8Q4X20BJ
 * has no history (2,104 uses, all from 192.168.10.20), so by the rules of evidence every
 * finding on what it reached leads back to its first use.
 *
 *  - finding.json: stolen instance credentials (InstanceCredentialExfiltration.OutsideAWS);
 *  - finding-console-login.json: a ConsoleLoginSuccess.B on the user the key created, no key;
 *  - finding-secrets.json: the key itself, for its GetSecretValue calls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { investigate } from '../../src/storyline/investigate';
import { toTrailEvent, type TrailEvent } from '../../src/trail/event';

const DIR = path.resolve(__dirname, '../../events/invictus');
const KEY = 'AKIATFQR7NSC8Q4X20BJ';
const ORIGIN = 'f8e608fd-8465-48e2-b65d-0ad849244ead';

const records: TrailEvent[] = [];
for (const f of fs.readdirSync(path.join(DIR, 'cloudtrail')).sort()) {
  for (const r of (JSON.parse(fs.readFileSync(path.join(DIR, 'cloudtrail', f), 'utf8')) as { Records: unknown[] }).Records) {
    const ev = toTrailEvent(r, f);
    if (typeof ev !== 'string') records.push(ev);
  }
}
const ids = (pred: (e: TrailEvent) => boolean) => records.filter(pred).map((e) => e.eventId);

const stories = new Map<string, Storyline>();
beforeAll(async () => {
  for (const f of ['finding.json', 'finding-console-login.json', 'finding-secrets.json']) {
    stories.set(f, await investigate({ findingFile: path.join(DIR, f), cloudtrail: [path.join(DIR, 'cloudtrail')] }));
  }
});

describe.each(['finding.json', 'finding-console-login.json', 'finding-secrets.json'])('Invictus, %s', (file) => {
  const story = () => stories.get(file) as Storyline;
  const stepIds = () => new Set(story().steps.map((s) => s.eventId));

  test('the origin is the key\'s first use, at 11:54:33', () => {
    expect(story().origin?.eventId).toBe(ORIGIN);
    expect(story().origin?.eventTime).toBe('2023-07-10T11:54:33Z');
  });

  test("every one of the key's 2,104 calls is a step", () => {
    const keyCalls = ids((e) => e.identity.accessKeyId === KEY);
    expect(keyCalls).toHaveLength(2104);
    const steps = stepIds();
    expect(keyCalls.filter((id) => !steps.has(id))).toEqual([]);
  });

  test('the SSM Run Command on i-0dbc91f429e48eeed and both reads of its output are Credential Access', () => {
    const byId = new Map(story().steps.map((s) => [s.eventId, s]));
    const command = byId.get('99b46479-d5c7-4384-b342-006ece8c36a0');
    expect(command?.tactic?.id).toBe('TA0006');
    const reads = ids((e) => e.eventName === 'GetCommandInvocation' && e.requestParameters?.instanceId === 'i-0dbc91f429e48eeed');
    expect(reads).toHaveLength(2);
    for (const id of reads) expect(byId.get(id)?.tactic?.id).toBe('TA0006');
  });

  test("EC2's deliveries of roles to the instances the key launched, and every call made with them (the SSM agent's on the instance too)", () => {
    const steps = stepIds();
    const deliveries = records.filter((e) => e.identity.type === 'AWSService' && e.identity.invokedBy === 'ec2.amazonaws.com' && e.eventName === 'AssumeRole');
    expect(deliveries).toHaveLength(4);
    for (const d of deliveries) expect(steps.has(d.eventId)).toBe(true);
    const delivered = new Set(deliveries.map((d) => (d.responseElements?.credentials as { accessKeyId?: string } | undefined)?.accessKeyId));
    const uses = ids((e) => delivered.has(e.identity.accessKeyId ?? ''));
    expect(uses.length).toBe(23);
    expect(uses.filter((id) => !steps.has(id))).toEqual([]);
  });

  test("the created user's CreateUser, CreateLoginProfile and console sign-in", () => {
    const steps = stepIds();
    for (const id of ['66d008e1-12cf-4a45-99e7-0be67fc70d71', '1170c908-ce8d-4c6f-bc65-cf43aae5235b', '70e5932e-9022-4b38-837e-ca10dad94eb7']) expect(steps.has(id)).toBe(true);
  });

  test('the 76 KMS calls Secrets Manager made for the key (forward access, keys of their own) are steps', () => {
    const kms = ids((e) => e.sourceIPAddress === 'secretsmanager.amazonaws.com' && e.identity.arn?.endsWith(':user/ir-lab-user') === true);
    expect(kms).toHaveLength(76);
    const steps = stepIds();
    expect(kms.filter((id) => !steps.has(id))).toEqual([]);
  });

  test("ir-lab-user's own console session from 10.8.8.10 is reached by no edge: none of it is a step", () => {
    const steps = story().steps;
    const console = ids((e) => e.identity.arn?.endsWith(':user/ir-lab-user') === true && (e.sourceIPAddress === '10.8.8.10' || e.identity.sessionCreationDate === '2023-07-10T12:27:45Z'));
    expect(console.length).toBeGreaterThan(200);
    const set = new Set(console);
    expect(steps.filter((s) => set.has(s.eventId))).toEqual([]);
  });
});
