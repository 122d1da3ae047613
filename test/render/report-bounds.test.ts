/**
 * The HTML report stays within its bounds whatever the input: its size (MAX_REPORT_BYTES) and
 * its layout do not grow with the time span, the number of principals or the number of steps.
 * The storylines are built here (test/render/synthetic.ts).
 */
import { MAX_AXIS_SEGMENTS, MAX_REPORT_BYTES, renderHtml, timeAxis } from '../../src/render/html';
import { farDateStoryline, largeStoryline } from './synthetic';

const GENERATED = '2026-02-03T04:05:06Z';

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The time strip's SVG (the first in the timeline section). */
function strip(html: string): string {
  const at = html.indexOf('<svg', html.indexOf('<section id="timeline"'));
  return html.slice(at, html.indexOf('</svg>', at));
}

describe('the time span', () => {
  test('the axis keeps its width and at most one tick per 110 px, from a minute to 8,000 years', () => {
    const t = Date.parse('2026-01-02T10:00:00Z');
    const cases: number[][] = [
      [t],
      [t, t + 60_000],
      [t, t + 2 * 86_400_000],
      [Date.parse('2013-01-01T00:00:00Z'), t, t + 1000, Date.parse('2100-12-31T23:59:59Z')],
      [t, t + 1000, t + 5000, Date.parse('9999-12-31T23:59:59Z')],
      [Date.parse('1970-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59Z')],
      Array.from({ length: 50 }, (_, i) => t + i * i * 3_600_000 * 24 * 30),
    ];
    for (const times of cases) {
      const a = timeAxis(times, 250, 1166);
      expect(a.segments.length).toBeGreaterThanOrEqual(1);
      expect(a.segments.length).toBeLessThanOrEqual(MAX_AXIS_SEGMENTS);
      expect(a.cuts).toHaveLength(a.segments.length - 1);
      expect(a.segments[0]?.x0).toBe(250);
      expect(a.segments[a.segments.length - 1]?.x1).toBeCloseTo(1166, 6);
      expect(a.ticks.length).toBeLessThanOrEqual(Math.floor(916 / 110) + a.segments.length);
      for (const tk of a.ticks) {
        expect(tk.x).toBeGreaterThanOrEqual(250);
        expect(tk.x).toBeLessThanOrEqual(1166);
        expect(tk.label).toMatch(/^[\d: -]+$/);
      }
      for (const time of times) {
        expect(a.x(time)).toBeGreaterThanOrEqual(250);
        expect(a.x(time)).toBeLessThanOrEqual(1166);
      }
    }
  });

  test('a gap that outweighs the rest of the story is cut, a night inside a two-day story is not', () => {
    const t = Date.parse('2026-01-02T10:00:00Z');
    const far = timeAxis([t, t + 1000, t + 60_000, Date.parse('9999-12-31T23:59:59Z')], 250, 1166);
    expect(far.cuts).toHaveLength(1);
    expect(far.cuts[0]?.ms).toBe(Date.parse('9999-12-31T23:59:59Z') - t - 60_000);
    const days = timeAxis([t, t + 3_600_000, t + 18 * 3_600_000, t + 30 * 3_600_000], 250, 1166);
    expect(days.cuts).toHaveLength(0);
  });

  test('one step dated 9999-12-31 adds a gap marker, not megabytes', async () => {
    const normal = await renderHtml(largeStoryline(200), { generatedAt: GENERATED });
    const html = await renderHtml(farDateStoryline(200), { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(Math.abs(bytes(html) - bytes(normal))).toBeLessThan(4_000);
    const s = strip(html);
    expect(s.match(/<g class="gap">/g)).toHaveLength(1);
    expect(s).toMatch(/⋯ 7,97\d years ⋯/);
    expect(s.match(/<line /g)?.length ?? 0).toBeLessThan(20);
    // The timeline's list says it too.
    expect(html).toMatch(/<li class="gap">⋯ 7,97\d years later ⋯<\/li>/);
  });

  test('a story from 2013 to 2100 has two gap markers and the size of a story of one day', async () => {
    const normal = await renderHtml(largeStoryline(200), { generatedAt: GENERATED });
    const html = await renderHtml(farDateStoryline(200, '2100-12-31T23:59:59Z', '2013-01-01T00:00:00Z'), { generatedAt: GENERATED });
    expect(bytes(html)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(Math.abs(bytes(html) - bytes(normal))).toBeLessThan(4_000);
    const s = strip(html);
    expect(s.match(/<g class="gap">/g)).toHaveLength(2);
    expect(s).toContain('⋯ 13 years ⋯');
    expect(s).toContain('⋯ 75 years ⋯');
    expect(s).toContain('>2013-01-01 00:00<');
  });
});
