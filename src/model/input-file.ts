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
 * The nesting depth of a parsed JSON value (a scalar is 0, `[]` and `{}` are 1), counted
 * without recursion and without going deeper than `limit + 1`.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (depth > limit) return depth;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) if (child !== null && typeof child === 'object') stack.push([child, depth]);
  }
  return max;
}
