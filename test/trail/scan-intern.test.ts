/**
 * The values the WebAssembly scanner interns (src/trail/scan.wat: eventName, and accessKeyId and
 * arn after userIdentity): every record's light view read through them is the one a
 * FieldReader reads from the bytes, whatever stands after the name (spaces, null, an object, an
 * escape), for values whose hashes collide, past the table's 8,192 ids and across texts that
 * empty it.
 */
import { FieldReader, lightView, RecordFields, scanRecordFields, scanRecordTable, WASM_SCAN_MAX_BYTES, type LightView } from '../../src/trail/scan';

/** Each record's light view read through the scan's fields, and read from the bytes alone. */
function views(text: string, depth: 2 | 3 = 2): { got: LightView[]; want: LightView[]; interned: number } {
  const buf = Buffer.from(text);
  const fields = new RecordFields(buf);
  const reader = new FieldReader(buf);
  const got: LightView[] = [];
  const want: LightView[] = [];
  let interned = 0;
  expect(
    scanRecordFields(buf, depth, fields, (s, e) => {
      interned += fields.values.filter((v) => v !== undefined).length;
      got.push(lightView(fields, s, e, true));
      want.push(lightView(reader, s, e, true));
    }),
  ).toBe(true);
  return { got, want, interned };
}

test('what stands after a name decides its value: spaces and one colon, null, an array, an object, an escape, a second colon', () => {
  const records = [
    '{"eventName" :\n "Describe Instances","userIdentity":{"accessKeyId":"AKIA1","arn":"arn:aws:iam::111111111111:user/a"}}',
    '{"eventName":null,"other":"GetObject","userIdentity":{"arn":{"x":"arn:aws:iam::1:user/no"}}}',
    '{"eventName":["ListBuckets"],"userIdentity":{"accessKeyId":123,"arn":"arn:aws:iam::111111111111:user/b"}}',
    '{"eventName":"Put\\"Object","userIdentity":{"accessKeyId":"AKIA\\u0032","arn":"arn:aws:iam::111111111111:user/c"}}',
    '{"eventName"::"x","userIdentity":{"accessKeyId":"AKIA3"}}',
    '{"arn":"arn:aws:iam::1:user/before-identity","eventName":"é日本","userIdentity":{"type":"Root"}}',
    '{"userIdentity":"not an object","accessKeyId":"AKIA4","arn":"arn:aws:iam::1:user/d"}',
  ];
  const { got, want, interned } = views(`[${records.join(',')}]`);
  expect(got).toEqual(want);
  expect(want.map((v) => v.eventName)).toEqual(['Describe Instances', null, null, 'Put"Object', null, 'é日本', null]);
  expect(want.map((v) => v.accessKeyId)).toEqual(['AKIA1', null, null, 'AKIA2', 'AKIA3', null, 'AKIA4']);
  expect(want[0]?.arn).toBe('arn:aws:iam::111111111111:user/a');
  // Interned: the plain strings (not the escaped ones, not the non-strings).
  expect(interned).toBeGreaterThanOrEqual(8);
});

test('values of one length whose first and last 16 bytes are the same are told apart byte by byte', () => {
  const head = 'arn:aws:iam::123456789012:user/';
  const tail = '-0123456789abcdef';
  const arns = ['a', 'b', 'c', 'a', 'b'].map((m) => `${head}xxxx${m}xxxx${tail}`);
  const text = `[${arns.map((a, i) => `{"eventName":"E${i % 2}","userIdentity":{"accessKeyId":"AKIA${'Q'.repeat(12)}${m16(i)}","arn":"${a}"}}`).join(',')}]`;
  const { got, want } = views(text);
  expect(got).toEqual(want);
  expect(got.map((v) => v.arn)).toEqual(arns);
  expect(new Set(got.map((v) => v.accessKeyId)).size).toBe(3);
});

/** A 4-letter suffix that repeats every three records. */
function m16(i: number): string {
  return ['WXYZ', 'WXYA', 'WXYB'][i % 3] as string;
}

test('past the 8,192 ids of the table, and over texts that empty it, every value is still read right', () => {
  // Records of CloudTrail's size (the WebAssembly scanner takes texts of records over 256 bytes on average).
  const pad = `"requestParameters":{"pad":"${'p'.repeat(300)}"}`;
  // 12,000 distinct names in one text: the first 8,192 interned, the rest read from the bytes.
  const one = Array.from({ length: 12_000 }, (_, i) => `{"eventName":"Name${i}","userIdentity":{"arn":"arn:aws:iam::1:user/u${i % 50}"},${pad}}`);
  const first = views(`{"Records":[${one.join(',')}]}`, 3);
  expect(first.got).toEqual(first.want);
  expect(first.got[11_999]?.eventName).toBe('Name11999');
  // Every ARN (50 ids) and the names until the table held 8,192 ids (a few went to the tests above).
  expect(first.interned - 12_000).toBeGreaterThan(8_192 - 50 - 100);
  expect(first.interned - 12_000).toBeLessThanOrEqual(8_192 - 50);
  // The next texts start with the table emptied (more than half full): their names are new ids.
  for (let t = 0; t < 3; t++) {
    const recs = Array.from({ length: 3_000 }, (_, i) => `{"eventName":"T${t}N${i}","userIdentity":{"accessKeyId":"AKIA${t}${i}","arn":"arn:aws:iam::1:user/u${i % 7}"},${pad}}`);
    const next = views(`[${recs.join(',')}]`);
    expect(next.got).toEqual(next.want);
    expect(next.interned).toBe(9_000);
  }
});

test('eventTime in the plain form, in range, of a record within the size is counted by the scan: its earliest and latest are the ones noting each would keep', () => {
  const pad = `"requestParameters":{"pad":"${'p'.repeat(300)}"}`;
  const times = [
    '2026-10-03T01:11:00Z', // plain
    '2026-10-03T01:10:59Z', // earlier, plain
    '2026-10-03T01:11:00.500Z', // milliseconds: read by the reader
    '2026-10-03T03:11:00+02:00', // offset: read by the reader
    '2012-12-31T23:59:59Z', // before the range
    '2100-01-01T00:00:00Z', // past the range
    '2026-1-03T01:11:00Z', // not the form
    '2026-10-03T01:11:0xZ',
    '2026-10-04T00:00:00Z', // the latest plain, but its record is too large: not counted
    '2026-10-03T05:00:00Z', // the latest counted
  ];
  const records = times.map((t, i) => `{"eventTime":"${t}","eventName":"E","userIdentity":{"arn":"a"},${i === 8 ? `"big":"${'b'.repeat(2000)}",` : ''}${pad}}`);
  records.push(`{"eventTime":"2026-10-02\\u0054${'00:00:00Z'}",${pad}}`); // an escape: read by the reader
  records.push(`{"eventTime":null,${pad}}`, `{"eventTime" : "2026-10-03T01:00:00Z",${pad}}`);
  const buf = Buffer.from(`[${records.join(',')}]`);
  const t = scanRecordTable(buf, 2, new RecordFields(buf), 1500);
  expect(t).not.toBeNull();
  expect([...(t?.timeCounted ?? [])]).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
  expect(t?.times).toEqual({ min: '2026-10-03T01:00:00Z', max: '2026-10-03T05:00:00Z' });
  // The JavaScript scanner counts none: the reader reads every time itself.
  expect(tableOfText(buf)).toEqual({ counted: 0, times: null });
});

/** What the JavaScript scanner (which takes texts past the WebAssembly scanner's share) counts of the text's times, the text made that large. */
function tableOfText(buf: Buffer): { counted: number; times: unknown } {
  const large = Buffer.concat([buf.subarray(0, -1), Buffer.from(`,{"pad":"${'x'.repeat(WASM_SCAN_MAX_BYTES)}"}]`)]);
  const t = scanRecordTable(large, 2, new RecordFields(large));
  expect(t?.table.length).toBeGreaterThan(0);
  return { counted: [...(t?.timeCounted ?? [])].reduce((a, c) => a + c, 0), times: t?.times ?? null };
}
