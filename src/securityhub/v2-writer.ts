/**
 * The new Security Hub's writer: reads GuardDuty's finding as the new Security Hub holds it
 * (`GetFindingsV2`) and sends what {@link buildBatchUpdateFindingsV2} built
 * (`BatchUpdateFindingsV2`), with the CSPM writer's habits (./writer.ts): invalid inputs are not
 * sent but returned as failures, every `UnprocessedFindings` entry (inside an HTTP 200) is retried
 * once and then returned as a failure with its error code for the caller to dead-letter, never
 * only logged.
 *
 * APIs: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindingsV2.html (IAM action
 * `securityhub:GetFindings`), https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindingsV2.html
 * (IAM action `securityhub:BatchUpdateFindings`; `UnprocessedFindings[].ErrorCode`
 * ResourceNotFoundException | ValidationException | InternalServerException | ConflictException).
 */
import { BatchUpdateFindingsV2Command, GetFindingsV2Command, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { WriteFailure, WriteResult } from './writer';
import { v2Problems, type BatchUpdateFindingsV2Input, type V2Current } from './v2';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * GuardDuty's finding as the new Security Hub holds it: its `comment`, `severity_id` and
 * `status_id`. One `GetFindingsV2` call filtered on the finding's three identifiers
 * (`cloud.account.uid`, `finding_info.uid`, `metadata.product.uid`, EQUALS, AND), `MaxResults` 1.
 *
 * @returns undefined when the new Security Hub does not hold the finding.
 * @throws the SDK's error (AccessDeniedException, ThrottlingException, ValidationException, …).
 */
export async function currentV2Finding(
  client: SecurityHubClient,
  id: BatchUpdateFindingsV2Input['FindingIdentifiers'][number],
  requests: Record<string, number> = {},
): Promise<V2Current | undefined> {
  requests['securityhub:GetFindingsV2'] = (requests['securityhub:GetFindingsV2'] ?? 0) + 1;
  const eq = (FieldName: 'cloud.account.uid' | 'finding_info.uid' | 'metadata.product.uid', Value: string) => ({ FieldName, Filter: { Value, Comparison: 'EQUALS' as const } });
  const out = await client.send(
    new GetFindingsV2Command({
      Filters: {
        CompositeFilters: [
          { Operator: 'AND', StringFilters: [eq('cloud.account.uid', id.CloudAccountUid), eq('finding_info.uid', id.FindingInfoUid), eq('metadata.product.uid', id.MetadataProductUid)] },
        ],
      },
      MaxResults: 1,
    }),
  );
  const f = out.Findings?.[0];
  if (!isObject(f)) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
  return {
    ...(typeof f.comment === 'string' ? { comment: f.comment } : {}),
    ...(num(f.severity_id) !== undefined ? { severityId: num(f.severity_id) } : {}),
    ...(num(f.status_id) !== undefined ? { statusId: num(f.status_id) } : {}),
  };
}

/**
 * Sends `BatchUpdateFindingsV2` inputs, one call each (each carries its own comment), each
 * unprocessed finding retried once. Invalid inputs (`v2Problems`) are not sent.
 *
 * @returns `updated`: findings processed; `failures`: stage `validate` or `update`, `id` the
 *   `FindingInfoUid`, the error code Security Hub gave, the message prefixed
 *   `BatchUpdateFindingsV2: `; `requests` by API. `imported` is always 0.
 * @throws the SDK's error when a whole call fails (throttling past the SDK's retries, access denied).
 */
export async function sendV2Writes(client: SecurityHubClient, inputs: BatchUpdateFindingsV2Input[]): Promise<WriteResult> {
  const result: WriteResult = { imported: 0, updated: 0, failures: [], requests: {} };
  const fail = (stage: WriteFailure['stage'], id: string, errorCode: string, message: string) =>
    result.failures.push({ stage, id, errorCode, errorMessage: `BatchUpdateFindingsV2: ${message}` });
  let pending: BatchUpdateFindingsV2Input[] = [];
  for (const input of inputs) {
    const problems = v2Problems(input);
    if (problems.length > 0) fail('validate', input.FindingIdentifiers?.[0]?.FindingInfoUid ?? '?', 'InvalidInput', problems.join('; '));
    else pending.push(input);
  }
  for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
    const retry: BatchUpdateFindingsV2Input[] = [];
    for (const input of pending) {
      result.requests['securityhub:BatchUpdateFindingsV2'] = (result.requests['securityhub:BatchUpdateFindingsV2'] ?? 0) + 1;
      const out = await client.send(new BatchUpdateFindingsV2Command(input));
      result.updated += out.ProcessedFindings?.length ?? 0;
      const unprocessed = out.UnprocessedFindings ?? [];
      if (unprocessed.length > 0 && attempt === 0) retry.push(input);
      else for (const u of unprocessed) fail('update', u.FindingIdentifier?.FindingInfoUid ?? u.MetadataUid ?? '?', u.ErrorCode ?? 'Unknown', u.ErrorMessage ?? '');
    }
    pending = retry;
  }
  return result;
}
