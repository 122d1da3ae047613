/**
 * The `trailstory` command line (commander). `trailstory investigate` is fixed by
 * `shared/design/storyline-contract.md` ("The command"): JSON storyline on standard output,
 * exit 0 also for an empty storyline; bad input exits non-zero with one line on standard error
 * naming the file and the problem; a file of several findings without `--finding-id` exits 2
 * and lists the ids, one a line, on standard error.
 */
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../../package.json';
import { AmbiguousFindingError, FindingInputError } from '../findings/errors';
import { investigate, readFinding } from '../storyline/investigate';
import { MAX_WORKERS } from '../storyline/parallel-read';
import { EventMapError } from '../storyline/tactics';
import { TrailInputError } from '../trail/read';
import { renderJsonParts } from '../render/json';
import { renderMarkdown } from '../render/markdown';
import { renderMermaid } from '../render/mermaid';
import { renderOcsf } from '../render/ocsf';
import { renderText } from '../render/text';
import { terminal } from '../render/escape';
import { toIsoUtc } from '../model/time';
import { ConfigError, parseRegionList, REGION_NAME } from '../config';
import type { QueryOptions } from './query-source';
import { annotationOfInput, buildSecurityHubWrites, companionRefusal } from '../securityhub/asff';
import { buildBatchUpdateFindingsV2, v2Problems } from '../securityhub/v2';

/** The finding ids listed, one a line, when a file holds several and none was chosen. */
const LISTED_IDS = 100;

/** A bad option value found after parsing (exit 2). */
class UsageError extends Error {}

/**
 * Exit codes: 0 done, 1 bad input (finding or trail) or AWS unreachable (org-status), 2 usage or
 * ambiguous finding, 3 gaps found (org-status --fail-on-gaps), 70 internal error.
 */
export const EXIT = { ok: 0, badInput: 1, usage: 2, gaps: 3, internal: 70 } as const;

const ORG_FORMATS = ['text', 'json', 'markdown'] as const;

/** AWS could not be asked at all (no credentials, no network): exit 1 with one line. */
class AwsSetupError extends Error {}

/** An IAM role name (IAM CreateRole, RoleName: `[\w+=,.@-]+`, 1-64). */
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** A StackSet name (CloudFormation CreateStackSet, StackSetName: `[a-zA-Z][-a-zA-Z0-9]*`, at most 128). */
const STACK_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;

/** The region the SDK would use (AWS_REGION, AWS_DEFAULT_REGION unless set otherwise, the profile's `region`), or undefined. */
async function sdkRegion(): Promise<string | undefined> {
  const { STSClient } = await import('@aws-sdk/client-sts');
  try {
    return await new STSClient({}).config.region();
  } catch {
    return undefined;
  }
}

const FORMATS = ['json', 'text', 'mermaid', 'markdown', 'html', 'asff', 'ocsf'] as const;

const EXAMPLES = `
Examples:
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --format text
  $ trailstory investigate --finding getfindings.json --finding-id 0ab1c2… --cloudtrail trail.jsonl.gz
  $ trailstory investigate --finding event.json --cloudtrail us-east-1/ --cloudtrail eu-west-1/ --format json > storyline.json
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --format mermaid > storyline.mmd
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --format asff --now 2026-11-29T12:00:00Z
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --format html > storyline.html
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --format ocsf > storyline.ocsf.json
  $ trailstory investigate --finding finding.json --athena --workgroup trailstory --region eu-west-1 \\
      --database trailstory --parquet-table cloudtrail_parquet --regions eu-west-1,us-east-1 --accounts 111122223333
  $ trailstory investigate --finding finding.json --security-lake --workgroup primary --region eu-west-1 --max-bytes 2GB
  $ echo '{"VerifyEmailIdentity": "TA0042"}' > my-map.json
  $ trailstory investigate --finding finding.json --cloudtrail ./AWSLogs --event-map my-map.json
`;

/**
 * Runs the CLI with `argv` (without the node and script names); resolves to the exit code.
 * Output goes to the given streams (process.stdout/stderr by default) so tests can capture it.
 */
export async function main(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; columns?: number } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    columns: process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : undefined,
  },
): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('trailstory')
    .description('Reconstructs the attack storyline behind a GuardDuty finding from CloudTrail: origin, identity lineage, steps with MITRE ATT&CK tactics.')
    .version(packageJson.version, '-V, --version', 'print the version of trailstory')
    .exitOverride()
    // Commander's own errors quote option values as given: each line passes the terminal sanitiser.
    .configureOutput({ writeOut: io.out, writeErr: (s) => io.err(lines(s)) });

  program
    .command('investigate')
    .description('Reconstruct the storyline of one GuardDuty finding from local CloudTrail records, or from the organisation trail through Amazon Athena (--athena), or from Amazon Security Lake (--security-lake).')
    .requiredOption('--finding <file>', 'the finding: GuardDuty JSON (bare or GetFindings output), an EventBridge "GuardDuty Finding" event, or ASFF (Security Hub GetFindings output, Imported or Custom Action event)')
    .option('--finding-id <id>', 'GuardDuty finding id or finding ARN, when the file holds several findings')
    .option(
      '--cloudtrail <path>',
      'CloudTrail records: a file or a folder searched recursively; S3 delivery files {"Records":[…]} (.json/.json.gz, AWSLogs tree), LookupEvents output, a JSON array, or JSON Lines; repeat for several',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addOption(
      new Option(
        '--format <format>',
        'output format: json (the storyline contract), text (a timeline), mermaid (a flowchart), markdown (a summary with the timeline), html (a self-contained report with its flow diagram; no script, no network), asff (what the Security Hub writer would send: the BatchUpdateFindings and BatchImportFindings inputs for Security Hub CSPM and the BatchUpdateFindingsV2 input for the new Security Hub, without SeverityId or StatusId), ocsf (one OCSF 1.1.0 Detection Finding, class 2004, for Security Lake custom sources and SIEMs)',
      )
        .choices(FORMATS)
        .default('json'),
    )
    .option('--now <time>', 'with --format asff, html or ocsf: the time of the run (ISO 8601), so the output is reproducible; default: now')
    .option('--event-map <file>', 'a JSON object of "EventName": "TA00xx" entries (or the shape of data/event-tactics.json) merged over the built-in eventName -> ATT&CK tactic table')
    .option('--width <columns>', "with --format text: the columns to fit, 40 to 1000; default: the terminal's width, 80 when not a terminal")
    .addOption(new Option('--athena', 'read CloudTrail from the organisation trail through Amazon Athena instead of files, with your AWS credentials (the SDK\'s default chain: AWS_PROFILE, environment, SSO); the tables of the trailstory stack (TrailSource=athena)').helpGroup('Athena and Security Lake (instead of --cloudtrail):').conflicts(['cloudtrail', 'securityLake']))
    .addOption(new Option('--security-lake', 'read CloudTrail from Amazon Security Lake\'s CloudTrail table (source version 2, OCSF 1.1.0) through Athena, as a Lake Formation subscriber, with your AWS credentials').helpGroup('Athena and Security Lake (instead of --cloudtrail):').conflicts(['cloudtrail']))
    .addOption(new Option('--workgroup <name>', 'the Athena workgroup (its result location and bytes-scanned cutoff apply); default: primary').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--region <region>', 'the region of the workgroup and the tables; default: AWS_REGION').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--database <name>', 'the Glue database; default: trailstory (--athena), amazon_security_lake_glue_db_<region> (--security-lake)').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--table <name>', 'the table; default: cloudtrail (the raw organisation trail); with --security-lake a comma-separated list, read by one query (the management, _s3_data_2_0 and _lambda_execution_2_0 tables), default amazon_security_lake_table_<region>_cloud_trail_mgmt_2_0 (version 1 tables, _1_0, are refused)').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--parquet-table <name>', 'with --athena: the Parquet layout (e.g. cloudtrail_parquet), read for every day but the last two, which the raw --table serves').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--regions <list>', 'comma-separated regions to read (the tables\' region partitions); default: the finding\'s region and us-east-1').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--accounts <list>', 'comma-separated accounts always read besides the finding\'s own and those its lineage names: the management account and Identity Center\'s delegated administrator, where Identity Center logs its portal records').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--lookback-days <n>', 'days before the finding\'s first activity to read, 1 to 400; default: 30').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .addOption(new Option('--max-bytes <bytes>', 'bytes the queries may scan for this finding (e.g. 10GB, 500MB); past it no further round starts and the coverage says what was not read; default: 10GB').helpGroup('Athena and Security Lake (instead of --cloudtrail):'))
    .option('--threads <n>', `reader threads for the CloudTrail files, 0 to ${MAX_WORKERS} (0 or 1: read in the main thread); default: one per core, at most ${MAX_WORKERS}, when the files hold more than 128 MiB of text (gzipped files counted at 8 times their size), else 0`)
    .addHelpText('after', EXAMPLES)
    .action(async (o: { finding: string; findingId?: string; cloudtrail?: string[]; format: (typeof FORMATS)[number]; eventMap?: string; now?: string; width?: string; threads?: string } & QueryOptions) => {
      const now = o.now === undefined ? new Date().toISOString() : toIsoUtc(o.now);
      if (!now) throw new UsageError(`--now ${JSON.stringify(o.now)} is not a time (ISO 8601, e.g. 2026-11-29T12:00:00Z)`);
      const width = o.width === undefined ? io.columns ?? 80 : /^[0-9]+$/.test(o.width) ? Number(o.width) : NaN;
      if (!Number.isInteger(width) || width < 40 || width > 1000) throw new UsageError(`--width ${JSON.stringify(o.width)} is not a number of columns from 40 to 1000`);
      const threads = o.threads === undefined ? undefined : /^[0-9]{1,3}$/.test(o.threads) && Number(o.threads) <= MAX_WORKERS ? Number(o.threads) : NaN;
      if (Number.isNaN(threads)) throw new UsageError(`--threads ${JSON.stringify(o.threads)} is not a number of threads from 0 to ${MAX_WORKERS}`);
      const byQuery = o.athena || o.securityLake;
      if (!byQuery && !o.cloudtrail) throw new UsageError("required option '--cloudtrail <path>' not specified (or read from Athena with --athena, or from Security Lake with --security-lake)");
      if (!byQuery) for (const k of ['workgroup', 'database', 'table', 'parquetTable', 'region', 'regions', 'accounts', 'lookbackDays', 'maxBytes'] as const) if (o[k] !== undefined) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} goes with --athena or --security-lake`);
      if (o.securityLake && o.parquetTable) throw new UsageError('--parquet-table goes with --athena (Security Lake is Parquet already)');
      const finding = readFinding(o.finding, o.findingId);
      const st = byQuery
        ? await (await import('./query-source')).investigateByQuery(finding, o, (line) => io.err(`trailstory: ${oneLine(line)}\n`), o.eventMap)
        : await investigate({ findingFile: o.finding, findingId: o.findingId, finding, cloudtrail: o.cloudtrail ?? [], eventMapFile: o.eventMap, threads });
      if (o.format === 'json') for (const part of renderJsonParts(st)) io.out(part);
      else if (o.format === 'text') io.out(renderText(st, { width }));
      else if (o.format === 'mermaid') io.out(renderMermaid(st));
      else if (o.format === 'markdown') io.out(renderMarkdown(st));
      // The report's renderer (and its graph layout library, 1.65 MB) loads only when asked for.
      else if (o.format === 'html') io.out(await (await import('../render/html')).renderHtml(st, { generatedAt: now }));
      else if (o.format === 'ocsf') io.out(renderOcsf(st, { now }));
      else {
        // No GetFindings here: unite with what the input carries (annotationOfInput). The new
        // Security Hub's write beside CSPM's two: keeps an OCSF input's comment; no severity or
        // status (opt-in, deploy only).
        const v2 = buildBatchUpdateFindingsV2(st, { updatedAt: finding.updatedAt, current: finding.comment ? { comment: finding.comment } : undefined });
        // A finding without a 12-digit account or a region name cannot be addressed in the new
        // Security Hub either: null, and one line saying why, as the writer would refuse it.
        const v2Refusal = companionRefusal(st) ?? (v2Problems(v2).join('; ') || null);
        if (v2Refusal) io.err(`trailstory: batchUpdateFindingsV2 is null: ${oneLine(v2Refusal)}\n`);
        io.out(JSON.stringify({ ...buildSecurityHubWrites(st, { now, existing: annotationOfInput(st) }), batchUpdateFindingsV2: v2Refusal ? null : v2 }, null, 2) + '\n');
      }
    });

  program
    .command('org-status')
    .description('From the delegated-admin account: Security Hub, GuardDuty and Detective in every account and region of the organisation, whether the member role can be assumed, and a table of gaps with the fix for each. Reads only.')
    .option('--regions <list>', 'comma-separated regions to check (default: the stack region)')
    .option('--region <region>', 'the region the trailstory stack runs in (default: the SDK\'s region: AWS_REGION, or your profile\'s)')
    .option('--member-role-name <name>', 'the member role (default: MEMBER_ROLE_NAME or TrailstoryMemberRole)')
    .option('--external-id-env <var>', 'environment variable holding the member role\'s ExternalId', 'MEMBER_EXTERNAL_ID')
    .option('--stack-set-name <name>', 'the member StackSet, for the fixes', 'trailstory-member-role')
    .option('--no-detective', 'do not check Detective (the stack runs with UseDetective=false)')
    .option('--no-member-role', 'do not try to assume the member role (it trusts only the enrich worker\'s role)')
    .option('--fail-on-gaps', `exit ${EXIT.gaps} when there is a gap`)
    .option('--now <time>', 'the time shown in the report (ISO 8601), for reproducible output; default: now')
    .addOption(new Option('--format <format>', 'text (a table and the gaps), json, markdown (GitHub tables)').choices(ORG_FORMATS).default('text'))
    .addHelpText('after', `
Credentials, region and endpoint come from the AWS SDK's usual chain (AWS_PROFILE, AWS_REGION,
AWS_ACCESS_KEY_ID, …, AWS_ENDPOINT_URL). The member role trusts only the enrich worker's role: run as
anyone else, its check reports "refused"; the scheduled OrgStatus function runs as that role and
logs the same report. Exit codes: 0 done (gaps or not), 3 gaps found with --fail-on-gaps, 2 usage
error, 1 AWS could not be asked (no credentials, no network).

Examples:
  $ trailstory org-status --region us-east-1 --regions us-east-1,eu-west-1,me-central-1
  $ trailstory org-status --region us-east-1 --format markdown > org-status.md
  $ trailstory org-status --region us-east-1 --no-member-role --fail-on-gaps || echo "gaps"
`)
    .action(async (o: { regions?: string; region?: string; memberRoleName?: string; externalIdEnv: string; stackSetName: string; detective: boolean; memberRole: boolean; failOnGaps?: boolean; now?: string; format: (typeof ORG_FORMATS)[number] }) => {
      const now = o.now === undefined ? new Date() : toIsoUtc(o.now);
      if (!now) throw new UsageError(`--now ${JSON.stringify(o.now)} is not a time (ISO 8601, e.g. 2026-11-29T12:00:00Z)`);
      const stackRegion = o.region ?? (await sdkRegion());
      if (!stackRegion) throw new UsageError('no region: pass --region, or set AWS_REGION or a region in your AWS profile');
      if (!REGION_NAME.test(stackRegion)) throw new UsageError(`--region: ${JSON.stringify(stackRegion)} is not a region name (e.g. eu-west-1)`);
      const regions = parseRegionList(o.regions ?? stackRegion, '--regions');
      if (regions.length === 0) throw new UsageError('--regions: no region given');
      if (o.memberRoleName !== undefined && !IAM_ROLE_NAME.test(o.memberRoleName)) throw new UsageError(`--member-role-name: ${JSON.stringify(o.memberRoleName)} is not an IAM role name (1-64 of letters, digits and +=,.@_-)`);
      if (!STACK_SET_NAME.test(o.stackSetName)) throw new UsageError(`--stack-set-name: ${JSON.stringify(o.stackSetName)} is not a StackSet name (a letter, then letters, digits and -)`);
      const { CallerUnknownError, runOrgStatus } = await import('../org/run');
      let report;
      try {
        report = await runOrgStatus({ stackRegion, regions, memberRoleName: o.memberRoleName, externalId: process.env[o.externalIdEnv] || null, useDetective: o.detective, checkMemberRole: o.memberRole, stackSetName: o.stackSetName, now: typeof now === 'string' ? new Date(now) : now });
      } catch (e) {
        throw e instanceof CallerUnknownError ? new AwsSetupError(e.message) : e;
      }
      const { renderOrgStatusMarkdown, renderOrgStatusText } = await import('../org/render');
      if (o.format === 'json') io.out(JSON.stringify(report, null, 2) + '\n');
      else if (o.format === 'markdown') io.out(renderOrgStatusMarkdown(report));
      else io.out(renderOrgStatusText(report));
      if (o.failOnGaps && report.gaps.length > 0) code = EXIT.gaps;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(`trailstory: ${oneLine(e.message)}\n`);
      code = EXIT.usage;
    } else if (e instanceof AmbiguousFindingError) {
      io.err(`trailstory: ${oneLine(e.message)}\n`);
      // One id a line, the first 100 of them: a file of ten thousand findings is not ten thousand lines.
      for (const id of e.ids.slice(0, LISTED_IDS)) io.err(`${oneLine(id)}\n`);
      if (e.ids.length > LISTED_IDS) io.err(`… and ${e.ids.length - LISTED_IDS} more\n`);
      code = EXIT.usage;
    } else if (e instanceof FindingInputError || e instanceof TrailInputError || e instanceof EventMapError || e instanceof AwsSetupError || (e instanceof Error && e.name === 'QueryFailedError')) {
      io.err(`trailstory: ${oneLine(e.message)}\n`);
      code = EXIT.badInput;
    } else {
      io.err(`trailstory: internal error: ${lines((e as Error).stack ?? String(e))}\n`);
      code = EXIT.internal;
    }
  }
  return code;
}

/**
 * An error message as one line a terminal shows as it is (`terminal` in escape.ts): the file
 * names, finding ids, detail-types, product names and the parser's excerpt in it come from the
 * input, so it is capped at 8 KiB with a visible marker, and line breaks, tabs, ESC, BEL, NUL,
 * DEL, C1, bidirectional and zero-width characters become visible `[U+000A]` markers: a path
 * with a line break in its name is still one line.
 */
export function oneLine(message: string): string {
  return terminal(message).replace(/ {2,}/g, ' ').trim();
}

/** Text of several lines (commander's usage errors, a stack trace) for standard error: each line through {@link oneLine}'s sanitiser, the line breaks kept. */
function lines(text: string): string {
  return text
    .split('\n')
    .map((l) => terminal(l).replace(/\[U\+000D\]$/, ''))
    .join('\n');
}
