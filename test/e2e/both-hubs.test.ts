/**
 * End to end, both Security Hubs (issue 12): a GuardDuty finding through the intake and the
 * enrich worker against the emulator (real SDK v3 clients, every request checked against the
 * Smithy models, the V2 operations against the supplementary model) with idempotency on dynalite,
 * in each deployment mode (`SECURITY_HUB_TARGET` cspm, new, both). What the finding holds
 * afterwards is read back from the emulator: our text where the mode writes, another tool's
 * CSPM Note and V2 comment still there, severity and status untouched. Then: one enrichment for
 * a finding that arrives through both events (GuardDuty Finding and Findings Imported V2), and
 * the Findings Imported V2 event our own comment causes dropped at the intake.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import { makeWorker, type RecordOutcome } from '../../src/lambda/worker';
import { readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';
import { findingsImportedV2Event } from '../emulator/securityhub-v2';
import { lambdaContext, sqsEvent, startDynamo } from './harness';
import { sharedDir } from '../support/shared';

/**
 * `../shared` beside the checkout; in a git worktree elsewhere, beside the checkout its
 * node_modules link points into.
 */
const SCENARIO = path.join(sharedDir(), 'scenarios', 'a-leaked-key-cryptomining');
const HAVE = fs.existsSync(path.join(SCENARIO, 'finding.json'));
if (!HAVE) process.stdout.write('shared/ not found: skipping the both-Security-Hubs end-to-end tests\n');

const THEIR_NOTE = { Text: 'jiraIssue: SEC-123', UpdatedBy: 'jira-sync' };
const THEIR_COMMENT = 'SEC-123: triage by the on-call analyst';
/** Another tool's and an analyst's values in the fields BatchUpdateFindings replaces. */
const THEIR_TYPE = 'Software and Configuration Checks/Vulnerabilities/CVE';
const THEIR_LINK = { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector', Id: 'arn:aws:inspector2:us-east-1:111111111111:finding/their-finding' };
const THEIR_FIELDS = { ticket: 'SEC-123', owner: 'team-payments' };

type Json = Record<string, unknown>;

(HAVE ? describe : describe.skip)('both Security Hubs, end to end', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let table = 0;

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 12 });
    dynamo = await startDynamo('idempotency');
  });
  afterAll(async () => {
    await emu?.stop();
    await dynamo?.stop();
  });

  /** Seeds the scenario with another tool's Note (CSPM) and comment (new Security Hub); the intake and worker of a deployment in `target` mode. */
  function deploy(target: string) {
    emu.reset();
    emu.knobs.lookupEventsPerSecond = 0;
    seedScenario(emu, SCENARIO);
    const f = readFinding(path.join(SCENARIO, 'finding.json'));
    const asff = emu.securityHub.get(f.arn) as Json;
    asff.Note = { ...THEIR_NOTE, UpdatedAt: '2026-01-01T00:00:00Z' };
    asff.Types = [...((asff.Types as string[] | undefined) ?? []), THEIR_TYPE];
    asff.RelatedFindings = [THEIR_LINK];
    asff.UserDefinedFields = { ...THEIR_FIELDS };
    const guardDutyTypes = asff.Types as string[];
    const ocsf = emu.securityHub.getOcsf(f.arn) as Json;
    ocsf.comment = THEIR_COMMENT;
    const seeded = { severityId: ocsf.severity_id, statusId: ocsf.status_id };
    const queueUrl = emu.sqs.createQueue('enrich', f.accountId, f.region);
    const dlqUrl = emu.sqs.createQueue('enrich-dlq', f.accountId, f.region);
    // A fresh idempotency key space per deployment: the key is the same finding and update in every mode.
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', MIN_SEVERITY: '0', SECURITY_HUB_TARGET: target, USE_DETECTIVE: 'false' });
    const clients = makeClients(config, f.region, { endpoint: emu.endpoint, credentials: emu.clientConfig(f.accountId, f.region).credentials });
    const outcomes: RecordOutcome[] = [];
    const offset = Date.parse(f.updatedAt ?? '') + 3600 * 1000 - Date.now();
    const timer = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const worker = makeWorker(config, clients, dynamo.client, { onOutcome: (o) => outcomes.push(o), timer });
    const prefix = `t${table++}-`;
    /** Runs the worker on every message queued so far and not yet run (each delivery its own batch). */
    let done = 0;
    const drain = async (failing = false) => {
      const msgs = emu.sqs.messages(queueUrl).slice(done);
      done += msgs.length;
      for (const m of msgs) {
        // Keys differ per deployment (the same dynalite table serves every test).
        const body = JSON.parse(m.Body) as { key: string };
        body.key = prefix + body.key;
        const r = await worker(sqsEvent([JSON.stringify(body)], f.region), lambdaContext('enrich-worker', 60_000));
        expect(r.batchItemFailures).toEqual(failing ? [{ itemIdentifier: 'm0' }] : []);
      }
    };
    const guardDutyEvent = { version: '0', id: 'gd', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, region: f.region, time: f.updatedAt, resources: [], detail: JSON.parse(fs.readFileSync(path.join(SCENARIO, 'finding.json'), 'utf8')) as Json };
    return { f, intake: makeIntake(config, clients), drain, outcomes, guardDutyEvent, queueUrl, seeded, guardDutyTypes };
  }

  const ops = (name: string) => emu.requests.filter((r) => r.operation === name && r.status === 200).length;

  test.each([
    ['cspm', { cspm: true, v2: false }],
    ['new', { cspm: false, v2: true }],
    ['both', { cspm: true, v2: true }],
  ])('SECURITY_HUB_TARGET=%s: ours where the mode writes, another tool\'s Note and comment kept, severity and status untouched', async (target, writes) => {
    const d = deploy(target);
    expect((await d.intake(d.guardDutyEvent)).queued).toBe(1);
    await d.drain();
    expect(d.outcomes).toHaveLength(1);
    const steps = d.outcomes[0]!.steps;
    expect(steps).toBeGreaterThan(0);

    const asff = emu.securityHub.get(d.f.arn) as Json & { Note: { Text: string; UpdatedBy: string }; Types: string[]; RelatedFindings: unknown[]; UserDefinedFields: Record<string, string> };
    // In every mode GuardDuty's types and another tool's type, link and fields are still there.
    expect(asff.Types).toEqual(expect.arrayContaining(d.guardDutyTypes));
    expect(asff.RelatedFindings).toContainEqual(THEIR_LINK);
    expect(asff.UserDefinedFields).toMatchObject(THEIR_FIELDS);
    const ocsf = emu.securityHub.getOcsf(d.f.arn) as Json & { comment: string; severity_id: number; status_id: number };
    if (writes.cspm) {
      expect(asff.Note.UpdatedBy).toBe('trailstory');
      expect(asff.Note.Text.endsWith(`\n[${THEIR_NOTE.UpdatedBy}] ${THEIR_NOTE.Text}`)).toBe(true);
      expect((asff.UserDefinedFields as Record<string, string>)['trailstory.4.steps']).toBe(String(steps));
      expect(emu.securityHub.get(`${d.f.arn}/trailstory-storyline`)).toBeDefined();
      // Ours beside theirs: the link to the storyline finding and the tactics' types.
      expect(asff.RelatedFindings).toContainEqual(expect.objectContaining({ Id: `${d.f.arn}/trailstory-storyline` }));
      expect(asff.Types.length).toBeGreaterThan(d.guardDutyTypes.length);
    } else {
      expect(asff.Note).toEqual({ ...THEIR_NOTE, UpdatedAt: '2026-01-01T00:00:00Z' });
      expect(asff.UserDefinedFields).toEqual(THEIR_FIELDS);
      expect(asff.Types).toEqual(d.guardDutyTypes);
      expect(ops('BatchUpdateFindings') + ops('BatchImportFindings')).toBe(0);
    }
    if (writes.v2) {
      expect(ocsf.comment.startsWith(`[trailstory ${d.f.updatedAt}] `)).toBe(true);
      expect(ocsf.comment.endsWith(`\n[comment] ${THEIR_COMMENT}`)).toBe(true);
      expect(ocsf.comment.length).toBeLessThanOrEqual(512);
      expect([ops('GetFindingsV2'), ops('BatchUpdateFindingsV2')]).toEqual([1, 1]);
    } else {
      expect(ocsf.comment).toBe(THEIR_COMMENT);
      expect(ops('GetFindingsV2') + ops('BatchUpdateFindingsV2')).toBe(0);
    }
    // Severity and status: not opted in, never touched.
    expect(d.seeded).toEqual({ severityId: 3, statusId: 1 }); // GuardDuty 5.x: Medium; New
    expect([ocsf.severity_id, ocsf.status_id, ocsf.status]).toEqual([3, 1, 'New']);
    expect(JSON.stringify(emu.requests.filter((r) => r.operation === 'BatchUpdateFindingsV2'))).not.toMatch(/SeverityId|StatusId/);
  });

  test('the comment cannot be read (GetFindingsV2 fails): nothing written, the message fails for a retry, another author\'s comment kept', async () => {
    const d = deploy('new');
    emu.knobs.faults['securityhub:GetFindingsV2'] = 'server';
    await d.intake(d.guardDutyEvent);
    await d.drain(true);
    expect(ops('BatchUpdateFindingsV2')).toBe(0);
    expect((emu.securityHub.getOcsf(d.f.arn) as Json).comment).toBe(THEIR_COMMENT);
  });

  test('a re-enrichment replaces only our line of the comment', async () => {
    const d = deploy('new');
    await d.intake(d.guardDutyEvent);
    await d.drain();
    const first = (emu.securityHub.getOcsf(d.f.arn) as Json).comment as string;
    // GuardDuty re-publishes the finding: a later updatedAt, a new enrichment.
    const later = new Date(Date.parse(d.f.updatedAt ?? '') + 6 * 3600_000).toISOString();
    const ev = { ...d.guardDutyEvent, detail: { ...(d.guardDutyEvent.detail), updatedAt: later } };
    await d.intake(ev);
    await d.drain();
    const second = (emu.securityHub.getOcsf(d.f.arn) as Json).comment as string;
    expect(d.outcomes).toHaveLength(2);
    expect(second.startsWith(`[trailstory ${later.replace(/\.000Z$/, 'Z')}] `)).toBe(true);
    expect(second.split('\n')).toHaveLength(2);
    expect(second.split('\n')[1]).toBe(first.split('\n')[1]);
    expect(second.endsWith(`[comment] ${THEIR_COMMENT}`)).toBe(true);
  });

  test.each([
    ['GuardDuty Finding first', false],
    ['Findings Imported V2 first', true],
  ])('one enrichment for a finding that arrives through both events (%s)', async (_order, v2First) => {
    const d = deploy('both');
    const v2Event = findingsImportedV2Event(emu.securityHub.getOcsf(d.f.arn) as Json, new Date());
    const events = v2First ? [v2Event, d.guardDutyEvent] : [d.guardDutyEvent, v2Event];
    for (const e of events) expect(await d.intake(e)).toEqual({ queued: 1, dropped: {} });
    const bodies = emu.sqs.messages(d.queueUrl).map((m) => JSON.parse(m.Body) as { key: string; via: string });
    expect(bodies.map((b) => b.via)).toEqual(v2First ? ['securityhub-v2-event', 'guardduty-event'] : ['guardduty-event', 'securityhub-v2-event']);
    // The same idempotency key from both events: account, region, finding id, GuardDuty's updatedAt.
    expect(bodies[0]!.key).toBe(bodies[1]!.key);
    await d.drain();
    expect(ops('BatchUpdateFindingsV2')).toBe(1);
    expect(ops('BatchUpdateFindings')).toBe(1);
    expect(d.outcomes).toHaveLength(2);
    expect(d.outcomes[1]).toEqual(d.outcomes[0]);
  });

  test('the Findings Imported V2 event our own comment causes is dropped at the intake, counted; a later GuardDuty update is not', async () => {
    const d = deploy('new');
    await d.intake(d.guardDutyEvent);
    await d.drain();
    expect(emu.securityHub.v2Events).toHaveLength(1);
    const echo = emu.securityHub.v2Events[0]!;
    const logged: string[] = [];
    const config = readConfig([], { ENRICH_QUEUE_URL: d.queueUrl, MIN_SEVERITY: '0' });
    const intake = makeIntake(config, makeClients(config, d.f.region, { endpoint: emu.endpoint, credentials: emu.clientConfig(d.f.accountId, d.f.region).credentials }), (m) => logged.push(m));
    expect(await intake(echo)).toEqual({ queued: 0, dropped: { 'own-comment': 1 } });
    expect(logged).toEqual(['dropped: the new Security Hub echoing our own comment']);
    expect(emu.sqs.messages(d.queueUrl)).toHaveLength(1);
    // GuardDuty updates the finding later: its import carries our old comment and a new modified time: enriched.
    const updated = structuredClone(echo) as { detail: { findings: { finding_info: Json }[] } };
    updated.detail.findings[0]!.finding_info.modified_time_dt = new Date(Date.parse(d.f.updatedAt ?? '') + 3600_000).toISOString();
    delete updated.detail.findings[0]!.finding_info.modified_time;
    expect(await intake(updated)).toEqual({ queued: 1, dropped: {} });
  });
});
