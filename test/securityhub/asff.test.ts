import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { asffProblems, buildSecurityHubWrites, companionId, noteText, PRODUCT_NAME } from '../../src/securityhub/asff';
import { investigate } from '../../src/storyline/investigate';

const SCEN = path.resolve(__dirname, '../scenarios');
const NOW = '2026-11-29T12:00:00Z';

async function storyOf(name: string): Promise<Storyline> {
  return investigate({ findingFile: path.join(SCEN, name, 'finding.json'), cloudtrail: [path.join(SCEN, name, 'cloudtrail')] });
}

describe('buildSecurityHubWrites on a reconstructed storyline', () => {
  let st: Storyline;
  beforeAll(async () => {
    st = await storyOf('x-root-console');
  });

  test('annotates GuardDuty\'s own finding by its ARN and the GuardDuty product ARN', () => {
    const w = buildSecurityHubWrites(st, { now: NOW });
    expect(w.batchUpdateFindings.FindingIdentifiers).toEqual([{ Id: st.finding.arn, ProductArn: `arn:aws:securityhub:${st.finding.region}::product/aws/guardduty` }]);
    const note = w.batchUpdateFindings.Note as { Text: string; UpdatedBy: string };
    expect(note.UpdatedBy).toBe(PRODUCT_NAME);
    expect(note.Text).toBe(st.summary);
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
  });

  test('imports one companion finding in the finding\'s own account and region, Id from the GuardDuty ARN', () => {
    const w = buildSecurityHubWrites(st, { now: NOW });
    const f = w.batchImportFindings?.Findings[0] as Record<string, unknown>;
    expect(w.batchImportFindings?.Findings).toHaveLength(1);
    expect(f.Id).toBe(`${st.finding.arn}/trailstory-storyline`);
    expect(f.ProductArn).toBe(`arn:aws:securityhub:${st.finding.region}:${st.finding.accountId}:product/${st.finding.accountId}/default`);
    expect(f.AwsAccountId).toBe(st.finding.accountId);
    expect(f.Region).toBe(st.finding.region);
    expect(f.CreatedAt).toBe(NOW);
    expect(f.UpdatedAt).toBe(NOW);
    expect(f.FirstObservedAt).toBe(st.steps[0]?.eventTime);
    expect(f.Types).toEqual(['TTPs/Credential Access', 'TTPs/Initial Access', 'TTPs/Discovery', 'TTPs/Defense Evasion', 'TTPs/Persistence', 'TTPs/Privilege Escalation']);
    expect(asffProblems(f)).toEqual([]);
    expect(w.batchUpdateFindings.RelatedFindings).toEqual([{ ProductArn: f.ProductArn, Id: f.Id }]);
  });

  test('the same storyline at two times gives the same Id (an update, not a second finding)', () => {
    const a = buildSecurityHubWrites(st, { now: NOW }).batchImportFindings?.Findings[0];
    const b = buildSecurityHubWrites(st, { now: '2026-11-30T00:00:00Z' }).batchImportFindings?.Findings[0];
    expect(a?.Id).toBe(b?.Id);
    expect(a?.UpdatedAt).not.toBe(b?.UpdatedAt);
  });

  test('UserDefinedFields read as the story when sorted by key', () => {
    const u = buildSecurityHubWrites(st, { now: NOW }).batchUpdateFindings.UserDefinedFields as Record<string, string>;
    expect(Object.keys(u).sort()).toEqual(['trailstory.1.origin', 'trailstory.2.lineage', 'trailstory.3.tactics', 'trailstory.4.steps', 'trailstory.5.attacker-sources', 'trailstory.6.coverage', 'trailstory.7.companion-finding', 'trailstory.9.types-added']);
    // The types we added, so a re-enrichment can take back only its own.
    expect(JSON.parse(u['trailstory.9.types-added'] ?? '[]')).toEqual(buildSecurityHubWrites(st, { now: NOW }).batchUpdateFindings.Types);
    expect(u['trailstory.1.origin']).toContain(st.origin?.eventId ?? 'missing');
    expect(u['trailstory.4.steps']).toBe(String(st.steps.length));
  });
});

describe('limits and pitfalls', () => {
  let st: Storyline;
  beforeAll(async () => {
    st = await storyOf('p15-service-source-ip');
  });

  test('pitfall 5: a 5,000-character chain is cut with a visible marker, nothing over its limit', () => {
    const long: Storyline = { ...st, summary: 'x'.repeat(5000), lineage: Array.from({ length: 60 }, (_, i) => `arn:aws:iam::111122223333:user/u${i}`) };
    const w = buildSecurityHubWrites(long, { now: NOW });
    const note = w.batchUpdateFindings.Note as { Text: string };
    expect(note.Text.length).toBe(512);
    expect(note.Text).toContain(' … ');
    const f = w.batchImportFindings?.Findings[0] as Record<string, unknown>;
    expect((f.Description as string).length).toBeLessThanOrEqual(1024);
    expect((f.Resources as unknown[]).length).toBe(32);
    expect(asffProblems(f)).toEqual([]);
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
  });

  test('a forged principal of 250 KB (longer than any IAM ARN) is no resource; the finding stays within 240 KB', () => {
    const forged = `arn:aws:iam::111122223333:user/${'x'.repeat(250_000)}`;
    const big: Storyline = { ...st, lineage: [...st.lineage, forged], steps: st.steps.map((x, i) => (i === 0 ? { ...x, principalArn: forged } : x)) };
    const w = buildSecurityHubWrites(big, { now: NOW });
    const f = w.batchImportFindings?.Findings[0] as Record<string, unknown>;
    expect((f.Resources as { Id: string }[]).map((r) => r.Id)).not.toContain(forged);
    expect((f.Resources as unknown[]).length).toBeGreaterThan(0);
    expect(asffProblems(f)).toEqual([]);
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
  });

  test('pitfall 4: an empty Types part and oversized fields are caught before sending', () => {
    expect(asffProblems({ Types: ['TTPs/'] })).toEqual(['Types value "TTPs/" is not namespace/category[/classifier]']);
    expect(asffProblems({ Title: 't'.repeat(300) })).toEqual(['Title is 300 characters (max 256)']);
    expect(asffProblems({ UserDefinedFields: { k: 'v'.repeat(1025) } })).toEqual(['UserDefinedFields.k is 1025 characters (max 1024)']);
  });

  test('pitfall 7: partition and region come from the finding (GovCloud)', () => {
    const gov: Storyline = { ...st, finding: { ...st.finding, region: 'us-gov-west-1', arn: st.finding.arn.replace('arn:aws:', 'arn:aws-us-gov:').replace(/:[a-z]{2}-[a-z]+-\d:/, ':us-gov-west-1:') } };
    const w = buildSecurityHubWrites(gov, { now: NOW });
    expect((w.batchUpdateFindings.FindingIdentifiers as { ProductArn: string }[])[0]?.ProductArn).toBe('arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty');
    expect(w.batchImportFindings?.Findings[0]?.ProductArn).toBe(`arn:aws-us-gov:securityhub:us-gov-west-1:${st.finding.accountId}:product/${st.finding.accountId}/default`);
  });

  test('pitfall 8: two findings of the same type in two accounts get two companion Ids', () => {
    const other: Storyline = { ...st, finding: { ...st.finding, accountId: '999999999999', arn: st.finding.arn.replace(st.finding.accountId, '999999999999') } };
    expect(companionId(st)).not.toBe(companionId(other));
  });

  test('pitfall 10: another tool\'s Note is kept whole, ours added within 512 characters', () => {
    const t = noteText('y'.repeat(600), { Text: 'jiraIssue: SEC-123', UpdatedBy: 'jira-sync' });
    expect(t.length).toBeLessThanOrEqual(512);
    expect(t.endsWith('\n[jira-sync] jiraIssue: SEC-123')).toBe(true);
    expect(noteText('short', { Text: 'old trailstory note', UpdatedBy: PRODUCT_NAME })).toBe('short');
  });

  test('an empty storyline imports nothing and says why in the Note', () => {
    const empty: Storyline = { ...st, steps: [], origin: null, lineage: [], coverage: { ...st.coverage, gaps: ['access key AKIAX named by the finding does not appear in the records read'] } };
    const w = buildSecurityHubWrites(empty, { now: NOW });
    expect(w.batchImportFindings).toBeNull();
    expect((w.batchUpdateFindings.Note as { Text: string }).Text).toBe('trailstory: no storyline: access key AKIAX named by the finding does not appear in the records read');
    expect(w.batchUpdateFindings.RelatedFindings).toBeUndefined();
  });
});

describe('the Note and UserDefinedFields of every public scenario, within the ASFF limits', () => {
  const shared = path.resolve(__dirname, '../../../shared/scenarios');
  const fsMod = require('node:fs') as typeof import('node:fs'); // eslint-disable-line @typescript-eslint/no-require-imports
  const names = fsMod.existsSync(shared) ? fsMod.readdirSync(shared).filter((d) => fsMod.existsSync(path.join(shared, d, 'truth.json'))) : [];
  if (names.length === 0) process.stdout.write('shared/ not found: skipping the public scenarios\' Security Hub output test\n');
  (names.length > 0 ? test.each(names) : test.skip.each(['none']))('%s', async (name) => {
    const st = await investigate({ findingFile: path.join(shared, name, 'finding.json'), cloudtrail: [path.join(shared, name, 'cloudtrail')] });
    const w = buildSecurityHubWrites(st, { now: NOW, reportUrl: `https://s3.console.aws.amazon.com/s3/object/b?region=us-east-1&prefix=reports/${st.finding.id}.html` });
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
    const note = w.batchUpdateFindings.Note as { Text: string; UpdatedBy: string };
    expect(note.Text.length).toBeLessThanOrEqual(512);
    expect(note.Text).toBe(st.steps.length > 0 ? st.summary : `trailstory: no storyline: ${st.coverage.gaps[0]}`);
    const udf = w.batchUpdateFindings.UserDefinedFields as Record<string, string>;
    const keys = Object.keys(udf);
    expect(keys.length).toBeLessThanOrEqual(50);
    expect(keys).toEqual([...keys].sort());
    for (const [k, v] of Object.entries(udf)) {
      expect(k.length).toBeLessThanOrEqual(128);
      expect(v.length).toBeLessThanOrEqual(1024);
    }
    if (st.origin) expect(udf['trailstory.1.origin']).toContain(st.origin.eventId);
    const companion = w.batchImportFindings?.Findings[0];
    if (st.steps.length > 0) {
      expect(asffProblems(companion as Record<string, unknown>)).toEqual([]);
      expect(companion?.SourceUrl).toBe(udf['trailstory.8.report']);
    } else expect(w.batchImportFindings).toBeNull();
  });
});
