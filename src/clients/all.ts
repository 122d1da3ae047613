/**
 * Every SDK client at once, for tests, scripts and the local demo. The functions never import
 * this module: each builds only the clients its use case names (src/clients/index.ts).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DetectiveClient } from '@aws-sdk/client-detective';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { clientsOf, type ClientClasses, type ClientOverrides, type ClientSet } from './index';
import type { Config } from '../config';

/** The class of every service. */
export const ALL_CLIENTS: ClientClasses = {
  cloudTrail: CloudTrailClient,
  securityHub: SecurityHubClient,
  detective: DetectiveClient,
  guardDuty: GuardDutyClient,
  sqs: SQSClient,
  sts: STSClient,
  organizations: OrganizationsClient,
  s3: S3Client,
  athena: AthenaClient,
};

/** Clients of every service for the function's own account; `defaultRegion` for SQS, Organizations and S3. */
export function makeClients(config: Pick<Config, 'endpoint'>, defaultRegion: string = process.env.AWS_REGION ?? 'us-east-1', overrides: ClientOverrides = {}): ClientSet {
  return clientsOf(ALL_CLIENTS, config, defaultRegion, overrides);
}
