/**
 * Usual sources (storyline contract, "Usual sources belong to the credential"): address (or its
 * /24, /48) and client product both seen in the history of the credential and its principal,
 * before the cut (24 hours before the finding's first-seen time).
 */
import { classifySourceAddress } from '../../src/identity/ip';
import { normalizeIdentity } from '../../src/identity/principal';
import { clientProduct } from '../../src/storyline/edges';
import { History } from '../../src/storyline/history';
import type { TrailEvent } from '../../src/trail/event';

const CUT = Date.parse('2026-06-10T00:00:00Z');
let n = 0;

function use(t: string, ip: string, ua: string, who: { key?: string; user?: string; role?: string; session?: string } = {}): TrailEvent {
  const acct = '111122223333';
  const ui = who.role
    ? { type: 'AssumedRole', arn: `arn:aws:sts::${acct}:assumed-role/${who.role}/${who.session}`, accountId: acct, accessKeyId: who.key ?? 'ASIAEXAMPLE0000001', sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${acct}:role/${who.role}`, userName: who.role } } }
    : { type: 'IAMUser', arn: `arn:aws:iam::${acct}:user/${who.user ?? 'ci'}`, accountId: acct, userName: who.user ?? 'ci', accessKeyId: who.key ?? 'AKIAEXAMPLE0000001' };
  const epochMs = Date.parse(t);
  return {
    eventId: `e${++n}`, eventTime: t, epochMs, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', awsRegion: 'us-east-1', accountId: acct,
    sourceIPAddress: ip, source: classifySourceAddress(ip), userAgent: ua, errorCode: null, errorMessage: null, readOnly: true, identity: normalizeIdentity(ui),
    requestParameters: null, responseElements: null, additionalEventData: null, serviceEventDetails: null, resources: [], sharedEventID: null, requestId: null,
    eventType: 'AwsApiCall', fromConsole: false, file: 'f',
  };
}

const CLI = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64 prompt/off';
const BOTO = 'Boto3/1.34.70 md/Botocore#1.34.70 ua/2.0 os/linux#6.5.0';

describe('clientProduct', () => {
  test.each<[string, string]>([
    [CLI, 'aws-cli'],
    [BOTO, 'boto3'],
    ['[aws-cli/2.13.0 Python/3.11.4 Linux/6.2.0]', 'aws-cli'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'browser'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15', 'browser'],
    ['aws-sdk-go/1.44.0 (go1.20.4; linux; amd64)', 'aws-sdk-go'],
    ['APN/1.0 HashiCorp/1.0 Terraform/1.7.5', 'apn'],
    ['', ''],
  ])('%s → %s', (ua, want) => expect(clientProduct(ua)).toBe(want));
});

describe('History.judge', () => {
  const history = new History(
    [
      use('2026-06-01T09:00:00Z', '198.51.100.10', CLI),
      use('2026-06-02T09:00:00Z', '2001:db8:aa:1::5', CLI),
      use('2026-06-01T09:00:00Z', '192.0.2.50', BOTO, { role: 'app-role', session: 'i-0abc', key: 'ASIAINSTANCE000001' }),
      // After the cut: never history, whatever it matches.
      use('2026-06-10T01:00:00Z', '203.0.113.9', BOTO),
    ],
    CUT,
  );

  test.each<[string, TrailEvent, boolean]>([
    ['the same address and client', use('2026-06-11T10:00:00Z', '198.51.100.10', CLI), true],
    ['another address of the same /24 with the same product (another version)', use('2026-06-11T10:00:00Z', '198.51.100.77', 'aws-cli/2.17.1 md/awscrt'), true],
    ['zero-padded octets are the same address', use('2026-06-11T10:00:00Z', '198.051.100.010', CLI), true],
    ['the same /48 in IPv6', use('2026-06-11T10:00:00Z', '2001:db8:aa:ffff::1', CLI), true],
    ['a usual address with a client never seen', use('2026-06-11T10:00:00Z', '198.51.100.10', BOTO), false],
    ['the usual client from a new network', use('2026-06-11T10:00:00Z', '198.51.101.10', CLI), false],
    ['an address first used after the cut', use('2026-06-11T10:00:00Z', '203.0.113.9', BOTO), false],
    ["another key of the same user: the principal's history counts", use('2026-06-11T10:00:00Z', '198.51.100.10', CLI, { key: 'AKIAOTHERKEY000001' }), true],
    ["a role session: the role and session name's history (a new key of the instance)", use('2026-06-11T10:00:00Z', '192.0.2.50', BOTO, { role: 'app-role', session: 'i-0abc', key: 'ASIAINSTANCE000002' }), true],
    ['the same role, another session name: no history of its own', use('2026-06-11T10:00:00Z', '192.0.2.50', BOTO, { role: 'app-role', session: 'i-0def', key: 'ASIAINSTANCE000003' }), false],
  ])('%s', (_name, ev, usual) => {
    expect(history.judge(ev)?.usual).toBe(usual);
  });

  test('a credential and principal without any use before the cut have no history: every use is the attacker\'s', () => {
    const v = history.judge(use('2026-06-11T10:00:00Z', '198.51.100.10', CLI, { user: 'fresh', key: 'AKIAFRESH000000001' }));
    expect(v).toMatchObject({ usual: false, noHistory: true });
  });

  test('a use without an address (a service name) is not judged here', () => {
    expect(history.judge(use('2026-06-11T10:00:00Z', 'ssm.amazonaws.com', 'ssm.amazonaws.com'))).toBeNull();
  });
});
