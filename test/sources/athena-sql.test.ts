/**
 * The SQL of a round: tokens an attacker can shape (a session name, a user name in a record)
 * stay inside their string literals, every query parses as Trino, and the partitions are named.
 */
import { cloudTrailTable, securityLakeTable } from '../../src/sources/athena';
import { dayValue, needleOf, roundQuery, splitTokens, sqlString } from '../../src/sources/athena-sql';
import { emptyTokens } from '../../src/storyline/closure';
import { trinoErrors } from '../support/trino';

const g = { accounts: ['111111111111', '222222222222'], regions: ['eu-west-1', 'us-east-1'], from: Date.parse('2026-11-01T10:00:00Z'), to: Date.parse('2026-11-03T01:00:00Z') };

describe('round SQL', () => {
  it('escapes hostile tokens into literals that parse as Trino', () => {
    const t = emptyTokens();
    const hostile = ["x') OR 1=1 --", "O'Brien", 'a\\b', "'; DROP TABLE cloudtrail; --", 'ünïcødé\u202e', 'multi\nline'];
    for (const h of hostile) {
      t.principals.add(`user:111111111111:${h}`);
      t.sessionNames.add(h);
      t.keys.add(h);
    }
    for (const table of [cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), securityLakeTable('lake', ['amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0', 'amazon_security_lake_table_us_east_1_s3_data_2_0'])]) {
      const sql = roundQuery(table.columns, g, t, { from: g.from, to: g.to }) as string;
      expect(trinoErrors(sql)).toEqual([]);
      expect(sql).toContain(sqlString("x') or 1=1 --"));
      expect(sql).toContain("'o''brien'");
      // Nothing of a token outside a literal: removing every literal leaves no token text.
      const bare = sql.replace(/'(?:[^']|'')*'/g, "''");
      for (const h of hostile) expect(bare.toLowerCase()).not.toContain(h.toLowerCase().slice(0, 6));
    }
  });

  it('names the partitions: the accounts, the regions and the days padded by a day each side', () => {
    const t = emptyTokens();
    t.keys.add('AKIAEXAMPLE');
    const raw = roundQuery(cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd').columns, g, t, null) as string;
    expect(raw).toContain("WHERE account IN ('111111111111', '222222222222') AND region IN ('eu-west-1', 'us-east-1') AND day BETWEEN '2026/10/31' AND '2026/11/04'");
    const lake = roundQuery(securityLakeTable('lake', 'amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0').columns, g, t, null) as string;
    expect(lake).toContain("WHERE accountid IN ('111111111111', '222222222222') AND region IN ('eu-west-1', 'us-east-1') AND eventday BETWEEN '20261031' AND '20261104'");
    expect(dayValue(g.from, 'yyyy-MM-dd')).toBe('2026-11-01');
  });

  it('asks nothing for no tokens, and splits many tokens into queries within the length limit', () => {
    expect(roundQuery(cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd').columns, g, emptyTokens(), null)).toBeNull();
    const t = emptyTokens();
    for (let i = 0; i < 5000; i++) t.keys.add(`ASIA${String(i).padStart(16, '0')}`);
    const parts = splitTokens(t, 12);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.reduce((n, p) => n + p.keys.size, 0)).toBe(5000);
    for (const p of parts) expect(Buffer.byteLength(roundQuery(cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd').columns, g, p, null) as string)).toBeLessThan(262_144);
  });

  it('looks for a principal by its name, a root by its account, never a service', () => {
    expect(needleOf('principals', 'role:111111111111:Admin')).toBe('admin');
    expect(needleOf('principals', 'root:111111111111')).toBe('111111111111:root');
    expect(needleOf('principals', 'service:ec2.amazonaws.com')).toBeNull();
    expect(needleOf('principals', 'idc:9067-abc')).toBe('9067-abc');
  });
});
