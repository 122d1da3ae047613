/**
 * `--format ocsf` (src/render/ocsf.ts): the storyline as an OCSF 1.1.0 Detection Finding. Each
 * mapped field is checked against the storyline it came from; hostile strings (control
 * characters, bidirectional overrides, tag characters, values of 200 KiB) come out capped and
 * escaped with their value kept; and every output here validates against the OCSF 1.1.0 schema
 * (test/support/ocsf-schema.ts) when ../shared/schemas is there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOcsfFinding, OCSF_STRING_MAX, ocsfSeverityId, renderOcsf } from '../../src/render/ocsf';
import type { Step, Storyline } from '../../src/model/storyline';
import { loadOcsfSchema, OcsfValidator, ocsfSchemaDir } from '../support/ocsf-schema';
import { largeStoryline, markupStoryline } from './synthetic';
import packageJson from '../../package.json';

const NOW = '2026-11-29T12:00:00Z';
const NOW_MS = Date.parse(NOW);

const SCHEMA_DIR = ocsfSchemaDir();
const HAVE_SCHEMA = fs.existsSync(path.join(SCHEMA_DIR, 'dictionary.json'));
if (!HAVE_SCHEMA) process.stdout.write(`OCSF schema not found at ${SCHEMA_DIR}: the OCSF output is checked here without schema validation\n`);
let validator: OcsfValidator | null = null;
/** The schema's problems with an event ([] without the schema: the other assertions still run). */
function schemaProblems(ev: unknown): string[] {
  if (!HAVE_SCHEMA) return [];
  validator ??= new OcsfValidator(loadOcsfSchema(SCHEMA_DIR));
  return validator.problems(ev);
}

type Ev = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parsed(st: Storyline, reportUrl?: string): Ev {
  return JSON.parse(renderOcsf(st, { now: NOW, reportUrl })) as Ev;
}

describe('renderOcsf: the mapping', () => {
  test('class, activity, status, times, product, cloud: the Detection Finding frame', () => {
    const st = markupStoryline();
    const ev = parsed(st);
    expect(ev).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      activity_id: 1,
      type_uid: 200401,
      status_id: 1,
      status: 'New',
      time: NOW_MS,
      start_time: Date.parse(st.steps[0]!.eventTime),
      end_time: Date.parse(st.steps[st.steps.length - 1]!.eventTime),
      metadata: { version: '1.1.0', product: { name: 'trailstory', vendor_name: 'trailstory', version: packageJson.version }, profiles: ['cloud'] },
      cloud: { provider: 'AWS', region: st.finding.region, account: { uid: st.finding.accountId, type_id: 10 } },
    });
    expect(ev.severity_id).toBe(3); // GuardDuty 5 is Medium
    expect(ev.finding_info.created_time).toBe(NOW_MS);
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('finding_info: uid of the companion finding, the summary, the steps as related events then the GuardDuty finding', () => {
    const st = markupStoryline();
    const fi = parsed(st, 'https://reports.example.com/f1.html').finding_info;
    expect(fi.uid).toBe(`${st.finding.arn}/trailstory-storyline`);
    expect(fi.title).toBe(`Attack storyline of GuardDuty finding ${st.finding.type}`);
    expect(fi.desc).toBe(st.summary);
    expect(fi.first_seen_time).toBe(Date.parse(st.steps[0]!.eventTime));
    expect(fi.last_seen_time).toBe(Date.parse(st.steps[4]!.eventTime));
    expect(fi.src_url).toBe('https://reports.example.com/f1.html');
    const related = fi.related_events as Ev[];
    expect(related.map((r) => r.uid)).toEqual([...st.steps.map((s) => s.eventId), st.finding.arn]);
    expect(related[related.length - 1]).toEqual({ uid: st.finding.arn, type: `GuardDuty finding ${st.finding.type}`, product_uid: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' });
    expect(related[1]).toEqual({ uid: st.steps[1]!.eventId, type: 'CloudTrail iam.amazonaws.com AssumeRole', attacks: [{ tactic: { uid: 'TA0004', name: 'Privilege Escalation' } }] });
    // each tactic once, in the order the steps first show it
    expect((fi.attacks as Ev[]).map((a) => a.tactic.uid)).toEqual(['TA0007', 'TA0004', 'TA0003']);
    expect(parsed(st).finding_info.src_url).toBeUndefined();
  });

  test('evidences: each step\'s actor, api and src_endpoint, in order', () => {
    const st = markupStoryline();
    const evid = parsed(st).evidences as Ev[];
    expect(evid).toHaveLength(st.steps.length);
    expect(evid[0]).toEqual({
      actor: { user: { uid: st.steps[0]!.principalArn, credential_uid: 'AKIAEXAMPLE000000001', account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } } },
      api: { operation: 'GetCallerIdentity', service: { name: 'iam.amazonaws.com' } },
      src_endpoint: { ip: '203.0.113.9' },
    });
    expect(evid[3]!.api.response).toEqual({ error: '<b>Denied</b>' });
    expect(evid[4]!.src_endpoint).toEqual({ name: '<script>ip</script>' }); // not an address: a name, never ip
  });

  test('source addresses in every form CloudTrail writes: ip normalised, svc_name, name, or none', () => {
    const st = markupStoryline();
    const at = (sourceIPAddress: string) => ({ ...st.steps[0]!, sourceIPAddress });
    const forms = ['203.000.113.007', '2001:DB8:0:0:0:0:0:1', '::ffff:192.0.2.1', 'ec2.amazonaws.com', 'AWS Internal', ''];
    const ev = parsed({ ...st, steps: forms.map(at) });
    expect((ev.evidences as Ev[]).map((e) => e.src_endpoint)).toEqual([{ ip: '203.0.113.7' }, { ip: '2001:db8::1' }, { ip: '::ffff:192.0.2.1' }, { svc_name: 'ec2.amazonaws.com' }, { name: 'AWS Internal' }, undefined]);
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('a service acting for the attacker: invoked_by and svc_name; a principal-less cross-account copy: the account alone', () => {
    const st = markupStoryline();
    const svc: Step = { ...st.steps[4]!, sourceIPAddress: 'athena.amazonaws.com', reason: 'service-for-attacker' };
    const copy: Step = { ...st.steps[1]!, principalArn: null, accessKeyId: null, reason: 'cross-account-copy', sourceIPAddress: '2001:db8::7' };
    const ev = parsed({ ...st, steps: [svc, copy] });
    expect(ev.evidences[0].actor.invoked_by).toBe('athena.amazonaws.com');
    expect(ev.evidences[0].src_endpoint).toEqual({ svc_name: 'athena.amazonaws.com' });
    expect(ev.evidences[1].actor).toEqual({ user: { account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } } });
    expect(ev.evidences[1].src_endpoint).toEqual({ ip: '2001:db8::7' });
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('the lineage, its edges, the origin and the coverage go to unmapped', () => {
    const st = markupStoryline();
    const u = parsed(st).unmapped;
    expect(u.lineage).toEqual(st.lineage);
    expect(u.lineage_edges).toEqual([{ from: st.lineage[0], to: st.lineage[1], via: 'AssumeRole', event_id: st.steps[1]!.eventId, event_time: st.steps[1]!.eventTime, by_attacker: true }]);
    expect(u.origin).toEqual({ event_id: st.origin!.eventId, event_time: st.origin!.eventTime, event_name: 'GetCallerIdentity', reason: st.origin!.reason });
    expect(u.coverage).toMatchObject({ records_read: 4000, records_skipped: 2, gaps: st.coverage.gaps });
    expect(u.guardduty_finding_type).toBe(st.finding.type);
  });

  test('a technique with a sub-technique is split into technique and sub_technique', () => {
    const st = markupStoryline();
    const steps = [{ ...st.steps[3]!, technique: { id: 'T1136.003', name: 'Create Account: Cloud Account' } }, { ...st.steps[0]!, technique: { id: 'T1580', name: 'Cloud Infrastructure Discovery' } }];
    const ev = parsed({ ...st, steps });
    expect(ev.finding_info.attacks).toEqual([
      { tactic: { uid: 'TA0003', name: 'Persistence' }, technique: { uid: 'T1136', name: 'Create Account' }, sub_technique: { uid: 'T1136.003', name: 'Cloud Account' } },
      { tactic: { uid: 'TA0007', name: 'Discovery' }, technique: { uid: 'T1580', name: 'Cloud Infrastructure Discovery' } },
    ]);
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('severity_id from GuardDuty\'s severity levels', () => {
    const ids = [undefined, 0.5, 1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map((s) => ocsfSeverityId(s).severity_id);
    expect(ids).toEqual([0, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  test('an empty storyline: no evidences, the GuardDuty finding as the one related event, the gap as the description', () => {
    const st: Storyline = { ...markupStoryline(), steps: [], origin: null, lineage: [], lineageEdges: [], summary: 'no activity' };
    const ev = parsed(st);
    expect(ev.evidences).toBeUndefined();
    expect(ev.finding_info.related_events).toEqual([{ uid: st.finding.arn, type: `GuardDuty finding ${st.finding.type}`, product_uid: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }]);
    expect(ev.finding_info.desc).toBe(`No storyline: ${st.coverage.gaps[0]}`);
    expect(ev.finding_info.first_seen_time).toBe(Date.parse(st.finding.eventFirstSeen!));
    expect(ev.unmapped.origin).toBeNull();
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('3,000 steps: one evidence and one related event each, valid', () => {
    const st = largeStoryline(3000);
    const ev = parsed(st);
    expect(ev.evidences).toHaveLength(st.steps.length);
    expect((ev.finding_info.related_events as Ev[]).slice(0, -1).map((r) => r.uid)).toEqual(st.steps.map((s) => s.eventId));
    expect(schemaProblems(ev)).toEqual([]);
  });

  test('--now that is not a time is refused', () => {
    expect(() => renderOcsf(markupStoryline(), { now: 'yesterday' })).toThrow(RangeError);
  });

  test('the same storyline and time give the same text', () => {
    expect(renderOcsf(markupStoryline(), { now: NOW })).toBe(renderOcsf(markupStoryline(), { now: NOW }));
    expect(buildOcsfFinding(markupStoryline(), { now: NOW })).toEqual(JSON.parse(renderOcsf(markupStoryline(), { now: NOW })));
  });
});

describe('renderOcsf: hostile strings', () => {
  const CONTROL = 'a\u001b[2J\u0007b\u0000c\r\nd\u009be';
  const BIDI = 'admin\u202egpj.exe\u2066x\u2069\u200b\u{e0041}\u2028';
  const HUGE = 'x'.repeat(200 * 1024);

  function hostile(): Storyline {
    const st = markupStoryline();
    const steps = st.steps.map((s, i) => ({ ...s, eventName: i === 0 ? CONTROL : i === 1 ? BIDI : s.eventName, userAgent: HUGE, errorCode: i === 2 ? HUGE : s.errorCode, sourceIPAddress: i === 3 ? BIDI : s.sourceIPAddress }));
    return { ...st, steps, lineage: [...st.lineage, BIDI, HUGE], summary: `${CONTROL}${BIDI}`, finding: { ...st.finding, type: BIDI } };
  }

  test('control characters are JSON escapes and bidi, zero-width, tag and separator characters \\u escapes: the text holds none raw', () => {
    const text = renderOcsf(hostile(), { now: NOW });
    // eslint-disable-next-line no-control-regex
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|[\u{e0000}-\u{e007f}]/u;
    expect(raw.exec(text)?.[0]).toBeUndefined(); // (not toMatch: a failure would print 400 KB)
    expect(text.includes('admin\\u202egpj.exe\\u2066x\\u2069\\u200b\\udb40\\udc41\\u2028')).toBe(true);
    expect(text.includes('a\\u001b[2J\\u0007b\\u0000c\\r\\nd\\u009be')).toBe(true);
  });

  test('the values are kept exactly for a JSON reader, in every field they reach', () => {
    const ev = JSON.parse(renderOcsf(hostile(), { now: NOW })) as Ev;
    expect(ev.evidences[0].api.operation).toBe(CONTROL);
    expect(ev.evidences[1].api.operation).toBe(BIDI);
    expect(ev.evidences[3].src_endpoint).toEqual({ name: BIDI });
    expect(ev.finding_info.title).toBe(`Attack storyline of GuardDuty finding ${BIDI}`);
    expect(ev.message).toBe(`${CONTROL}${BIDI}`);
    expect(ev.unmapped.lineage[2]).toBe(BIDI);
  });

  test('a value of 200 KiB is cut at 65,535 bytes with the visible marker; the event stays valid', () => {
    const ev = JSON.parse(renderOcsf(hostile(), { now: NOW })) as Ev;
    const cut = ev.evidences[2].api.response.error as string;
    expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(OCSF_STRING_MAX);
    expect(cut.startsWith('x'.repeat(60_000))).toBe(true);
    expect(cut.endsWith('… [truncated, 204,800 bytes in all]')).toBe(true);
    expect(ev.unmapped.lineage[3]).toBe(cut);
    expect(schemaProblems(ev)).toEqual([]);
  });
});
