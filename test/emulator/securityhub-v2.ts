/**
 * The new Security Hub (OCSF findings) in the emulator: `BatchUpdateFindingsV2` and
 * `GetFindingsV2`, validated against the supplementary model (models/supplement/securityhub-v2.json;
 * the official model bundled here has neither operation), with the rules their API reference
 * states:
 *
 * - BatchUpdateFindingsV2 (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindingsV2.html):
 *   `MetadataUids` or `FindingIdentifiers`, not both ("Customers cannot use MetadataUids together
 *   with FindingIdentifiers"), one of them given (ValidationException); `Comment` 1-512
 *   characters matching `.*\S.*`, `SeverityId` 0-6 or 99, `StatusId` 0-5 or 99 (the model);
 *   a finding not found (or of an account the caller may not update: delegated administrators
 *   update their members' findings, members their own) is an `UnprocessedFindings` entry
 *   `ResourceNotFoundException` inside the 200; an update sets `comment`, `severity_id` with its
 *   caption `severity`, `status_id` with `status` ("the string sibling … will automatically be
 *   updated"), and does not change `finding_info.modified_time(_dt)` or `time(_dt)`. Each updated
 *   finding emits a "Findings Imported V2" event (securityhub-v2-cwe-event-formats: one finding an
 *   event), recorded in `SecurityHubState.v2Events`.
 * - GetFindingsV2 (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindingsV2.html):
 *   the caller's findings and those of its members (cross-Region aggregation as GetFindings);
 *   `Filters.CompositeFilters` (at most 10, each filter kind at most 20: the model) combined by
 *   `CompositeOperator` (default AND), each composite's `StringFilters`, `NumberFilters`,
 *   `BooleanFilters`, `DateFilters` and `NestedCompositeFilters` combined by its `Operator`
 *   (default AND), on the OCSF field paths named by `FieldName` (array values: any element);
 *   `MapFilters` and `IpFilters` are accepted and not applied; `Scopes` only for the region's
 *   delegated administrator, else AccessDeniedException; `SortCriteria` on a field path (default
 *   `finding_info.modified_time` descending); `MaxResults` (1-100, default 100) and `NextToken`
 *   bound to the parameters (else ValidationException).
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError } from './errors';
import { problemsMessage } from './models';
import { decodeToken, encodeToken } from './identity';
import type { CallContext, HandlerEntry, Json, SecurityHubState } from './services';

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The values at an OCSF dotted path, arrays flattened on the way (`evidences.api.operation`). */
export function valuesAt(o: unknown, dotted: string): unknown[] {
  let cur: unknown[] = [o];
  for (const p of dotted.split('.')) {
    const next: unknown[] = [];
    for (const c of cur) {
      const v = isObj(c) ? c[p] : undefined;
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined && v !== null) next.push(v);
    }
    cur = next;
  }
  return cur;
}

/** OCSF captions of `severity_id` (OCSF 1.1.0 base event). */
export const OCSF_SEVERITY: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };
/** OCSF captions of a Detection Finding's `status_id` (OCSF 1.1.0; 5 Archived as Security Hub uses it). */
export const OCSF_STATUS: Record<number, string> = { 0: 'Unknown', 1: 'New', 2: 'In Progress', 3: 'Suppressed', 4: 'Resolved', 5: 'Archived', 99: 'Other' };

/** The "Findings Imported V2" event Security Hub sends for one OCSF finding (user guide, EventBridge event formats). */
export function findingsImportedV2Event(f: Json, now: Date): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    account: String(valuesAt(f, 'cloud.account.uid')[0] ?? ''),
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: String(valuesAt(f, 'cloud.region')[0] ?? ''),
    resources: [String(valuesAt(f, 'metadata.uid')[0] ?? '')],
    detail: { findings: [structuredClone(f)] },
  };
}

function matchString(values: unknown[], filter: Json): boolean {
  const want = String(filter.Value ?? '');
  const vs = values.map((v) => String(v));
  switch (String(filter.Comparison ?? 'EQUALS')) {
    case 'EQUALS': return vs.includes(want);
    case 'NOT_EQUALS': return !vs.includes(want);
    case 'PREFIX': return vs.some((v) => v.startsWith(want));
    case 'PREFIX_NOT_EQUALS': return !vs.some((v) => v.startsWith(want));
    case 'CONTAINS': return vs.some((v) => v.includes(want));
    case 'NOT_CONTAINS': return !vs.some((v) => v.includes(want));
    case 'CONTAINS_WORD': return vs.some((v) => v.split(/\W+/).includes(want));
    default: return false;
  }
}

function matchNumber(values: unknown[], f: Json): boolean {
  return values.some((raw) => {
    const n = Number(raw);
    return (f.Eq === undefined || n === f.Eq) && (f.Gte === undefined || n >= Number(f.Gte)) && (f.Lte === undefined || n <= Number(f.Lte)) && (f.Gt === undefined || n > Number(f.Gt)) && (f.Lt === undefined || n < Number(f.Lt));
  });
}

function matchDate(values: unknown[], f: Json, now: Date): boolean {
  const unitMs = 24 * 3600 * 1000;
  return values.some((raw) => {
    const t = typeof raw === 'number' ? raw : Date.parse(String(raw));
    if (!Number.isFinite(t)) return false;
    const range = isObj(f.DateRange) ? f.DateRange : undefined;
    if (range) return t >= now.getTime() - Number(range.Value ?? 0) * unitMs && t <= now.getTime();
    return (f.Start === undefined || t >= Date.parse(String(f.Start))) && (f.End === undefined || t <= Date.parse(String(f.End)));
  });
}

/** Whether a finding matches one CompositeFilter (its filters and nested composites, by its Operator). */
function matchComposite(f: Json, c: Json, now: Date): boolean {
  const results: boolean[] = [];
  for (const x of arr(c.StringFilters) as Json[]) results.push(matchString(valuesAt(f, String(x.FieldName ?? '')), isObj(x.Filter) ? x.Filter : {}));
  for (const x of arr(c.NumberFilters) as Json[]) results.push(matchNumber(valuesAt(f, String(x.FieldName ?? '')), isObj(x.Filter) ? x.Filter : {}));
  for (const x of arr(c.BooleanFilters) as Json[]) results.push(valuesAt(f, String(x.FieldName ?? '')).includes(isObj(x.Filter) ? x.Filter.Value : undefined));
  for (const x of arr(c.DateFilters) as Json[]) results.push(matchDate(valuesAt(f, String(x.FieldName ?? '')), isObj(x.Filter) ? x.Filter : {}, now));
  for (const n of arr(c.NestedCompositeFilters) as Json[]) results.push(matchComposite(f, n, now));
  if (results.length === 0) return true;
  return c.Operator === 'OR' ? results.some(Boolean) : results.every(Boolean);
}

function hashOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}

/** The handlers of the two V2 operations, merged into Security Hub's (services.ts). */
export function securityHubV2Handlers(st: SecurityHubState): Record<string, HandlerEntry> {
  const validate = (ctx: CallContext, shape: string, input: Json): void => {
    const problems = ctx.model.validate(`com.amazonaws.securityhub#${shape}`, input);
    if (problems.length) throw new AwsError('ValidationException', problemsMessage(problems), 400);
  };
  /** OCSF findings the caller may see from this region (its own and its members', aggregation included). */
  const visible = (ctx: CallContext): { f: Json; region: string }[] =>
    st.visibleRegions(ctx.account, ctx.region).flatMap((r) =>
      [...(st.ocsfFindings.get(r)?.values() ?? [])].filter((f) => st.canAccess(ctx.account, String(valuesAt(f, 'cloud.account.uid')[0] ?? ''), r)).map((f) => ({ f, region: r })),
    );
  return {
    BatchUpdateFindingsV2: {
      selfValidate: true,
      fn: (ctx, input) => {
        validate(ctx, 'BatchUpdateFindingsV2Request', input);
        const ids = arr(input.FindingIdentifiers) as Json[];
        const uids = arr(input.MetadataUids) as string[];
        if (ids.length && uids.length) throw new AwsError('ValidationException', 'MetadataUids cannot be used together with FindingIdentifiers', 400);
        if (!ids.length && !uids.length) throw new AwsError('ValidationException', 'Either MetadataUids or FindingIdentifiers is required', 400);
        const mine = visible(ctx);
        const processed: Json[] = [];
        const unprocessed: Json[] = [];
        const targets: { found?: Json; ref: Json }[] = ids.length
          ? ids.map((fi) => ({
              ref: { FindingIdentifier: fi },
              found: mine.find(({ f }) =>
                valuesAt(f, 'cloud.account.uid')[0] === fi.CloudAccountUid && valuesAt(f, 'finding_info.uid')[0] === fi.FindingInfoUid && valuesAt(f, 'metadata.product.uid')[0] === fi.MetadataProductUid)?.f,
            }))
          : uids.map((u) => ({ ref: { MetadataUid: u }, found: mine.find(({ f }) => valuesAt(f, 'metadata.uid')[0] === u)?.f }));
        for (const { found, ref } of targets) {
          if (!found) { unprocessed.push({ ...ref, ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Finding not found' }); continue; }
          if (input.Comment !== undefined) found.comment = input.Comment;
          if (input.SeverityId !== undefined) { found.severity_id = input.SeverityId; found.severity = OCSF_SEVERITY[Number(input.SeverityId)]; }
          if (input.StatusId !== undefined) { found.status_id = input.StatusId; found.status = OCSF_STATUS[Number(input.StatusId)]; }
          processed.push(ref);
          st.v2Events.push(findingsImportedV2Event(found, ctx.now));
        }
        return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
      },
    },
    GetFindingsV2: {
      selfValidate: true,
      fn: (ctx, input) => {
        validate(ctx, 'GetFindingsV2Request', input);
        if (input.Scopes !== undefined && st.administrators.get(ctx.region)?.account !== ctx.account) {
          throw new AwsError('AccessDeniedException', `Account ${ctx.account} is not the delegated administrator: Scopes cannot be used`, 403);
        }
        const filters = isObj(input.Filters) ? input.Filters : {};
        const composites = arr(filters.CompositeFilters) as Json[];
        const or = filters.CompositeOperator === 'OR';
        let list = visible(ctx).map(({ f }) => f).filter((f) => {
          if (!composites.length) return true;
          const r = composites.map((c) => matchComposite(f, c, ctx.now));
          return or ? r.some(Boolean) : r.every(Boolean);
        });
        const sort = (arr(input.SortCriteria)[0] as Json | undefined) ?? { Field: 'finding_info.modified_time', SortOrder: 'desc' };
        const field = String(sort.Field ?? 'finding_info.modified_time');
        const dir = sort.SortOrder === 'asc' ? 1 : -1;
        const keyOf = (f: Json) => String(valuesAt(f, field)[0] ?? '');
        list = [...list].sort((a, b) => (keyOf(a) < keyOf(b) ? -dir : keyOf(a) > keyOf(b) ? dir : 0));
        const max = Number(input.MaxResults ?? 100);
        const h = hashOf({ filters, sort: input.SortCriteria, scopes: input.Scopes, max, caller: ctx.account });
        let offset = 0;
        if (input.NextToken !== undefined) {
          const t = decodeToken(String(input.NextToken));
          if (!t || t.h !== h || typeof t.o !== 'number') throw new AwsError('ValidationException', 'Invalid NextToken', 400);
          offset = t.o;
        }
        const next = offset + max < list.length ? encodeToken({ o: offset + max, h }) : undefined;
        return { Findings: list.slice(offset, offset + max).map((f) => structuredClone(f)), ...(next ? { NextToken: next } : {}) };
      },
    },
  };
}
