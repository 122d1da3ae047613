/**
 * From the walk's judged records to the storyline's scored fields: the steps in their order
 * (time, then eventID) with their tactics and grants, the origin with its reason in words, and
 * the lineage (storyline contract, "The fields that are scored"). Pure.
 */
import type { LineageEdge, Step } from '../model/storyline';
import { principalLabel } from '../identity/principal';
import { byTime, ipOf, valuesAt, type EdgeIndex } from './edges';
import { grantsOf } from './grants';
import { instanceTypesOf, tacticOf, type EventMap } from './tactics';
import type { Judged } from './walk';

/**
 * Steps that took credentials: control of compute (a mint of `access:<compute>`) followed by a
 * step made with that compute's role, and the reads of such a command's output
 * (`GetCommandInvocation` with its `commandId`).
 */
export function credentialTheftSteps(list: Judged[], index: EdgeIndex): Set<string> {
  const out = new Set<string>();
  const commands = new Set<string>();
  for (const j of list) {
    for (const m of index.edgesOf(j.ev).mints) {
      if (!m.node.startsWith('access:')) continue;
      const compute = m.node.slice('access:'.length);
      if (!list.some((o) => o.ev.epochMs >= j.ev.epochMs && index.computeOf(o.ev) === compute)) continue;
      out.add(j.ev.eventId);
      const id = valuesAt(j.ev, 'responseElements.command.commandId')[0];
      if (id) commands.add(id);
    }
  }
  for (const j of list) {
    const id = valuesAt(j.ev, 'requestParameters.commandId')[0];
    if (id && commands.has(id)) out.add(j.ev.eventId);
  }
  return out;
}

/** The judged records as steps, ordered, with their tactic in the story's context and what they granted. */
export function toSteps(judged: Judged[], eventMap: EventMap, index: EdgeIndex): Step[] {
  const list = [...judged].sort((a, b) => byTime(a.ev, b.ev));
  const launchRegions = new Map<string, Set<string>>();
  for (const j of list) {
    if (j.ev.eventName !== 'RunInstances' && j.ev.eventName !== 'StartInstances') continue;
    for (const t of instanceTypesOf(j.ev)) {
      const set = launchRegions.get(t) ?? new Set<string>();
      set.add(j.ev.awsRegion);
      launchRegions.set(t, set);
    }
  }
  const theft = credentialTheftSteps(list, index);
  return list.map((j) => {
    const ev = j.ev;
    const { tactic, technique } = tacticOf(ev, eventMap, {
      launchRegions,
      callerAccount: ev.identity.accountId ?? null,
      viaService: j.reason === 'service-for-attacker',
      tookCredentials: theft.has(ev.eventId),
      deliveredBy: index.edgesOf(ev).uses?.startsWith('delivery:') ? ev.identity.invokedBy : null,
    });
    const s: Step = {
      eventId: ev.eventId,
      eventTime: ev.eventTime,
      eventSource: ev.eventSource,
      eventName: ev.eventName,
      accountId: ev.accountId,
      region: ev.awsRegion,
      principalArn: ev.identity.arn,
      sourceIPAddress: ev.sourceIPAddress,
      tactic,
      technique,
      accessKeyId: ev.identity.accessKeyId,
      userAgent: ev.userAgent || null,
      errorCode: ev.errorCode,
      reason: j.reason,
    };
    const grants = grantsOf(ev);
    if (grants.length > 0) s.grants = grants;
    return s;
  });
}

/** The origin's reason in words: what happened, by whom, from where, and why it is the attacker's. */
export function originReason(j: Judged, chainNote: string | null): string {
  const ev = j.ev;
  const who = principalLabel(ev.identity);
  const cred = ev.identity.accessKeyId ? `key ${ev.identity.accessKeyId} (${who})` : who;
  const ip = ipOf(ev);
  const from = ip ? ` from ${ip}` : ` through ${ev.sourceIPAddress || 'an AWS service'}`;
  let what: string;
  if (ev.eventName === 'ConsoleLogin') what = `console sign-in as ${who}${from}`;
  else if (j.reason === 'took-control') what = `${ev.eventName} by ${cred}${from}`;
  else what = `first use of ${cred}${from} (${ev.eventName})`;
  let text = `${what}: ${j.why}`;
  if (ev.eventName === 'ConsoleLogin' && ev.additionalEventData?.MFAUsed === 'No') text += ', without MFA';
  if (chainNote) text += `; ${chainNote}`;
  return text;
}

/**
 * The principals of the lineage, in the order the attacker reached them: each step's principal
 * ARN (not services' and other accounts' copies), and the users the attacker created, at their
 * creation.
 */
export function lineageOf(steps: Step[], edges: LineageEdge[]): string[] {
  // A set beside the list: an attacker who creates thousands of users must not make this quadratic.
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (arn: string | null | undefined) => {
    if (arn && arn.startsWith('arn:') && !seen.has(arn)) {
      seen.add(arn);
      out.push(arn);
    }
  };
  const created = new Map<string, string>();
  for (const e of edges) if (e.byAttacker && e.via === 'CreateUser') created.set(e.eventId, e.to);
  for (const s of steps) {
    add(s.principalArn);
    add(created.get(s.eventId));
  }
  return out;
}

/** The lineage edges the walk crossed (the attacker's, and the legitimate issues behind them), in time order. */
export function visibleEdges(edges: LineageEdge[]): LineageEdge[] {
  return [...edges].sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
}

