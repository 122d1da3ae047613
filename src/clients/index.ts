/**
 * SDK client factories: one client per service and region, built once and handed in, with the
 * retry policy stated (adaptive retries, 4 attempts) and the endpoint override the local
 * emulator needs. Only this module, the sources' I/O and the writer import `@aws-sdk/*`.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DetectiveClient } from '@aws-sdk/client-detective';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
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
}

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

/** Clients for the function's own account; `defaultRegion` for SQS. */
export function makeClients(config: Pick<Config, 'endpoint'>, defaultRegion: string = process.env.AWS_REGION ?? 'us-east-1', overrides: ClientOverrides = {}): Clients {
  const { timeouts, ...rest } = overrides;
  const common = { retryMode: 'adaptive' as const, maxAttempts: 4, ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...requestHandlerOptions(timeouts), ...rest };
  const cache = new Map<string, unknown>();
  const get = <T>(key: string, make: () => T): T => {
    let c = cache.get(key) as T | undefined;
    if (!c) cache.set(key, (c = make()));
    return c;
  };
  return {
    cloudTrail: (region) => get(`ct/${region}`, () => new CloudTrailClient({ ...common, region })),
    securityHub: (region) => get(`sh/${region}`, () => new SecurityHubClient({ ...common, region })),
    detective: (region) => get(`dt/${region}`, () => new DetectiveClient({ ...common, region })),
    guardDuty: (region) => get(`gd/${region}`, () => new GuardDutyClient({ ...common, region })),
    sts: (region) => get(`sts/${region}`, () => new STSClient({ ...common, region })),
    organizations: () => get('org', () => new OrganizationsClient({ ...common, region: defaultRegion })),
    sqs: () => get('sqs', () => new SQSClient({ ...common, region: defaultRegion })),
    s3: () => get('s3', () => new S3Client({ ...common, region: defaultRegion, forcePathStyle: Boolean(common.endpoint) })),
  };
}
