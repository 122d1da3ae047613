/**
 * OrgStatus (scheduled): `trailstory org-status` as a function. It runs as the enrich worker's
 * role, the one principal the member role trusts, so its member-role check is the worker's own.
 * The report is logged (one line with the summary, one warning per gap), counted in the
 * `OrgStatusGaps` metric, and returned (for `aws lambda invoke`).
 *
 * Environment: ORG_STATUS_REGIONS (comma separated; default the function's region), and the
 * worker's MEMBER_ROLE_NAME, MEMBER_EXTERNAL_ID, USE_DETECTIVE.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { readConfig } from '../src/config';
import { chain, logger, metrics } from '../src/lambda/chain';
import { runOrgStatus } from '../src/org/run';

const config = readConfig();

export const handler = chain(async () => {
  const stackRegion = process.env.AWS_REGION ?? 'us-east-1';
  const regions = config.orgStatusRegions.length ? config.orgStatusRegions : [stackRegion];
  const report = await runOrgStatus({ stackRegion, regions, config });
  const byComponent: Record<string, number> = {};
  for (const g of report.gaps) byComponent[g.component] = (byComponent[g.component] ?? 0) + 1;
  logger.info('org-status', { organizationId: report.organizationId, accounts: new Set(report.accounts.map((a) => a.account)).size, regions: report.regions, aggregation: report.aggregation, gaps: report.gaps.length, byComponent, requests: report.requests });
  for (const g of report.gaps) logger.warn('org-status gap', { ...g });
  metrics.addMetric('OrgStatusGaps', MetricUnit.Count, report.gaps.length);
  return report;
});
