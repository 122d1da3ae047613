/**
 * SDK client factories: one client per service and region, built once and handed in, with the
 * retry policy stated (adaptive retries, 4 attempts) and the endpoint override the local
 * emulator needs. Only this module, the sources' I/O and the writer import `@aws-sdk/*`.
 *
 * This module imports no SDK client itself: each use case names the client classes it uses
 * (`INTAKE_CLIENTS`, `BACKFILL_CLIENTS`, `WORKER_CLIENTS`, `ORG_STATUS_CLIENTS`) and
 * {@link clientsOf} builds exactly those, so a function's bundle holds only its own clients
 * (esbuild's metafile, `.build/<Name>.meta.json`, shows which; test/template checks it).
 * Every client at once, for tests and scripts: `makeClients` in `./all`.
 */
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { DetectiveClient } from '@aws-sdk/client-detective';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { Config } from '../config';

export interface Clients {
  cloudTrail(region: string): CloudTrailClient;
  securityHub(region: string): SecurityHubClient;
  detective(region: string): DetectiveClient;
  guardDuty(region: string): GuardDutyClient;
  sqs(): SQSClient;
  /** STS of `region` (regional endpoint: opt-in regions reject global-endpoint tokens). */
  sts(region: string): STSClient;
  /** Organizations (a global service: the SDK resolves its partition's one endpoint from any region). */
  organizations(): OrganizationsClient;
  /** S3 client of the function's own region (the report bucket); path-style for local endpoints. */
  s3(): S3Client;
  /** Athena of `region` (the workgroup's: the organisation trail's or Security Lake's tables). */
  athena(region: string): AthenaClient;
}

/** The services of {@link Clients}. */
export type ClientName = keyof Clients;

/** The SDK client class of each service. */
export interface ClientClasses {
  cloudTrail: typeof CloudTrailClient;
  securityHub: typeof SecurityHubClient;
  detective: typeof DetectiveClient;
  guardDuty: typeof GuardDutyClient;
  sqs: typeof SQSClient;
  sts: typeof STSClient;
  organizations: typeof OrganizationsClient;
  s3: typeof S3Client;
  athena: typeof AthenaClient;
}

/**
 * Clients of the services `K`, and the classes they were built from (so that clients of the same
 * services can be built for another account: src/clients/accounts.ts).
 */
export type ClientSet<K extends ClientName = ClientName> = Pick<Clients, K> & { readonly classes: Pick<ClientClasses, K> };

/** SDK settings every client shares beyond the defaults (credentials of another account, an endpoint). */
export interface ClientOverrides {
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);
  endpoint?: string;
  maxAttempts?: number;
  /** `adaptive` (default: client-side rate limiting after throttles) or `standard`. */
  retryMode?: 'adaptive' | 'standard';
  /** Time limits of each HTTP attempt, ms (default {@link DEFAULT_TIMEOUTS}): no call waits forever on a silent endpoint. */
  timeouts?: { connectionMs: number; requestMs: number };
}

/**
 * Each attempt's limits: 5 s to connect, 30 s for the answer (the SDK's NodeHttpHandler has none
 * by default, so a silent endpoint would hold a Lambda until its own timeout). Timed-out
 * attempts are retried like any network error.
 */
export const DEFAULT_TIMEOUTS = { connectionMs: 5_000, requestMs: 30_000 };

/** The SDK client settings of {@link ClientOverrides.timeouts}: NodeHttpHandler options (@smithy/types NodeHttpHandlerOptions). */
export function requestHandlerOptions(t: { connectionMs: number; requestMs: number } = DEFAULT_TIMEOUTS) {
  return { requestHandler: { connectionTimeout: t.connectionMs, requestTimeout: t.requestMs, throwOnRequestTimeout: true } };
}

/**
 * Clients of the services whose classes are given, for the function's own account;
 * `defaultRegion` for SQS, Organizations and S3.
 */
export function clientsOf<K extends ClientName>(
  classes: Pick<ClientClasses, K>,
  config: Pick<Config, 'endpoint'>,
  defaultRegion: string = process.env.AWS_REGION ?? 'us-east-1',
  overrides: ClientOverrides = {},
): ClientSet<K> {
  const { timeouts, ...rest } = overrides;
  const common = { retryMode: 'adaptive' as const, maxAttempts: 4, ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...requestHandlerOptions(timeouts), ...rest };
  const cache = new Map<string, unknown>();
  const get = <T>(key: string, make: () => T): T => {
    let c = cache.get(key) as T | undefined;
    if (!c) cache.set(key, (c = make()));
    return c;
  };
  const c: Partial<ClientClasses> = classes;
  const out: Partial<Clients> = {};
  const { cloudTrail: CT, securityHub: SH, detective: DT, guardDuty: GD, sts: STS, organizations: ORG, sqs: SQS, s3: S3, athena: ATH } = c;
  if (CT) out.cloudTrail = (region) => get(`ct/${region}`, () => new CT({ ...common, region }));
  if (SH) out.securityHub = (region) => get(`sh/${region}`, () => new SH({ ...common, region }));
  if (DT) out.detective = (region) => get(`dt/${region}`, () => new DT({ ...common, region }));
  if (GD) out.guardDuty = (region) => get(`gd/${region}`, () => new GD({ ...common, region }));
  if (STS) out.sts = (region) => get(`sts/${region}`, () => new STS({ ...common, region }));
  if (ORG) out.organizations = () => get('org', () => new ORG({ ...common, region: defaultRegion }));
  if (SQS) out.sqs = () => get('sqs', () => new SQS({ ...common, region: defaultRegion }));
  if (ATH) out.athena = (region) => get(`athena/${region}`, () => new ATH({ ...common, region }));
  if (S3) out.s3 = () => get('s3', () => new S3({ ...common, region: defaultRegion, forcePathStyle: Boolean(common.endpoint) }));
  return Object.assign(out as Pick<Clients, K>, { classes });
}
