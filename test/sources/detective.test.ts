import { DetectiveClient } from '@aws-sdk/client-detective';
import type { NormalizedFinding } from '../../src/model/finding';
import type { Storyline } from '../../src/model/storyline';
import { DetectiveSource, detectiveDescriptor, investigableEntity } from '../../src/sources/detective';
import { AwsEmulator } from '../emulator/server';

const ADMIN = '111111111111';
const MEMBER = '222222222222';
const R = 'us-east-1';

function finding(over: Partial<NormalizedFinding> = {}): NormalizedFinding {
  return {
    form: 'guardduty-native',
    id: 'f1',
    arn: `arn:aws:guardduty:${R}:${MEMBER}:detector/d1/finding/f1`,
    type: 'Discovery:IAMUser/AnomalousBehavior',
    accountId: MEMBER,
    region: R,
    partition: 'aws',
    eventFirstSeen: '2026-10-15T02:00:00.000Z',
    eventLastSeen: '2026-10-15T03:00:00.000Z',
    actor: { userType: 'AssumedRole', userName: 'deployer', principalId: 'AROAEXAMPLE:session-1', accessKeyId: 'ASIAEXAMPLE' },
    remoteIps: [],
    bucketNames: [],
    sample: false,
    ...over,
  };
}

function storyline(lineage: string[], f: NormalizedFinding = finding()): Storyline {
  return {
    schemaVersion: '1',
    finding: { id: f.id, type: f.type, accountId: f.accountId, region: f.region, arn: f.arn, eventFirstSeen: f.eventFirstSeen, eventLastSeen: f.eventLastSeen },
    origin: null,
    steps: [],
    lineage,
    lineageEdges: [],
    attackerSources: [],
    coverage: {
      sample: false, filesRead: 0, filesSkipped: 0, recordsRead: 0, recordsSkipped: 0, skippedReasons: {}, skippedFiles: [],
      accounts: [], regions: [], timeSpan: { from: null, to: null }, gaps: [], recordsExamined: 0,
    },
    summary: '',
  };
}

const SESSION = `arn:aws:sts::${MEMBER}:assumed-role/deployer/session-1`;
const ROLE_WITH_PATH = `arn:aws:iam::${MEMBER}:role/ops/ci/deployer`;

describe('investigableEntity (pitfall 17: Detective entity types)', () => {
  test('a role session actor is investigated as its role, with its path when the lineage has it', () => {
    expect(investigableEntity(storyline([SESSION]), finding())).toBe(`arn:aws:iam::${MEMBER}:role/deployer`);
    expect(investigableEntity(storyline([SESSION, ROLE_WITH_PATH]), finding())).toBe(ROLE_WITH_PATH);
  });

  test('a role of another account with the same name does not lend its path', () => {
    expect(investigableEntity(storyline([SESSION, `arn:aws:iam::333333333333:role/x/deployer`]), finding())).toBe(`arn:aws:iam::${MEMBER}:role/deployer`);
  });

  test('the partition comes from the finding', () => {
    const f = finding({ partition: 'aws-us-gov', region: 'us-gov-west-1' });
    expect(investigableEntity(storyline([]), f)).toBe(`arn:aws-us-gov:iam::${MEMBER}:role/deployer`);
  });

  test('an IAM user actor: its user ARN (path from the lineage)', () => {
    const f = finding({ actor: { userType: 'IAMUser', userName: 'alice' } });
    expect(investigableEntity(storyline([]), f)).toBe(`arn:aws:iam::${MEMBER}:user/alice`);
    expect(investigableEntity(storyline([`arn:aws:iam::${MEMBER}:user/staff/alice`]), f)).toBe(`arn:aws:iam::${MEMBER}:user/staff/alice`);
  });

  test('root, federated users and services are not investigable', () => {
    expect(investigableEntity(storyline([`arn:aws:iam::${MEMBER}:root`]), finding({ actor: { userType: 'Root' } }))).toBeNull();
    expect(investigableEntity(storyline([`arn:aws:sts::${MEMBER}:federated-user/bob`]), finding({ actor: { userType: 'FederatedUser', userName: 'bob' } }))).toBeNull();
    expect(investigableEntity(storyline([]), finding({ actor: { userType: 'AWSService' } }))).toBeNull();
  });

  test('without an actor type: the first lineage principal', () => {
    const noActor = finding({ actor: {} });
    expect(investigableEntity(storyline([SESSION, ROLE_WITH_PATH]), noActor)).toBe(ROLE_WITH_PATH);
    expect(investigableEntity(storyline([`arn:aws:iam::${MEMBER}:user/alice`]), noActor)).toBe(`arn:aws:iam::${MEMBER}:user/alice`);
    expect(investigableEntity(storyline([ROLE_WITH_PATH]), noActor)).toBe(ROLE_WITH_PATH);
    expect(investigableEntity(storyline([`arn:aws:iam::${MEMBER}:root`, `arn:aws:iam::${MEMBER}:user/alice`]), noActor)).toBeNull();
    expect(investigableEntity(storyline([`arn:aws:sts::${MEMBER}:federated-user/bob`]), noActor)).toBeNull();
    expect(investigableEntity(storyline([]), noActor)).toBeNull();
    expect(investigableEntity(storyline(['not-an-arn']), noActor)).toBeNull();
  });
});

describe('detectiveDescriptor', () => {
  test('names exactly the actions the source sends', () => {
    expect(detectiveDescriptor.id).toBe('detective');
    expect([...detectiveDescriptor.iamActions].sort()).toEqual(
      ['detective:GetInvestigation', 'detective:GetMembers', 'detective:ListGraphs', 'detective:ListIndicators', 'detective:StartInvestigation'],
    );
    expect(detectiveDescriptor.limits.length).toBeGreaterThan(0);
  });
});

describe('DetectiveSource with a stub client (statuses the emulator does not produce)', () => {
  const GRAPH = `arn:aws:detective:${R}:${ADMIN}:graph:${'a'.repeat(32)}`;
  function stubSource(answers: Record<string, unknown>): { src: DetectiveSource; sent: string[] } {
    const sent: string[] = [];
    const client = {
      send: async (cmd: { constructor: { name: string } }) => {
        const op = cmd.constructor.name.replace(/Command$/, '');
        sent.push(op);
        const a = answers[op];
        if (a instanceof Error) throw a;
        return a ?? {};
      },
    } as unknown as DetectiveClient;
    return { src: new DetectiveSource(() => client), sent };
  }

  test('FAILED → failed, no indicators read', async () => {
    const { src, sent } = stubSource({
      ListGraphs: { GraphList: [{ Arn: GRAPH }] },
      GetMembers: { MemberDetails: [{ AccountId: MEMBER, Status: 'ENABLED' }] },
      StartInvestigation: { InvestigationId: '1'.repeat(21) },
      GetInvestigation: { Status: 'FAILED', EntityArn: `arn:aws:iam::${MEMBER}:role/deployer` },
    });
    const r = await src.enrich(finding(), storyline([SESSION]), {});
    expect(r).toMatchObject({ status: 'failed', recheck: false, investigationId: '1'.repeat(21), indicators: [] });
    expect(r.note).toMatch(/failed/);
    expect(sent).toEqual(['ListGraphs', 'GetMembers', 'StartInvestigation', 'GetInvestigation']);
  });

  test('a member ACCEPTED_BUT_DISABLED is not enabled', async () => {
    const { src } = stubSource({
      ListGraphs: { GraphList: [{ Arn: GRAPH }] },
      GetMembers: { MemberDetails: [{ AccountId: MEMBER, Status: 'ACCEPTED_BUT_DISABLED' }] },
    });
    const r = await src.enrich(finding(), storyline([SESSION]), {});
    expect(r.status).toBe('member-not-enabled');
    expect(r.note).toMatch(/ACCEPTED_BUT_DISABLED/);
  });

  test('an error that is not an AWS error (the client factory throws): error, no throw', async () => {
    const src = new DetectiveSource(() => {
      throw new TypeError('no credentials');
    });
    const r = await src.enrich(finding(), storyline([SESSION]), {});
    expect(r.status).toBe('error');
    expect(r.note).toMatch(/TypeError/);
  });

  test('"no graph" is remembered for 15 minutes, then looked up again', async () => {
    let t = 0;
    const sent: string[] = [];
    const client = { send: async () => { sent.push('ListGraphs'); return { GraphList: [] }; } } as unknown as DetectiveClient;
    const src = new DetectiveSource(() => client, { now: () => t, sleep: async () => undefined });
    expect((await src.enrich(finding(), storyline([SESSION]), {})).status).toBe('no-graph');
    t = 10 * 60 * 1000;
    expect((await src.enrich(finding(), storyline([SESSION]), {})).status).toBe('no-graph');
    expect(sent).toHaveLength(1);
    t = 16 * 60 * 1000;
    expect((await src.enrich(finding(), storyline([SESSION]), {})).status).toBe('no-graph');
    expect(sent).toHaveLength(2);
  });
});

// The emulator serves Detective from ../shared/aws-models, or from the model bundled in
// test/emulator/models without it (AwsEmulator.start's default).
describe('DetectiveSource against the emulator (pitfalls 17 and 18)', () => {
  let emu: AwsEmulator;

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => emu.reset());

  const source = (maxAttempts?: number): DetectiveSource => new DetectiveSource((region) => new DetectiveClient(emu.clientConfig(ADMIN, region, maxAttempts)));
  const detectiveCalls = (): string[] => emu.requests.filter((r) => r.service === 'detective').map((r) => r.operation);

  /** A graph of ADMIN in R with MEMBER enabled. */
  function graphWithMember(status: 'ENABLED' | 'INVITED' = 'ENABLED'): string {
    const graph = emu.detective.createGraph(ADMIN, R);
    emu.detective.setMember(graph, MEMBER, status);
    return graph;
  }

  test('no behavior graph in the region: no-graph, degraded, no error', async () => {
    const f = finding({ region: 'eu-west-1', arn: `arn:aws:guardduty:eu-west-1:${MEMBER}:detector/d1/finding/f1` });
    emu.detective.createGraph(ADMIN, R); // a graph elsewhere does not count
    const r = await source().enrich(f, storyline([SESSION]), {});
    expect(r).toMatchObject({ status: 'no-graph', recheck: false, indicators: [], note: 'Detective: no behavior graph in eu-west-1' });
    expect(r.graphArn).toBeUndefined();
    expect(r.requests).toEqual({ 'detective:ListGraphs': 1 });
  });

  test('a member in status INVITED: member-not-enabled with the status, no investigation', async () => {
    const graph = graphWithMember('INVITED');
    const r = await source().enrich(finding(), storyline([SESSION]), {});
    expect(r).toMatchObject({ status: 'member-not-enabled', graphArn: graph, recheck: false });
    expect(r.note).toMatch(/INVITED/);
    expect(r.note).toContain(MEMBER);
    expect(detectiveCalls()).toEqual(['ListGraphs', 'GetMembers']);
    expect(emu.detective.investigations.size).toBe(0);
  });

  test('an account that is not a member at all: member-not-enabled', async () => {
    emu.detective.createGraph(ADMIN, R);
    const r = await source().enrich(finding(), storyline([SESSION]), {});
    expect(r.status).toBe('member-not-enabled');
    expect(r.note).toMatch(/not a member/);
  });

  test('the administrator account itself needs no membership', async () => {
    emu.detective.createGraph(ADMIN, R);
    const f = finding({ accountId: ADMIN });
    const r = await source().enrich(f, storyline([`arn:aws:sts::${ADMIN}:assumed-role/deployer/s`], f), {});
    expect(r.status).toBe('running');
    expect(detectiveCalls()).toEqual(['ListGraphs', 'StartInvestigation', 'GetInvestigation']);
  });

  test('a role session ARN in the finding: the investigation is started for the role ARN, with its path from the lineage', async () => {
    const graph = graphWithMember();
    const r = await source().enrich(finding(), storyline([SESSION, ROLE_WITH_PATH]), {});
    expect(r.status).toBe('running');
    const invs = [...emu.detective.investigations.values()];
    expect(invs).toHaveLength(1);
    expect(invs[0]).toMatchObject({ GraphArn: graph, EntityArn: ROLE_WITH_PATH, EntityType: 'IAM_ROLE' });
    expect(invs[0]?.ScopeStartTime.toISOString()).toBe('2026-10-14T02:00:00.000Z');
    expect(invs[0]?.ScopeEndTime.toISOString()).toBe('2026-10-15T04:00:00.000Z');
    expect(r.entityArn).toBe(ROLE_WITH_PATH);
  });

  test('a role session without a known role ARN: the role ARN built from the session', async () => {
    graphWithMember();
    const noActor = finding({ actor: {} });
    const r = await source().enrich(noActor, storyline([SESSION], noActor), {});
    expect(r.status).toBe('running');
    expect([...emu.detective.investigations.values()].map((i) => i.EntityArn)).toEqual([`arn:aws:iam::${MEMBER}:role/deployer`]);
  });

  test('root: not investigable, and no Detective request is made', async () => {
    graphWithMember();
    const f = finding({ actor: { userType: 'Root', principalId: MEMBER } });
    const r = await source().enrich(f, storyline([`arn:aws:iam::${MEMBER}:root`], f), {});
    expect(r).toMatchObject({ status: 'not-investigable', recheck: false, requests: {} });
    expect(r.note).toMatch(/^Detective: /);
    expect(emu.requests.filter((q) => q.service === 'detective')).toHaveLength(0);
  });

  test('RUNNING on the first call → running + recheck; the second call with the previous id after it finished → done with the indicators', async () => {
    const graph = graphWithMember();
    const indicators = Array.from({ length: 130 }, (_, i) => ({ IndicatorType: 'TTP_OBSERVED', IndicatorDetail: { TTPsObservedDetail: { Tactic: 'Discovery', Technique: `T${1000 + i}` } } }));
    indicators.push({ IndicatorType: 'FLAGGED_IP_ADDRESS', IndicatorDetail: { FlaggedIpAddressDetail: { IpAddress: '198.51.100.7', Reason: 'AWS_THREAT_INTELLIGENCE' } } } as never);
    emu.detective.indicatorsFor.set(ROLE_WITH_PATH, indicators);
    const src = source();
    const st = storyline([SESSION, ROLE_WITH_PATH]);

    const first = await src.enrich(finding(), st, {});
    expect(first).toMatchObject({ status: 'running', recheck: true, graphArn: graph, indicators: [] });
    expect(first.investigationId).toMatch(/^\d{21}$/);
    expect(first.requests).toEqual({ 'detective:ListGraphs': 1, 'detective:GetMembers': 1, 'detective:StartInvestigation': 1, 'detective:GetInvestigation': 1 });
    // One check only: never polled in a loop.
    expect(detectiveCalls().filter((o) => o === 'GetInvestigation')).toHaveLength(1);

    const second = await src.enrich(finding(), st, { previousInvestigationId: first.investigationId });
    expect(second).toMatchObject({ status: 'done', recheck: false, investigationId: first.investigationId, graphArn: graph });
    expect(second.indicators).toHaveLength(131);
    expect(second.indicators[0]).toEqual({ type: 'TTP_OBSERVED', detail: { TTPsObservedDetail: { Tactic: 'Discovery', Technique: 'T1000' } } });
    expect(second.indicators[130]).toEqual({ type: 'FLAGGED_IP_ADDRESS', detail: { FlaggedIpAddressDetail: { IpAddress: '198.51.100.7', Reason: 'AWS_THREAT_INTELLIGENCE' } } });
    // No new investigation, no membership check, graph from the cache, two pages of indicators.
    expect(second.requests).toEqual({ 'detective:GetInvestigation': 1, 'detective:ListIndicators': 2 });
    expect(emu.detective.investigations.size).toBe(1);
    expect(second.note).toMatch(/131 indicators/);
    // The descriptor names exactly the actions sent.
    expect([...new Set(detectiveCalls())].map((o) => `detective:${o}`).sort()).toEqual([...detectiveDescriptor.iamActions].sort());
  });

  test('the graph lookup is cached: one ListGraphs for two findings in a region (also concurrent ones)', async () => {
    graphWithMember();
    const src = source();
    const a = await src.enrich(finding(), storyline([SESSION]), {});
    const b = await src.enrich(finding({ id: 'f2' }), storyline([SESSION]), {});
    expect(a.status).toBe('running');
    expect(b.status).toBe('running');
    expect(b.requests['detective:ListGraphs']).toBeUndefined();
    expect(detectiveCalls().filter((o) => o === 'ListGraphs')).toHaveLength(1);

    const fresh = source();
    await Promise.all([fresh.enrich(finding(), storyline([SESSION]), {}), fresh.enrich(finding({ id: 'f3' }), storyline([SESSION]), {})]);
    expect(detectiveCalls().filter((o) => o === 'ListGraphs')).toHaveLength(2);
  });

  test('an injected 5xx: error with its name in the note, no throw; the failure is not cached', async () => {
    graphWithMember();
    emu.knobs.serverErrorRate = 1;
    const src = source(1);
    const r = await src.enrich(finding(), storyline([SESSION]), {});
    expect(r.status).toBe('error');
    expect(r.recheck).toBe(false);
    expect(r.note).toMatch(/^Detective: ListGraphs failed in us-east-1: (InternalServerException|ServiceUnavailableException)/);
    expect(r.requests).toEqual({ 'detective:ListGraphs': 1 });

    emu.knobs.serverErrorRate = 0;
    const again = await src.enrich(finding(), storyline([SESSION]), {});
    expect(again.status).toBe('running');
    expect(again.requests['detective:ListGraphs']).toBe(1);
  });

  test('an error after the start keeps the investigation id for a later check', async () => {
    graphWithMember();
    const src = source(1);
    const first = await src.enrich(finding(), storyline([SESSION]), {});
    emu.knobs.serverErrorRate = 1;
    const r = await src.enrich(finding(), storyline([SESSION]), { previousInvestigationId: first.investigationId });
    expect(r).toMatchObject({ status: 'error', investigationId: first.investigationId });
    expect(r.note).toMatch(/GetInvestigation failed/);
  });

  test('an unknown previous investigation id: error (ResourceNotFoundException), no throw', async () => {
    graphWithMember();
    const r = await source(1).enrich(finding(), storyline([SESSION]), { previousInvestigationId: '123456789012345678901' });
    expect(r.status).toBe('error');
    expect(r.note).toMatch(/ResourceNotFoundException/);
  });
});
