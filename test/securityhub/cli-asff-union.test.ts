/**
 * `trailstory investigate --format asff` (no GetFindings): the BatchUpdateFindings it prints
 * unites with what the input carries: an ASFF finding's Types, RelatedFindings,
 * UserDefinedFields and Note; a native finding's Types as Security Hub CSPM gives them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, tempFolder } from '../cli/harness';

const SCEN = path.resolve(__dirname, '../scenarios');
const NOW = '2026-11-29T12:00:00Z';
const tmp = tempFolder('trailstory-cli-asff-');

type Update = { Types: string[]; RelatedFindings: { ProductArn: string; Id: string }[]; UserDefinedFields: Record<string, string>; Note: { Text: string; UpdatedBy: string } };

describe('--format asff unites with what the input carries', () => {
  test('an ASFF finding with another tool\'s field, link and Note: all kept beside ours', async () => {
    const dir = path.join(SCEN, 'x-root-console');
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as { Findings: Record<string, unknown>[] };
    const f = doc.Findings[0] as Record<string, unknown>;
    const link = { ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default', Id: 'jira/SEC-123' };
    f.UserDefinedFields = { jiraIssue: 'SEC-123' };
    f.RelatedFindings = [link];
    f.Note = { Text: 'jiraIssue: SEC-123', UpdatedBy: 'jira-sync', UpdatedAt: '2026-11-01T00:00:00Z' };
    const file = tmp.write('asff.json', JSON.stringify(doc));
    const r = await run(['investigate', '--finding', file, '--cloudtrail', path.join(dir, 'cloudtrail'), '--format', 'asff', '--now', NOW]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const u = (JSON.parse(r.out) as { batchUpdateFindings: Update }).batchUpdateFindings;
    expect(u.Types[0]).toBe((f.Types as string[])[0]);
    expect(u.Types.length).toBeGreaterThan(1);
    expect(u.RelatedFindings[0]).toEqual(link);
    expect(u.RelatedFindings).toHaveLength(2);
    expect(u.UserDefinedFields.jiraIssue).toBe('SEC-123');
    expect(u.Note.Text.endsWith('\n[jira-sync] jiraIssue: SEC-123')).toBe(true);
  });

  test('a native GuardDuty finding: GuardDuty\'s Types as Security Hub CSPM shows them come first', async () => {
    const dir = path.join(SCEN, 'x-trust-policy-backdoor');
    const r = await run(['investigate', '--finding', path.join(dir, 'finding.json'), '--cloudtrail', path.join(dir, 'cloudtrail'), '--format', 'asff', '--now', NOW]);
    expect(r.code).toBe(0);
    const u = (JSON.parse(r.out) as { batchUpdateFindings: Update }).batchUpdateFindings;
    expect(u.Types[0]).toBe('TTPs/Persistence/IAMUser-AnomalousBehavior');
    expect(u.Types.length).toBeGreaterThan(1);
    expect(JSON.parse(u.UserDefinedFields['trailstory.9.types-added'] ?? '[]')).toEqual(u.Types.slice(1));
  });
});
