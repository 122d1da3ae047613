/**
 * Synthetic storylines for the renderer tests: a markup-laden small one and a large one of
 * any number of steps (a discovery burst, escalations, a role chain, bulk collection and
 * random noise of tactics), deterministic for a given size.
 */
import type { Step, Storyline, Tactic } from '../../src/model/storyline';

export const MARKUP_UA = '<script>alert(1)</script><a href="javascript:alert(2)">x</a>';
export const MARKUP_SESSION = 'ops"<svg onload=alert(3)>';

const T: Record<string, Tactic> = {
  disc: { id: 'TA0007', name: 'Discovery' },
  pers: { id: 'TA0003', name: 'Persistence' },
  priv: { id: 'TA0004', name: 'Privilege Escalation' },
  coll: { id: 'TA0009', name: 'Collection' },
  exfil: { id: 'TA0010', name: 'Exfiltration' },
  evas: { id: 'TA0005', name: 'Defense Evasion' },
  imp: { id: 'TA0040', name: 'Impact' },
  cred: { id: 'TA0006', name: 'Credential Access' },
};

function coverage(): Storyline['coverage'] {
  return {
    sample: false,
    filesRead: 12,
    filesSkipped: 1,
    recordsRead: 4000,
    recordsSkipped: 2,
    skippedReasons: { 'not JSON': 1 },
    skippedFiles: [{ file: 'AWSLogs/<b>bad</b>.json.gz', reason: 'not JSON' }],
    accounts: ['111122223333'],
    regions: ['us-east-1'],
    timeSpan: { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' },
    gaps: ['chain broken at <i>AKIA</i>: the key was created before the data starts'],
    recordsExamined: 300,
  };
}

let seq = 0;
function id(n: number): string {
  const h = (n * 2654435761 + seq * 40503) >>> 0;
  return `${h.toString(16).padStart(8, '0')}-${(n % 65536).toString(16).padStart(4, '0')}-4${String(n).padStart(3, '0').slice(-3)}-8abc-${String(n).padStart(12, '0')}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A small storyline whose attacker-chosen strings are all markup. */
export function markupStoryline(): Storyline {
  seq = 1;
  const user = 'arn:aws:iam::111122223333:user/ci-<b>deployer</b>';
  const session = `arn:aws:sts::111122223333:assumed-role/Admin"Role/${MARKUP_SESSION}`;
  const base = Date.parse('2026-01-02T10:00:00Z');
  const step = (i: number, principal: string, eventName: string, tactic: Tactic | null, extra: Partial<Step> = {}): Step => ({
    eventId: id(i),
    eventTime: iso(base + i * 20_000),
    eventSource: 'iam.amazonaws.com',
    eventName,
    accountId: '111122223333',
    region: 'us-east-1',
    principalArn: principal,
    sourceIPAddress: '203.0.113.9',
    tactic,
    accessKeyId: principal === user ? 'AKIAEXAMPLE000000001' : 'ASIAEXAMPLE000000002',
    userAgent: MARKUP_UA,
    errorCode: null,
    reason: principal === user ? 'attacker-source' : 'attacker-minted-credential',
    ...extra,
  });
  const steps: Step[] = [
    step(0, user, 'GetCallerIdentity', T.disc as Tactic),
    step(1, user, 'AssumeRole', T.priv as Tactic, { grants: [{ kind: 'session', target: 'arn:aws:iam::111122223333:role/Admin"Role', value: session }] }),
    step(2, session, 'PutUserPolicy', T.priv as Tactic, {
      grants: [{ kind: 'inline-policy', target: '<img src=x onerror=alert(4)>', value: 'p"ol<i>', document: '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"javascript:alert(5)//<script>"}]}' }],
    }),
    step(3, session, 'CreateUser', T.pers as Tactic, { grants: [{ kind: 'user', value: '<a href="javascript:alert(6)">x</a>' }], errorCode: '<b>Denied</b>' }),
    step(4, session, 'ListBuckets', T.disc as Tactic, { eventSource: 's3.amazonaws.com', sourceIPAddress: '<script>ip</script>' }),
  ];
  return {
    schemaVersion: '1',
    finding: {
      id: 'f<script>1',
      type: 'Persistence:IAMUser/AnomalousBehavior',
      accountId: '111122223333',
      region: 'us-east-1',
      arn: 'arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1',
      severity: 5,
      title: 'The API CreateUser was invoked by <script>alert(7)</script>',
      eventFirstSeen: iso(base + 60_000),
      eventLastSeen: iso(base + 60_000),
    },
    origin: { eventId: id(0), eventTime: iso(base), eventName: 'GetCallerIdentity', reason: 'first use from <img src=x onerror=alert(8)>' },
    steps,
    lineage: [user, session],
    lineageEdges: [{ from: user, to: session, via: 'AssumeRole', eventId: id(1), eventTime: iso(base + 20_000), byAttacker: true }],
    attackerSources: [{ ip: '203.0.113.9', reason: 'named by <u>the finding</u>' }],
    coverage: coverage(),
    summary: 'origin [<script>alert(9)</script>] -> Discovery -> finding',
  };
}

/**
 * A large storyline: `n` steps by three identities: a discovery burst over many APIs,
 * escalations with policy documents, a role chain, bulk GetObject, then tactics mixed at random.
 */
export function largeStoryline(n: number): Storyline {
  seq = 2;
  const user = 'arn:aws:iam::111122223333:user/leaked-ci';
  const role = 'arn:aws:sts::111122223333:assumed-role/DataRole/exfil-session';
  const backdoor = 'arn:aws:iam::111122223333:user/svc-backdoor';
  const ua = `Boto3/1.34.70 md/Botocore#1.34.70 ua/2.0 os/linux#6.6.9 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy ${MARKUP_UA}`;
  const base = Date.parse('2026-01-02T10:00:00Z');
  let rnd = 12345;
  const rand = (k: number) => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return (rnd >>> 16) % k;
  };
  const steps: Step[] = [];
  const add = (principal: string, eventSource: string, eventName: string, tactic: Tactic | null, extra: Partial<Step> = {}) => {
    const i = steps.length;
    steps.push({
      eventId: id(i),
      eventTime: iso(base + i * 3_000),
      eventSource,
      eventName,
      accountId: '111122223333',
      region: ['us-east-1', 'us-west-2', 'eu-west-1'][rand(3)] ?? 'us-east-1',
      principalArn: principal,
      sourceIPAddress: principal === user ? '203.0.113.45' : '203.0.113.77',
      tactic,
      technique: null,
      accessKeyId: principal === user ? 'AKIAEXAMPLE000000001' : principal === role ? 'ASIAEXAMPLE000000003' : 'AKIAEXAMPLE000000002',
      userAgent: ua,
      errorCode: rand(10) === 0 ? 'AccessDenied' : null,
      reason: principal === user ? 'attacker-source' : 'attacker-minted-credential',
      ...extra,
    });
  };
  const discovery = Math.floor(n * 0.3);
  for (let i = 0; i < discovery && steps.length < n; i++) add(user, 'iam.amazonaws.com', `List${['Users', 'Roles', 'Policies', 'Groups', 'Buckets'][i % 5]}${Math.floor(i / 5) % 12}`, T.disc as Tactic);
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:UserAgent': MARKUP_UA } } }] });
  if (steps.length < n) add(user, 'iam.amazonaws.com', 'CreateUser', T.pers as Tactic, { grants: [{ kind: 'user', value: 'svc-backdoor' }] });
  if (steps.length < n) add(user, 'iam.amazonaws.com', 'AttachUserPolicy', T.priv as Tactic, { grants: [{ kind: 'managed-policy', target: 'svc-backdoor', value: 'arn:aws:iam::aws:policy/AdministratorAccess' }] });
  if (steps.length < n) add(user, 'iam.amazonaws.com', 'PutUserPolicy', T.priv as Tactic, { grants: [{ kind: 'inline-policy', target: 'svc-backdoor', value: 'all', document: doc }] });
  if (steps.length < n) add(user, 'iam.amazonaws.com', 'CreateAccessKey', T.pers as Tactic, { grants: [{ kind: 'access-key', target: 'svc-backdoor', value: 'AKIAEXAMPLE000000002' }] });
  if (steps.length < n) add(backdoor, 'sts.amazonaws.com', 'AssumeRole', T.priv as Tactic, { grants: [{ kind: 'session', target: 'arn:aws:iam::111122223333:role/DataRole', value: role }] });
  const bulk = Math.floor(n * 0.4);
  for (let i = 0; i < bulk && steps.length < n; i++) add(role, 's3.amazonaws.com', 'GetObject', T.coll as Tactic);
  const mix = [T.disc, T.coll, T.exfil, T.evas, T.imp, T.cred, T.pers, null];
  while (steps.length < n) {
    const t = mix[rand(mix.length)] ?? null;
    add([user, role, backdoor][rand(3)] ?? user, 'ec2.amazonaws.com', `Call${rand(40)}`, t);
  }
  const first = steps[0];
  return {
    schemaVersion: '1',
    finding: {
      id: 'large',
      type: 'Exfiltration:S3/AnomalousBehavior',
      accountId: '111122223333',
      region: 'us-east-1',
      arn: 'arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/large',
      severity: 8,
      eventFirstSeen: steps[discovery + 10]?.eventTime,
      eventLastSeen: steps[discovery + 60]?.eventTime,
    },
    origin: first ? { eventId: first.eventId, eventTime: first.eventTime, eventName: first.eventName, reason: 'first use of the key from 203.0.113.45' } : null,
    steps,
    lineage: [user, backdoor, role],
    lineageEdges: [
      { from: user, to: backdoor, via: 'CreateUser', eventId: steps[discovery]?.eventId ?? '', eventTime: steps[discovery]?.eventTime ?? '', byAttacker: true },
      { from: user, to: backdoor, via: 'CreateAccessKey', eventId: steps[discovery + 3]?.eventId ?? '', eventTime: steps[discovery + 3]?.eventTime ?? '', byAttacker: true },
      { from: backdoor, to: role, via: 'AssumeRole', eventId: steps[discovery + 4]?.eventId ?? '', eventTime: steps[discovery + 4]?.eventTime ?? '', byAttacker: true },
      { from: 'service:ec2.amazonaws.com', to: role, via: 'AssumeRole', eventId: 'legit-1', eventTime: '2026-01-01T06:00:00Z', byAttacker: false },
    ],
    attackerSources: [
      { ip: '203.0.113.45', reason: 'named by the finding' },
      { ip: '203.0.113.77', reason: 'first seen with minted credentials' },
    ],
    coverage: coverage(),
    summary: `origin -> Discovery x${discovery} -> CreateUser -> AttachUserPolicy -> … (${n} steps)`,
  };
}

/**
 * Many attacker-created principals: `leaked-ci` creates `n` IAM users (CreateUser and
 * CreateAccessKey each, both lineage edges), and each user then makes `perUser` calls of its
 * own (discovery, then collection) from its own address. The lineage has `n + 1` principals.
 */
export function manyPrincipalsStoryline(n: number, perUser = 2): Storyline {
  seq = 3;
  const actor = 'arn:aws:iam::111122223333:user/leaked-ci';
  const base = Date.parse('2026-01-02T10:00:00Z');
  const steps: Step[] = [];
  const edges: Storyline['lineageEdges'] = [];
  const lineage = [actor];
  let t = base;
  const add = (principal: string, eventName: string, tactic: Tactic, extra: Partial<Step> = {}): Step => {
    const s: Step = {
      eventId: id(steps.length),
      eventTime: iso(t),
      eventSource: 'iam.amazonaws.com',
      eventName,
      accountId: '111122223333',
      region: 'us-east-1',
      principalArn: principal,
      sourceIPAddress: '203.0.113.45',
      tactic,
      accessKeyId: 'AKIAEXAMPLE000000001',
      userAgent: `aws-cli/2.15.0 ${MARKUP_UA}`,
      errorCode: null,
      reason: 'attacker-source',
      ...extra,
    };
    steps.push(s);
    t += 1_000;
    return s;
  };
  add(actor, 'GetCallerIdentity', T.disc as Tactic);
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const user = `arn:aws:iam::111122223333:user/${name}`;
    lineage.push(user);
    const created = add(actor, 'CreateUser', T.pers as Tactic, { grants: [{ kind: 'user', value: name }] });
    edges.push({ from: actor, to: user, via: 'CreateUser', eventId: created.eventId, eventTime: created.eventTime, byAttacker: true });
    const key = `AKIAUSER${String(i).padStart(12, '0')}`;
    const minted = add(actor, 'CreateAccessKey', T.pers as Tactic, { grants: [{ kind: 'access-key', target: name, value: key }] });
    edges.push({ from: actor, to: user, via: 'CreateAccessKey', eventId: minted.eventId, eventTime: minted.eventTime, byAttacker: true });
  }
  for (let i = 0; i < n; i++) {
    const user = lineage[i + 1] as string;
    for (let k = 0; k < perUser; k++) {
      add(user, k % 2 === 0 ? 'ListBuckets' : 'GetObject', (k % 2 === 0 ? T.disc : T.coll) as Tactic, {
        eventSource: 's3.amazonaws.com',
        sourceIPAddress: `198.51.${(i >> 8) & 255}.${i & 255}`,
        accessKeyId: `AKIAUSER${String(i).padStart(12, '0')}`,
        reason: 'attacker-minted-credential',
      });
    }
  }
  const first = steps[0] as Step;
  return {
    schemaVersion: '1',
    finding: {
      id: 'many',
      type: 'Persistence:IAMUser/AnomalousBehavior',
      accountId: '111122223333',
      region: 'us-east-1',
      arn: 'arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/many',
      severity: 8,
      eventFirstSeen: steps[1]?.eventTime,
      eventLastSeen: steps[20]?.eventTime,
    },
    origin: { eventId: first.eventId, eventTime: first.eventTime, eventName: first.eventName, reason: 'first use of the key from 203.0.113.45' },
    steps,
    lineage,
    lineageEdges: edges,
    attackerSources: [{ ip: '203.0.113.45', reason: 'named by the finding' }, ...lineage.slice(1).map((_, i) => ({ ip: `198.51.${(i >> 8) & 255}.${i & 255}`, reason: 'used a minted key' }))],
    coverage: coverage(),
    summary: `origin -> CreateUser x${n} -> … (${steps.length} steps)`,
  };
}

/**
 * A storyline of `n` normal steps (see {@link largeStoryline}) whose last step is dated `last`
 * (default `9999-12-31T23:59:59Z`), and whose first is dated `first` when given: a time span
 * of thousands of years between steps that are otherwise seconds apart.
 */
export function farDateStoryline(n = 200, last = '9999-12-31T23:59:59Z', first?: string): Storyline {
  const st = largeStoryline(n);
  const steps = st.steps.map((s) => ({ ...s }));
  const lastStep = steps[steps.length - 1] as Step;
  lastStep.eventTime = last;
  if (first) {
    const s0 = steps[0] as Step;
    s0.eventTime = first;
    if (st.origin) st.origin = { ...st.origin, eventTime: first };
  }
  return { ...st, steps };
}

/** A string of `n` characters that markup escaping makes six times longer (`"` → `&quot;`), with `tag` in front. */
export function hostileText(tag: string, n = 8 * 1024): string {
  return `${tag}${'"'.repeat(Math.max(0, n - tag.length))}`;
}

/**
 * The largest report input the renderer can be handed: {@link manyPrincipalsStoryline} with every
 * value an attacker chooses (user agents, names, addresses, errors, grants and their
 * documents, coverage gaps and skipped files) `size` characters of `"`, each unique.
 */
export function hostileStringsStoryline(n: number, size = 8 * 1024): Storyline {
  const st = manyPrincipalsStoryline(n);
  const steps = st.steps.map((s, i) => ({
    ...s,
    eventName: hostileText(`${s.eventName}${i}`, size),
    userAgent: hostileText(`ua${i}`, size),
    sourceIPAddress: hostileText(`ip${i}`, size),
    errorCode: hostileText(`err${i}`, size),
    grants: (s.grants ?? []).map((g) => ({ ...g, target: g.target && hostileText(g.target, size), document: hostileText(`{"doc":${i}`, size) })),
  }));
  return {
    ...st,
    steps,
    finding: { ...st.finding, type: hostileText('type', size), title: hostileText('title', size), arn: hostileText('arn', size), id: hostileText('id', size) },
    attackerSources: st.attackerSources.map((a, i) => ({ ip: hostileText(`ip${i}`, size), reason: hostileText(a.reason, size) })),
    summary: hostileText('summary', size),
    coverage: {
      ...st.coverage,
      gaps: Array.from({ length: 200 }, (_, i) => hostileText(`gap${i}`, size)),
      skippedFiles: Array.from({ length: 50 }, (_, i) => ({ file: hostileText(`file${i}`, size), reason: hostileText('reason', size) })),
      accounts: Array.from({ length: 500 }, (_, i) => hostileText(`acct${i}`, 64)),
    },
  };
}
