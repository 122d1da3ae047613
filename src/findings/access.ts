/**
 * Reading untyped JSON whose keys come in either case.
 *
 * GuardDuty findings arrive in camelCase (the service's JSON, EventBridge, the AWS CLI) or in
 * PascalCase (SDK `GetFindings` output, e.g. `AccessKeyDetails`); some members differ by more
 * than the first letter (`sourceIPs` on the wire, `SourceIps` in the SDK). Every read goes
 * through `get`, which matches keys case-insensitively, so one code path serves all casings.
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read one property of `o`, matching each of `names` case-insensitively (exact match first);
 * the first name present wins. `undefined` when `o` is not an object or none is present.
 *
 * @example get({ AccessKeyDetails: 1 }, 'accessKeyDetails') === 1
 */
export function get(o: unknown, ...names: string[]): unknown {
  if (!isObject(o)) return undefined;
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(o, name) && o[name] !== undefined) return o[name];
    const lower = name.toLowerCase();
    for (const key of Object.keys(o)) {
      if (key.toLowerCase() === lower && o[key] !== undefined) return o[key];
    }
  }
  return undefined;
}

/** Follow a path of property names, each matched case-insensitively. */
export function at(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const name of path) {
    cur = get(cur, name);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** The object at `path` (case-insensitive), or `undefined` when absent or not an object. */
export function objAt(o: unknown, ...path: string[]): JsonObject | undefined {
  const v = at(o, ...path);
  return isObject(v) ? v : undefined;
}

/** An array as is; anything else as `[]`. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * A non-empty trimmed string; numbers become their decimal text. `undefined` for empty text,
 * `null`, the text `null`, objects and the rest.
 */
export function str(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s === '' || s === 'null' ? undefined : s;
}

/** A finite number, also from numeric text (`"3"`); `undefined` otherwise. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** `true`/`false`, also from the text `"true"`/`"false"` (any case); `undefined` otherwise. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

/** Text made safe for a one-line message: whitespace runs to one space, cut at 120 characters. */
export function oneLine(v: unknown): string {
  const s = String(v).replace(/\s+/g, ' ').trim();
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
