import { ConfigError, readConfig } from '../../src/config';
import { enrichKey, messageFor } from '../../src/lambda/messages';
import type { NormalizedFinding } from '../../src/model/finding';

describe('readConfig', () => {
  test('defaults and parsing', () => {
    const c = readConfig([], { ENRICH_QUEUE_URL: 'q', LOOKUP_EXTRA_REGIONS: ' eu-west-1, ,us-west-2 ', ORG_STATUS_REGIONS: 'us-east-1,me-central-1' });
    expect(c).toEqual({
      enrichQueueUrl: 'q',
      enrichDlqUrl: null,
      minSeverity: 4,
      idempotencyTable: null,
      lookupExtraRegions: ['eu-west-1', 'us-west-2'],
      reenrichDelaySeconds: 900,
      maxReceives: 3,
      backfillDays: 7,
      endpoint: null,
      reportBucket: null,
      useDetective: true,
      ownAccountId: null,
      memberRoleName: 'TrailstoryMemberRole',
      memberExternalId: null,
      orgStatusRegions: ['us-east-1', 'me-central-1'],
      securityHubTarget: 'cspm',
      v2SetSeverity: false,
      v2SetStatus: false,
      trailSource: 'lookup-events',
      athena: null,
      trailRegions: [],
      trailAccounts: [],
      lookbackDays: 30,
      findingBytesBudget: 10737418240,
      securityLake: null,
      layoutWorkgroup: null,
      parquetLocation: null,
      layoutConcurrency: 8,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('the Security Hub target and the V2 opt-ins: each value taken, anything else refused naming the variable', () => {
    for (const t of ['cspm', 'new', 'both'] as const) expect(readConfig([], { SECURITY_HUB_TARGET: t }).securityHubTarget).toBe(t);
    expect(readConfig([], { SECURITY_HUB_V2_SET_SEVERITY: 'true', SECURITY_HUB_V2_SET_STATUS: 'true' })).toMatchObject({ v2SetSeverity: true, v2SetStatus: true });
    expect(() => readConfig([], { SECURITY_HUB_TARGET: 'CSPM' })).toThrow(new ConfigError('SECURITY_HUB_TARGET="CSPM": expected one of cspm, new, both'));
    expect(() => readConfig([], { SECURITY_HUB_V2_SET_STATUS: 'yes' })).toThrow(new ConfigError('SECURITY_HUB_V2_SET_STATUS="yes": expected true or false'));
  });

  test('a missing required variable or a value out of range fails naming it', () => {
    expect(() => readConfig(['IDEMPOTENCY_TABLE'], {})).toThrow(new ConfigError('IDEMPOTENCY_TABLE is not set'));
    expect(() => readConfig([], { MIN_SEVERITY: '11' })).toThrow('MIN_SEVERITY="11": expected a number from 0 to 10');
    expect(() => readConfig([], { REENRICH_DELAY_SECONDS: 'soon' })).toThrow('REENRICH_DELAY_SECONDS="soon"');
  });
});

describe('enrich messages and their idempotency key (pitfalls 2 and 3)', () => {
  const f = { accountId: '111122223333', region: 'eu-west-1', id: 'abc', updatedAt: '2026-01-01T00:00:00Z' } as NormalizedFinding;
  test('one key per account, region, finding, updatedAt and pass', () => {
    expect(enrichKey(f, 1)).toBe('111122223333/eu-west-1/abc/2026-01-01T00:00:00Z/1');
    expect(enrichKey({ ...f, updatedAt: '2026-01-01T06:00:00Z' }, 1)).not.toBe(enrichKey(f, 1));
    expect(enrichKey(f, 2)).not.toBe(enrichKey(f, 1));
    expect(messageFor(f, 'backfill')).toEqual({ key: enrichKey(f, 1), finding: f, pass: 1, via: 'backfill' });
    expect(messageFor(f, 'recheck', 2, '123456789012345678901')).toEqual({ key: enrichKey(f, 2), finding: f, pass: 2, via: 'recheck', investigationId: '123456789012345678901' });
  });
});
