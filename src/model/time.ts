/**
 * The one timestamp normaliser of the project (pitfall 11 of `shared/design/pitfalls.md`):
 * every time read from a finding, a CloudTrail record or the command line goes through
 * `toIsoUtc` / `toEpochMs`, and every time written is ISO 8601 UTC with `Z`
 * (RFC 3339, as ASFF requires: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html).
 *
 * Accepted forms:
 * - ISO 8601 / RFC 3339, with `T` or a space between date and time, with or without seconds,
 *   fractional seconds of any length (cut to milliseconds), `Z` or an offset (`+02:00`, `+0200`,
 *   `+02`); no zone means UTC (CloudTrail and GuardDuty times are UTC): `2013-11-02T01:06:28Z`,
 *   `2025-02-25 20:40:06.000000000`, a date alone (`2013-11-02`, midnight UTC).
 * - Compact ISO 8601 basic format: `20131102T010628Z`, `20131102T010628.5+0100`.
 * - JavaScript `String(date)` / `Date.prototype.toUTCString()` text:
 *   `Sat Nov 02 2013 01:06:28 GMT+0000 (Coordinated Universal Time)`, `Sat, 02 Nov 2013 01:06:28 GMT`
 *   (no zone there means UTC too, never the machine's local time).
 * - Epoch numbers, or strings of digits: seconds when the magnitude is below 1e11 (before the
 *   year 5138), milliseconds otherwise; fractions kept to the millisecond (`1513612691.551`).
 * - `Date` objects.
 *
 * Anything else (invalid dates such as `2013-02-30`, empty text, booleans, objects) gives
 * `undefined`; nothing throws.
 */

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

/**
 * The times a CloudTrail record can bear: CloudTrail began in November 2013, and no record is
 * dated after 2100. A record outside is malformed (a forged or corrupted time would otherwise
 * stretch every timeline to the year 9999).
 */
export const RECORD_TIME_RANGE_MS = { from: Date.UTC(2013, 0, 1), to: Date.UTC(2100, 0, 1) } as const;

/** Whether epoch milliseconds fall in {@link RECORD_TIME_RANGE_MS} (from inclusive, to exclusive). */
export function inRecordTimeRange(ms: number): boolean {
  return ms >= RECORD_TIME_RANGE_MS.from && ms < RECORD_TIME_RANGE_MS.to;
}

/** Below this magnitude an epoch number is in seconds, at or above it in milliseconds. */
const SECONDS_LIMIT = 1e11;

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction?: string;
  /** Offset east of UTC in minutes. */
  offsetMinutes: number;
}

function offsetOf(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === '' || /^(z|gmt|utc)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return undefined;
  const hours = parseInt(m[2] ?? '0', 10);
  const minutes = parseInt(m[3] ?? '0', 10);
  if (hours > 23 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function fromParts(p: Parts): number | undefined {
  const { year, month, day, hour, minute, second } = p;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const ms = p.fraction ? parseInt(p.fraction.slice(0, 3).padEnd(3, '0'), 10) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; set the full year explicitly.
  const d = new Date(utc);
  d.setUTCFullYear(year);
  return d.getTime() - p.offsetMinutes * 60000;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const TEXT =
  /^(?:[a-z]{3,9},?\s+)?(?:(\d{1,2})\s+([a-z]{3,9})|([a-z]{3,9})\s+(\d{1,2}),?)\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:(?:gmt|utc|z)?\s*([+-]\d{2}:?\d{2})?)?\s*(?:\([^)]*\))?$/i;

function parseText(s: string): number | undefined {
  let m = ISO.exec(s) ?? COMPACT.exec(s);
  if (m) {
    const offset = offsetOf(m[8]);
    if (offset === undefined) return undefined;
    return fromParts({
      year: parseInt(m[1] ?? '', 10),
      month: parseInt(m[2] ?? '', 10),
      day: parseInt(m[3] ?? '', 10),
      hour: parseInt(m[4] ?? '0', 10),
      minute: parseInt(m[5] ?? '0', 10),
      second: parseInt(m[6] ?? '0', 10),
      fraction: m[7],
      offsetMinutes: offset,
    });
  }
  m = TEXT.exec(s);
  if (m) {
    const monthName = (m[2] ?? m[3] ?? '').slice(0, 3).toLowerCase();
    const month = MONTHS[monthName];
    const offset = offsetOf(m[10]);
    if (month === undefined || offset === undefined) return undefined;
    return fromParts({
      year: parseInt(m[5] ?? '', 10),
      month,
      day: parseInt(m[1] ?? m[4] ?? '', 10),
      hour: parseInt(m[6] ?? '0', 10),
      minute: parseInt(m[7] ?? '0', 10),
      second: parseInt(m[8] ?? '0', 10),
      fraction: m[9],
      offsetMinutes: offset,
    });
  }
  return undefined;
}

function fromEpoch(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  return Math.round(Math.abs(n) < SECONDS_LIMIT ? n * 1000 : n);
}

/**
 * Milliseconds since 1970-01-01T00:00:00Z for a timestamp in any accepted form (see the module
 * comment), or `undefined` when `value` is not a timestamp. Years outside 0001-9999 are refused.
 */
export function toEpochMs(value: unknown): number | undefined {
  let ms: number | undefined;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = fromEpoch(value);
  else if (typeof value === 'string') {
    const s = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(s)) ms = fromEpoch(Number(s));
    else ms = parseText(s);
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999 ? ms : undefined;
}

/**
 * A timestamp in any accepted form (see the module comment) as ISO 8601 UTC:
 * `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DDTHH:MM:SS.sssZ` when the milliseconds are not zero.
 * `undefined` when `value` is not a timestamp.
 *
 * @example toIsoUtc('20131102T010628Z') === '2013-11-02T01:06:28Z'
 * @example toIsoUtc(1513612691.551) === '2017-12-18T15:58:11.551Z'
 */
export function toIsoUtc(value: unknown): string | undefined {
  const ms = toEpochMs(value);
  if (ms === undefined) return undefined;
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
