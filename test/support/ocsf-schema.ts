/**
 * A validator of OCSF events against the OCSF schema in its own source format (the folder of
 * https://github.com/ocsf/ocsf-schema: `categories.json`, `dictionary.json`, `events/**`,
 * `objects/**`, `includes/**`, `profiles/**`), for the tests of `--format ocsf`. Our code only
 * resolves the schema the way the OCSF schema server compiles it
 * (https://github.com/ocsf/ocsf-server, "Schema.Cache"; the rules in
 * https://github.com/ocsf/ocsf-schema/blob/main/CONTRIBUTING.md): each resolved class and object
 * becomes a JSON Schema (draft 2020-12 via Ajv), and Ajv does the validating.
 *
 * Resolution, as the server does it:
 * - `$include` (in `attributes`): the attributes of the named include or profile file are merged
 *   under the item's own (own wins, deep merge); a profile's attributes are tagged with the
 *   profile's name (`"profile": null` in the item's own definition removes the tag).
 * - `extends`: the parent's resolved attributes deep-merged under the child's; `category`,
 *   `profiles` (union) and `constraints` are inherited unless the child states its own
 *   (`"constraints": {}` removes the parent's).
 * - Every attribute is the dictionary's definition (`dictionary.json` `attributes`) with the
 *   class's or object's deep-merged over it: `type`, `is_array`, `requirement`, `enum` (the
 *   enums merge, so `activity_id` holds the dictionary's 0 and 99 and the class's own values).
 * - `class_uid` = category uid × 1000 + the class's `uid`, `category_uid` its category's uid,
 *   `type_uid` = class_uid × 100 + each `activity_id` value.
 *
 * Mapping to JSON Schema:
 * - Types from the dictionary's `types`: `string_t` a string of at most `max_len` (65,535)
 *   characters; derived string types (`ip_t`, `email_t`, `datetime_t`, `uuid_t`, `mac_t`,
 *   `hostname_t`, `file_hash_t`, `subnet_t`, `url_t`, …) add their `regex` and `max_len`;
 *   `integer_t`, `long_t`, `timestamp_t` (milliseconds since the epoch) integers; `port_t` an
 *   integer in its `range`; `float_t` a number; `boolean_t` a boolean; `json_t` any JSON value.
 *   An attribute whose type is an object name is that object's schema (`$ref`), and
 *   `is_array: true` an array of it. The type `object` (`unmapped`, `xattributes`) is free-form.
 * - `requirement: "required"`: a required property; a profile's required attribute is required
 *   only when `metadata.profiles` names the profile (`if`/`then`).
 * - `enum` of an integer attribute (every `*_id`): only the listed values. String enums
 *   (`http_method`, `depth`) are the schema's suggestions and are not enforced.
 * - No property the class or object does not define (`additionalProperties: false`), except the
 *   `<name>_dt` (RFC 3339 text) beside each timestamp, which the `datetime` profile adds.
 * - `constraints`: `at_least_one` as `anyOf` of `required`, `just_one` as `oneOf` (dotted paths
 *   such as `device.os.sp_name` nest).
 *
 * - Beyond JSON Schema: each caption beside its id (`activity_name` of `activity_id`,
 *   `severity` of `severity_id`, `class_name`, `type_name`, …), as the dictionary defines the
 *   siblings.
 *
 * Extensions (`extensions/linux`, `extensions/windows`) are not loaded: the core schema only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { sharedDir } from './shared';

/** An attribute definition as written in the schema's files (every key optional). */
interface RawAttribute {
  caption?: string;
  description?: string;
  type?: string;
  is_array?: boolean;
  requirement?: 'required' | 'recommended' | 'optional';
  enum?: Record<string, { caption?: string; description?: string }>;
  sibling?: string;
  profile?: string | null;
  [k: string]: unknown;
}

/** A class, object, include or profile file as written. */
interface RawItem {
  name?: string;
  caption?: string;
  uid?: number;
  category?: string;
  extends?: string;
  profiles?: string[];
  meta?: string;
  attributes?: Record<string, RawAttribute | string[]>;
  constraints?: Constraints;
}

/** `at_least_one` / `just_one` lists of attribute names (dotted paths allowed). */
export interface Constraints {
  at_least_one?: string[];
  just_one?: string[];
}

/** A resolved attribute: the dictionary's definition with the item's merged over it. */
export interface OcsfAttribute {
  name: string;
  caption?: string;
  type: string;
  isArray: boolean;
  requirement: 'required' | 'recommended' | 'optional';
  /** Enum values by their key (`"0"`, `"99"`, …) with their captions. */
  enum?: Record<string, { caption?: string }>;
  /** The attribute that holds this one's caption (`activity_name` for `activity_id`). */
  sibling?: string;
  /** The profile that brought the attribute in, when it is conditional on one. */
  profile?: string;
}

/** A resolved class or object. */
export interface OcsfItem {
  name: string;
  caption: string;
  attributes: Record<string, OcsfAttribute>;
  constraints: Constraints;
  /** Profiles the class or object declares (through `extends` too). */
  profiles: string[];
}

/** A resolved event class: {@link OcsfItem} with its ids; `classUid` null for an abstract class (no `uid`: `finding`, `network`, …). */
export interface OcsfClass extends OcsfItem {
  classUid: number | null;
  categoryUid: number;
  categoryName: string;
}

/** The resolved schema: every class by name, the concrete ones by `class_uid`, every object by name. */
export interface OcsfSchema {
  version: string;
  classes: Map<string, OcsfClass>;
  byUid: Map<number, OcsfClass>;
  objects: Map<string, OcsfItem>;
  types: Record<string, { type?: string; regex?: string; max_len?: number; range?: [number, number]; values?: unknown[] }>;
}

/** A schema file or reference that cannot be resolved: the file or name and the problem. */
export class OcsfSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OcsfSchemaError';
  }
}

type Json = Record<string, unknown>;

function isPlain(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` deep-merged onto `base`: plain objects merge key by key, anything else (null and arrays too) replaces. */
function deepMerge<T>(base: T, over: T): T {
  if (!isPlain(base) || !isPlain(over)) return (over === undefined ? base : over) as T;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new OcsfSchemaError(`${file}: ${(e as Error).message}`);
  }
}

function listJson(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

/**
 * Loads and resolves the OCSF schema in `dir` (the source layout of ocsf/ocsf-schema).
 * @throws OcsfSchemaError naming the file and problem: unreadable JSON, an `extends` or
 *   `$include` that names nothing, an `extends` cycle, an attribute missing from the dictionary,
 *   a class whose category is unknown.
 */
export function loadOcsfSchema(dir: string): OcsfSchema {
  const dictionary = readJson(path.join(dir, 'dictionary.json')) as { attributes: Record<string, RawAttribute>; types: { attributes: OcsfSchema['types'] } };
  const categories = (readJson(path.join(dir, 'categories.json')) as { attributes: Record<string, { uid: number; caption: string }> }).attributes;
  const version = (readJson(path.join(dir, 'version.json')) as { version: string }).version;

  const rawEvents = new Map<string, { file: string; item: RawItem }>();
  for (const file of listJson(path.join(dir, 'events'))) {
    const item = readJson(file) as RawItem;
    if (!item.name) throw new OcsfSchemaError(`${file}: a class without a name`);
    if (rawEvents.has(item.name)) throw new OcsfSchemaError(`${file}: class ${item.name} defined twice`);
    rawEvents.set(item.name, { file, item });
  }
  const rawObjects = new Map<string, { file: string; item: RawItem }>();
  for (const file of listJson(path.join(dir, 'objects'))) {
    const item = readJson(file) as RawItem;
    if (!item.name) throw new OcsfSchemaError(`${file}: an object without a name`);
    rawObjects.set(item.name, { file, item });
  }

  const includeCache = new Map<string, Record<string, RawAttribute>>();
  /** The attributes of an include or profile file (its own `$include`s resolved), tagged with the profile's name for a profile. */
  function includedAttributes(rel: string, from: string, stack: string[]): Record<string, RawAttribute> {
    const cached = includeCache.get(rel);
    if (cached) return cached;
    const file = path.join(dir, rel);
    if (!fs.existsSync(file)) throw new OcsfSchemaError(`${from}: $include ${JSON.stringify(rel)} names no file`);
    if (stack.includes(rel)) throw new OcsfSchemaError(`${from}: $include cycle ${[...stack, rel].join(' -> ')}`);
    const item = readJson(file) as RawItem;
    let attrs = ownAttributes(item, file, [...stack, rel]);
    if (item.meta === 'profile' && item.name) {
      const profile = item.name;
      attrs = Object.fromEntries(Object.entries(attrs).map(([k, a]) => [k, { profile, ...a }]));
    }
    includeCache.set(rel, attrs);
    return attrs;
  }
  /** An item's attributes with its `$include`s merged under its own. */
  function ownAttributes(item: RawItem, file: string, stack: string[] = []): Record<string, RawAttribute> {
    const { $include, ...own } = item.attributes ?? {};
    let merged: Record<string, RawAttribute> = {};
    const includes = $include === undefined ? [] : Array.isArray($include) ? $include : [$include];
    for (const rel of includes) {
      if (typeof rel !== 'string') throw new OcsfSchemaError(`${file}: $include holds ${JSON.stringify(rel)}, not a path`);
      merged = deepMerge(merged, includedAttributes(rel, file, stack));
    }
    return deepMerge(merged, own as Record<string, RawAttribute>);
  }

  interface Partial {
    attrs: Record<string, RawAttribute>;
    constraints: Constraints;
    profiles: string[];
    category?: string;
  }
  function resolver(raw: Map<string, { file: string; item: RawItem }>, kind: string) {
    const done = new Map<string, Partial>();
    const resolve = (name: string, stack: string[]): Partial => {
      const hit = done.get(name);
      if (hit) return hit;
      const entry = raw.get(name);
      if (!entry) throw new OcsfSchemaError(`${kind} ${JSON.stringify(name)} is not defined (${stack.length ? `extended by ${stack[stack.length - 1]}` : 'asked for'})`);
      if (stack.includes(name)) throw new OcsfSchemaError(`${entry.file}: extends cycle ${[...stack, name].join(' -> ')}`);
      const { item, file } = entry;
      const own = ownAttributes(item, file);
      let out: Partial;
      if (item.extends && item.extends !== name) {
        const parent = resolve(item.extends, [...stack, name]);
        out = {
          attrs: deepMerge(parent.attrs, own),
          constraints: item.constraints ?? parent.constraints,
          profiles: [...new Set([...parent.profiles, ...(item.profiles ?? [])])],
          category: item.category ?? parent.category,
        };
      } else {
        out = { attrs: own, constraints: item.constraints ?? {}, profiles: item.profiles ?? [], category: item.category };
      }
      done.set(name, out);
      return out;
    };
    return resolve;
  }

  const withDictionary = (attrs: Record<string, RawAttribute>, file: string): Record<string, OcsfAttribute> => {
    const out: Record<string, OcsfAttribute> = {};
    for (const [name, a] of Object.entries(attrs)) {
      const base = dictionary.attributes[name];
      if (!base) throw new OcsfSchemaError(`${file}: attribute ${JSON.stringify(name)} is not in dictionary.json`);
      const m = deepMerge(base, a);
      if (!m.type) throw new OcsfSchemaError(`${file}: attribute ${JSON.stringify(name)} has no type`);
      out[name] = {
        name,
        caption: m.caption,
        type: m.type,
        isArray: m.is_array === true,
        requirement: m.requirement ?? 'optional',
        ...(m.enum ? { enum: m.enum } : {}),
        ...(m.sibling ? { sibling: m.sibling } : {}),
        ...(typeof m.profile === 'string' ? { profile: m.profile } : {}),
      };
    }
    return out;
  };

  const resolveObject = resolver(rawObjects, 'object');
  const objects = new Map<string, OcsfItem>();
  for (const [name, { file, item }] of rawObjects) {
    const p = resolveObject(name, []);
    objects.set(name, { name, caption: item.caption ?? name, attributes: withDictionary(p.attrs, file), constraints: p.constraints, profiles: p.profiles });
  }

  const resolveClass = resolver(rawEvents, 'class');
  const classes = new Map<string, OcsfClass>();
  const byUid = new Map<number, OcsfClass>();
  for (const [name, { file, item }] of rawEvents) {
    const p = resolveClass(name, []);
    const attributes = withDictionary(p.attrs, file);
    const category = p.category && p.category !== 'other' ? categories[p.category] : undefined;
    if (p.category && p.category !== 'other' && !category) throw new OcsfSchemaError(`${file}: category ${JSON.stringify(p.category)} is not in categories.json`);
    const categoryUid = category?.uid ?? 0;
    const classUid = item.uid === undefined ? (name === 'base_event' ? 0 : null) : categoryUid * 1000 + item.uid;
    const c: OcsfClass = { name, caption: item.caption ?? name, attributes, constraints: p.constraints, profiles: p.profiles, classUid, categoryUid, categoryName: category?.caption ?? 'Uncategorized' };
    classes.set(name, c);
    if (classUid !== null) {
      if (byUid.has(classUid)) throw new OcsfSchemaError(`${file}: class_uid ${classUid} already belongs to ${byUid.get(classUid)?.name}`);
      byUid.set(classUid, c);
    }
  }
  // Every attribute's type must name a data type or an object.
  for (const item of [...classes.values(), ...objects.values()]) {
    for (const a of Object.values(item.attributes)) {
      if (a.type !== 'object' && !dictionary.types.attributes[a.type] && !objects.has(a.type)) throw new OcsfSchemaError(`${item.name}.${a.name}: type ${JSON.stringify(a.type)} is neither a data type nor an object`);
    }
  }
  return { version, classes, byUid, objects, types: dictionary.types.attributes };
}

const ID = 'https://schema.ocsf.io/';
const objectId = (version: string, name: string) => `${ID}${version}/objects/${name}`;

/** The JSON Schema of one data type (`string_t`, `ip_t`, `timestamp_t`, …), following `type` to its base. */
function typeSchema(schema: OcsfSchema, type: string): Json {
  const t = schema.types[type];
  if (!t) throw new OcsfSchemaError(`type ${JSON.stringify(type)} is not in dictionary.json types`);
  const base: Json = t.type ? typeSchema(schema, t.type) : {};
  const own: Json = {};
  switch (type) {
    case 'string_t':
      own.type = 'string';
      break;
    case 'integer_t':
    case 'long_t':
      own.type = 'integer';
      break;
    case 'float_t':
      own.type = 'number';
      break;
    case 'boolean_t':
      own.type = 'boolean';
      break;
    case 'json_t':
      break;
  }
  if (t.max_len !== undefined) own.maxLength = t.max_len;
  if (t.regex !== undefined) own.pattern = t.regex;
  if (t.range) {
    own.minimum = t.range[0];
    own.maximum = t.range[1];
  }
  return { ...base, ...own };
}

/** A constraint's attribute path (`device.os.sp_name`) as a nested `required`. */
function requiredPath(p: string): Json {
  const [head, ...rest] = p.split('.');
  return rest.length === 0 ? { required: [head] } : { required: [head], properties: { [head as string]: { type: 'object', ...requiredPath(rest.join('.')) } } };
}

/** The JSON Schema of a class or object's attributes (`properties`, `required`, `additionalProperties: false`, constraints, profile conditions). */
function itemSchema(schema: OcsfSchema, item: OcsfItem, extra: Record<string, Json> = {}): Json {
  const properties: Record<string, Json> = {};
  const required: string[] = [];
  const byProfile = new Map<string, string[]>();
  for (const a of Object.values(item.attributes)) {
    let s: Json;
    if (a.type === 'object') s = { type: 'object' };
    else if (schema.objects.has(a.type)) s = { $ref: objectId(schema.version, a.type) };
    else s = typeSchema(schema, a.type);
    if (a.enum && (s.type === 'integer' || s.type === 'number')) s = { ...s, enum: Object.keys(a.enum).map(Number).sort((x, y) => x - y) };
    properties[a.name] = a.isArray ? { type: 'array', items: s } : s;
    if (a.type === 'timestamp_t' && !item.attributes[`${a.name}_dt`]) properties[`${a.name}_dt`] = typeSchema(schema, 'datetime_t');
    if (a.requirement === 'required') {
      if (a.profile) byProfile.set(a.profile, [...(byProfile.get(a.profile) ?? []), a.name]);
      else required.push(a.name);
    }
  }
  Object.assign(properties, extra);
  const out: Json = { type: 'object', properties, additionalProperties: false };
  if (required.length) out.required = required.sort();
  const allOf: Json[] = [];
  const c = item.constraints;
  if (c.at_least_one?.length) allOf.push({ anyOf: c.at_least_one.map(requiredPath) });
  if (c.just_one?.length) allOf.push({ oneOf: c.just_one.map(requiredPath) });
  // A profile's required attributes: required when the event applies the profile (metadata.profiles names it).
  for (const [profile, names] of byProfile) {
    allOf.push({
      if: { required: ['metadata'], properties: { metadata: { type: 'object', required: ['profiles'], properties: { profiles: { type: 'array', contains: { const: profile } } } } } },
      then: { required: names.sort() },
    });
  }
  if (allOf.length) out.allOf = allOf;
  return out;
}

/** The JSON Schema of one resolved class: its attributes, with `class_uid`, `category_uid` and `type_uid` fixed to the class's values. */
export function classJsonSchema(schema: OcsfSchema, cls: OcsfClass): Json {
  const activities = Object.keys(cls.attributes.activity_id?.enum ?? {}).map(Number);
  const fixed: Record<string, Json> = {};
  if (cls.classUid !== null) {
    fixed.class_uid = { type: 'integer', const: cls.classUid };
    fixed.category_uid = { type: 'integer', const: cls.categoryUid };
    fixed.type_uid = { type: 'integer', enum: activities.map((a) => cls.classUid! * 100 + a).sort((x, y) => x - y) };
  }
  return { $id: `${ID}${schema.version}/classes/${cls.name}`, ...itemSchema(schema, cls, fixed) };
}

/** Validators of one schema: an Ajv 2020 instance holding every object's schema, and each class's compiled validator on first use. */
export class OcsfValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly schema: OcsfSchema) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    for (const o of schema.objects.values()) this.ajv.addSchema({ $id: objectId(schema.version, o.name), ...itemSchema(schema, o) });
  }

  /** The compiled validator of a class (by name). @throws OcsfSchemaError for an unknown class, or when Ajv cannot compile it. */
  validatorOf(className: string): ValidateFunction {
    const hit = this.compiled.get(className);
    if (hit) return hit;
    const cls = this.schema.classes.get(className);
    if (!cls) throw new OcsfSchemaError(`class ${JSON.stringify(className)} is not in the schema`);
    let fn: ValidateFunction;
    try {
      fn = this.ajv.compile(classJsonSchema(this.schema, cls));
    } catch (e) {
      throw new OcsfSchemaError(`class ${className}: ${(e as Error).message}`);
    }
    this.compiled.set(className, fn);
    return fn;
  }

  /**
   * Validates one event against the class its `class_uid` names.
   * @returns the problems, one line each (`/finding_info: must have required property 'uid'`); empty when valid
   */
  problems(event: unknown): string[] {
    if (!isPlain(event)) return ['the event is not a JSON object'];
    const uid = event.class_uid;
    const cls = typeof uid === 'number' ? this.schema.byUid.get(uid) : undefined;
    if (!cls) return [`class_uid ${JSON.stringify(uid)} names no class of OCSF ${this.schema.version}`];
    const fn = this.validatorOf(cls.name);
    if (!fn(event)) return formatErrors(fn.errors ?? []);
    return captionProblems(this.schema, cls, event);
  }
}

/**
 * The captions beside the ids (what JSON Schema cannot say): `class_name`, `category_name` and
 * `type_name` (`<class caption>: <activity caption>`) of the class; every enum's sibling
 * (`activity_name`, `severity`, `status`, `type`, …) the caption of its id, in the event and
 * in every object within it, except beside 99 Other, whose caption the source gives.
 */
function captionProblems(schema: OcsfSchema, cls: OcsfClass, event: Json): string[] {
  const out: string[] = [];
  const expect = (at: string, got: unknown, want: string | undefined) => {
    if (got !== undefined && want !== undefined && got !== want) out.push(`${at}: is ${JSON.stringify(got)}, the caption is ${JSON.stringify(want)}`);
  };
  expect('/class_name', event.class_name, cls.caption);
  expect('/category_name', event.category_name, cls.categoryName);
  const activity = cls.attributes.activity_id?.enum?.[String(event.activity_id)]?.caption;
  if (event.activity_id !== 99 && activity) expect('/type_name', event.type_name, `${cls.caption}: ${activity}`);
  const walk = (item: OcsfItem, value: Json, at: string): void => {
    for (const a of Object.values(item.attributes)) {
      const v = value[a.name];
      if (v === undefined) continue;
      if (a.enum && a.sibling && typeof v === 'number' && v !== 99) expect(`${at}/${a.sibling}`, value[a.sibling], a.enum[String(v)]?.caption);
      const obj = schema.objects.get(a.type);
      if (!obj || a.type === 'object') continue;
      if (Array.isArray(v)) v.forEach((x, i) => isPlain(x) && walk(obj, x, `${at}/${a.name}/${i}`));
      else if (isPlain(v)) walk(obj, v, `${at}/${a.name}`);
    }
  };
  walk(cls, event, '');
  return out;
}

/** Ajv's errors as lines: the JSON pointer, the message, and the unknown property or allowed values where there are some. */
function formatErrors(errors: ErrorObject[]): string[] {
  return errors.map((e) => {
    const p = e.params as { additionalProperty?: string; allowedValues?: unknown[] };
    const detail = p.additionalProperty !== undefined ? `: ${JSON.stringify(p.additionalProperty)}` : p.allowedValues ? `: ${JSON.stringify(p.allowedValues)}` : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${detail}`;
  });
}

export { sharedDir };

/** The OCSF 1.1.0 schema folder under {@link sharedDir}. */
export function ocsfSchemaDir(): string {
  return path.join(sharedDir(), 'schemas', 'ocsf-1.1.0');
}
