import { toEpochMs, toIsoUtc } from '../../src/model/time';

const T = '2013-11-02T01:06:28Z';
const T_MS = 1383354388000;

describe('toIsoUtc: accepted forms (pitfall 11)', () => {
  test.each<[string, unknown, string]>([
    ['ISO with Z', '2013-11-02T01:06:28Z', T],
    ['ISO with zero milliseconds', '2013-11-02T01:06:28.000Z', T],
    ['ISO with milliseconds', '2013-11-02T01:06:28.123Z', '2013-11-02T01:06:28.123Z'],
    ['ISO with microseconds (cut, not rounded)', '2013-11-02T01:06:28.123987Z', '2013-11-02T01:06:28.123Z'],
    ['ISO with one fraction digit', '2013-11-02T01:06:28.5Z', '2013-11-02T01:06:28.500Z'],
    ['ISO with +hh:mm offset', '2013-11-02T03:06:28+02:00', T],
    ['ISO with -hhmm offset', '2013-11-01T20:06:28-0500', T],
    ['ISO with +hh offset', '2013-11-02T03:06:28+02', T],
    ['ISO lower-case t and z', '2013-11-02t01:06:28z', T],
    ['ISO without zone is UTC', '2013-11-02T01:06:28', T],
    ['ISO without seconds', '2013-11-02T01:06Z', '2013-11-02T01:06:00Z'],
    ['space separator (Panther GuardDuty logs)', '2013-11-02 01:06:28', T],
    ['space separator, nanoseconds', '2025-02-25 20:40:06.000000000', '2025-02-25T20:40:06Z'],
    ['space separator, milliseconds', '2025-02-25 20:40:06.721', '2025-02-25T20:40:06.721Z'],
    ['date only', '2013-11-02', '2013-11-02T00:00:00Z'],
    ['compact basic format', '20131102T010628Z', T],
    ['compact with offset', '20131102T030628+0200', T],
    ['compact with fraction', '20131102T010628.250Z', '2013-11-02T01:06:28.250Z'],
    ['String(date) form', 'Sat Nov 02 2013 01:06:28 GMT+0000 (Coordinated Universal Time)', T],
    ['String(date) form, other zone', 'Sat Nov 02 2013 03:06:28 GMT+0200 (Eastern European Standard Time)', T],
    ['String(date) form, negative zone', 'Fri Nov 01 2013 21:06:28 GMT-0400 (Eastern Daylight Time)', T],
    ['toUTCString form', 'Sat, 02 Nov 2013 01:06:28 GMT', T],
    ['text form without zone is UTC', 'Nov 02 2013 01:06:28', T],
    ['epoch seconds', 1383354388, T],
    ['epoch milliseconds', T_MS, T],
    ['epoch seconds as text', '1383354388', T],
    ['epoch milliseconds as text', ' 1383354388000 ', T],
    ['epoch seconds with fraction', 1513612691.551, '2017-12-18T15:58:11.551Z'],
    ['Date', new Date(T_MS), T],
    ['Date with milliseconds', new Date(T_MS + 5), '2013-11-02T01:06:28.005Z'],
    ['leap day', '2024-02-29T12:00:00Z', '2024-02-29T12:00:00Z'],
  ])('%s', (_name, input, want) => {
    expect(toIsoUtc(input)).toBe(want);
  });

  test('String(new Date()) on this machine, whatever its time zone', () => {
    const d = new Date(T_MS);
    expect(toIsoUtc(String(d))).toBe(T);
    expect(toIsoUtc(d.toUTCString())).toBe(T);
    expect(toIsoUtc(d.toISOString())).toBe(T);
  });
});

describe('toIsoUtc: not timestamps', () => {
  test.each<[string, unknown]>([
    ['empty', ''],
    ['blank', '   '],
    ['word', 'yesterday'],
    ['30 February', '2013-02-30T00:00:00Z'],
    ['29 February of a common year', '2023-02-29T00:00:00Z'],
    ['month 13', '2013-13-01T00:00:00Z'],
    ['hour 24', '2013-11-02T24:00:00Z'],
    ['minute 60', '2013-11-02T01:60:00Z'],
    ['bad offset', '2013-11-02T01:06:28+25:00'],
    ['unknown month name', 'Sat Foo 02 2013 01:06:28 GMT'],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['invalid Date', new Date('nope')],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['object', {}],
    ['array', [T]],
    ['epoch too large', 1e20],
  ])('%s → undefined', (_name, input) => {
    expect(toIsoUtc(input)).toBeUndefined();
    expect(toEpochMs(input)).toBeUndefined();
  });
});

describe('toEpochMs', () => {
  test.each<[unknown, number]>([
    [T, T_MS],
    ['20131102T010628Z', T_MS],
    [1383354388, T_MS],
    ['1383354388000', T_MS],
    [new Date(T_MS), T_MS],
    ['2013-11-02T01:06:28.999Z', T_MS + 999],
  ])('%p → %p', (input, want) => {
    expect(toEpochMs(input)).toBe(want);
  });
});
