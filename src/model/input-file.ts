/**
 * The input boundary for the files a user names (`--finding`, `--event-map`): each is opened as
 * what it should be before a byte is read. A named pipe, a device (`/dev/zero`), a socket or a
 * folder is refused without blocking on it (the file is opened non-blocking and checked with
 * `fstat`); a link is followed by the system once and a loop of links is reported as one; the
 * size is checked before reading; a JSON document nested deeper than any finding or event map
 * is refused before code that walks it can overflow the stack.
 *
 * Every refusal is an {@link InputFileError} whose message is the problem alone, for the
 * caller's one-line error naming the file.
 */
import * as fs from 'node:fs';

/** Why a named file cannot be used: the problem in a few words (the caller names the file). */
export class InputFileError extends Error {
  /**
   * @param problem the problem in a few words
   * @param kind `too-large` (past the size read at most), `not-regular` (a pipe, device,
   *   socket or folder), `unreadable` (missing, permission, a loop of links)
   */
  constructor(
    problem: string,
    readonly kind: 'too-large' | 'not-regular' | 'unreadable',
  ) {
    super(problem);
    this.name = 'InputFileError';
  }
}

/** 1 MiB, in bytes. */
export const MIB = 1024 * 1024;

/**
 * The largest finding file read: a Security Hub `GetFindings` page holds at most 100 findings
 * of at most 240 KB each (about 23 MiB); GuardDuty's `GetFindings` at most 50.
 */
export const MAX_FINDING_FILE_BYTES = 32 * MIB;

/** The deepest JSON nesting accepted in a finding or an event map (GuardDuty findings nest about 10 levels). */
export const MAX_JSON_DEPTH = 64;

/** What kind of file a `fs.Stats` describes, in words, for a refusal. */
export function fileKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An errno code as the few words a user needs, the code after them (`ELOOP` → `a loop of symbolic links (ELOOP)`). */
export function errnoProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory, or a link to nothing (ENOENT)';
    case 'ELOOP':
      return 'a loop of symbolic links (ELOOP)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'ENOTDIR':
      return 'a part of the path is not a folder (ENOTDIR)';
    default:
      return code ?? (e as Error).message;
  }
}

/** Sizes in the unit a person reads: `700 MiB`, `12 KiB`, `512 bytes`. */
export function formatBytes(n: number): string {
  if (n >= MIB) return `${Math.round((n / MIB) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

/**
 * Reads a file the user named, whole, as a regular file of at most `maxBytes` bytes.
 * @param maxBytes the largest size accepted, in bytes (checked with `fstat` before reading, and
 *   again while reading, for a file that grows)
 * @returns the file's bytes
 * @throws InputFileError when the file is missing, unreadable, a loop of links, not a regular
 *   file (a pipe or a device is never read, so it cannot block or run without end), or larger
 *   than `maxBytes`.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a named pipe with no writer would otherwise wait for ever.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new InputFileError(errnoProblem(e), 'unreadable');
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputFileError(`is ${fileKind(st)}, not a regular file`, 'not-regular');
    if (st.size > maxBytes) throw new InputFileError(`is ${formatBytes(st.size)}, more than the ${formatBytes(maxBytes)} read at most`, 'too-large');
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > maxBytes) throw new InputFileError(`grew past the ${formatBytes(maxBytes)} read at most while being read`, 'too-large');
      if (got === buf.length) break;
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    throw new InputFileError(errnoProblem(e), 'unreadable');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The most JSON values (objects, arrays, and the members and elements the commas separate) a
 * document the user names may hold before it is parsed: `JSON.parse` costs up to about 200
 * bytes of memory for each, so a 32 MiB file of `{},{},…` would take 2 GB. A finding holds a
 * few thousand; a page of 100 Security Hub findings at the 240 KB limit a few hundred thousand.
 */
export const MAX_JSON_VALUES = 1_000_000;

/** What {@link jsonShape} found: values (objects, arrays, and one more for each comma), and the deepest nesting. */
export interface JsonShape {
  values: number;
  depth: number;
}

/**
 * Counts the values of a JSON text and its deepest nesting from the bytes, without
 * parsing (string-aware: braces inside strings do not count), so an input whose parse would
 * take unbounded memory or whose walk would overflow the stack is refused before either.
 * Stops early once `limits` are passed (the counts returned are then past them).
 * @param buf UTF-8 JSON text
 */
export function jsonShape(buf: Uint8Array, limits: { values: number; depth: number } = { values: MAX_JSON_VALUES, depth: MAX_JSON_DEPTH }): JsonShape {
  let values = 0;
  let d = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i] as number;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      values++;
      d++;
      if (d > depth) depth = d;
      if (values > limits.values || depth > limits.depth) break;
    } else if (c === 0x2c) {
      if (++values > limits.values) break;
    } else if (c === 0x7d || c === 0x5d) d--;
  }
  return { values, depth };
}

/**
 * Why a JSON text is refused before parsing (too many values, nested too deep), or null when
 * it is within {@link MAX_JSON_VALUES} and `maxDepth`.
 */
export function jsonShapeProblem(buf: Uint8Array, maxDepth = MAX_JSON_DEPTH): string | null {
  const shape = jsonShape(buf, { values: MAX_JSON_VALUES, depth: maxDepth });
  if (shape.depth > maxDepth) return `is nested more than ${maxDepth} levels deep`;
  if (shape.values > MAX_JSON_VALUES) return `holds more than ${MAX_JSON_VALUES.toLocaleString('en-US')} JSON values`;
  return null;
}
