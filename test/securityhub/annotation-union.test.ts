/**
 * The CSPM annotation never takes away what GuardDuty, another tool or an analyst put on the
 * finding: `BatchUpdateFindings` replaces each field it is given
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html),
 * so the builder sends the union of theirs and ours, one test per field with another tool's
 * values present, a re-enrichment that replaces only ours, and each list at its limit.
 */
import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { annotationOfInput, asffProblems, asffTypes, buildSecurityHubWrites, companionId, companionProductArn, PRODUCT_NAME, TYPES_ADDED_KEY, type ExistingAnnotation } from '../../src/securityhub/asff';
import { investigate } from '../../src/storyline/investigate';

const SCEN = path.resolve(__dirname, '../scenarios');
const NOW = '2026-11-29T12:00:00Z';
const GD_TYPE = 'TTPs/Initial Access/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B';
const JIRA_LINK = { ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default', Id: 'jira/SEC-123' };

type Update = { Types?: string[]; RelatedFindings?: { ProductArn: string; Id: string }[]; UserDefinedFields?: Record<string, string>; Note?: { Text: string; UpdatedBy: string } };

/** A fresh copy of the storyline (the builder adds its gaps to it). */
function fresh(st: Storyline): Storyline {
  return structuredClone(st);
}

function existing(over: Partial<ExistingAnnotation> = {}): ExistingAnnotation {
  return { Types: [GD_TYPE], RelatedFindings: [], UserDefinedFields: {}, ...over };
}

/** What the finding holds after an update that replaces each field it gives (the documented behaviour). */
function apply(before: ExistingAnnotation, u: Update): ExistingAnnotation {
  return {
    Note: u.Note ?? before.Note,
    Types: u.Types ?? before.Types,
    RelatedFindings: u.RelatedFindings ?? before.RelatedFindings,
    UserDefinedFields: u.UserDefinedFields ?? before.UserDefinedFields,
  };
}

describe('the CSPM annotation keeps what others put on the finding', () => {
  let base: Storyline;
  let ours: string[];
  beforeAll(async () => {
    base = await investigate({ findingFile: path.join(SCEN, 'x-root-console', 'finding.json'), cloudtrail: [path.join(SCEN, 'x-root-console', 'cloudtrail')] });
    ours = asffTypes(base);
    expect(ours.length).toBeGreaterThan(1);
  });

  test('Types: GuardDuty\'s own type stays, ours are added after it and recorded as ours', () => {
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing() }).batchUpdateFindings as Update;
    expect(u.Types).toEqual([GD_TYPE, ...ours]);
    expect(JSON.parse(u.UserDefinedFields?.[TYPES_ADDED_KEY] ?? 'null')).toEqual(ours);
    expect(asffProblems(u)).toEqual([]);
  });

  test('Types: one an analyst had already added is theirs, not recorded as ours, and stays on re-enrichment', () => {
    const analysts = ours[0] ?? '';
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ Types: [GD_TYPE, analysts] }) }).batchUpdateFindings as Update;
    expect(u.Types).toEqual([GD_TYPE, analysts, ...ours.slice(1)]);
    expect(JSON.parse(u.UserDefinedFields?.[TYPES_ADDED_KEY] ?? 'null')).toEqual(ours.slice(1));
    // A storyline that no longer derives any type: ours go, the analyst's and GuardDuty's stay.
    const quiet = fresh(base);
    quiet.steps = quiet.steps.map((s) => ({ ...s, tactic: null }));
    const again = buildSecurityHubWrites(quiet, { now: NOW, existing: apply(existing({ Types: [GD_TYPE, analysts] }), u) }).batchUpdateFindings as Update;
    expect(again.Types).toEqual([GD_TYPE, analysts]);
    expect(again.UserDefinedFields?.[TYPES_ADDED_KEY]).toBeUndefined();
  });

  test('RelatedFindings: another tool\'s link stays beside our companion link', () => {
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ RelatedFindings: [JIRA_LINK] }) }).batchUpdateFindings as Update;
    expect(u.RelatedFindings).toEqual([JIRA_LINK, { ProductArn: companionProductArn(base), Id: companionId(base) }]);
  });

  test('RelatedFindings: our earlier companion link is replaced, not doubled', () => {
    const ourLink = { ProductArn: companionProductArn(base), Id: companionId(base) };
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ RelatedFindings: [ourLink, JIRA_LINK] }) }).batchUpdateFindings as Update;
    expect(u.RelatedFindings).toEqual([JIRA_LINK, ourLink]);
  });

  test('UserDefinedFields: another tool\'s pairs stay, ours are added; our stale keys from an earlier run go', () => {
    const theirs = { jiraIssue: 'SEC-123', 'soar.playbook': 'contain-root' };
    const stale = { 'trailstory.5.attacker-sources': '203.0.113.9', 'trailstory.8.report': 'https://old.example/report' };
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ UserDefinedFields: { ...theirs, ...stale } }) }).batchUpdateFindings as Update;
    const fields = u.UserDefinedFields ?? {};
    expect(fields.jiraIssue).toBe('SEC-123');
    expect(fields['soar.playbook']).toBe('contain-root');
    expect(fields['trailstory.4.steps']).toBe(String(base.steps.length));
    // No report this run: our old report link is not kept.
    expect(fields['trailstory.8.report']).toBeUndefined();
    expect(Object.keys(fields).filter((k) => !k.startsWith('trailstory.'))).toEqual(['jiraIssue', 'soar.playbook']);
  });

  test('UserDefinedFields: a key "__proto__" of another tool is kept as a field', () => {
    const theirs: Record<string, string> = JSON.parse('{"__proto__":"x","owner":"sec-team"}') as Record<string, string>;
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ UserDefinedFields: theirs }) }).batchUpdateFindings as Update;
    expect(Object.prototype.hasOwnProperty.call(u.UserDefinedFields, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(u.UserDefinedFields)).owner).toBe('sec-team');
  });

  test('Note: another tool\'s note is kept after ours, UpdatedBy is ours', () => {
    const u = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ Note: { Text: 'jiraIssue: SEC-123', UpdatedBy: 'jira-sync' } }) }).batchUpdateFindings as Update;
    expect(u.Note?.UpdatedBy).toBe(PRODUCT_NAME);
    expect(u.Note?.Text.endsWith('\n[jira-sync] jiraIssue: SEC-123')).toBe(true);
    expect(u.Note?.Text.length).toBeLessThanOrEqual(512);
  });

  test('Note: on re-enrichment the other tool\'s part of our earlier Note is carried over, once', () => {
    const first = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ Note: { Text: 'jiraIssue: SEC-123', UpdatedBy: 'jira-sync' } }) }).batchUpdateFindings as Update;
    const again = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ Note: first.Note }) }).batchUpdateFindings as Update;
    expect(again.Note?.Text).toBe(first.Note?.Text);
    expect(again.Note?.Text.split('jiraIssue: SEC-123')).toHaveLength(2);
  });

  test('unread annotation: only the Note is sent, nothing else is replaced blindly, and coverage says so', () => {
    const st = fresh(base);
    const u = buildSecurityHubWrites(st, { now: NOW, existing: 'unknown' }).batchUpdateFindings as Update;
    expect(Object.keys(u).sort()).toEqual(['FindingIdentifiers', 'Note']);
    expect(st.coverage.gaps.some((g) => g.includes('could not be read'))).toBe(true);
  });

  test('companion: false: no import, no link to it, another tool\'s link kept', () => {
    const w = buildSecurityHubWrites(fresh(base), { now: NOW, existing: existing({ RelatedFindings: [JIRA_LINK] }), companion: false });
    const u = w.batchUpdateFindings as Update;
    expect(w.batchImportFindings).toBeNull();
    expect(u.RelatedFindings).toEqual([JIRA_LINK]);
    expect(u.UserDefinedFields?.['trailstory.7.companion-finding']).toBeUndefined();
  });
});

describe('lists at their limits: ours give way, coverage says so, the request stays valid', () => {
  let base: Storyline;
  beforeAll(async () => {
    base = await investigate({ findingFile: path.join(SCEN, 'x-root-console', 'finding.json'), cloudtrail: [path.join(SCEN, 'x-root-console', 'cloudtrail')] });
  });

  test('50 Types of theirs: none of ours is added or recorded, every one of theirs is sent', () => {
    const theirs = Array.from({ length: 50 }, (_, i) => `Software and Configuration Checks/Vendor/Check-${i}`);
    const st = fresh(base);
    const w = buildSecurityHubWrites(st, { now: NOW, existing: existing({ Types: theirs }) });
    const u = w.batchUpdateFindings as Update;
    expect(u.Types).toEqual(theirs);
    expect(u.UserDefinedFields?.[TYPES_ADDED_KEY]).toBeUndefined();
    const gap = st.coverage.gaps.find((g) => g.includes('Types already holds 50'));
    expect(gap).toContain(asffTypes(base).join(', '));
    expect(u.UserDefinedFields?.['trailstory.6.coverage']).toContain('Types already holds 50');
    expect(asffProblems(u)).toEqual([]);
  });

  test('10 RelatedFindings of theirs: our link is left out, theirs all sent, the companion is still imported', () => {
    const theirs = Array.from({ length: 10 }, (_, i) => ({ ProductArn: JIRA_LINK.ProductArn, Id: `jira/SEC-${i}` }));
    const st = fresh(base);
    const w = buildSecurityHubWrites(st, { now: NOW, existing: existing({ RelatedFindings: theirs }) });
    const u = w.batchUpdateFindings as Update;
    expect(u.RelatedFindings).toEqual(theirs);
    expect(st.coverage.gaps).toContain(`Security Hub: RelatedFindings already holds 10 of another source's (max 10); the link to the storyline finding ${companionId(base)} is left out`);
    expect(w.batchImportFindings?.Findings).toHaveLength(1);
    expect(asffProblems(u)).toEqual([]);
  });

  test('50 UserDefinedFields of theirs: none of ours (so no types of ours either), theirs all sent', () => {
    const theirs = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`vendor.${i}`, `v${i}`]));
    const st = fresh(base);
    const u = buildSecurityHubWrites(st, { now: NOW, existing: existing({ UserDefinedFields: theirs }) }).batchUpdateFindings as Update;
    expect(u.UserDefinedFields).toEqual(theirs);
    expect(u.Types).toEqual([GD_TYPE]);
    expect(st.coverage.gaps.some((g) => g.startsWith('Security Hub: UserDefinedFields already holds 50') && g.includes('trailstory.1.origin'))).toBe(true);
    expect(st.coverage.gaps.some((g) => g.includes('no room to record which types are ours'))).toBe(true);
    expect(asffProblems(u)).toEqual([]);
  });

  test('46 UserDefinedFields of theirs: ours fill the 4 left in priority order, the types record first', () => {
    const theirs = Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`vendor.${i}`, `v${i}`]));
    const st = fresh(base);
    const u = buildSecurityHubWrites(st, { now: NOW, existing: existing({ UserDefinedFields: theirs }) }).batchUpdateFindings as Update;
    const ours = Object.keys(u.UserDefinedFields ?? {}).filter((k) => k.startsWith('trailstory.'));
    // The four that fit, by priority (the types record first), sent in name order.
    expect(ours).toEqual(['trailstory.1.origin', 'trailstory.6.coverage', 'trailstory.7.companion-finding', TYPES_ADDED_KEY]);
    expect(Object.keys(u.UserDefinedFields ?? {})).toHaveLength(50);
    // The coverage field itself names what was left out.
    expect(u.UserDefinedFields?.['trailstory.6.coverage']).toContain('our fields left out: trailstory.3.tactics');
  });
});

describe('annotationOfInput: --format asff without GetFindings', () => {
  test('a native GuardDuty finding: the Types Security Hub CSPM gives its type, per the GuardDuty table', async () => {
    const dir = path.join(SCEN, 'x-trust-policy-backdoor');
    const st = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [path.join(dir, 'cloudtrail')] });
    expect(st.finding.annotation).toBeUndefined();
    expect(st.finding.type).toBe('Persistence:IAMUser/AnomalousBehavior');
    expect(annotationOfInput(st)).toEqual({ Types: ['TTPs/Persistence/IAMUser-AnomalousBehavior'], RelatedFindings: [], UserDefinedFields: {} });
  });

  test('an ASFF finding: the Types, links, fields and Note it carries', async () => {
    const dir = path.join(SCEN, 'x-root-console');
    const st = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [path.join(dir, 'cloudtrail')] });
    expect(annotationOfInput(st)).toEqual({ Types: ['Software and Configuration Checks/Policy/Policy:IAMUser-RootCredentialUsage'], RelatedFindings: [], UserDefinedFields: {} });
  });
});

describe('a hostile --format asff input: theirs Security Hub could not hold', () => {
  test('a UserDefinedFields value over 1,024 characters, a Type with an empty part, an Id over 512: those fields not sent, coverage says so, the request valid', async () => {
    const st = await investigate({ findingFile: path.join(SCEN, 'x-root-console', 'finding.json'), cloudtrail: [path.join(SCEN, 'x-root-console', 'cloudtrail')] });
    const u = buildSecurityHubWrites(st, {
      now: NOW,
      existing: { Types: ['TTPs/'], RelatedFindings: [{ ProductArn: JIRA_LINK.ProductArn, Id: 'i'.repeat(513) }], UserDefinedFields: { big: 'v'.repeat(1025) } },
    }).batchUpdateFindings as Update;
    expect(u.Types).toBeUndefined();
    expect(u.RelatedFindings).toBeUndefined();
    expect(u.UserDefinedFields).toBeUndefined();
    expect(st.coverage.gaps.filter((g) => / not sent$/.test(g))).toHaveLength(3);
    expect(asffProblems(u)).toEqual([]);
  });
});
