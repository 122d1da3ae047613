/**
 * Source addresses as CloudTrail and GuardDuty write them.
 *
 * CloudTrail's `sourceIPAddress` is "the IP address that the request was made from", but for
 * calls that an AWS service makes on someone's behalf it holds the service's DNS name
 * (`ec2.amazonaws.com`), and for some internal calls the text `AWS Internal`
 * (CloudTrail record contents:
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 * A service name is never an attacker's address (pitfall 15 of `shared/design/pitfalls.md`).
 *
 * IPv4 addresses sometimes arrive with zero-padded octets (`203.000.113.007`, `08.1.250.216`,
 * as sanitised datasets write them); the octets are DECIMAL, never octal, so those mean
 * `203.0.113.7` and `8.1.250.216` (storyline contract, "Addresses in odd forms").
 */
import { memoize } from '../model/memo';
import { isIPv6 } from 'net';

/** What a `sourceIPAddress` (or any address field) holds. */
export type SourceAddressKind = 'ipv4' | 'ipv6' | 'service' | 'aws-internal' | 'none' | 'other';

/** A classified source address. */
export interface SourceAddress {
  kind: SourceAddressKind;
  /**
   * The normalised value: IPv4 dotted decimal without leading zeros; IPv6 lower case in the
   * RFC 5952 compressed form (IPv4-mapped addresses keep their dotted tail, `::ffff:192.0.2.1`);
   * a service name in lower case; `AWS Internal` as is; `''` for none; other text trimmed.
   */
  value: string;
  /** The input as given (`''` for `null`/`undefined`). */
  raw: string;
}

/** Parse dotted-quad IPv4 with decimal octets (leading zeros allowed); `undefined` if not one. */
function parseIpv4Octets(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1).map((x) => parseInt(x, 10));
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Expand an IPv6 address (already checked by `net.isIPv6`) to 8 numeric groups. */
function ipv6Groups(s: string): number[] | undefined {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4Octets(text.slice(lastColon + 1));
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  if (head.length + rest.length > 8) return undefined;
  const groups = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return groups;
}

/** RFC 5952 text for 8 groups; IPv4-mapped (`::ffff:a.b.c.d`) keeps the dotted tail. */
function formatIpv6(groups: number[]): string {
  const g = (i: number): number => groups[i] ?? 0;
  if (groups.slice(0, 5).every((x) => x === 0) && g(5) === 0xffff) {
    return `::ffff:${g(6) >> 8}.${g(6) & 0xff}.${g(7) >> 8}.${g(7) & 0xff}`;
  }
  // Longest run of two or more zero groups; the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g(j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((x) => x.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Normalise an IPv6 address (any case, with or without `::`, zone id kept), or `undefined`. */
function normalizeIpv6(s: string): string | undefined {
  const pct = s.indexOf('%');
  const addr = pct >= 0 ? s.slice(0, pct) : s;
  const zone = pct >= 0 ? s.slice(pct) : '';
  // Zero-padded octets in an embedded IPv4 tail are decimal too.
  const lastColon = addr.lastIndexOf(':');
  let candidate = addr;
  if (lastColon >= 0 && addr.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4Octets(addr.slice(lastColon + 1));
    if (!v4) return undefined;
    candidate = addr.slice(0, lastColon + 1) + v4.join('.');
  }
  if (!isIPv6(candidate)) return undefined;
  const groups = ipv6Groups(candidate.toLowerCase());
  return groups ? formatIpv6(groups) + zone : undefined;
}

/**
 * Normalise an IP address: IPv4 to dotted decimal without leading zeros (octets are decimal:
 * `203.000.113.007` → `203.0.113.7`), IPv6 to lower-case RFC 5952 compressed form
 * (`2001:DB8:0:0:0:0:0:1` → `2001:db8::1`). Surrounding whitespace is ignored.
 *
 * @returns the normalised address, or `undefined` when `raw` is not an IP address (a service
 *   name such as `ec2.amazonaws.com`, `AWS Internal`, empty, not a string).
 */
export function normalizeIp(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim();
  if (s === '') return undefined;
  const v4 = parseIpv4Octets(s);
  if (v4) return v4.join('.');
  if (s.includes(':')) return normalizeIpv6(s);
  return undefined;
}

/**
 * The network an address is judged by (storyline contract, "Usual sources belong to the
 * credential"): the /24 of an IPv4 address (`203.0.113`), the /48 of an IPv6 address (its
 * first three groups, `2001:db8:1`); undefined when `raw` is not an IP address.
 */
export function networkOf(raw: unknown): string | undefined {
  return typeof raw === 'string' ? networkOfAddress(raw) : computeNetwork(raw);
}
/** Addresses repeat across a trail: their networks are cached. */
const networkOfAddress = memoize(computeNetwork);

function computeNetwork(raw: unknown): string | undefined {
  const ip = normalizeIp(raw);
  if (ip === undefined) return undefined;
  if (!ip.includes(':')) return ip.split('.').slice(0, 3).join('.');
  const pct = ip.indexOf('%');
  const groups = ipv6Groups(pct >= 0 ? ip.slice(0, pct) : ip);
  return groups ? groups.slice(0, 3).map((g) => g.toString(16)).join(':') : undefined;
}

/** The IP version of an address that `normalizeIp` accepts: 4 or 6; `undefined` otherwise. */
export function ipVersion(raw: unknown): 4 | 6 | undefined {
  const ip = normalizeIp(raw);
  if (ip === undefined) return undefined;
  return ip.includes(':') ? 6 : 4;
}

/**
 * True when `raw` is an IPv4 address (any accepted form) in the RFC 1918 private ranges
 * 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (https://www.rfc-editor.org/rfc/rfc1918).
 * Private addresses are still addresses like any other for the storyline; this only tells.
 */
export function isPrivateIpv4(raw: unknown): boolean {
  const ip = normalizeIp(raw);
  if (ip === undefined || ip.includes(':')) return false;
  const [a, b] = ip.split('.').map((x) => parseInt(x, 10));
  if (a === undefined || b === undefined) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.amazonaws\.com(\.cn)?$/;

/**
 * Classify a CloudTrail `sourceIPAddress` (or any address-like field) into what it holds.
 *
 * - `ipv4` / `ipv6`: an IP address, normalised by `normalizeIp`.
 * - `service`: an AWS service's name, any `*.amazonaws.com` (or `*.amazonaws.com.cn`), e.g.
 *   `ec2.amazonaws.com`, `support.amazonaws.com`: the service called for a principal; never an
 *   attacker's address.
 * - `aws-internal`: the text `AWS Internal` (any case).
 * - `none`: `null`, `undefined` or empty / blank text.
 * - `other`: anything else (a hostname, garbage), trimmed.
 *
 * Reference: `sourceIPAddress` in CloudTrail record contents,
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
export function classifySourceAddress(raw: string | undefined | null): SourceAddress {
  const given = typeof raw === 'string' ? raw : '';
  const s = given.trim();
  if (s === '') return { kind: 'none', value: '', raw: given };
  const ip = normalizeIp(s);
  if (ip !== undefined) return { kind: ip.includes(':') ? 'ipv6' : 'ipv4', value: ip, raw: given };
  if (/^aws\s+internal$/i.test(s)) return { kind: 'aws-internal', value: 'AWS Internal', raw: given };
  const lower = s.toLowerCase();
  if (SERVICE_NAME.test(lower)) return { kind: 'service', value: lower, raw: given };
  return { kind: 'other', value: s, raw: given };
}
