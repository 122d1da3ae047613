/**
 * The output boundary (issue 10): every string from the input passes one sanitiser per format
 * before it is printed. Each test builds its hostile input here, runs `trailstory investigate`
 * in-process through `main()` with captured output, and checks what would reach the analyst:
 * no raw control byte in text or on standard error, no string of the input past 8 KiB in a
 * format a person reads (64 KiB in JSON), each cut with a visible marker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT } from '../../src/cli/main';
import { run, tempFolder } from './harness';

const folder = tempFolder('trailstory-boundary-');

const ACCOUNT = '111122223333';
const KEY = 'AKIAEXAMPLEHOSTILE01';
const IP = '203.0.113.9';
const FINDING_ID = 'a1c7e2f09b3d4e5f6a7b8c9d0e1f2a3b';

/** Every way to rewrite a terminal: ESC sequences (clear screen, title), BEL, NUL, DEL, C1 CSI, a forged line, a bidi override. */
const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\u0000\u007f\u009b31m\r\nFinding FORGED\u202e';

/** A bare GuardDuty finding (GetFindings' `Findings[0]` shape) on {@link KEY}, with `over` merged in. */
function finding(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: '2.0',
    accountId: ACCOUNT,
    region: 'us-east-1',
    partition: 'aws',
    id: FINDING_ID,
    arn: `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0/finding/${FINDING_ID}`,
    type: 'Discovery:IAMUser/AnomalousBehavior',
    resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: KEY, principalId: 'AIDAEXAMPLEHOSTILE01', userName: 'mallory', userType: 'IAMUser' } },
    service: {
      serviceName: 'guardduty',
      detectorId: '5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0',
      resourceRole: 'TARGET',
      eventFirstSeen: '2026-03-04T08:10:00.000Z',
      eventLastSeen: '2026-03-04T08:20:00.000Z',
      archived: false,
      count: 3,
      action: {
        actionType: 'AWS_API_CALL',
        awsApiCallAction: { api: 'ListBuckets', serviceName: 's3.amazonaws.com', callerType: 'Remote IP', remoteIpDetails: { ipAddressV4: IP } },
      },
    },
    severity: 5,
    createdAt: '2026-03-04T08:21:40.118Z',
    updatedAt: '2026-03-04T08:21:40.118Z',
    title: 'The API ListBuckets was invoked by IAMUser mallory under unusual circumstances.',
    ...over,
  };
}

/** One CloudTrail record of {@link KEY} from {@link IP}, `i` minutes after 08:10, with `over` merged in. */
function record(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEHOSTILE01', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, accountId: ACCOUNT, accessKeyId: KEY, userName: 'mallory' },
    eventTime: new Date(Date.parse('2026-03-04T08:10:00Z') + i * 60_000).toISOString().replace('.000Z', 'Z'),
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: IP,
    userAgent: 'aws-cli/2.15.30',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    ...over,
  };
}

/** Writes the finding and a trail of `records` under a fresh folder; returns the argv start. */
function inputs(name: string, f: Record<string, unknown>, records: Record<string, unknown>[]): string[] {
  const dir = path.join(folder.dir(), name);
  fs.mkdirSync(path.join(dir, 'trail'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'finding.json'), JSON.stringify(f));
  fs.writeFileSync(path.join(dir, 'trail', 'records.json'), JSON.stringify({ Records: records }));
  return ['investigate', '--finding', path.join(dir, 'finding.json'), '--cloudtrail', path.join(dir, 'trail')];
}

/** Bytes a terminal acts on: C0 except the line feed, DEL, C1. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('text and standard error: control characters made visible', () => {
  test('hostile names, type, account, region, key, user agent: no raw control byte in --format text', async () => {
    const f = finding({ type: `Discovery:IAMUser/${HOSTILE}`, accountId: `${ACCOUNT}${HOSTILE}`, region: `us-east-1${HOSTILE}` });
    const recs = [
      record(0, { eventName: 'GetCallerIdentity', eventSource: 'sts.amazonaws.com', userAgent: HOSTILE }),
      record(1, { eventName: 'ListBuckets', eventSource: 's3.amazonaws.com', awsRegion: `eu-west-1${HOSTILE}`, userAgent: HOSTILE }),
      record(2, { eventName: `CreateUser${HOSTILE}`, errorCode: `Denied${HOSTILE}`, requestParameters: { userName: `backdoor${HOSTILE}` } }),
    ];
    const r = await run([...inputs('text', f, recs), '--format', 'text', '--width', '1000']);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).not.toMatch(RAW_CONTROL);
    expect(r.out).not.toContain('\u202e');
    // What was there shows, as markers: the finding's type, its account, the region column.
    expect(r.out).toContain('[U+001B][2J[U+001B]]0;pwned[U+0007][U+0000][U+007F][U+009B]31m[U+000D][U+000A]Finding FORGED[U+202E]');
    expect(r.out).toContain('111122223333[U+001B][2J');
    expect(r.out).toContain('eu-west-1[U+001B]');
    // No line of the output starts with the forged "Finding" but the real one.
    expect(r.out.split('\n').filter((l) => l.startsWith('Finding'))).toHaveLength(1);
  });

  test('a 100 KB region and a 500 KB error code in --format text: each capped at 8 KiB with the marker, the rest of the line kept', async () => {
    const recs = [record(0, { eventName: 'GetCallerIdentity', eventSource: 'sts.amazonaws.com' }), record(1, { awsRegion: `r${'x'.repeat(100_000)}`, errorCode: 'E'.repeat(500_000) })];
    const r = await run([...inputs('text-long', finding(), recs), '--format', 'text', '--width', '1000']);
    expect(r.code).toBe(EXIT.ok);
    // The long values wrap onto lines of their own; the step's line goes on after them.
    expect(r.out.includes(`r${'x'.repeat(8000)}`)).toBe(true);
    expect(r.out).toMatch(/x…\n +\[truncated, 100,001 bytes in all\] {2}TA0007 Discovery {2}iam:ListUsers\n/);
    expect(r.out).toMatch(/E…\n +\[truncated, 500,000 bytes in all\]\] {2}from 203\.0\.113\.9 {2}eventID 00000000-0000-4000-8000-000000000001\n/);
    expect(Buffer.byteLength(r.out)).toBeLessThan(64 * 1024);
  });

  test('a --cloudtrail path with a line break, ESC and BEL: one line on standard error, the characters shown', async () => {
    const f = path.join(folder.dir(), 'finding-for-path.json');
    fs.writeFileSync(f, JSON.stringify(finding()));
    const bad = path.join(folder.dir(), 'no\nsuch\u001b[2J\u0007trail');
    const r = await run(['investigate', '--finding', f, '--cloudtrail', bad]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.out).toBe('');
    expect(r.err.endsWith('\n')).toBe(true);
    expect(r.err.slice(0, -1)).not.toContain('\n');
    expect(r.err).not.toMatch(RAW_CONTROL);
    expect(r.err).toContain('no[U+000A]such[U+001B][2J[U+0007]trail');
  });

  test('a finding id with control characters in --finding-id: the error is one line, the characters shown', async () => {
    const f = path.join(folder.dir(), 'two-findings.json');
    fs.writeFileSync(f, JSON.stringify({ Findings: [finding(), finding({ id: 'ffffffffffffffffffffffffffffffff', arn: `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/x/finding/ffffffffffffffffffffffffffffffff` })] }));
    const r = await run(['investigate', '--finding', f, '--finding-id', `nope${HOSTILE}`, '--cloudtrail', folder.dir()]);
    expect(r.code).not.toBe(EXIT.ok);
    expect(r.err).not.toMatch(RAW_CONTROL);
    expect(r.err.trimEnd().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(r.err).toContain('nope[U+001B][2J');
  });

  test("commander's usage errors quote the value as given: shown, not acted on", async () => {
    const r = await run(['investigate', '--finding', 'x', '--cloudtrail', 'y', '--format', `json${HOSTILE}`]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).not.toMatch(RAW_CONTROL);
    expect(r.err).toContain('json[U+001B][2J');
  });

  test('a 1 MB path in an error is capped at 8 KiB with the marker', async () => {
    const f = path.join(folder.dir(), 'finding-for-long-path.json');
    fs.writeFileSync(f, JSON.stringify(finding()));
    const long = path.join(folder.dir(), 'a'.repeat(1_000_000));
    const r = await run(['investigate', '--finding', f, '--cloudtrail', long]);
    expect(r.code).toBe(EXIT.badInput);
    expect(Buffer.byteLength(r.err)).toBeLessThanOrEqual(8 * 1024 + 32);
    expect(r.err).toMatch(/… \[truncated, [\d,]+ bytes in all\]/);
  });
});

describe('caps in the formats a person reads (8 KiB) and in JSON (64 KiB)', () => {
  const UA = `Mozilla/5.0 ${'A'.repeat(900_000)}`;
  let argv: string[];
  beforeAll(() => {
    argv = inputs('long-ua', finding(), [record(0, { eventName: 'GetCallerIdentity', eventSource: 'sts.amazonaws.com', userAgent: UA }), record(1, { userAgent: UA })]);
  });

  test('--format markdown: a 900 KB user agent comes out at 8 KiB with the marker', async () => {
    const r = await run([...argv, '--format', 'markdown']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('Mozilla/5.0 AAAA');
    expect(r.out).toContain('… \\[truncated, 900,012 bytes in all\\]');
    expect(r.out.includes('A'.repeat(8200))).toBe(false);
    expect(Buffer.byteLength(r.out)).toBeLessThan(32 * 1024);
  });

  test('--format json: the user agent capped at 64 KiB with the marker, every field of the contract kept', async () => {
    const r = await run([...argv, '--format', 'json']);
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as { steps: Record<string, unknown>[] } & Record<string, unknown>;
    for (const k of ['schemaVersion', 'finding', 'origin', 'steps', 'lineage', 'coverage', 'summary']) expect(Object.keys(st)).toContain(k);
    expect(st.steps).toHaveLength(2);
    for (const s of st.steps) {
      for (const k of ['eventId', 'eventTime', 'eventSource', 'eventName', 'accountId', 'region', 'principalArn', 'sourceIPAddress', 'tactic']) expect(Object.keys(s)).toContain(k);
      const ua = s.userAgent as string;
      expect(Buffer.byteLength(ua)).toBeLessThanOrEqual(64 * 1024);
      expect(Buffer.byteLength(ua)).toBeGreaterThan(64 * 1024 - 64);
      expect(ua.endsWith('… [truncated, 900,012 bytes in all]')).toBe(true);
    }
    expect(Buffer.byteLength(r.out)).toBeLessThan(200 * 1024);
  });
});
