/**
 * Smithy JSON model loader and validator for the local AWS emulator.
 *
 * Reads the official AWS Smithy JSON AST models (the files under `/work/shared/aws-models`,
 * Apache-2.0; format described at https://smithy.io/2.0/spec/json-ast.html) and offers:
 *
 * - an operation index by name and, for `aws.protocols#restJson1` services, by HTTP method and
 *   URI pattern (the `smithy.api#http` trait, labels `{Label}` / `{Label+}`);
 * - the HTTP binding of every input member (`@httpLabel`, `@httpQuery`, `@httpHeader`,
 *   `@httpPayload`, `@httpQueryParams`) and the `@jsonName` of body members;
 * - `validate(shapeId, value)`: the constraint traits a real service enforces on input
 *   (`smithy.api#required`, `length`, `range`, `pattern`, `enum`, enum / intEnum shapes,
 *   list and map members, nested structures and unions), unknown members ignored;
 * - wire ⇄ member-name conversion (`fromWire`, `toWire`) that applies `@jsonName` and the
 *   timestamp formats (`smithy.api#timestampFormat`, protocol default epoch-seconds).
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as path from 'node:path';

/** A Smithy shape as it stands in the JSON AST (only the parts this module reads). */
export interface SmithyShape {
  type: string;
  members?: Record<string, SmithyMember>;
  member?: SmithyMember;
  key?: SmithyMember;
  value?: SmithyMember;
  input?: { target: string };
  output?: { target: string };
  errors?: { target: string }[];
  operations?: { target: string }[];
  resources?: { target: string }[];
  traits?: Record<string, unknown>;
}

/** A member reference: its target shape id and the traits applied on the member. */
export interface SmithyMember {
  target: string;
  traits?: Record<string, unknown>;
}

/** The wire protocols the emulator speaks, from the service shape's `aws.protocols#*` trait. */
export type Protocol = 'restJson1' | 'awsJson1_0' | 'awsJson1_1' | 'awsQuery' | 'restXml';

/** One problem found by {@link SmithyModel.validate}: a JSON-path-like location and a message. */
export interface Problem {
  path: string;
  message: string;
}

/** The `smithy.api#http` binding of an operation. */
export interface HttpBinding {
  method: string;
  /** URI path pattern without the query part, e.g. `/detector/{DetectorId}/findings/get`. */
  path: string;
  /** Literal query constraints of the pattern (`?x-id=PutObject` → `{ 'x-id': 'PutObject' }`). */
  query: Record<string, string>;
  /** Successful HTTP status code. */
  code: number;
}

/** An operation of the model: name, input / output shape ids, error shape ids, HTTP binding. */
export interface OperationInfo {
  name: string;
  shapeId: string;
  input?: string;
  output?: string;
  errors: string[];
  http?: HttpBinding;
}

/** Result of {@link SmithyModel.matchRoute}: the operation and the decoded path labels. */
export interface RouteMatch {
  op: OperationInfo;
  labels: Record<string, string>;
}

const PRELUDE: Record<string, string> = {
  String: 'string', Integer: 'integer', Long: 'long', Short: 'short', Byte: 'byte', Float: 'float', Double: 'double',
  Boolean: 'boolean', Timestamp: 'timestamp', Blob: 'blob', Document: 'document', BigInteger: 'bigInteger',
  BigDecimal: 'bigDecimal', PrimitiveInteger: 'integer', PrimitiveLong: 'long', PrimitiveBoolean: 'boolean',
  PrimitiveFloat: 'float', PrimitiveDouble: 'double', PrimitiveShort: 'short', PrimitiveByte: 'byte', Unit: 'structure',
};

const NUMERIC = new Set(['integer', 'long', 'short', 'byte', 'float', 'double', 'bigInteger', 'bigDecimal', 'intEnum']);
/** Deepest structure nesting validated or converted (ASFF and GuardDuty shapes are deep, some recursive). */
const MAX_DEPTH = 40;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One loaded Smithy model (one service).
 *
 * Construct with {@link SmithyModel.load} (a file) or `new SmithyModel(json)`.
 */
export class SmithyModel {
  /** All shapes of the model by absolute shape id. */
  readonly shapes: Record<string, SmithyShape>;
  /** Shape id of the service shape, e.g. `com.amazonaws.cloudtrail#CloudTrail_20131101`. */
  readonly serviceId: string;
  /** Namespace, e.g. `com.amazonaws.cloudtrail`. */
  readonly namespace: string;
  /** Protocol from the service's traits. */
  readonly protocol: Protocol;
  /** SigV4 signing name (`aws.auth#sigv4` name), the service part of the credential scope. */
  readonly signingName: string;
  /** Target prefix for awsJson protocols (`X-Amz-Target: <prefix>.<Operation>`): the service shape name. */
  readonly targetPrefix: string;
  /** awsQuery / restXml API version (service `version`). */
  readonly version: string;
  /** Operations by name. */
  readonly operations = new Map<string, OperationInfo>();
  private readonly regexCache = new Map<string, RegExp | null>();

  /** Loads a model from a Smithy JSON AST file. Throws on unreadable JSON or a model without a service shape. */
  /** Loads a model file (`.json`, or `.json.gz`). */
  static load(file: string): SmithyModel {
    const raw = fs.readFileSync(file);
    const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    return new SmithyModel(JSON.parse(text) as { shapes: Record<string, SmithyShape> });
  }

  constructor(json: { shapes: Record<string, SmithyShape> }) {
    this.shapes = json.shapes;
    const svc = Object.entries(this.shapes).find(([, s]) => s.type === 'service');
    if (!svc) throw new Error('model has no service shape');
    const [serviceId, service] = svc;
    this.serviceId = serviceId;
    this.namespace = serviceId.split('#')[0] ?? '';
    this.targetPrefix = serviceId.split('#')[1] ?? '';
    const t = service.traits ?? {};
    const protos: Protocol[] = ['restJson1', 'awsJson1_0', 'awsJson1_1', 'awsQuery', 'restXml'];
    this.protocol = protos.find((p) => `aws.protocols#${p}` in t) ?? 'restJson1';
    const sig = t['aws.auth#sigv4'] as { name?: string } | undefined;
    const api = t['aws.api#service'] as { endpointPrefix?: string } | undefined;
    this.signingName = sig?.name ?? api?.endpointPrefix ?? this.targetPrefix.toLowerCase();
    this.version = String((service as unknown as { version?: string }).version ?? '');
    // Operations hang off the service directly or off its resources (recursively).
    const opIds = new Set<string>();
    const visit = (s: SmithyShape | undefined, seen: Set<string>): void => {
      for (const o of s?.operations ?? []) opIds.add(o.target);
      for (const r of s?.resources ?? []) {
        if (seen.has(r.target)) continue;
        seen.add(r.target);
        const rs = this.shapes[r.target] as SmithyShape & Record<string, unknown> | undefined;
        for (const k of ['create', 'put', 'read', 'update', 'delete', 'list']) {
          const ref = rs?.[k] as { target: string } | undefined;
          if (ref) opIds.add(ref.target);
        }
        for (const k of ['collectionOperations']) {
          for (const o of (rs?.[k] as { target: string }[] | undefined) ?? []) opIds.add(o.target);
        }
        visit(rs, seen);
      }
    };
    visit(service, new Set());
    const svcErrors = (service.errors ?? []).map((e) => e.target);
    for (const id of opIds) {
      const op = this.shapes[id];
      if (!op || op.type !== 'operation') continue;
      const name = id.split('#')[1] ?? id;
      const http = op.traits?.['smithy.api#http'] as { method: string; uri: string; code?: number } | undefined;
      let binding: HttpBinding | undefined;
      if (http) {
        const [p, q] = http.uri.split('?');
        const query: Record<string, string> = {};
        for (const part of (q ?? '').split('&').filter(Boolean)) {
          const [k, v] = part.split('=');
          query[k ?? ''] = v ?? '';
        }
        binding = { method: http.method.toUpperCase(), path: p ?? '/', query, code: http.code ?? 200 };
      }
      const info: OperationInfo = { name, shapeId: id, errors: [...(op.errors ?? []).map((e) => e.target), ...svcErrors], ...(binding ? { http: binding } : {}) };
      if (op.input && op.input.target !== 'smithy.api#Unit') info.input = op.input.target;
      if (op.output && op.output.target !== 'smithy.api#Unit') info.output = op.output.target;
      this.operations.set(name, info);
    }
  }

  /** The shape with this id (undefined for prelude shapes such as `smithy.api#String`). */
  shape(id: string): SmithyShape | undefined {
    return this.shapes[id];
  }

  /** The shape type of an id, resolving prelude shapes (`smithy.api#Integer` → `integer`). */
  typeOf(id: string): string {
    const s = this.shapes[id];
    if (s) return s.type;
    return PRELUDE[id.split('#')[1] ?? ''] ?? 'document';
  }

  /** Error shape ids of the model (shapes with the `smithy.api#error` trait), by shape name. */
  errorShapes(): Map<string, { id: string; fault: 'client' | 'server'; httpStatus?: number; queryCode?: string }> {
    const out = new Map<string, { id: string; fault: 'client' | 'server'; httpStatus?: number; queryCode?: string }>();
    for (const [id, s] of Object.entries(this.shapes)) {
      const fault = s.traits?.['smithy.api#error'];
      if (fault !== 'client' && fault !== 'server') continue;
      const status = s.traits?.['smithy.api#httpError'] as number | undefined;
      const q = s.traits?.['aws.protocols#awsQueryError'] as { code?: string } | undefined;
      out.set(id.split('#')[1] ?? id, { id, fault, ...(status ? { httpStatus: status } : {}), ...(q?.code ? { queryCode: q.code } : {}) });
    }
    return out;
  }

  /**
   * Finds the operation bound to an HTTP method and request path (restJson1 / restXml).
   * Literal segments must match; `{Label}` takes one segment, `{Label+}` the rest; the most
   * literal pattern wins. Labels are URI-decoded. Returns undefined when nothing matches.
   */
  matchRoute(method: string, pathname: string, query?: URLSearchParams): RouteMatch | undefined {
    const all = pathname.split('/').slice(1);
    // A trailing slash (`PUT /bucket/`) is not a segment, except for greedy labels (S3 keys may end in `/`).
    const trimmed = all.length > 1 && all[all.length - 1] === '' ? all.slice(0, -1) : all;
    let best: { m: RouteMatch; score: number } | undefined;
    for (const op of this.operations.values()) {
      const h = op.http;
      if (!h || h.method !== method.toUpperCase()) continue;
      if (query && Object.entries(h.query).some(([k, v]) => !query.has(k) || (v !== '' && query.get(k) !== v))) continue;
      const pat = h.path.split('/').slice(1);
      const segs = /\+\}$/.test(pat[pat.length - 1] ?? '') ? all : trimmed;
      const labels: Record<string, string> = {};
      let ok = true;
      let score = Object.keys(h.query).length;
      for (let i = 0; i < pat.length; i++) {
        const p = pat[i] ?? '';
        const greedy = /^\{(.+)\+\}$/.exec(p);
        if (greedy) {
          const rest = segs.slice(i).join('/');
          if (!rest) { ok = false; break; }
          labels[greedy[1] ?? ''] = decodeURIComponent(rest);
          i = segs.length; // consumed
          break;
        }
        const s = segs[i];
        if (s === undefined) { ok = false; break; }
        const label = /^\{(.+)\}$/.exec(p);
        if (label) {
          if (s === '') { ok = false; break; }
          labels[label[1] ?? ''] = decodeURIComponent(s);
        } else if (p === s) {
          score += 10;
        } else { ok = false; break; }
      }
      if (!ok) continue;
      const greedyLast = /\+\}$/.test(pat[pat.length - 1] ?? '');
      if (!greedyLast && segs.length !== pat.length) continue;
      if (!best || score > best.score) best = { m: { op, labels }, score };
    }
    return best?.m;
  }

  private regex(pattern: string): RegExp | null {
    if (this.regexCache.has(pattern)) return this.regexCache.get(pattern) ?? null;
    let re: RegExp | null = null;
    try { re = new RegExp(pattern, 'u'); } catch {
      try { re = new RegExp(pattern); } catch { re = null; }
    }
    this.regexCache.set(pattern, re);
    return re;
  }

  /** Allowed values of an enum shape or a string with the `smithy.api#enum` trait; undefined when not an enum. */
  enumValues(id: string, memberTraits?: Record<string, unknown>): (string | number)[] | undefined {
    const s = this.shapes[id];
    const legacy = (memberTraits?.['smithy.api#enum'] ?? s?.traits?.['smithy.api#enum']) as { value: string }[] | undefined;
    if (legacy) return legacy.map((e) => e.value);
    if (s && (s.type === 'enum' || s.type === 'intEnum')) {
      return Object.entries(s.members ?? {}).map(([name, m]) => (m.traits?.['smithy.api#enumValue'] as string | number | undefined) ?? name);
    }
    return undefined;
  }

  /**
   * Validates a member-named value (the deserialized input) against a shape.
   *
   * Checks: `smithy.api#required` (a member with `smithy.api#default` is not reported),
   * `smithy.api#length` (code points of strings, entries of lists / maps, bytes of blobs),
   * `smithy.api#range`, `smithy.api#pattern` (ECMAScript, unanchored as in Smithy),
   * enum values, JS types of scalars, list members, map keys and values, nested structures
   * and unions (exactly one member). Unknown members are ignored. Recursion stops at depth 40.
   *
   * @returns the problems, empty when the value is valid. `path` is like `Findings[0].Types[1]`.
   */
  validate(shapeId: string, value: unknown, where = '', memberTraits?: Record<string, unknown>, depth = 0): Problem[] {
    const problems: Problem[] = [];
    const at = where || '(input)';
    if (depth > MAX_DEPTH || value === undefined || value === null) return problems;
    const type = this.typeOf(shapeId);
    const s = this.shapes[shapeId];
    const traits = { ...(s?.traits ?? {}), ...(memberTraits ?? {}) };
    const bad = (message: string): void => { problems.push({ path: at, message }); };
    const len = traits['smithy.api#length'] as { min?: number; max?: number } | undefined;
    const range = traits['smithy.api#range'] as { min?: number; max?: number } | undefined;
    const checkLen = (n: number, what: string): void => {
      if (!len) return;
      if (len.min !== undefined && n < len.min) bad(`${what} ${n} is below the minimum length ${len.min}`);
      if (len.max !== undefined && n > len.max) bad(`${what} ${n} is above the maximum length ${len.max}`);
    };
    switch (type) {
      case 'structure':
      case 'union': {
        if (!isRecord(value)) { bad('expected an object'); break; }
        const members = s?.members ?? {};
        const present = Object.keys(members).filter((k) => value[k] !== undefined && value[k] !== null);
        if (type === 'union' && present.length !== 1) bad(`a union takes exactly one member, got ${present.length}`);
        for (const [name, m] of Object.entries(members)) {
          const v = value[name];
          const p = where ? `${where}.${name}` : name;
          if (v === undefined || v === null) {
            if (m.traits && 'smithy.api#required' in m.traits && !('smithy.api#default' in m.traits)) {
              problems.push({ path: p, message: 'required member is missing' });
            }
            continue;
          }
          problems.push(...this.validate(m.target, v, p, m.traits, depth + 1));
        }
        break;
      }
      case 'list':
      case 'set': {
        if (!Array.isArray(value)) { bad('expected a list'); break; }
        checkLen(value.length, 'list length');
        const m = s?.member;
        if (m) value.forEach((v, i) => problems.push(...this.validate(m.target, v, `${at}[${i}]`, m.traits, depth + 1)));
        break;
      }
      case 'map': {
        if (!isRecord(value)) { bad('expected a map'); break; }
        const keys = Object.keys(value);
        checkLen(keys.length, 'map size');
        for (const k of keys) {
          if (s?.key) problems.push(...this.validate(s.key.target, k, `${at}{key ${JSON.stringify(k)}}`, s.key.traits, depth + 1));
          if (s?.value) problems.push(...this.validate(s.value.target, value[k], `${at}.${k}`, s.value.traits, depth + 1));
        }
        break;
      }
      case 'string':
      case 'enum': {
        if (typeof value !== 'string') { bad('expected a string'); break; }
        checkLen([...value].length, 'length');
        const pattern = traits['smithy.api#pattern'] as string | undefined;
        if (pattern) {
          const re = this.regex(pattern);
          if (re && !re.test(value)) bad(`value ${JSON.stringify(value.slice(0, 80))} does not match pattern ${pattern}`);
        }
        const values = this.enumValues(shapeId, memberTraits);
        if (values && !values.includes(value)) bad(`value ${JSON.stringify(value)} is not one of ${values.join(', ')}`);
        break;
      }
      case 'boolean':
        if (typeof value !== 'boolean') bad('expected a boolean');
        break;
      case 'timestamp':
        if (!(value instanceof Date) && typeof value !== 'number' && typeof value !== 'string') bad('expected a timestamp');
        else if (value instanceof Date && Number.isNaN(value.getTime())) bad('invalid timestamp');
        break;
      case 'blob':
        if (typeof value === 'string' || Buffer.isBuffer(value)) checkLen(typeof value === 'string' ? Buffer.from(value, 'base64').length : value.length, 'size');
        break;
      case 'document':
        break;
      default:
        if (NUMERIC.has(type)) {
          if (typeof value !== 'number' || Number.isNaN(value)) { bad('expected a number'); break; }
          if (range?.min !== undefined && value < range.min) bad(`value ${value} is below the minimum ${range.min}`);
          if (range?.max !== undefined && value > range.max) bad(`value ${value} is above the maximum ${range.max}`);
          if (type === 'intEnum') {
            const values = this.enumValues(shapeId, memberTraits);
            if (values && !values.includes(value)) bad(`value ${value} is not one of ${values.join(', ')}`);
          }
        }
    }
    return problems;
  }

  /** The wire (JSON) name of a member: its `smithy.api#jsonName` when the protocol honours it, else the member name. */
  jsonName(m: SmithyMember, name: string): string {
    if (this.protocol !== 'restJson1') return name;
    return (m.traits?.['smithy.api#jsonName'] as string | undefined) ?? name;
  }

  private tsFormat(shapeId: string, memberTraits?: Record<string, unknown>): string {
    return (memberTraits?.['smithy.api#timestampFormat'] as string | undefined)
      ?? (this.shapes[shapeId]?.traits?.['smithy.api#timestampFormat'] as string | undefined)
      ?? (this.protocol === 'awsQuery' || this.protocol === 'restXml' ? 'date-time' : 'epoch-seconds');
  }

  /**
   * Converts a JSON body value (wire names, epoch / ISO timestamps) into member names and
   * `Date` timestamps, following the shape tree. Unknown wire keys are dropped.
   */
  fromWire(shapeId: string, value: unknown, memberTraits?: Record<string, unknown>, depth = 0): unknown {
    if (value === null || value === undefined || depth > MAX_DEPTH) return value;
    const type = this.typeOf(shapeId);
    const s = this.shapes[shapeId];
    if ((type === 'structure' || type === 'union') && isRecord(value)) {
      const out: Record<string, unknown> = {};
      for (const [name, m] of Object.entries(s?.members ?? {})) {
        const w = this.jsonName(m, name);
        if (w in value) out[name] = this.fromWire(m.target, value[w], m.traits, depth + 1);
        else if (name in value) out[name] = this.fromWire(m.target, value[name], m.traits, depth + 1);
      }
      return out;
    }
    if ((type === 'list' || type === 'set') && Array.isArray(value) && s?.member) {
      const m = s.member;
      return value.map((v) => this.fromWire(m.target, v, m.traits, depth + 1));
    }
    if (type === 'map' && isRecord(value) && s?.value) {
      const m = s.value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.fromWire(m.target, v, m.traits, depth + 1)]));
    }
    if (type === 'timestamp') {
      if (typeof value === 'number') return new Date(value * 1000);
      if (typeof value === 'string') {
        const n = Number(value);
        return Number.isFinite(n) && /^[\d.]+$/.test(value) ? new Date(n * 1000) : new Date(value);
      }
    }
    return value;
  }

  /**
   * Converts a member-named value into its wire JSON form: member names → `@jsonName`
   * (keys already in wire form, or unknown to the model, are kept as they are), `Date` or
   * ISO strings of timestamp shapes → the shape's timestamp format. Lenient by design: the
   * emulator stores what AWS sends (GuardDuty native findings) and passes it through.
   */
  toWire(shapeId: string, value: unknown, memberTraits?: Record<string, unknown>, depth = 0): unknown {
    if (value === null || value === undefined || depth > MAX_DEPTH) return value;
    const type = this.typeOf(shapeId);
    const s = this.shapes[shapeId];
    if ((type === 'structure' || type === 'union') && isRecord(value)) {
      const byName = new Map<string, [string, SmithyMember]>();
      for (const [name, m] of Object.entries(s?.members ?? {})) {
        byName.set(name, [name, m]);
        byName.set(this.jsonName(m, name), [name, m]);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const hit = byName.get(k);
        if (!hit) { out[k] = v; continue; }
        const [name, m] = hit;
        out[this.jsonName(m, name)] = this.toWire(m.target, v, m.traits, depth + 1);
      }
      return out;
    }
    if ((type === 'list' || type === 'set') && Array.isArray(value) && s?.member) {
      const m = s.member;
      return value.map((v) => this.toWire(m.target, v, m.traits, depth + 1));
    }
    if (type === 'map' && isRecord(value) && s?.value) {
      const m = s.value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.toWire(m.target, v, m.traits, depth + 1)]));
    }
    if (type === 'timestamp') {
      const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : typeof value === 'number' ? new Date(value * 1000) : undefined;
      if (!d || Number.isNaN(d.getTime())) return value;
      const fmt = this.tsFormat(shapeId, memberTraits);
      if (fmt === 'epoch-seconds') return d.getTime() / 1000;
      if (fmt === 'http-date') return d.toUTCString();
      return d.toISOString();
    }
    return value;
  }

  /**
   * Builds a member-named input object of a restJson1 / restXml operation from its HTTP parts:
   * labels, query string, headers and the parsed JSON body (`@httpPayload` members take the whole body).
   */
  inputFromHttp(op: OperationInfo, labels: Record<string, string>, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, body: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const shape = op.input ? this.shapes[op.input] : undefined;
    const bodyMembers: Record<string, SmithyMember> = {};
    const scalar = (target: string, raw: string, traits?: Record<string, unknown>): unknown => {
      const t = this.typeOf(target);
      if (NUMERIC.has(t)) return Number(raw);
      if (t === 'boolean') return raw === 'true';
      if (t === 'timestamp') return this.fromWire(target, raw, traits);
      return raw;
    };
    for (const [name, m] of Object.entries(shape?.members ?? {})) {
      const tr = m.traits ?? {};
      if ('smithy.api#httpLabel' in tr) {
        if (labels[name] !== undefined) out[name] = scalar(m.target, labels[name] ?? '', tr);
      } else if ('smithy.api#httpQuery' in tr) {
        const q = String(tr['smithy.api#httpQuery']);
        const t = this.typeOf(m.target);
        if (t === 'list' || t === 'set') {
          const all = query.getAll(q);
          const mt = this.shapes[m.target]?.member?.target ?? 'smithy.api#String';
          if (all.length) out[name] = all.map((v) => scalar(mt, v));
        } else if (query.has(q)) out[name] = scalar(m.target, query.get(q) ?? '', tr);
      } else if ('smithy.api#httpQueryParams' in tr) {
        out[name] = Object.fromEntries(query.entries());
      } else if ('smithy.api#httpHeader' in tr) {
        const h = headers[String(tr['smithy.api#httpHeader']).toLowerCase()];
        if (h !== undefined) {
          const raw = Array.isArray(h) ? h.join(',') : h;
          const t = this.typeOf(m.target);
          out[name] = t === 'list' || t === 'set' ? raw.split(',').map((x) => x.trim()) : scalar(m.target, raw, tr);
        }
      } else if ('smithy.api#httpPayload' in tr) {
        if (body !== undefined) out[name] = this.typeOf(m.target) === 'structure' ? this.fromWire(m.target, body, tr) : body;
      } else if ('smithy.api#httpPrefixHeaders' in tr) {
        const prefix = String(tr['smithy.api#httpPrefixHeaders']).toLowerCase();
        const found = Object.entries(headers).filter(([h, v]) => h.startsWith(prefix) && v !== undefined);
        if (found.length) out[name] = Object.fromEntries(found.map(([h, v]) => [h.slice(prefix.length), Array.isArray(v) ? v.join(',') : String(v)]));
      } else if ('smithy.api#httpResponseCode' in tr) {
        continue;
      } else {
        bodyMembers[name] = m;
      }
    }
    if (isRecord(body)) {
      for (const [name, m] of Object.entries(bodyMembers)) {
        const w = this.jsonName(m, name);
        if (body[w] !== undefined) out[name] = this.fromWire(m.target, body[w], m.traits);
      }
    }
    return out;
  }
}

/**
 * Loads every `*.json` Smithy model of a directory, keyed by SigV4 signing name
 * (`securityhub`, `guardduty`, `detective`, `cloudtrail`, `organizations`, `sts`, `sqs`, `s3`, …).
 * Files that are not Smithy models are skipped.
 */
export function loadModels(dir: string): Map<string, SmithyModel> {
  const out = new Map<string, SmithyModel>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json') || n.endsWith('.json.gz')).sort()) {
    try {
      const m = SmithyModel.load(path.join(dir, f));
      out.set(m.signingName, m);
    } catch {
      // not a model
    }
  }
  return out;
}

/**
 * Merges a supplementary model into `base` (same service): its operations join `base`'s, and
 * its shapes are added where `base` has no shape of that id (the official shapes win). Used for
 * operations the bundled models lack (`models/supplement/`, see its README).
 * @throws when the supplement is for another service (signing name).
 */
export function mergeSupplement(base: SmithyModel, supplement: SmithyModel): void {
  if (supplement.signingName !== base.signingName) throw new Error(`supplement for ${supplement.signingName} cannot extend ${base.signingName}`);
  for (const [id, shape] of Object.entries(supplement.shapes)) {
    if (shape.type === 'service') continue;
    if (!(id in base.shapes)) base.shapes[id] = shape;
  }
  for (const [name, op] of supplement.operations) if (!base.operations.has(name)) base.operations.set(name, op);
}

/**
 * Loads every supplementary model file of `dir` (`.json`) into the loaded models of the same
 * service ({@link mergeSupplement}); a directory that is not there adds nothing.
 */
export function loadSupplements(models: Map<string, SmithyModel>, dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const sup = SmithyModel.load(path.join(dir, f));
    const base = models.get(sup.signingName);
    if (base) mergeSupplement(base, sup);
    else models.set(sup.signingName, sup);
  }
}

/** Formats problems as one message, the way AWS validation errors read (`1 validation error detected: …`). */
export function problemsMessage(problems: Problem[]): string {
  const n = problems.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ` + problems.slice(0, 10).map((p) => `Value at '${p.path}' failed to satisfy constraint: ${p.message}`).join('; ');
}
