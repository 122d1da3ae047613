/**
 * Mutations of real inputs (scenario findings and trails, the shared corpus): fields deleted,
 * retyped, duplicated (also as duplicate keys in the JSON text), truncated, made huge, filled
 * with hostile Unicode or control characters, nested deep, or named like Object.prototype
 * members. Each mutation returns JSON text, since some (duplicate keys, truncation, lone
 * surrogates) cannot be expressed as a JavaScript value.
 */
import { Rng } from './random';

/** Strings an attacker can put anywhere: terminal controls, bidi, markup, Mermaid and Markdown syntax. */
export const HOSTILE_STRINGS: readonly string[] = [
  '\x1b[2J\x1b[H\x1b[31mPWNED\x1b[0m',
  '\x1b]0;title\x07',
  'bell\x07\x07',
  'nul\x00byte',
  'del\x7fchar',
  'c1\u0085next\u009bline\u0090',
  'bidi\u202eevil\u202c\u2066iso\u2069',
  'line1\nline2\r\nforged: ok',
  'tab\tand\vvt\fff\bbs',
  '<script>alert(1)</script><img src=x onerror=fuzz>',
  '"]);\n  x-->y\n%% } click n1 call alert()',
  '| col | --- |\n[link](javascript:alert(1)) `code` *em*',
  '\u200b\u200d\ufeffzero-width',
  '🔥💀 emoji and 𝕏 astral',
  'lone\ud800surrogate',
  '',
  ' ',
  '__proto__',
  'constructor',
];

/** A string of `bytes` bytes made of one hostile string repeated (or plain text when `plain`). */
export function hugeString(rng: Rng, bytes: number, plain = false): string {
  const unit = plain ? 'A' : rng.pick(HOSTILE_STRINGS.filter((s) => s.length > 2));
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Slot {
  parent: Json[] | { [k: string]: Json };
  key: string | number;
}

/** Every place in a JSON tree that holds a value (the root excluded). */
export function slotsOf(root: Json, limit = 200_000): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const v = stack.pop() as Json;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ parent: v, key: i });
        stack.push(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push({ parent: v, key: k });
        stack.push(v[k] as Json);
      }
    }
  }
  return out;
}

function getSlot(s: Slot): Json {
  return (s.parent as Record<string | number, Json>)[s.key] as Json;
}

function setSlot(s: Slot, v: Json): void {
  (s.parent as Record<string | number, Json>)[s.key] = v;
}

function retyped(rng: Rng, old: Json): Json {
  return rng.pick<() => Json>([
    () => null,
    () => 0,
    () => -1,
    () => 1e308,
    () => 2 ** 53 + 1,
    () => true,
    () => '',
    () => [],
    () => ({}),
    () => [old],
    () => ({ value: old }),
    () => String(JSON.stringify(old) ?? 'null'),
    () => (typeof old === 'string' ? Number(old) || 7 : 'text'),
    () => rng.pick(HOSTILE_STRINGS),
  ])();
}

/** JSON text of `leaf` nested `depth` levels in arrays and objects (as text: too deep for JSON.stringify). */
function nestedText(depth: number, leaf: Json): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '[' : '{"a":';
    close = (i % 2 === 0 ? ']' : '}') + close;
  }
  return `${open}${JSON.stringify(leaf) ?? 'null'}${close}`;
}

/** Placeholders {@link mutateValue} leaves for text spliced in by {@link stringifyMutated}. */
export type Splices = Map<string, string>;

/** JSON text of a mutated value, with the deep nestings spliced in. */
export function stringifyMutated(v: Json, splices: Splices): string {
  let text = JSON.stringify(v);
  for (const [marker, t] of splices) text = text.split(JSON.stringify(marker)).join(t);
  return text;
}

/** The mutation names {@link mutateJson} picks from. */
export const MUTATIONS = ['delete', 'retype', 'duplicate', 'huge', 'unicode', 'control', 'nest', 'proto-key', 'empty-container'] as const;

/**
 * Applies `count` random value-level mutations to a parsed JSON document, in place; deep
 * nestings are left as placeholders in `splices` (serialise with {@link stringifyMutated}).
 * @returns the names of the mutations applied (for the case name)
 */
export function mutateValue(rng: Rng, root: Json, count: number, splices: Splices = new Map()): string[] {
  const done: string[] = [];
  const slots = slotsOf(root);
  if (slots.length === 0) return done;
  for (let i = 0; i < count; i++) {
    const s = rng.pick(slots);
    const m = rng.pick(MUTATIONS);
    const old = getSlot(s);
    switch (m) {
      case 'delete':
        if (Array.isArray(s.parent)) s.parent.splice(Number(s.key), 1);
        else delete s.parent[s.key as string];
        break;
      case 'retype':
        setSlot(s, retyped(rng, old));
        break;
      case 'duplicate':
        if (Array.isArray(s.parent)) {
          const n = rng.pick([1, 2, 50]);
          for (let j = 0; j < n; j++) s.parent.push(JSON.parse(JSON.stringify(old ?? null)) as Json);
        } else {
          s.parent[`${String(s.key)}_dup`] = old;
        }
        break;
      case 'huge':
        setSlot(s, hugeString(rng, rng.pick([9_000, 70_000, 300_000, 1_100_000]), rng.chance(0.5)));
        break;
      case 'unicode':
        setSlot(s, `${typeof old === 'string' ? old : ''}${rng.pick(['\u202e', '\u0301\u0301\u0301', 'Ａ１２', '١٢٣٤٥٦٧٨٩٠١٢', '\ud83d', '\udc00x', '😀'.repeat(50), 'İı', '\u2028\u2029'])}`);
        break;
      case 'control':
        setSlot(s, rng.chance(0.5) && typeof old === 'string' ? `${old}${rng.pick(HOSTILE_STRINGS)}` : rng.pick(HOSTILE_STRINGS));
        break;
      case 'nest':
      {
        const marker = `@@fuzz-nest-${splices.size}@@`;
        splices.set(marker, nestedText(rng.pick([50, 2_000, 12_000]), old));
        setSlot(s, marker);
      }
        break;
      case 'proto-key':
        if (!Array.isArray(s.parent)) {
          const k = rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']);
          // JSON.parse makes "__proto__" an own property; defineProperty keeps it one here too.
          Object.defineProperty(s.parent, k, { value: old, enumerable: true, writable: true, configurable: true });
        }
        break;
      case 'empty-container':
        setSlot(s, Array.isArray(old) ? [] : old !== null && typeof old === 'object' ? {} : old);
        break;
    }
    done.push(m);
  }
  return done;
}

/**
 * Text-level mutations of a JSON document: truncation, a duplicated key, a byte flipped, a
 * lone surrogate escape, trailing garbage.
 * @returns the new text and the mutation's name
 */
export function mutateText(rng: Rng, text: string): { text: string; mutation: string } {
  const m = rng.pick(['truncate', 'duplicate-key', 'flip', 'surrogate', 'garbage', 'bom'] as const);
  switch (m) {
    case 'truncate':
      return { text: text.slice(0, rng.int(0, Math.max(0, text.length - 1))), mutation: m };
    case 'duplicate-key': {
      const at = text.indexOf('"', rng.int(0, Math.max(0, text.length - 1)));
      const end = at < 0 ? -1 : text.indexOf('":', at + 1);
      if (at < 0 || end < 0) return { text, mutation: 'none' };
      const key = text.slice(at, end + 1);
      return { text: `${text.slice(0, at)}${key}: ${JSON.stringify(rng.pick(HOSTILE_STRINGS))}, ${text.slice(at)}`, mutation: m };
    }
    case 'flip': {
      const i = rng.int(0, Math.max(0, text.length - 1));
      return { text: `${text.slice(0, i)}${String.fromCharCode(rng.int(0, 255))}${text.slice(i + 1)}`, mutation: m };
    }
    case 'surrogate': {
      const i = text.indexOf('":"');
      if (i < 0) return { text, mutation: 'none' };
      return { text: `${text.slice(0, i + 3)}\\ud800\\u0000\\u001b${text.slice(i + 3)}`, mutation: m };
    }
    case 'garbage':
      return { text: `${text}\n}}]]garbage\x1b[2J`, mutation: m };
    case 'bom':
      return { text: `\ufeff${text}`, mutation: m };
  }
}
