/**
 * A step's MITRE ATT&CK tactic: the table-driven event map in `data/event-tactics.json`
 * (kept as data so users can extend it with `--event-map`), refined by the step's part in the
 * story ("Tactics in context", `shared/design/storyline-contract.md`).
 *
 * Context rules (each documented where it is applied):
 *  1. RunInstances / StartInstances of GPU or accelerated instance families, or of a type the
 *     attacker launches in several regions, are Impact (T1496 Resource Hijacking), not Execution.
 *  2. AssumeRole into another account is Lateral Movement (T1550.001 / TA0008); into the same
 *     account it stays Privilege Escalation.
 *  3. A ConsoleLogin of a principal the attacker created is Persistence's payoff but stays
 *     Initial Access (the first use of the account).
 *  4. An object a service writes for the attacker (Athena query results, say) is staged
 *     data: Collection (T1074 Data Staged), not Impact.
 *  5. A failed ConsoleLogin is Credential Access (T1110 Brute Force).
 *  6. Read-only calls not in the table default to Discovery.
 *  7. Control of compute (SSM Run Command or a session, EC2 Instance Connect, ECS Exec) whose
 *     role the attacker then used, and reading that command's output, are Credential Access
 *     (T1552.005): the role's credentials were taken through them.
 *  8. AWS delivering a role to compute the attacker launched or changed: to an instance or a
 *     task it is Credential Access (T1552.005, the credentials wait in the metadata endpoint for
 *     the attacker to read); to a function the attacker's code runs with them, Privilege
 *     Escalation.
 */
import defaultEventMap from '../../data/event-tactics.json';
import { readJsonFile } from '../model/json-file';
import type { Tactic } from '../model/storyline';
import type { TrailEvent } from '../trail/event';

/** The event map file's shape. */
export interface EventMap {
  tactics: Record<string, string>;
  readPrefixes: { tactic: string; prefixes: string[]; technique?: { id: string; name: string } };
  events: Record<string, { tactic: string; technique?: { id: string; name: string } }>;
}

/**
 * `data/event-tactics.json`, imported so that bundlers (the Lambda functions' esbuild) inline it
 * and the compiled CLI reads it from the package.
 */
export function loadDefaultEventMap(): EventMap {
  return defaultEventMap as EventMap;
}

/** A user event map that cannot be used: one line naming the file and the problem. */
export class EventMapError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'EventMapError';
  }
}

const TACTIC_ID = /^TA\d{4}$/;

/** At most 80 characters of a value from the event map, for an error message. */
function excerpt(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The largest event map read: every CloudTrail event name with a technique fits in far less. */
const MAX_EVENT_MAP_BYTES = 4 * 1024 * 1024;

/**
 * Merges a user's event map over the default; the user's entries win. Accepted shapes:
 * the default file's own (`{"events": {"Name": {"tactic": "TA0043", "technique": {…}}}}`),
 * or a flat object of `"EventName": "TA0043"` / `"EventName": {"tactic": "TA0043"}`.
 * @throws EventMapError when the file cannot be read, is not JSON, or names no valid tactic ID.
 */
export function loadEventMap(userFile?: string): EventMap {
  const base = loadDefaultEventMap();
  if (!userFile) return base;
  const doc = readJsonFile(userFile, { kind: 'event map', unreadable: 'cannot read the event map', invalid: 'the event map is not valid JSON' }, (problem) => new EventMapError(userFile, problem), MAX_EVENT_MAP_BYTES);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new EventMapError(userFile, 'an event map is a JSON object of "EventName": "TA00xx" entries');
  const o = doc as Record<string, unknown>;
  const entries = o.events && typeof o.events === 'object' && !Array.isArray(o.events) ? (o.events as Record<string, unknown>) : o;
  const events: EventMap['events'] = Object.create(null) as EventMap['events'];
  for (const [name, v] of Object.entries(entries)) {
    if (name.startsWith('$')) continue;
    const tactic = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { tactic?: unknown }).tactic : undefined;
    if (typeof tactic !== 'string' || !TACTIC_ID.test(tactic) || !base.tactics[tactic]) {
      throw new EventMapError(userFile, `entry "${excerpt(name)}" needs an ATT&CK Enterprise tactic ID such as "TA0007" (got ${excerpt(JSON.stringify(v) ?? String(v))})`);
    }
    const technique = v && typeof v === 'object' ? (v as { technique?: { id: string; name: string } }).technique : undefined;
    events[name] = technique ? { tactic, technique } : { tactic };
  }
  return { tactics: base.tactics, readPrefixes: base.readPrefixes, events: { ...base.events, ...events } };
}

/** What the story tells about a step, beyond the event itself. */
export interface StepContext {
  /** Instance type → the regions in which the attacker launched instances of it. */
  launchRegions: Map<string, Set<string>>;
  /** The account the calling credential belongs to. */
  callerAccount: string | null;
  /** The step was made by an AWS service acting for the attacker. */
  viaService: boolean;
  /**
   * The step took control of compute whose role the attacker then used (or read the output of
   * such a command): the credentials were taken through it.
   */
  tookCredentials?: boolean;
  /** The service that delivered a role's credentials to compute the attacker controls (`ec2.amazonaws.com`, `lambda.amazonaws.com`, …), when the step is that delivery. */
  deliveredBy?: string | null;
}

const GPU_FAMILY = /^(p\d|g\d|inf\d|trn\d|dl\d|f\d|vt\d)/i;

/** The instance types a RunInstances or StartInstances record names (request or response). */
export function instanceTypesOf(ev: TrailEvent): string[] {
  const out: string[] = [];
  const req = ev.requestParameters;
  const direct = req?.instanceType;
  if (typeof direct === 'string') out.push(direct);
  const items = (req?.instancesSet as { items?: unknown[] } | undefined)?.items;
  if (Array.isArray(items)) for (const it of items) if (it && typeof (it as { instanceType?: unknown }).instanceType === 'string') out.push((it as { instanceType: string }).instanceType);
  const respItems = (ev.responseElements?.instancesSet as { items?: unknown[] } | undefined)?.items;
  if (Array.isArray(respItems)) for (const it of respItems) if (it && typeof (it as { instanceType?: unknown }).instanceType === 'string') out.push((it as { instanceType: string }).instanceType);
  return out;
}

/** The tactic (and technique) of one step, from the map and the story's context. */
export function tacticOf(ev: TrailEvent, map: EventMap, ctx: StepContext): { tactic: Tactic | null; technique: { id: string; name: string } | null } {
  const mk = (id: string, technique?: { id: string; name: string } | null) => ({
    tactic: { id, name: map.tactics[id] ?? id },
    technique: technique ?? null,
  });
  const name = ev.eventName;
  if (name === 'RunInstances' || name === 'StartInstances') {
    const types = instanceTypesOf(ev);
    const gpu = types.some((t) => GPU_FAMILY.test(t));
    const spree = types.some((t) => (ctx.launchRegions.get(t)?.size ?? 0) > 1);
    if (gpu || spree) return mk('TA0040', { id: 'T1496.001', name: 'Resource Hijacking: Compute Hijacking' });
  }
  if (name === 'AssumeRole') {
    const roleArn = typeof ev.requestParameters?.roleArn === 'string' ? ev.requestParameters.roleArn : '';
    const roleAcct = roleArn.split(':')[4];
    if (roleAcct && ctx.callerAccount && roleAcct !== ctx.callerAccount) return mk('TA0008', { id: 'T1550.001', name: 'Use Alternate Authentication Material: Application Access Token' });
  }
  if (name === 'PutObject' && ctx.viaService) return mk('TA0009', { id: 'T1074', name: 'Data Staged' });
  if (ctx.tookCredentials) return mk('TA0006', { id: 'T1552.005', name: 'Unsecured Credentials: Cloud Instance Metadata API' });
  if (ctx.deliveredBy === 'lambda.amazonaws.com') return mk('TA0004', { id: 'T1548.005', name: 'Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access' });
  if (ctx.deliveredBy) return mk('TA0006', { id: 'T1552.005', name: 'Unsecured Credentials: Cloud Instance Metadata API' });
  if (name === 'ConsoleLogin' && (ev.errorMessage || ev.responseElements?.ConsoleLogin === 'Failure')) return mk('TA0006', { id: 'T1110', name: 'Brute Force' });
  // Own entries only: an event named `constructor` or `toString` must not find Object.prototype's.
  const entry = Object.hasOwn(map.events, name) ? map.events[name] : undefined;
  if (entry) return mk(entry.tactic, entry.technique);
  if (map.readPrefixes.prefixes.some((p) => name.startsWith(p))) return mk(map.readPrefixes.tactic, map.readPrefixes.technique);
  return { tactic: null, technique: null };
}
