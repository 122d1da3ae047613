/**
 * `--format asff` from hostile input stays within the ASFF limits
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html):
 * a 1 MB finding id or ARN, an account that is not a 12-digit account id (`__proto__`), a
 * lineage of 32 principals with ARNs of IAM's largest size. Storylines are built here from the
 * synthetic markup one.
 */
import type { Storyline } from '../../src/model/storyline';
import { ASFF_LIMITS, asffProblems, buildSecurityHubWrites, companionId } from '../../src/securityhub/asff';
import { markupStoryline } from '../render/synthetic';

const NOW = '2026-11-29T12:00:00Z';

/** The synthetic storyline with its finding's fields replaced. */
function withFinding(over: Partial<Storyline['finding']>): Storyline {
  const st = markupStoryline();
  return { ...st, finding: { ...st.finding, ...over } };
}

function bytes(x: unknown): number {
  return Buffer.byteLength(JSON.stringify(x), 'utf8');
}

describe('ASFF limits from hostile input', () => {
  const hugeId = 'f'.repeat(1_000_000);
  const hugeArn = `arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/${hugeId}`;

  test('a 1 MB finding id and ARN: every Id within 512, ProductFields within 2,048, the finding within 240 KB', () => {
    const w = buildSecurityHubWrites(withFinding({ id: hugeId, arn: hugeArn }), { now: NOW });
    const u = w.batchUpdateFindings as { FindingIdentifiers: { Id: string; ProductArn: string }[]; RelatedFindings: { Id: string }[] };
    expect(u.FindingIdentifiers[0]?.Id.length).toBeLessThanOrEqual(512);
    expect(u.FindingIdentifiers[0]?.Id).toMatch(/^arn:aws:guardduty:us-east-1:111122223333:detector\/d\/finding\/f+…sha256:[0-9a-f]{64}$/);
    expect(u.RelatedFindings[0]?.Id).toMatch(/^trailstory-storyline\/sha256:[0-9a-f]{64}$/);
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
    const f = w.batchImportFindings?.Findings[0] as Record<string, unknown>;
    expect(f.Id).toBe(u.RelatedFindings[0]?.Id);
    expect((f.RelatedFindings as { Id: string }[])[0]?.Id).toBe(u.FindingIdentifiers[0]?.Id);
    for (const v of Object.values(f.ProductFields as Record<string, string>)) expect(v.length).toBeLessThanOrEqual(ASFF_LIMITS.productFieldValue);
    expect((f.ProductFields as Record<string, string>)['trailstory/guardduty/findingId']).toMatch(/^f+ … f+$/);
    expect(bytes(f)).toBeLessThanOrEqual(240 * 1024);
    expect(asffProblems(f)).toEqual([]);
  });

  test('the companion Id from a too-long ARN is the same for the same ARN and differs for another', () => {
    const a = companionId(withFinding({ arn: hugeArn }));
    expect(companionId(withFinding({ arn: hugeArn }))).toBe(a);
    expect(companionId(withFinding({ arn: `${hugeArn}0` }))).not.toBe(a);
    expect(a.length).toBeLessThanOrEqual(512);
  });

  test("an account that is not 12 digits (__proto__): no companion to import, and the annotation says why", () => {
    const st = withFinding({ accountId: '__proto__' });
    const w = buildSecurityHubWrites(st, { now: NOW });
    expect(w.batchImportFindings).toBeNull();
    const u = w.batchUpdateFindings as { Note: { Text: string }; UserDefinedFields: Record<string, string>; RelatedFindings?: unknown };
    expect(u.RelatedFindings).toBeUndefined();
    expect(u.Note.Text).toContain('the storyline finding is not imported: the finding\'s account "__proto__" is not a 12-digit AWS account id');
    expect(u.UserDefinedFields['trailstory.7.companion-finding']).toBe('not imported: the finding\'s account "__proto__" is not a 12-digit AWS account id');
    expect(asffProblems(w.batchUpdateFindings)).toEqual([]);
  });

  test('asffProblems refuses an AwsAccountId that is not 12 digits and an Id past 512', () => {
    expect(asffProblems({ AwsAccountId: '__proto__', Id: 'x'.repeat(513) })).toEqual(['Id is 513 characters (max 512)', 'AwsAccountId is not a 12-digit AWS account id']);
  });

  test('32 principals with ARNs of 2,048 characters and long session names: the finding within 240 KB, tags within 256', () => {
    const st = markupStoryline();
    st.lineage = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? `arn:aws:iam::111122223333:user/${String(i).padStart(2, '0')}${'u'.repeat(2000)}` : `arn:aws:sts::111122223333:assumed-role/R${i}${'r'.repeat(900)}/${'s'.repeat(1000)}`,
    );
    const f = buildSecurityHubWrites(st, { now: NOW }).batchImportFindings?.Findings[0] as Record<string, unknown>;
    const resources = f.Resources as { Tags?: Record<string, string> }[];
    expect(resources.length).toBeGreaterThanOrEqual(1);
    expect(resources.length).toBeLessThanOrEqual(32);
    for (const r of resources) for (const v of Object.values(r.Tags ?? {})) expect(v.length).toBeLessThanOrEqual(256);
    expect(bytes(f)).toBeLessThanOrEqual(240 * 1024);
    expect(asffProblems(f)).toEqual([]);
  });
});
