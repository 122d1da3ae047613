/**
 * `--format json` in parts (src/render/json.ts): joined, the parts are exactly the whole
 * storyline through `JSON.stringify(st, capStrings, 2)`, for small and large storylines, with
 * hostile strings, with no steps, so writing a step at a time changes nothing of the contract.
 */
import { capStrings, renderJson, renderJsonParts } from '../../src/render/json';
import { JSON_CAP_BYTES } from '../../src/render/escape';
import type { Storyline } from '../../src/model/storyline';
import { hostileStringsStoryline, largeStoryline, markupStoryline } from './synthetic';

const whole = (st: Storyline) => JSON.stringify(st, capStrings, 2) + '\n';

describe('renderJsonParts', () => {
  test.each([
    ['markup', () => markupStoryline()],
    ['3,000 steps', () => largeStoryline(3000)],
    ['hostile strings of 70 KiB', () => hostileStringsStoryline(20, 70 * 1024)],
    ['no steps', () => ({ ...markupStoryline(), steps: [], origin: null })],
  ])('%s: the parts joined are the whole JSON, byte for byte', (_name, make) => {
    const st = make();
    const parts = [...renderJsonParts(st)];
    expect(parts.join('')).toBe(whole(st));
    expect(renderJson(st)).toBe(whole(st));
    expect(parts.length).toBe(st.steps.length === 0 ? 1 : st.steps.length + 2);
    const parsed = JSON.parse(parts.join('')) as Storyline;
    expect(parsed.steps.map((s) => s.eventId)).toEqual(st.steps.map((s) => s.eventId));
  });

  test('no string of the output passes 64 KiB', () => {
    const st = hostileStringsStoryline(5, 200 * 1024);
    const parsed = JSON.parse(renderJson(st)) as unknown;
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) walk(x);
    };
    walk(parsed);
    expect(Math.max(...strings.map((s) => Buffer.byteLength(s, 'utf8')))).toBeLessThanOrEqual(JSON_CAP_BYTES);
    expect(strings.some((s) => s.includes('[truncated,'))).toBe(true);
  });
});
