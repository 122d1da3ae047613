/**
 * Test support: CloudTrail records laid out as an organisation trail's bucket
 * (`AWSLogs/<org-id>/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/<file>.json.gz`), and the
 * emulated Athena tables over it and over Security Lake's Parquet layout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { AwsEmulator } from '../emulator/server';
import { writeSecurityLakeParquet } from './security-lake';

type Rec = Record<string, unknown>;

/** The account a record is filed under: its recipient, else its caller's. */
export function accountOf(r: Rec): string {
  const ui = r.userIdentity as Rec | undefined;
  const a = typeof r.recipientAccountId === 'string' ? r.recipientAccountId : typeof ui?.accountId === 'string' ? ui.accountId : '';
  return /^\d{12}$/.test(a) ? a : '000000000000';
}

/**
 * Writes records as an organisation trail delivers them, one gzipped file per account, region
 * and day (of `eventTime`), records in the order given.
 * @returns the folder `<root>/AWSLogs/<orgId>` and the accounts, regions and time span written
 */
export function writeOrgTrail(records: Rec[], root: string, orgId = 'o-trailstory01'): { location: string; accounts: string[]; regions: string[]; from: number; to: number } {
  const groups = new Map<string, Rec[]>();
  let from = Infinity;
  let to = -Infinity;
  for (const r of records) {
    const t = Date.parse(String(r.eventTime));
    if (Number.isNaN(t) || typeof r.awsRegion !== 'string' || !/^[a-z0-9-]+$/.test(r.awsRegion)) continue;
    from = Math.min(from, t);
    to = Math.max(to, t);
    const day = new Date(t).toISOString().slice(0, 10).replace(/-/g, '/');
    const key = `${accountOf(r)}|${r.awsRegion}|${day}`;
    const l = groups.get(key) ?? [];
    l.push(r);
    groups.set(key, l);
  }
  const location = path.join(root, 'AWSLogs', orgId);
  const accounts = new Set<string>();
  const regions = new Set<string>();
  for (const [key, recs] of groups) {
    const [account, region, day] = key.split('|') as [string, string, string];
    accounts.add(account);
    regions.add(region);
    const dir = path.join(location, account, 'CloudTrail', region, day);
    fs.mkdirSync(dir, { recursive: true });
    const stamp = day.replace(/\//g, '') + 'T0000Z';
    fs.writeFileSync(path.join(dir, `${account}_CloudTrail_${region}_${stamp}_trail.json.gz`), zlib.gzipSync(JSON.stringify({ Records: recs })));
  }
  return { location, accounts: [...accounts].sort(), regions: [...regions].sort(), from, to };
}

/** Registers the organisation trail's raw table (`trail.cloudtrail`) over a {@link writeOrgTrail} folder, as the template defines it. */
export function registerOrgTrailTable(emu: AwsEmulator, location: string, regions: string[], database = 'trail', name = 'cloudtrail'): void {
  emu.athena.registerTable({
    database,
    name,
    format: 'cloudtrail-json',
    location,
    partitions: [
      { name: 'account', type: 'injected' },
      { name: 'region', type: 'enum', values: regions },
      { name: 'day', type: 'date', format: 'yyyy/MM/dd' },
    ],
    locationTemplate: '${account}/CloudTrail/${region}/${day}',
  });
}

/** Security Lake's layout of the records (Parquet, `region=/accountId=/eventDay=`) and its table registered. */
export async function writeSecurityLake(emu: AwsEmulator, records: Rec[], dir: string, database: string, table: string): Promise<void> {
  await writeSecurityLakeParquet(records, dir);
  emu.athena.registerTable({
    database,
    name: table,
    format: 'parquet',
    location: dir,
    partitions: [
      { name: 'region', type: 'hive' },
      { name: 'accountid', type: 'hive' },
      { name: 'eventday', type: 'hive' },
    ],
  });
}
