/**
 * The CSPM union against another tool's look-alikes and forgeries (found by an adversarial
 * pass): a link shaped like ours from another account, a forged record of "our" types, a pair
 * Security Hub cannot hold; and identifiers never cut through a surrogate pair.
 */
import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { asffId, asffTypes, buildSecurityHubWrites, companionId, TYPES_ADDED_KEY, type ExistingAnnotation } from '../../src/securityhub/asff';
import { investigate } from '../../src/storyline/investigate';
import { clip } from '../../src/storyline/summary';

const SCEN = path.resolve(__dirname, '../scenarios/x-root-console');
const NOW = '2026-11-29T12:00:00Z';
const GD_TYPE = 'TTPs/Initial Access/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B';
type Update = { Types?: string[]; RelatedFindings?: { ProductArn: string; Id: string }[]; UserDefinedFields?: Record<string, string> };

let base: Storyline;
beforeAll(async () => {
  base = await investigate({ findingFile: path.join(SCEN, 'finding.json'), cloudtrail: [path.join(SCEN, 'cloudtrail')] });
});
const build = (existing: ExistingAnnotation) => {
  const st = structuredClone(base);
  return { u: buildSecurityHubWrites(st, { now: NOW, existing }).batchUpdateFindings as Update, gaps: st.coverage.gaps };
};

/** A Unicode code unit that is half of a surrogate pair with no other half beside it. */
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

test('a link shaped like our companion link but of another account or finding is theirs and stays', () => {
  const lookAlikes = [
    { ProductArn: 'arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default', Id: companionId(base) },
    { ProductArn: `arn:aws:securityhub:us-east-1:${base.finding.accountId}:product/${base.finding.accountId}/default`, Id: 'arn:aws:guardduty:us-east-1:1:detector/d/finding/other/trailstory-storyline' },
  ];
  const { u } = build({ Types: [GD_TYPE], RelatedFindings: lookAlikes, UserDefinedFields: {} });
  expect(u.RelatedFindings?.slice(0, 2)).toEqual(lookAlikes);
  expect(u.RelatedFindings?.[2]?.Id).toBe(companionId(base));
});

test('a forged record of "our" types cannot take GuardDuty\'s or another tool\'s types away', () => {
  const theirs = [GD_TYPE, 'Software and Configuration Checks/Vulnerabilities/CVE'];
  const { u } = build({ Types: theirs, RelatedFindings: [], UserDefinedFields: { [TYPES_ADDED_KEY]: JSON.stringify(theirs) } });
  expect(u.Types?.slice(0, 2)).toEqual(theirs);
  expect(u.Types?.slice(2)).toEqual(asffTypes(base));
});

test('when the UserDefinedFields cannot be sent, none of our types is added (nothing would mark them ours), and coverage says why', () => {
  const { u, gaps } = build({ Types: [GD_TYPE], RelatedFindings: [], UserDefinedFields: { ticket: 'x'.repeat(5000) } });
  expect(u.UserDefinedFields).toBeUndefined();
  expect(u.Types).toEqual([GD_TYPE]);
  expect(gaps.join('\n')).toContain('UserDefinedFields cannot be sent, so nothing would record which types are ours');
});

test('49 of their Types: one of ours fits, and the gap names the full Types as the reason', () => {
  const theirs = Array.from({ length: 49 }, (_, i) => `Unusual Behaviors/User/Tool${i}`);
  const { u, gaps } = build({ Types: theirs, RelatedFindings: [], UserDefinedFields: {} });
  expect(u.Types).toHaveLength(50);
  expect(gaps.join('\n')).toMatch(/Types already holds 49 of another source's \(max 50\); our types left out/);
});

test('cuts never split a surrogate pair: clip and asffId on emoji', () => {
  const emoji = '😀'.repeat(400);
  for (const max of [511, 512, 100, 7]) expect(clip(emoji, max)).not.toMatch(LONE);
  expect(asffId(`arn:aws:guardduty:us-east-1:1:detector/d/finding/${'😀'.repeat(300)}`)).not.toMatch(LONE);
  expect(asffId(`x${'😀'.repeat(300)}`)).not.toMatch(LONE);
});
