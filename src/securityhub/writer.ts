/**
 * The Security Hub writer: sends what {@link buildSecurityHubWrites} built. Idempotent and loud
 * (architecture habit 10): deterministic Ids, batches of at most 100, every `FailedFindings` /
 * `UnprocessedFindings` entry (which arrive inside an HTTP 200) retried once and then returned
 * as a failure with its error code for the caller to dead-letter, never only logged.
 *
 * APIs: BatchImportFindings, BatchUpdateFindings, GetFindings
 * (https://docs.aws.amazon.com/securityhub/1.0/APIReference/). The companion finding is
 * imported with the client of the finding's own account and region (import only works for the
 * caller's own account); Workflow is never touched (pitfall 9).
 */
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  type AwsSecurityFinding,
  type BatchUpdateFindingsCommandInput,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { asffProblems, type ExistingAnnotation, type SecurityHubWrites } from './asff';

/** Security Hub batch limit (findings or identifiers a call). */
export const BATCH_MAX = 100;

/** A write that did not land, with Security Hub's own error. */
export interface WriteFailure {
  stage: 'validate' | 'import' | 'update';
  id: string;
  errorCode: string;
  errorMessage: string;
}

export interface WriteResult {
  imported: number;
  updated: number;
  failures: WriteFailure[];
  /** Requests made, by API. */
  requests: Record<string, number>;
}

function chunks<T>(list: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

/**
 * What GuardDuty's finding holds now in Security Hub in the fields the annotation unites with
 * (`Note`, `Types`, `RelatedFindings`, `UserDefinedFields`), so another tool's, an analyst's and
 * GuardDuty's own values are kept (pitfall 10; `buildSecurityHubWrites`). One `GetFindings`
 * call filtered on the finding's `Id` and `ProductArn`
 * (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html), counted in
 * `requests`. Undefined when the finding is not in Security Hub. Entries of the wrong shape (a
 * link without `Id`) are left out. Throws the SDK's error when the call fails.
 */
export async function currentAnnotation(client: SecurityHubClient, findingArn: string, productArn: string, requests: Record<string, number> = {}): Promise<ExistingAnnotation | undefined> {
  requests['securityhub:GetFindings'] = (requests['securityhub:GetFindings'] ?? 0) + 1;
  const out = await client.send(
    new GetFindingsCommand({ Filters: { Id: [{ Value: findingArn, Comparison: 'EQUALS' }], ProductArn: [{ Value: productArn, Comparison: 'EQUALS' }] }, MaxResults: 1 }),
  );
  const f = out.Findings?.[0];
  if (!f) return undefined;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.UserDefinedFields ?? {})) {
    if (typeof v === 'string') Object.defineProperty(fields, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return {
    ...(f.Note?.Text ? { Note: { Text: f.Note.Text, UpdatedBy: f.Note.UpdatedBy ?? '' } } : {}),
    Types: (f.Types ?? []).filter((t): t is string => typeof t === 'string'),
    RelatedFindings: (f.RelatedFindings ?? []).flatMap((r) => (r.ProductArn && r.Id ? [{ ProductArn: r.ProductArn, Id: r.Id }] : [])),
    UserDefinedFields: fields,
  };
}

/**
 * Sends the writes of several storylines (`importClient`: the client of the findings' own
 * account, where the companion finding must be imported; the annotation goes through `client`,
 * which in an organisation is the delegated administrator's): imports first (so the annotation's RelatedFindings
 * point at a finding that exists), then updates, each in batches of at most 100, each failed
 * entry retried once. Invalid entries are not sent (pitfall 4): they come back as failures.
 */
export async function sendWrites(client: SecurityHubClient, writes: SecurityHubWrites[], importClient: SecurityHubClient = client): Promise<WriteResult> {
  const result: WriteResult = { imported: 0, updated: 0, failures: [], requests: {} };
  const count = (api: string) => (result.requests[api] = (result.requests[api] ?? 0) + 1);

  let imports: AwsSecurityFinding[] = [];
  for (const w of writes) {
    for (const f of w.batchImportFindings?.Findings ?? []) {
      const problems = asffProblems(f);
      if (problems.length > 0) result.failures.push({ stage: 'validate', id: String(f.Id), errorCode: 'InvalidInput', errorMessage: problems.join('; ') });
      else imports.push(f as unknown as AwsSecurityFinding);
    }
  }
  for (let attempt = 0; attempt < 2 && imports.length > 0; attempt++) {
    const retry: AwsSecurityFinding[] = [];
    for (const batch of chunks(imports, BATCH_MAX)) {
      count('securityhub:BatchImportFindings');
      const out = await importClient.send(new BatchImportFindingsCommand({ Findings: batch }));
      result.imported += out.SuccessCount ?? 0;
      for (const failed of out.FailedFindings ?? []) {
        const f = batch.find((x) => x.Id === failed.Id);
        if (attempt === 0 && f) retry.push(f);
        else result.failures.push({ stage: 'import', id: failed.Id ?? '?', errorCode: failed.ErrorCode ?? 'Unknown', errorMessage: failed.ErrorMessage ?? '' });
      }
    }
    imports = retry;
  }

  let updates: BatchUpdateFindingsCommandInput[] = [];
  for (const w of writes) {
    const u = w.batchUpdateFindings as unknown as BatchUpdateFindingsCommandInput;
    const problems = asffProblems(w.batchUpdateFindings);
    const id = u.FindingIdentifiers?.[0]?.Id ?? '?';
    if (problems.length > 0) result.failures.push({ stage: 'validate', id, errorCode: 'InvalidInput', errorMessage: problems.join('; ') });
    else updates.push(u);
  }
  // One update a storyline (each carries its own Note and fields); identical ones could be merged,
  // but each finding's annotation differs.
  for (let attempt = 0; attempt < 2 && updates.length > 0; attempt++) {
    const retry: BatchUpdateFindingsCommandInput[] = [];
    for (const u of updates) {
      count('securityhub:BatchUpdateFindings');
      const out = await client.send(new BatchUpdateFindingsCommand(u));
      result.updated += out.ProcessedFindings?.length ?? 0;
      for (const un of out.UnprocessedFindings ?? []) {
        if (attempt === 0) retry.push(u);
        else result.failures.push({ stage: 'update', id: un.FindingIdentifier?.Id ?? '?', errorCode: un.ErrorCode ?? 'Unknown', errorMessage: un.ErrorMessage ?? '' });
      }
    }
    updates = retry;
  }
  return result;
}
