/**
 * `trailstory investigate --athena` and `--security-lake`: the same storyline as from files, from
 * the organisation trail's Athena tables or Security Lake's, with the analyst's own credentials
 * (the SDK's default chain: AWS_PROFILE, environment, SSO) and one progress line on standard
 * error per query. Loaded only when one of them is given, so the local CLI never loads the SDK.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { accountList, ConfigError, parseRegionList, REGION_NAME } from '../config';
import type { NormalizedFinding } from '../model/finding';
import type { Storyline } from '../model/storyline';
import { AthenaSource, securityLakeTable } from '../sources/athena';
import { organisationTrailSource } from '../sources/choose';
import { securityLakeDatabase, securityLakeTable as securityLakeTableName } from '../sources/security-lake-tables';
import { reconstruct } from '../storyline/reconstruct';
import { loadEventMap } from '../storyline/tactics';
import { withSourceCoverage } from '../storyline/source-coverage';

/** The options of both query sources, as commander gives them. */
export interface QueryOptions {
  athena?: boolean;
  securityLake?: boolean;
  workgroup?: string;
  database?: string;
  table?: string;
  parquetTable?: string;
  region?: string;
  regions?: string;
  accounts?: string;
  lookbackDays?: string;
  maxBytes?: string;
}


const NAME = /^[A-Za-z0-9_]{1,255}$/;

/** Every query of the run failed: exit 1 with the first reason. */
export class QueryFailedError extends Error {
  override name = 'QueryFailedError';
}

function glue(what: string, v: string): string {
  if (!NAME.test(v)) throw new ConfigError(`${what} ${JSON.stringify(v)} is not a Glue name (letters, digits, _)`);
  return v;
}

/**
 * The storyline of `finding` from Athena or Security Lake.
 * @throws ConfigError (exit 2) for a bad option, before any request; QueryFailedError (exit 1) when
 *   every query failed; some failed queries are only named in the gaps
 */
export async function investigateByQuery(finding: NormalizedFinding, o: QueryOptions, progress: (line: string) => void, eventMapFile?: string): Promise<Storyline> {
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region || !REGION_NAME.test(region)) throw new ConfigError(`--region ${JSON.stringify(region ?? '')}: give the region of the workgroup (e.g. eu-west-1), or set AWS_REGION`);
  const workGroup = o.workgroup ?? 'primary';
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(workGroup)) throw new ConfigError(`--workgroup ${JSON.stringify(workGroup)} is not a workgroup name`);
  const regions = o.regions ? parseRegionList(o.regions, '--regions') : [];
  const accounts = o.accounts ? accountList(o.accounts, '--accounts') : [];
  const lookbackDays = o.lookbackDays === undefined ? 30 : Number(o.lookbackDays);
  if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > 400) throw new ConfigError(`--lookback-days ${JSON.stringify(o.lookbackDays)} is not a number of days from 1 to 400`);
  const bytesBudget = o.maxBytes === undefined ? 10 * 1024 ** 3 : parseBytes(o.maxBytes);
  const client = new AthenaClient({ region });
  const common = { workGroup, regions, accounts, lookbackDays, bytesBudget, progress };
  let source: AthenaSource;
  if (o.securityLake) {
    const tables = (o.table ?? securityLakeTableName(region)).split(',').map((t) => glue('--table', t.trim()));
    try {
      source = new AthenaSource(client, securityLakeTable(glue('--database', o.database ?? securityLakeDatabase(region)), tables), common);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  } else {
    const database = glue('--database', o.database ?? 'trailstory');
    const table = glue('--table', o.table ?? 'cloudtrail');
    source = organisationTrailSource(client, { database, table, parquetTable: o.parquetTable ? glue('--parquet-table', o.parquetTable) : null }, common);
  }
  const collected = await source.collect(finding);
  // Not one query answered (no credentials, no access, no such table): an error, not an empty storyline.
  if (collected.failures.length > 0 && collected.failures.length >= collected.usage.queries) throw new QueryFailedError(`every Athena query failed (${collected.failures.length}); the first: ${collected.failures[0] ?? ''}`);
  const st = reconstruct(finding, collected.events, collected.stats, { eventMap: loadEventMap(eventMapFile) });
  return withSourceCoverage(st, collected);
}

/** `10GB`, `500MB`, `123456` (bytes). */
export function parseBytes(v: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB)?$/i.exec(v.trim());
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[(m?.[2] ?? 'B').toUpperCase() as 'B'];
  const n = m ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(n) || n < 1e6) throw new ConfigError(`--max-bytes ${JSON.stringify(v)} is not an amount of bytes of at least 1MB (e.g. 10GB)`);
  return Math.floor(n);
}
