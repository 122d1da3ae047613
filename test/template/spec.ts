/**
 * The CloudFormation resource specification (from `@aws-cdk/aws-service-spec`, loaded once),
 * and one checker of a resource's properties against it: names (nested), shapes and required
 * properties. Intrinsic functions are not resolved. Used by the tests of every template.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { isIntrinsic, isObject, references, type Json, type JsonObject, type Template } from './cfn';

interface SpecType {
  type: string;
  reference?: { $ref: string };
  element?: SpecType;
  types?: SpecType[];
}
interface SpecProp {
  type: SpecType;
  required?: boolean;
}
export interface SpecResource {
  properties: Record<string, SpecProp>;
  attributes: Record<string, unknown>;
}
interface SpecDb {
  lookup(entity: 'resource', index: 'cloudFormationType', op: 'equals', value: string): ArrayLike<SpecResource>;
  get(entity: 'typeDefinition', id: string): { name: string; properties: Record<string, SpecProp> };
}
let loaded: SpecDb | null = null;
const db = (): SpecDb => (loaded ??= loadAwsServiceSpecSync() as unknown as SpecDb);

/** The resource type's entry in the CloudFormation resource specification, or undefined. */
export const specOf = (type: string): SpecResource | undefined => db().lookup('resource', 'cloudFormationType', 'equals', type)[0];

function check(value: unknown, type: SpecType, where: string, errors: string[]): void {
  if (isIntrinsic(value)) return;
  switch (type.type) {
    case 'ref': {
      const def = db().get('typeDefinition', type.reference!.$ref);
      if (!isObject(value)) errors.push(`${where}: expected an object (${def.name})`);
      else checkProps(value, def.properties, where, errors);
      return;
    }
    case 'array':
      if (!Array.isArray(value)) errors.push(`${where}: expected a list`);
      else value.forEach((v, i) => check(v, type.element!, `${where}[${i}]`, errors));
      return;
    case 'map':
      if (!isObject(value)) errors.push(`${where}: expected a map`);
      else for (const [k, v] of Object.entries(value)) check(v, type.element!, `${where}.${k}`, errors);
      return;
    case 'union': {
      const tries = type.types!.map((u) => {
        const e: string[] = [];
        check(value, u, where, e);
        return e;
      });
      if (!tries.some((e) => e.length === 0)) errors.push(...tries[0]!);
      return;
    }
    case 'json':
      return;
    case 'tag': // the built-in { Key, Value } of a resource's Tags
      if (!isObject(value) || Object.keys(value).sort().join() !== 'Key,Value') errors.push(`${where}: expected a tag { Key, Value }`);
      return;
    default:
      if (isObject(value) || Array.isArray(value)) errors.push(`${where}: expected a ${type.type}`);
  }
}
/** Problems of a resource's (or nested type's) properties against the specification: unknown names, wrong shapes, missing required ones. */
export function checkProps(value: JsonObject, spec: Record<string, SpecProp>, where: string, errors: string[]): void {
  for (const [k, v] of Object.entries(value)) {
    const p = spec[k];
    if (!p) errors.push(`${where}.${k}: no such property`);
    else check(v, p.type, `${where}.${k}`, errors);
  }
  for (const [k, p] of Object.entries(spec)) if (p.required && !(k in value)) errors.push(`${where}.${k}: required`);
}

/** Pseudo parameters a plain template may `Ref` (CloudFormation "Pseudo parameters reference"). */
export const PSEUDO_PARAMETERS = ['AWS::AccountId', 'AWS::Partition', 'AWS::Region', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue', 'AWS::NotificationARNs'];

/**
 * Problems of a plain CloudFormation template against the specification: unknown resource types,
 * properties (nested) and missing required ones; a Ref / GetAtt / ${…} that resolves to no
 * parameter, pseudo parameter, resource or attribute of its type; a parameter nothing uses.
 */
export function templateErrors(t: Template): string[] {
  const errors: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const spec = specOf(r.Type);
    if (!spec) errors.push(`${id}: ${r.Type} is not a CloudFormation resource type`);
    else checkProps(r.Properties ?? {}, spec.properties, id, errors);
  }
  for (const [id, attr] of references([t.Resources, (t.Outputs ?? {}) as Json, ((t as { Rules?: Json }).Rules ?? {}) as Json])) {
    if (attr === undefined) {
      if (!(id in t.Parameters) && !(id in t.Resources) && !PSEUDO_PARAMETERS.includes(id)) errors.push(`unresolved ${id}`);
    } else {
      const r = t.Resources[id];
      if (!r) errors.push(`GetAtt of unknown ${id}`);
      else if (!(attr in (specOf(r.Type)?.attributes ?? {}))) errors.push(`${id}.${attr}: ${r.Type} has no such attribute`);
    }
  }
  const used = new Set(references([t.Resources, ((t as { Rules?: Json }).Rules ?? {}) as Json]).map(([id]) => id));
  for (const p of Object.keys(t.Parameters)) if (!used.has(p)) errors.push(`parameter ${p} is not used`);
  return errors;
}
