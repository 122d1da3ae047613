/**
 * The whole-file scanners (src/trail/scan.ts) against the resumable one and the field finder
 * they replace: `scanObjectsAtDepth` (strings skipped four bytes at a time) finds the same
 * records as `ObjectScanner` on every input, at every alignment; `scanRecordFields` finds the
 * same records and gives `lightView` the same answers as a `FieldReader` on real trails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listTrailFiles, readFileBytes } from '../../src/trail/read';
import { prng } from '../emulator/prng';
import { FieldReader, lightView, N_EVENT_TIME, N_RECIPIENT, N_REGION, ObjectScanner, RecordFields, scanObjectsAtDepth, scanRecordFields, scanRecordFieldsJs, stringValueAfter, WASM_SCAN_MAX_BYTES } from '../../src/trail/scan';

/** A small deterministic PRNG (mulberry32). */
const rng = prng;

/** Random JSON-ish text: records with strings full of quotes, backslashes and braces, non-object elements, and now and then a cut or a stray bracket. */
function randomDoc(r: () => number): string {
  const str = () => {
    const parts = ['a', 'bcdefgh', '\\"', '\\\\', '{', '}', '[', ']', ',', ':', 'é', '日本', ' ', 'eventName', 'arn'];
    let s = '';
    const n = Math.floor(r() * 12);
    for (let i = 0; i < n; i++) s += parts[Math.floor(r() * parts.length)];
    return `"${s}"`;
  };
  const value = (depth: number): string => {
    const k = r();
    if (depth > 3 || k < 0.4) return str();
    if (k < 0.5) return String(Math.floor(r() * 1000));
    if (k < 0.75) return `{${Array.from({ length: Math.floor(r() * 4) }, () => `${str()}:${value(depth + 1)}`).join(',')}}`;
    return `[${Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)).join(', ')}]`;
  };
  const elements = Array.from({ length: 1 + Math.floor(r() * 6) }, () => (r() < 0.85 ? value(3).replace(/^[^{].*$/s, '{"eventName":"X"}') : r() < 0.5 ? 'null' : str()));
  let doc = r() < 0.5 ? `{"Records":[${elements.join(',')}]}` : `[ ${elements.join(' ,\n')} ]`;
  if (r() < 0.15) doc = doc.slice(0, Math.floor(r() * doc.length));
  if (r() < 0.05) doc += ']';
  return doc;
}

/** The records (start, end) and non-objects the resumable scanner finds, and whether it closed. */
function reference(buf: Buffer, depth: number): { ranges: number[]; nonObjects: number; ok: boolean } {
  const ranges: number[] = [];
  let nonObjects = 0;
  const sc = new ObjectScanner(depth, (_b, s, e) => ranges.push(s, e), () => nonObjects++);
  sc.scan(buf);
  return { ranges, nonObjects, ok: sc.complete() };
}

test('scanObjectsAtDepth and scanRecordFields find what the resumable scanner finds, on 3,000 random documents at every alignment', () => {
  const r = rng(20261207);
  let records = 0;
  const slotsSeen: number[][] = [];
  for (let n = 0; n < 3000; n++) {
    const text = randomDoc(r);
    const depth = text.startsWith('{') ? 3 : 2;
    const shift = n % 4;
    // The same bytes at an offset of 0 to 3 in a larger buffer: the word loop must not care.
    const big = Buffer.alloc(Buffer.byteLength(text) + shift + 3, 0x20);
    big.write(text, shift);
    const buf = big.subarray(shift, shift + Buffer.byteLength(text));
    const want = reference(buf, depth);
    const got: number[] = [];
    let nonObjects = 0;
    const ok = scanObjectsAtDepth(buf, depth, (s, e) => got.push(s, e), 0, buf.length, () => nonObjects++);
    expect({ text, ok, ranges: ok ? got : [] }).toEqual({ text, ok: want.ok, ranges: want.ok ? want.ranges : [] });
    if (ok) expect(nonObjects).toBe(want.nonObjects);
    // The WebAssembly scanner and its JavaScript twin: the same records, the same field places.
    for (const scan of [scanRecordFields, scanRecordFieldsJs]) {
      const got2: number[] = [];
      const fields = new RecordFields(buf);
      let nonObjects2 = 0;
      const ok2 = scan(buf, depth, fields, (s, e) => got2.push(s, e, ...fields.slots), () => nonObjects2++);
      const ranges2 = got2.filter((_, i) => i % (2 + fields.slots.length) < 2);
      expect({ text, ok: ok2, ranges: ok2 ? ranges2 : [] }).toEqual({ text, ok: want.ok, ranges: want.ok ? want.ranges : [] });
      if (ok2) expect(nonObjects2).toBe(want.nonObjects);
      slotsSeen.push(ok2 ? got2 : []);
    }
    expect(slotsSeen[slotsSeen.length - 2]).toEqual(slotsSeen[slotsSeen.length - 1]);
    records += want.ranges.length / 2;
  }
  expect(records).toBeGreaterThan(3000);
});

test('on real trails, the fields noted by the scan give the light view, times, regions and accounts a FieldReader gives', () => {
  const root = path.join(__dirname, '..', '..', 'events', 'invictus', 'cloudtrail');
  const files = listTrailFiles([root]);
  expect(files.length).toBeGreaterThan(10);
  let compared = 0;
  for (const f of files) {
    const buf = readFileBytes(f);
    const fields = new RecordFields(buf);
    const reader = new FieldReader(buf);
    const seen: unknown[] = [];
    const want: unknown[] = [];
    expect(
      scanRecordFields(buf, 3, fields, (s, e) => {
        const read = (src: RecordFields | FieldReader) => ({
          ...lightView(src, s, e, true),
          time: stringValueAfter(src, N_EVENT_TIME, s, e),
          region: stringValueAfter(src, N_REGION, s, e),
          account: stringValueAfter(src, N_RECIPIENT, s, e),
        });
        seen.push(read(fields));
        want.push(read(reader));
      }),
    ).toBe(true);
    expect(seen).toEqual(want);
    compared += seen.length;
  }
  // Every record of the shipped trail, with its key, ARN and name where it has them.
  expect(compared).toBeGreaterThan(2000);
  expect(fs.existsSync(root)).toBe(true);
});

test('a text of more small records than the WebAssembly output holds, and one past its size, are scanned in JavaScript with the same result', () => {
  const many = Buffer.from(`[${Array.from({ length: 50_000 }, (_, i) => `{"eventName":"E${i}"}`).join(',')}]`);
  const big = Buffer.from(`[${`{"eventName":"x","pad":"${'p'.repeat(1000)}"},`.repeat(Math.ceil(WASM_SCAN_MAX_BYTES / 1000))}{"eventName":"last"}]`);
  expect(big.length).toBeGreaterThan(WASM_SCAN_MAX_BYTES);
  for (const buf of [many, big]) {
    const want = reference(buf, 2);
    const got: number[] = [];
    const names: (string | null)[] = [];
    const fields = new RecordFields(buf);
    expect(scanRecordFields(buf, 2, fields, (s, e) => (got.push(s, e), names.push(lightView(fields, s, e, false).eventName)))).toBe(true);
    expect(got).toEqual(want.ranges);
    expect(names[names.length - 1]).toBe(buf === many ? 'E49999' : 'last');
  }
});
