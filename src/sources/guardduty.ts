/**
 * The GuardDuty source: the full finding by `GetFindings`
 * (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html), for
 * findings that reach us in a thinner form (a Security Hub custom action or the backfill carry
 * ASFF, where some GuardDuty details live only as flattened ProductFields). The detector comes
 * from the finding's ARN: in an organisation that is the administrator's detector, which reads
 * its members' findings too.
 */
import { GetFindingsCommand, type GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { NormalizedFinding } from '../model/finding';
import { parseFindings } from '../findings/normalize';
import type { SourceDescriptor } from './types';

export const guardDutyDescriptor: SourceDescriptor = {
  id: 'guardduty',
  iamActions: ['guardduty:GetFindings'],
  limits: ['50 finding ids a call; the detector named by the finding ARN (the administrator detector reads members\' findings)'],
};

/** The detector id in a GuardDuty finding ARN (`…:detector/<id>/finding/<id>`), or null. */
export function detectorOf(findingArn: string): string | null {
  const m = /:detector\/([^/]+)\/finding\//.exec(findingArn);
  return m?.[1] ?? null;
}

/** What the source gave: the native finding, or the one we had with a note saying why. */
export interface GuardDutyResult {
  finding: NormalizedFinding;
  note: string | null;
  requests: Record<string, number>;
}

/**
 * The native finding for `f`, normalised; `f` itself (with a note) when it is already native,
 * when the ARN names no detector, or when GuardDuty cannot be read. Never throws.
 */
export async function fullFinding(client: GuardDutyClient, f: NormalizedFinding): Promise<GuardDutyResult> {
  const requests: Record<string, number> = {};
  if (f.form === 'guardduty-native' || f.form === 'guardduty-getfindings' || f.form === 'eventbridge') return { finding: f, note: null, requests };
  const detector = detectorOf(f.arn);
  if (!detector) return { finding: f, note: `GuardDuty: the finding ARN names no detector; the Security Hub form was used`, requests };
  try {
    requests['guardduty:GetFindings'] = 1;
    const out = await client.send(new GetFindingsCommand({ DetectorId: detector, FindingIds: [f.id] }));
    const found = parseFindings({ Findings: out.Findings ?? [] }, `GuardDuty GetFindings ${f.id}`).find((x) => x.id === f.id);
    if (!found) return { finding: f, note: `GuardDuty: finding ${f.id} not returned by detector ${detector}; the Security Hub form was used`, requests };
    // Keep what only Security Hub holds (another tool's Note).
    return { finding: f.note ? { ...found, note: f.note } : found, note: null, requests };
  } catch (e) {
    return { finding: f, note: `GuardDuty: GetFindings failed (${(e as Error).name}); the Security Hub form was used`, requests };
  }
}
