/**
 * Byte-level scanning of CloudTrail files, so the engine only `JSON.parse`s the records that
 * can matter. A CloudTrail delivery file (`{"Records":[…]}`, see "CloudTrail log file
 * examples", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html)
 * is split into one byte range per record by a string-aware brace scanner; a few fields of
 * each record (its "light view") are read straight from the bytes to decide whether the
 * record is parsed at all.
 *
 * The light view is a superset test: it may pick a field from elsewhere in the record when
 * the identity lacks it, which only costs a parse; the full rules run on parsed records.
 */

import { RECORD_TIME_RANGE_MS } from '../model/time';
import { SCAN_WASM_BASE64 } from './scan-wasm';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** The word view of a buffer too short to hold an aligned word. */
const NO_WORDS = new Uint32Array(0);

/** The scanner's state between chunks. */
export interface ScanState {
  d: number;
  inString: boolean;
  /** An escape's second byte is the first of the next chunk. */
  skipNext: boolean;
  /** Inside the array at depth-1, after `[` or `,`: the next value is an element. */
  expectElement: boolean;
  broken: boolean;
}

/**
 * The brace scanner's one loop: finds every object opening at nesting depth `depth` in
 * `buf[from, to)`, string-aware, continuing from `st` and leaving its state there. Returns the
 * offset of a record still open at `to`, or -1 (`openAt`: a record open since the last chunk).
 */
function scanChunk(
  buf: Uint8Array,
  depth: number,
  st: ScanState,
  onRecord: (start: number, end: number) => void,
  onNonObject: (() => void) | undefined,
  from: number,
  to: number,
  openAt: number,
): number {
  let d = st.d;
  let inString = st.inString;
  let expectElement = st.expectElement;
  let start = openAt;
  let skipNext = false;
  let broken = false;
  for (let i = st.skipNext ? from + 1 : from; i < to; i++) {
    const c = buf[i] as number;
    if (inString) {
      if (c === BACKSLASH) {
        if (i + 1 >= to) skipNext = true;
        i++;
      } else if (c === QUOTE) inString = false;
      continue;
    }
    if (expectElement && d === depth - 1 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      expectElement = false;
      if (c !== LBRACE && c !== RBRACKET && onNonObject) onNonObject();
    }
    if (c === QUOTE) inString = true;
    else if (c === 0x2c) {
      if (d === depth - 1) expectElement = true;
    } else if (c === LBRACE || c === LBRACKET) {
      d++;
      if (d === depth && c === LBRACE) start = i;
      if (d === depth - 1 && c === LBRACKET) expectElement = true;
    } else if (c === RBRACE || c === RBRACKET) {
      if (d === depth && c === RBRACE && start >= 0) {
        onRecord(start, i + 1);
        start = -1;
      }
      d--;
      if (d < 0) broken = true;
    }
  }
  st.skipNext = skipNext;
  st.broken = st.broken || broken;
  st.d = d;
  st.inString = inString;
  st.expectElement = expectElement;
  return start;
}

function freshState(): ScanState {
  return { d: 0, inString: false, skipNext: false, expectElement: false, broken: false };
}

/**
 * A string-aware brace scanner that finds every object opening at nesting depth `depth`
 * (1-based: the top-level value is depth 1), fed one buffer or many chunks in turn: its state
 * (depth, inside a string, an escape cut by a chunk's end) carries from one chunk to the next.
 *
 * For `{"Records":[{…},{…}]}` records open at depth 3; for a bare array `[{…}]` at depth 2.
 * Elements of the records array that are not objects (`null`, numbers, strings) are reported
 * through `onNonObject`.
 */
export class ObjectScanner {
  private readonly st = freshState();
  private buf: Uint8Array = new Uint8Array(0);
  private readonly emit: (start: number, end: number) => void;

  constructor(
    private readonly depth: number,
    onRecord: (buf: Uint8Array, start: number, end: number) => void,
    private readonly onNonObject?: () => void,
  ) {
    this.emit = (s, e) => onRecord(this.buf, s, e);
  }

  /**
   * Scans `buf[from, to)`. Returns the offset where an unfinished record begins (the caller
   * keeps `buf[offset, to)` and hands it back, followed by the next chunk, with `from` set
   * past it and `openAt` 0), or -1 when no record is open at `to`.
   */
  scan(buf: Uint8Array, from = 0, to = buf.length, openAt = -1): number {
    this.buf = buf;
    return scanChunk(buf, this.depth, this.st, this.emit, this.onNonObject, from, to, openAt);
  }

  /** True when everything fed so far closed properly (call after the last chunk). */
  complete(): boolean {
    return !this.st.broken && this.st.d === 0 && !this.st.inString;
  }
}

/**
 * Calls `onRecord(start, end)` for every object that opens at nesting depth `depth` in
 * `buf[from, to)` (see {@link ObjectScanner}). Returns false when the structure is unbalanced
 * (a truncated or damaged file).
 *
 * The same rules as {@link scanChunk} without its carried state: whole files (nearly all of a
 * trail) take this one. Most of a record's bytes are inside strings, so a string is skipped in
 * a loop of its own, four bytes at a time while none of them is a quote or a backslash (a
 * zero-byte test on the word XORed with each), which measured three times faster than one loop
 * over every byte with an in-string flag.
 */
export function scanObjectsAtDepth(
  buf: Uint8Array,
  depth: number,
  onRecord: (start: number, end: number) => void,
  from = 0,
  to = buf.length,
  onNonObject?: () => void,
): boolean {
  // The words of `buf` from the first 4-byte-aligned offset (`al`) on, up to `to`.
  const al = (4 - (buf.byteOffset & 3)) & 3;
  const words = to > al ? (to - al) >>> 2 : 0;
  const u32 = words > 0 ? new Uint32Array(buf.buffer, buf.byteOffset + al, words) : NO_WORDS;
  let d = 0;
  let start = -1;
  let expectElement = false;
  let i = from;
  while (i < to) {
    const c = buf[i++] as number;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (expectElement) {
      // After `[` or `,` of the array at depth-1: the element's first byte.
      expectElement = false;
      if (c !== LBRACE && c !== RBRACKET && onNonObject) onNonObject();
    }
    if (c === QUOTE) {
      for (;;) {
        if (((i - al) & 3) === 0) {
          let w = (i - al) >>> 2;
          while (w < words) {
            const v = u32[w] as number;
            const q = v ^ 0x22222222;
            const b = v ^ 0x5c5c5c5c;
            if ((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
            w++;
          }
          if (w > (i - al) >>> 2) i = (w << 2) + al;
        }
        if (i >= to) return false;
        const x = buf[i++] as number;
        if (x === QUOTE) break;
        if (x === BACKSLASH) i++;
      }
    } else if (c === 0x2c) {
      if (d === depth - 1) expectElement = true;
    } else if (c === LBRACE || c === LBRACKET) {
      d++;
      if (d === depth && c === LBRACE) start = i - 1;
      if (d === depth - 1 && c === LBRACKET) expectElement = true;
    } else if (c === RBRACE || c === RBRACKET) {
      if (d === depth && c === RBRACE && start >= 0) {
        onRecord(start, i);
        start = -1;
      }
      d--;
      if (d < 0) return false;
    }
  }
  return d === 0;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the first non-whitespace byte at or after `i`. */
export function skipSpace(buf: Uint8Array, i: number): number {
  while (i < buf.length && isSpace(buf[i])) i++;
  return i;
}

/**
 * True when the buffer holds a JSON object whose first key is `key` (a quoted JSON string,
 * `"Records"`) holding an array.
 */
function startsWithArrayAt(buf: Buffer, key: string): boolean {
  let i = skipSpace(buf, 0);
  if (buf[i] !== LBRACE) return false;
  i = skipSpace(buf, i + 1);
  if (buf.toString('latin1', i, i + key.length) !== key) return false;
  i = skipSpace(buf, i + key.length);
  if (buf[i] !== 0x3a) return false;
  i = skipSpace(buf, i + 1);
  return buf[i] === LBRACKET;
}

/**
 * True when the buffer holds a JSON object whose first key is `"Records"` holding an array:
 * the layout of CloudTrail S3 delivery files.
 */
export function startsWithRecordsArray(buf: Buffer): boolean {
  return startsWithArrayAt(buf, '"Records"');
}

/**
 * True when the buffer holds a JSON object whose first key is `"Events"` holding an array: the
 * layout of CloudTrail `LookupEvents` output (`aws cloudtrail lookup-events`), each element
 * `{"EventId": …, "CloudTrailEvent": "<the record as a JSON string>", …}`.
 */
export function startsWithEventsArray(buf: Buffer): boolean {
  return startsWithArrayAt(buf, '"Events"');
}

/**
 * Where the array value of a top-level key stands in a JSON object, found from the bytes: the
 * offsets of its `[` and one past its `]`, or null when the object has no such key holding an
 * array (or the text is not an object, or is cut). For files whose `Records` or `Events` is not
 * the first key, so they are read an element at a time like the others, never parsed whole.
 * @param key the key as it stands in the JSON, quotes included: `"Records"`
 */
export function topLevelArray(buf: Buffer, key: string): { start: number; end: number } | null {
  let i = skipSpace(buf, 0);
  if (buf[i] !== LBRACE) return null;
  let d = 0;
  let inString = false;
  let stringStart = -1;
  const keyBytes = Buffer.from(key, 'latin1');
  let arrayAt = -1;
  for (; i < buf.length; i++) {
    const c = buf[i] as number;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inString = false;
        // A key of the top-level object: the string is followed by a colon.
        if (d === 1 && arrayAt < 0 && i + 1 - stringStart === keyBytes.length && buf.compare(keyBytes, 0, keyBytes.length, stringStart, i + 1) === 0) {
          const colon = skipSpace(buf, i + 1);
          if (buf[colon] === 0x3a) {
            const v = skipSpace(buf, colon + 1);
            if (buf[v] === LBRACKET) arrayAt = v;
          }
        }
      }
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (c === LBRACE || c === LBRACKET) d++;
    else if (c === RBRACE || c === RBRACKET) {
      d--;
      if (arrayAt >= 0 && d === 1 && c === RBRACKET) return { start: arrayAt, end: i + 1 };
      if (d === 0) return null;
    }
  }
  return null;
}

/** Where field names stand in a buffer: `find(needle, from)` is the first `needle` at or after `from`, or -1 (or any offset past the record). */
export interface Fields {
  readonly buf: Buffer;
  find(needle: Buffer, from: number): number;
}

/**
 * Finds field names in one buffer, remembering for each needle where it last looked and what
 * it found. Records are read in order, so each needle's occurrences are found once per file
 * however many records lack the field: reading stays linear in the file's size.
 */
export class FieldReader implements Fields {
  private readonly found = new Map<Buffer, { from: number; at: number }>();
  constructor(readonly buf: Buffer) {}

  /** Index of the first `needle` at or after `from`, or -1. */
  find(needle: Buffer, from: number): number {
    const c = this.found.get(needle);
    if (c && from >= c.from && (c.at === -1 || c.at >= from)) return c.at;
    const at = this.buf.indexOf(needle, from);
    this.found.set(needle, { from, at });
    return at;
  }
}

/**
 * The string value of the first `"key"` at or after `from` and before `limit`, read from the
 * bytes (`"key" : "value"`), or null when absent, not a string, or beyond `limit`.
 * Values with escapes are decoded with JSON.parse of the value alone.
 */
export function stringValueAfter(source: Buffer | Fields, needle: Buffer, from: number, limit: number): string | null {
  const reader = source instanceof Uint8Array ? new FieldReader(source) : source;
  const buf = reader.buf;
  const p = reader.find(needle, from);
  if (p < 0 || p >= limit) return null;
  let i = skipSpace(buf, p + needle.length);
  if (buf[i] !== 0x3a) return null;
  i = skipSpace(buf, i + 1);
  if (buf[i] !== QUOTE) return null;
  const s = i + 1;
  let j = s;
  let escaped = false;
  for (; j < limit; j++) {
    const c = buf[j];
    if (c === BACKSLASH) {
      escaped = true;
      j++;
    } else if (c === QUOTE) break;
  }
  if (j >= limit) return null;
  if (!escaped) return buf.toString('utf8', s, j);
  try {
    return JSON.parse(buf.toString('utf8', s - 1, j + 1)) as string;
  } catch {
    return null;
  }
}

/** The few fields of a record that decide whether it is parsed. */
export interface LightView {
  eventName: string | null;
  /** First `accessKeyId` after `userIdentity` (normally the caller's key). */
  accessKeyId: string | null;
  /** First `arn` after `userIdentity` (normally the caller's ARN, else its session issuer). */
  arn: string | null;
  /** Only read when asked for (`withEventId`). */
  eventId: string | null;
  /** Whether the record has a `userIdentity` object (every API call record does). */
  identity: boolean;
  /**
   * Filled by the reader before selection: the principal key of `arn`, and for a role session
   * its session name as a compute id (`i-…`, a function, a task), or null.
   */
  principalKey?: string | null;
  sessionName?: string | null;
}

const N_EVENT_NAME = Buffer.from('"eventName"');
const N_USER_IDENTITY = Buffer.from('"userIdentity"');
const N_ACCESS_KEY_ID = Buffer.from('"accessKeyId"');
const N_ARN = Buffer.from('"arn"');
const N_EVENT_ID = Buffer.from('"eventID"');
export const N_EVENT_TIME = Buffer.from('"eventTime"');
export const N_REGION = Buffer.from('"awsRegion"');
export const N_RECIPIENT = Buffer.from('"recipientAccountId"');

/**
 * The field names the reader looks for in every record, each with its slot in
 * {@link RecordFields}: `accessKeyId` and `arn` count only after `userIdentity`.
 */
const KEY_NEEDLES: readonly Buffer[] = [N_EVENT_NAME, N_USER_IDENTITY, N_ACCESS_KEY_ID, N_ARN, N_EVENT_ID, N_EVENT_TIME, N_REGION, N_RECIPIENT];
const SLOT_USER_IDENTITY = 1;
const AFTER_IDENTITY: readonly boolean[] = KEY_NEEDLES.map((n) => n === N_ACCESS_KEY_ID || n === N_ARN);
const SLOT_OF = new Map<Buffer, number>(KEY_NEEDLES.map((n, i) => [n, i]));
/** Needle indexes by length (quotes included), for the scanner's check of each string it passes. */
const NEEDLES_BY_LENGTH: number[][] = [];
KEY_NEEDLES.forEach((n, i) => (NEEDLES_BY_LENGTH[n.length] ??= []).push(i));
/** 1 at each length some name has (quotes included). */
const NEEDLE_LENGTH = new Uint8Array(NEEDLES_BY_LENGTH.length);
for (const n of KEY_NEEDLES) NEEDLE_LENGTH[n.length] = 1;
/** The same as bits (bit L: some name is L bytes long), for the WebAssembly scanner; every name is under 32 bytes. */
const NAME_LENGTHS = KEY_NEEDLES.reduce((m, n) => m | (1 << n.length), 0);

/**
 * The first place of each of the reader's field names in the record the scanner has just
 * closed ({@link scanRecordFields}), found as the scanner passed each string: a {@link Fields}
 * for {@link lightView} and {@link stringValueAfter} without searching the record again. The
 * same answers as a {@link FieldReader} (the first string token equal to the quoted name),
 * for those names only.
 */
export class RecordFields implements Fields {
  /** Offset of each name's first string token in the current record, or -1. */
  readonly slots = new Int32Array(KEY_NEEDLES.length).fill(-1);
  /**
   * The values of `eventName`, and of `accessKeyId` and `arn` after `userIdentity`, in the
   * current record when the WebAssembly scanner interned them (each string decoded once per
   * distinct value); `undefined` where the reader must read the value itself.
   */
  readonly values: (string | undefined)[] = [undefined, undefined, undefined];
  private readonly others: FieldReader;
  constructor(readonly buf: Buffer) {
    this.others = new FieldReader(buf);
  }

  find(needle: Buffer, from: number): number {
    const k = SLOT_OF.get(needle);
    if (k === undefined) return this.others.find(needle, from);
    const at = this.slots[k] as number;
    return at >= from ? at : -1;
  }
}

/** The slot of the string token `buf[q, q + len)` (quotes included) among the reader's names, or -1. */
function slotOfToken(buf: Uint8Array, q: number, len: number): number {
  const list = NEEDLES_BY_LENGTH[len];
  if (!list) return -1;
  outer: for (const k of list) {
    const n = KEY_NEEDLES[k] as Buffer;
    for (let j = 1; j < len - 1; j++) if (buf[q + j] !== n[j]) continue outer;
    return k;
  }
  return -1;
}

/** Texts up to this size are scanned by the WebAssembly scanner (delivery files are 1 to 2 MB); larger ones by {@link scanRecordFieldsJs}, so a thread's WebAssembly memory (which never shrinks) stays within about 10 MiB. */
export const WASM_SCAN_MAX_BYTES = 8 * 1024 * 1024;
/** Where the text starts in the WebAssembly memory (see scan.wat). */
const WASM_BASE = 1331200;
/** The values the scanner interns (see scan.wat): eventName, accessKeyId, arn. */
const INTERNED_VALUES = 3;
/** Bytes of output per record: start, end, the slots, the value ids and whether its eventTime is counted, as i32. */
const WASM_RECORD_BYTES = 4 * (2 + KEY_NEEDLES.length + INTERNED_VALUES + 1);
/** scan.wat's eventTime: the largest record counted (i32 at 312), the range (20 bytes at 320 and 352), the text's earliest and latest (at 384 and 416) when [448] is 1. */
const WASM_MAX_RECORD = 312;
const WASM_FROM = 320;
const WASM_TO = 352;
const WASM_MIN = 384;
const WASM_MAX = 416;
const WASM_TIMES = 448;
/** scan.wat's intern table: ids given (i32 at 304), arena bytes used (i32 at 308), the table, the ids, the arena. */
const WASM_COUNT = 304;
/** scan.wat's count of the elements that are not objects (i32 at 288). */
const WASM_NONOBJ = 288;
const WASM_USED = 308;
const WASM_TABLE = 4096;
const WASM_TABLE_BYTES = 16384 * 8;
const WASM_IDS = 135168;
const WASM_MAX_IDS = 8192;
const WASM_ARENA = 200704;
const WASM_ARENA_BYTES = 1048576;
/** The strings of the ids the scanner of this thread has given, in order (replaced, not emptied, when its table is emptied). */
let internedValues: string[] = [];

/** The little of the WebAssembly JavaScript API used here (not in this project's TypeScript libraries). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
interface WasmScanner {
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  scan: (n: number, depth: number, out: number, outEnd: number, lengths: number) => number;
}
/** The WebAssembly scanner of this thread, made on first use; null where WebAssembly SIMD is not available. */
let wasmScanner: WasmScanner | null | undefined;

function loadWasmScanner(): WasmScanner | null {
  if (wasmScanner !== undefined) return wasmScanner;
  try {
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const module = new api.Module(Buffer.from(SCAN_WASM_BASE64, 'base64'));
    const exports = new api.Instance(module, {}).exports as WasmScanner;
    // The names: (length, offset) at 0, their bytes from 64.
    const mem = new DataView(exports.mem.buffer);
    let at = 64;
    KEY_NEEDLES.forEach((n, k) => {
      mem.setInt32(k * 8, n.length, true);
      mem.setInt32(k * 8 + 4, at, true);
      new Uint8Array(exports.mem.buffer, at, n.length).set(n);
      at += n.length;
    });
    // The range of times the reader keeps, as their first 20 bytes (a time in the plain form
    // differs from either within them: `Z` against `.`).
    new Uint8Array(exports.mem.buffer, WASM_FROM, 20).set(Buffer.from(new Date(RECORD_TIME_RANGE_MS.from).toISOString().slice(0, 20), 'latin1'));
    new Uint8Array(exports.mem.buffer, WASM_TO, 20).set(Buffer.from(new Date(RECORD_TIME_RANGE_MS.to).toISOString().slice(0, 20), 'latin1'));
    wasmScanner = exports;
  } catch {
    wasmScanner = null;
  }
  return wasmScanner;
}

/**
 * {@link scanObjectsAtDepth}, noting as it goes where each of the reader's field names first
 * stands in each record (in `fields.slots`, valid during `onRecord`): the light view then reads
 * its values without searching the record again. Only strings in a name's place (after `{` or
 * `,`) are compared: a value never stands for a name.
 *
 * Runs the WebAssembly scanner of scan.wat (SIMD: 16 bytes at a time inside strings; measured
 * 2.5 times faster than {@link scanRecordFieldsJs} with the copy into its memory included) for
 * texts up to {@link WASM_SCAN_MAX_BYTES}; both give the same answers (test/trail/scan-fields.test.ts).
 * The WebAssembly scanner also interns the values of `eventName`, `accessKeyId` and `arn`
 * (`fields.values`, valid during `onRecord`): each distinct value is decoded once per thread,
 * not once per record, and the light view takes the same string (test/trail/scan-intern.test.ts).
 */
export function scanRecordFields(buf: Buffer, depth: number, fields: RecordFields, onRecord: (start: number, end: number) => void, onNonObject?: () => void): boolean {
  const t = scanRecordTable(buf, depth, fields);
  if (!t) return false;
  const { table, values, nonObjects } = t;
  const slots = fields.slots;
  const k = slots.length;
  for (let r = 0, x = 0; r < table.length; r += RECORD_STRIDE, x += INTERNED_VALUES) {
    for (let j = 0; j < k; j++) slots[j] = table[r + 2 + j] as number;
    for (let j = 0; j < INTERNED_VALUES; j++) fields.values[j] = values[x + j];
    onRecord(table[r] as number, table[r + 1] as number);
  }
  if (onNonObject) for (let j = 0; j < nonObjects; j++) onNonObject();
  return true;
}

/** Int32s a record takes in a {@link RecordTable}: start, end, the slots. */
export const RECORD_STRIDE = 2 + KEY_NEEDLES.length;

/**
 * The records of a text as {@link scanRecordFields} finds them, as a table: for each record its
 * start, end and slots ({@link RECORD_STRIDE} int32s) in `table`, its interned values
 * ({@link INTERNED_VALUES} entries, `undefined` where not interned) in `values`; and how many
 * elements were not objects.
 */
export interface RecordTable {
  table: Int32Array;
  values: (string | undefined)[];
  /**
   * 1 for a record whose `eventTime` is in `times` (the plain form `2026-10-03T01:11:00Z`, within
   * {@link RECORD_TIME_RANGE_MS}, the record within `maxRecordBytes`): its time need not be read.
   */
  timeCounted: Uint8Array;
  /** The earliest and latest of those times, null when none. */
  times: { min: string; max: string } | null;
  nonObjects: number;
}

/**
 * {@link scanRecordFields} as a {@link RecordTable} (no call per record); null when the text's
 * structure is broken. `maxRecordBytes`: records larger than this have no time counted.
 */
export function scanRecordTable(buf: Buffer, depth: number, fields: RecordFields, maxRecordBytes = 0x7fffffff): RecordTable | null {
  const w = buf.length <= WASM_SCAN_MAX_BYTES ? loadWasmScanner() : null;
  if (!w) return tableOfJsScan(buf, depth, fields);
  const n = buf.length;
  // Room for records of 256 bytes on average (CloudTrail's are about 1.3 KB); texts of smaller
  // ones take the JavaScript scanner.
  const out = (WASM_BASE + n + 32 + 7) & ~7;
  const outEnd = out + Math.ceil(n / 256) * WASM_RECORD_BYTES + 4096;
  const pages = Math.ceil(outEnd / 65536) - w.mem.buffer.byteLength / 65536;
  if (pages > 0) w.mem.grow(pages);
  const words = new Int32Array(w.mem.buffer, 0, 1024);
  // The intern table half full: emptied before the text (the ids of earlier texts are strings by now).
  if ((words[WASM_COUNT / 4] as number) > WASM_MAX_IDS / 2 || (words[WASM_USED / 4] as number) > WASM_ARENA_BYTES / 2) {
    new Uint8Array(w.mem.buffer, WASM_TABLE, WASM_TABLE_BYTES).fill(0);
    words[WASM_COUNT / 4] = 0;
    words[WASM_USED / 4] = 0;
    internedValues = [];
  }
  words[WASM_MAX_RECORD / 4] = Math.min(maxRecordBytes, 0x7fffffff);
  const bytes = new Uint8Array(w.mem.buffer);
  bytes.set(buf, WASM_BASE);
  bytes.fill(0, WASM_BASE + n, WASM_BASE + n + 32);
  const count = w.scan(n, depth, out, outEnd, NAME_LENGTHS);
  if (count === -2) return tableOfJsScan(buf, depth, fields);
  if (count < 0) return null;
  const recs = new Int32Array(w.mem.buffer, out, count * (WASM_RECORD_BYTES / 4));
  const nonObjects = words[WASM_NONOBJ / 4] as number;
  // The values seen for the first time: decoded once, here.
  const given = words[WASM_COUNT / 4] as number;
  const strings = internedValues;
  if (given > strings.length) {
    const ids = new Int32Array(w.mem.buffer, WASM_IDS, 2 * given);
    const arena = Buffer.from(w.mem.buffer, WASM_ARENA, WASM_ARENA_BYTES);
    for (let id = strings.length; id < given; id++) strings.push(arena.toString('utf8', ids[2 * id] as number, (ids[2 * id] as number) + (ids[2 * id + 1] as number)));
  }
  // Copied out of the memory, which the next text reuses; the value ids as their strings.
  const table = new Int32Array(count * RECORD_STRIDE);
  const values = new Array<string | undefined>(count * INTERNED_VALUES);
  const timeCounted = new Uint8Array(count);
  for (let r = 0, from = 0, to = 0, x = 0; r < count; r++) {
    for (let j = 0; j < RECORD_STRIDE; j++) table[to++] = recs[from++] as number;
    for (let j = 0; j < INTERNED_VALUES; j++) {
      const id = recs[from++] as number;
      values[x++] = id >= 0 ? strings[id] : undefined;
    }
    timeCounted[r] = recs[from++] as number;
  }
  const head = Buffer.from(w.mem.buffer, 0, 1024);
  const times = words[WASM_TIMES / 4] === 1 ? { min: head.toString('latin1', WASM_MIN, WASM_MIN + 20), max: head.toString('latin1', WASM_MAX, WASM_MAX + 20) } : null;
  return { table, values, timeCounted, times, nonObjects };
}

/** The {@link RecordTable} of {@link scanRecordFieldsJs} (which interns nothing). */
function tableOfJsScan(buf: Buffer, depth: number, fields: RecordFields): RecordTable | null {
  const rows: number[] = [];
  let nonObjects = 0;
  const ok = scanRecordFieldsJs(
    buf,
    depth,
    fields,
    (s, e) => {
      rows.push(s, e);
      for (let j = 0; j < fields.slots.length; j++) rows.push(fields.slots[j] as number);
    },
    () => nonObjects++,
  );
  if (!ok) return null;
  const count = rows.length / RECORD_STRIDE;
  return { table: Int32Array.from(rows), values: new Array<string | undefined>(count * INTERNED_VALUES).fill(undefined), timeCounted: new Uint8Array(count), times: null, nonObjects };
}

/** {@link scanRecordFields} in JavaScript: strings skipped four bytes at a time. */
export function scanRecordFieldsJs(buf: Buffer, depth: number, fields: RecordFields, onRecord: (start: number, end: number) => void, onNonObject?: () => void): boolean {
  const to = buf.length;
  const slots = fields.slots;
  const al = (4 - (buf.byteOffset & 3)) & 3;
  const words = to > al ? (to - al) >>> 2 : 0;
  const u32 = words > 0 ? new Uint32Array(buf.buffer, buf.byteOffset + al, words) : NO_WORDS;
  const maxLen = NEEDLES_BY_LENGTH.length - 1;
  let d = 0;
  let start = -1;
  let expectElement = false;
  // The next string can be a name (after `{` or `,`; not after `:`, where values stand).
  let keyNext = false;
  let i = 0;
  while (i < to) {
    const c = buf[i++] as number;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (expectElement) {
      expectElement = false;
      if (c !== LBRACE && c !== RBRACKET && onNonObject) onNonObject();
    }
    if (c === 0x3a) {
      keyNext = false;
      continue;
    }
    if (c === QUOTE) {
      const q = i - 1;
      for (;;) {
        if (((i - al) & 3) === 0) {
          let w = (i - al) >>> 2;
          while (w < words) {
            const v = u32[w] as number;
            const x = v ^ 0x22222222;
            const b = v ^ 0x5c5c5c5c;
            if ((((x - 0x01010101) & ~x) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
            w++;
          }
          if (w > (i - al) >>> 2) i = (w << 2) + al;
        }
        if (i >= to) return false;
        const x = buf[i++] as number;
        if (x === QUOTE) break;
        if (x === BACKSLASH) i++;
      }
      const len = i - q;
      if (keyNext && start >= 0 && len <= maxLen && NEEDLE_LENGTH[len] === 1) {
        const k = slotOfToken(buf, q, len);
        if (k >= 0 && (slots[k] as number) < 0 && (!AFTER_IDENTITY[k] || (slots[SLOT_USER_IDENTITY] as number) >= 0)) slots[k] = q;
      }
    } else if (c === 0x2c) {
      keyNext = true;
      if (d === depth - 1) expectElement = true;
    } else if (c === LBRACE || c === LBRACKET) {
      keyNext = c === LBRACE;
      d++;
      if (d === depth && c === LBRACE) {
        start = i - 1;
        slots.fill(-1);
        fields.values.fill(undefined);
      }
      if (d === depth - 1 && c === LBRACKET) expectElement = true;
    } else if (c === RBRACE || c === RBRACKET) {
      if (d === depth && c === RBRACE && start >= 0) {
        onRecord(start, i);
        start = -1;
      }
      d--;
      if (d < 0) return false;
    }
  }
  return d === 0;
}

/**
 * Reads the {@link LightView} of the record in `buf[start, end)`. Pass one {@link FieldReader}
 * for all the records of a file, in order, to keep reading linear. `into`: a view to fill instead
 * of a new one (a million records, a million objects fewer), which the caller must not keep.
 */
export function lightView(source: Buffer | Fields, start: number, end: number, withEventId: boolean, into?: LightView): LightView {
  const reader = source instanceof Uint8Array ? new FieldReader(source) : source;
  // The values the scanner interned, when it did: the same strings, decoded once.
  const known = reader instanceof RecordFields ? reader.values : NOT_INTERNED;
  const eventName = known[0] ?? stringValueAfter(reader, N_EVENT_NAME, start, end);
  const ui = reader.find(N_USER_IDENTITY, start);
  let accessKeyId: string | null = null;
  let arn: string | null = null;
  let identity = false;
  if (ui >= 0 && ui < end) {
    // `"userIdentity"` then `:` then an object (not null, not a string).
    const colon = skipSpace(reader.buf, ui + N_USER_IDENTITY.length);
    identity = reader.buf[colon] === 0x3a && reader.buf[skipSpace(reader.buf, colon + 1)] === 0x7b;
    accessKeyId = known[1] ?? stringValueAfter(reader, N_ACCESS_KEY_ID, ui, end);
    arn = known[2] ?? stringValueAfter(reader, N_ARN, ui, end);
  }
  const eventId = withEventId ? stringValueAfter(reader, N_EVENT_ID, start, end) : null;
  if (!into) return { eventName, accessKeyId, arn, eventId, identity };
  into.eventName = eventName;
  into.accessKeyId = accessKeyId;
  into.arn = arn;
  into.eventId = eventId;
  into.identity = identity;
  into.principalKey = undefined;
  into.sessionName = undefined;
  return into;
}

const NOT_INTERNED: readonly (string | undefined)[] = [undefined, undefined, undefined];

/** The {@link LightView} of an already-parsed record object. */
export function lightViewOf(rec: Record<string, unknown>): LightView {
  const ui = rec.userIdentity && typeof rec.userIdentity === 'object' ? (rec.userIdentity as Record<string, unknown>) : {};
  const ctx = ui.sessionContext && typeof ui.sessionContext === 'object' ? (ui.sessionContext as Record<string, unknown>) : {};
  const issuer = ctx.sessionIssuer && typeof ctx.sessionIssuer === 'object' ? (ctx.sessionIssuer as Record<string, unknown>) : {};
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    eventName: s(rec.eventName),
    accessKeyId: s(ui.accessKeyId),
    arn: s(ui.arn) ?? s(issuer.arn),
    eventId: s(rec.eventID),
    identity: !!rec.userIdentity && typeof rec.userIdentity === 'object' && !Array.isArray(rec.userIdentity),
  };
}
