/**
 * The emulator's BatchUpdateFindings replaces each field it is given and leaves the others as
 * they are, as the Security Hub CSPM User Guide says ("you specify ... which ASFF fields to
 * update for the findings, and the new values for the fields. Security Hub CSPM then updates the
 * findings as specified in your request",
 * https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html):
 * Types, RelatedFindings, UserDefinedFields and Note, each with another tool's values present.
 */
import { BatchUpdateFindingsCommand, GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { AwsEmulator } from './server';
import { rejection } from './testing';

const A = '111111111111';
const R = 'us-east-1';
const GD = `arn:aws:securityhub:${R}::product/aws/guardduty`;
const ID = `arn:aws:guardduty:${R}:${A}:detector/d1/finding/f1`;
const IDS = [{ Id: ID, ProductArn: GD }];
const JIRA = { ProductArn: `arn:aws:securityhub:${R}:${A}:product/${A}/default`, Id: 'jira/SEC-1' };

describe('emulator BatchUpdateFindings: a field given replaces, a field not given stays', () => {
  let emu: AwsEmulator;
  let sh: SecurityHubClient;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => {
    emu.reset();
    sh = new SecurityHubClient(emu.clientConfig(A, R, 1));
    emu.securityHub.put({
      SchemaVersion: '2018-10-08', Id: ID, ProductArn: GD, GeneratorId: 'g', AwsAccountId: A, Region: R, CreatedAt: '2026-10-15T03:00:00Z', UpdatedAt: '2026-10-15T03:00:00Z',
      Severity: { Label: 'HIGH' }, Title: 't', Description: 'd', Resources: [{ Type: 'Other', Id: 'x' }],
      Types: ['TTPs/Discovery/IAMUser-AnomalousBehavior'], RelatedFindings: [JIRA], UserDefinedFields: { jiraIssue: 'SEC-1' }, Note: { Text: 'jiraIssue: SEC-1', UpdatedBy: 'jira', UpdatedAt: '2026-10-15T03:00:00Z' },
    });
  });

  async function current(): Promise<AwsSecurityFinding> {
    const out = await sh.send(new GetFindingsCommand({ Filters: { Id: [{ Value: ID, Comparison: 'EQUALS' }], ProductArn: [{ Value: GD, Comparison: 'EQUALS' }] } }));
    const f = out.Findings?.[0];
    if (!f) throw new Error('finding not found');
    return f;
  }

  test('Types: the list sent replaces the list held (GuardDuty\'s type goes when not sent back)', async () => {
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, Types: ['TTPs/Persistence'] }));
    const f = await current();
    expect(f.Types).toEqual(['TTPs/Persistence']);
    // Not given: the others stay.
    expect(f.RelatedFindings).toEqual([JIRA]);
    expect(f.UserDefinedFields).toEqual({ jiraIssue: 'SEC-1' });
    expect(f.Note?.Text).toBe('jiraIssue: SEC-1');
  });

  test('RelatedFindings: the list sent replaces the list held; an empty list clears it', async () => {
    const ours = { ProductArn: JIRA.ProductArn, Id: 'storyline-1' };
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, RelatedFindings: [ours] }));
    expect((await current()).RelatedFindings).toEqual([ours]);
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, RelatedFindings: [] }));
    expect((await current()).RelatedFindings).toEqual([]);
    expect((await current()).Types).toEqual(['TTPs/Discovery/IAMUser-AnomalousBehavior']);
  });

  test('UserDefinedFields: the map sent replaces the map held, so a key is deleted by leaving it out', async () => {
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, UserDefinedFields: { 'trailstory.4.steps': '3' } }));
    expect((await current()).UserDefinedFields).toEqual({ 'trailstory.4.steps': '3' });
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, UserDefinedFields: { jiraIssue: 'SEC-1' } }));
    expect((await current()).UserDefinedFields).toEqual({ jiraIssue: 'SEC-1' });
  });

  test('UserDefinedFields: an empty value is refused (FieldMap values are NonEmptyString), nothing changes', async () => {
    const e = await rejection(sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, UserDefinedFields: { jiraIssue: '' } })));
    expect(e.name).toBe('InvalidInputException');
    expect((await current()).UserDefinedFields).toEqual({ jiraIssue: 'SEC-1' });
  });

  test('Note: the note sent replaces the note held', async () => {
    await sh.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: IDS, Note: { Text: 'ours\n[jira] jiraIssue: SEC-1', UpdatedBy: 'trailstory' } }));
    const f = await current();
    expect(f.Note).toMatchObject({ Text: 'ours\n[jira] jiraIssue: SEC-1', UpdatedBy: 'trailstory' });
    expect(f.UserDefinedFields).toEqual({ jiraIssue: 'SEC-1' });
  });
});
