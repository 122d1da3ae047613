import { classifySourceAddress, ipVersion, isPrivateIpv4, networkOf, normalizeIp, type SourceAddress } from '../../src/identity/ip';

describe('classifySourceAddress', () => {
  const cases: Array<[string | null | undefined, SourceAddress['kind'], string]> = [
    // IPv4, octets with leading zeros are decimal (contract: addresses in odd forms)
    ['203.0.113.7', 'ipv4', '203.0.113.7'],
    ['203.000.113.007', 'ipv4', '203.0.113.7'],
    ['08.1.250.216', 'ipv4', '8.1.250.216'],
    ['010.0.0.011', 'ipv4', '10.0.0.11'],
    ['  198.51.100.7\n', 'ipv4', '198.51.100.7'],
    ['0.0.0.0', 'ipv4', '0.0.0.0'],
    ['255.255.255.255', 'ipv4', '255.255.255.255'],
    // IPv6, RFC 5952 form
    ['2001:DB8:0:0:0:0:0:1', 'ipv6', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', 'ipv6', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:1:0:0:1', 'ipv6', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', 'ipv6', '1:0:0:2::3'],
    ['2001:db8:0:1:1:1:1:1', 'ipv6', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8::0:1', 'ipv6', '2001:db8::1'],
    ['::', 'ipv6', '::'],
    ['::1', 'ipv6', '::1'],
    ['FE80::1%eth0', 'ipv6', 'fe80::1%eth0'],
    ['::FFFF:192.0.2.1', 'ipv6', '::ffff:192.0.2.1'],
    ['::ffff:c000:0201', 'ipv6', '::ffff:192.0.2.1'],
    ['::ffff:203.000.113.007', 'ipv6', '::ffff:203.0.113.7'],
    ['64:ff9b::192.0.2.33', 'ipv6', '64:ff9b::c000:221'],
    // services acting for someone (pitfall 15)
    ['ec2.amazonaws.com', 'service', 'ec2.amazonaws.com'],
    ['support.amazonaws.com', 'service', 'support.amazonaws.com'],
    ['SSM-GuiConnect.AmazonAWS.com', 'service', 'ssm-guiconnect.amazonaws.com'],
    ['resource-explorer-2.amazonaws.com', 'service', 'resource-explorer-2.amazonaws.com'],
    ['signin.amazonaws.com.cn', 'service', 'signin.amazonaws.com.cn'],
    ['AWS Internal', 'aws-internal', 'AWS Internal'],
    ['aws internal', 'aws-internal', 'AWS Internal'],
    // nothing
    ['', 'none', ''],
    ['   ', 'none', ''],
    [null, 'none', ''],
    [undefined, 'none', ''],
    // anything else
    ['amazonaws.com', 'other', 'amazonaws.com'],
    ['ec2.amazonaws.com.attacker.example', 'other', 'ec2.amazonaws.com.attacker.example'],
    ['256.1.1.1', 'other', '256.1.1.1'],
    ['1.2.3', 'other', '1.2.3'],
    ['1.2.3.4.5', 'other', '1.2.3.4.5'],
    ['2001:db8::1::2', 'other', '2001:db8::1::2'],
    ['gggg::1', 'other', 'gggg::1'],
    [' example.com ', 'other', 'example.com'],
  ];

  test.each(cases)('%p → %s %p', (raw, kind, value) => {
    const got = classifySourceAddress(raw);
    expect(got).toEqual({ kind, value, raw: raw ?? '' });
  });
});

describe('normalizeIp', () => {
  test.each<[unknown, string | undefined]>([
    ['203.000.113.007', '203.0.113.7'],
    ['2001:DB8::A', '2001:db8::a'],
    ['ec2.amazonaws.com', undefined],
    ['AWS Internal', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
    [12345, undefined],
    [{}, undefined],
  ])('%p → %p', (raw, want) => {
    expect(normalizeIp(raw)).toBe(want);
  });

  test('ipVersion', () => {
    expect(ipVersion('203.000.113.007')).toBe(4);
    expect(ipVersion('2001:db8::1')).toBe(6);
    expect(ipVersion('::ffff:192.0.2.1')).toBe(6);
    expect(ipVersion('ec2.amazonaws.com')).toBeUndefined();
  });
});

describe('isPrivateIpv4 (RFC 1918)', () => {
  test.each<[unknown, boolean]>([
    ['10.0.0.1', true],
    ['010.000.000.001', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.15.255.255', false],
    ['172.32.0.1', false],
    ['192.168.1.10', true],
    ['192.169.1.10', false],
    ['203.0.113.7', false],
    ['127.0.0.1', false],
    ['2001:db8::1', false],
    ['::ffff:10.0.0.1', false],
    ['ec2.amazonaws.com', false],
    [undefined, false],
  ])('%p → %p', (raw, want) => {
    expect(isPrivateIpv4(raw)).toBe(want);
  });
});

describe('networkOf (the /24 or /48 the rules of evidence compare)', () => {
  test.each<[unknown, string | undefined]>([
    ['203.0.113.7', '203.0.113'],
    ['203.000.113.007', '203.0.113'],
    ['2001:db8:1:2::5', '2001:db8:1'],
    ['2001:0DB8:0001:ffff::', '2001:db8:1'],
    ['2600:1f18::1', '2600:1f18:0'],
    ['::ffff:192.0.2.1', '0:0:0'],
    ['ec2.amazonaws.com', undefined],
    ['AWS Internal', undefined],
    [null, undefined],
  ])('%p → %p', (raw, want) => {
    expect(networkOf(raw)).toBe(want);
  });
});
