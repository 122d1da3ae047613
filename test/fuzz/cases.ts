/**
 * The hostile-input families of issue 10 ("Hostile input, bounded everywhere"): crash-makers,
 * attacker-controlled growth, control bytes, Mermaid-breakers, ASFF-limit breakers, silent
 * emptiness, and mutations of real inputs. A family builds one case's files in its own folder
 * and returns the command-line arguments (without `--format`); heavy inputs (gzip bombs, a
 * 50,000-step trail) are built once per run in a shared folder and reused.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { HOSTILE_STRINGS, hugeString, mutateText, mutateValue, slotsOf, stringifyMutated, type Splices } from './mutate';
import { Rng } from './random';
import { buildWorld, deliveryFile, type TrailRecord, type World, type WorldOptions } from './world';

/** The six kinds of issue 10, plus mutations of real inputs. */
export const KINDS = ['crash', 'growth', 'control', 'mermaid', 'asff', 'empty', 'mutation'] as const;
export type Kind = (typeof KINDS)[number];

/** What a family's builder gets. */
export interface BuildContext {
  rng: Rng;
  /** This case's own folder (removed after the case). */
  dir: string;
  /** The output format the case runs with. */
  format: string;
  shared: SharedInputs;
  sources: RealInputs;
}

/** What a builder returns. */
export interface BuiltCase {
  /** The arguments after `investigate`, without `--format`. */
  args: string[];
  /** What a correct product does here, beyond "success or one-line refusal". */
  expect?: 'refusal' | 'success';
  /** For `expect: 'refusal'` with json output: exit 0 is accepted when records were read. */
  refusalUnlessRecordsRead?: boolean;
  /** Overrides the run's timeout (a FIFO that would hang). */
  timeoutMs?: number;
  /** A remark counted in the summary (e.g. chmod 000 did not block reading as root). */
  note?: string;
  /** Undo what would stop the folder's removal (chmod 000). */
  cleanup?: () => void;
  /** Extra words for the case name (the mutations applied, the value used). */
  detail?: string;
}

/** A family of cases: its kind, how often it is drawn, and its builder. */
export interface Family {
  name: string;
  kind: Kind;
  /** Relative weight among the light families. */
  weight: number;
  /** Heavy families run a fixed number of times, whatever the case count. */
  fixed?: number;
  /** The formats this family runs with (default: all). */
  formats?: readonly string[];
  build(ctx: BuildContext): Promise<BuiltCase> | BuiltCase;
}

/** Real inputs to mutate: the repository's scenarios and the shared corpus when present. */
export interface RealInputs {
  scenarios: { name: string; finding: string; cloudtrail: string }[];
  findings: string[];
  trailFiles: string[];
}

/**
 * Finds the real inputs to mutate.
 * @param root the repository root
 */
export function findRealInputs(root: string): RealInputs {
  const scenariosDir = path.join(root, 'test', 'scenarios');
  const scenarios = fs
    .readdirSync(scenariosDir)
    .sort()
    .map((name) => ({ name, finding: path.join(scenariosDir, name, 'finding.json'), cloudtrail: path.join(scenariosDir, name, 'cloudtrail') }))
    .filter((s) => fs.existsSync(s.finding) && fs.existsSync(s.cloudtrail));
  const findings = [
    ...scenarios.map((s) => s.finding),
    ...listFiles(path.join(root, 'test', 'fixtures', 'findings')).filter((f) => f.endsWith('.json')),
    ...listFiles(path.join(root, '..', 'shared', 'corpus', 'guardduty')).filter((f) => /\.jsonl?$/.test(f)),
  ];
  const trailFiles = listFiles(path.join(root, '..', 'shared', 'corpus', 'cloudtrail')).filter((f) => /\.json$/.test(f) && fs.statSync(f).size < 3_000_000);
  return { scenarios, findings, trailFiles };
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Heavy inputs built once per run, on first use. */
export class SharedInputs {
  private readonly made = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** The path of a shared input, built by `make` the first time it is asked for. */
  get(name: string, make: (file: string) => Promise<void> | void): Promise<string> {
    let p = this.made.get(name);
    if (!p) {
      const file = path.join(this.dir, name);
      p = Promise.resolve(make(file)).then(() => file);
      this.made.set(name, p);
    }
    return p;
  }

  /** A gzip file of `head`, then `body` repeated until `totalBytes`, then `tail` (streamed, level 9). */
  gzipOf(name: string, head: string, body: string, totalBytes: number, tail: string): Promise<string> {
    return this.get(name, (file) => streamGzip(file, head, body, totalBytes, tail));
  }
}

async function streamGzip(file: string, head: string, body: string, totalBytes: number, tail: string): Promise<void> {
  const unit = Buffer.from(body.repeat(Math.max(1, Math.floor((1 << 20) / body.length))));
  const gz = zlib.createGzip({ level: 9 });
  const out = fs.createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('close', () => resolve());
    out.on('error', reject);
    gz.on('error', reject);
  });
  gz.pipe(out);
  const write = (b: Buffer | string) => (gz.write(b) ? Promise.resolve() : new Promise<void>((r) => gz.once('drain', () => r())));
  await write(head);
  for (let n = 0; n < totalBytes; n += unit.length) await write(unit);
  await write(tail);
  gz.end();
  await done;
}

const GiB = 1 << 30;
const MiB = 1 << 20;

function writeWorld(dir: string, w: World, opts: { gzip?: boolean; name?: string } = {}): { finding: string; trail: string } {
  const finding = path.join(dir, 'finding.json');
  fs.writeFileSync(finding, JSON.stringify(w.finding, null, 1));
  const trailDir = path.join(dir, 'trail');
  fs.mkdirSync(trailDir, { recursive: true });
  const text = deliveryFile(w.records);
  const name = opts.name ?? (opts.gzip ? 'records.json.gz' : 'records.json');
  fs.writeFileSync(path.join(trailDir, name), opts.gzip ? zlib.gzipSync(text) : text);
  return { finding, trail: trailDir };
}

function worldCase(ctx: BuildContext, opts: WorldOptions = {}): BuiltCase {
  const { finding, trail } = writeWorld(ctx.dir, buildWorld(opts), { gzip: ctx.rng.chance(0.5) });
  return { args: ['--finding', finding, '--cloudtrail', trail] };
}

/** Walks every string leaf of a JSON value and rewrites it with `f` (keys untouched). */
function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = mapStrings(x, f);
    return out;
  }
  return v;
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function attackSequence(root: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'findings', 'attack-sequence-iam.json'), 'utf8')) as Record<string, unknown>;
}

/** The repository root (set by {@link familiesFor}). */
let repoRoot = '';

const PROTO_KEYS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

const crash: Family[] = [
  {
    name: 'crash/symlink-loop',
    kind: 'crash',
    weight: 3,
    build(ctx) {
      const c = worldCase(ctx);
      const trail = c.args[3] as string;
      fs.symlinkSync('loop-b', path.join(trail, 'loop-a.json'));
      fs.symlinkSync('loop-a.json', path.join(trail, 'loop-b'));
      fs.mkdirSync(path.join(trail, 'sub'));
      fs.symlinkSync('..', path.join(trail, 'sub', 'up'));
      if (ctx.rng.chance(0.3)) fs.symlinkSync(trail, path.join(trail, 'sub', 'self-abs'));
      return c;
    },
  },
  {
    name: 'crash/dangling-link',
    kind: 'crash',
    weight: 2,
    build(ctx) {
      const c = worldCase(ctx);
      const trail = c.args[3] as string;
      fs.symlinkSync('/nonexistent/trailstory-fuzz/records.json', path.join(trail, 'gone.json'));
      if (ctx.rng.chance(0.5)) fs.symlinkSync(path.join(ctx.dir, 'missing-dir'), path.join(trail, 'gone-dir'));
      return c;
    },
  },
  {
    name: 'crash/link-as-argument',
    kind: 'crash',
    weight: 1,
    build(ctx) {
      const c = worldCase(ctx);
      const link = path.join(ctx.dir, 'loop-arg');
      fs.symlinkSync(link, link);
      const which = ctx.rng.pick(['--cloudtrail', '--finding', '--event-map']);
      if (which === '--cloudtrail') return { args: [...c.args, '--cloudtrail', link], detail: which };
      if (which === '--finding') return { args: ['--finding', link, '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which };
      return { args: [...c.args, '--event-map', link], expect: 'refusal', detail: which };
    },
  },
  {
    name: 'crash/unreadable-folder',
    kind: 'crash',
    weight: 2,
    build(ctx) {
      const c = worldCase(ctx);
      const trail = c.args[3] as string;
      const whole = ctx.rng.chance(0.3);
      const locked = whole ? trail : path.join(trail, 'locked');
      if (!whole) {
        fs.mkdirSync(locked);
        fs.writeFileSync(path.join(locked, 'more.json'), deliveryFile(buildWorld().records.slice(0, 3)));
      }
      fs.chmodSync(locked, 0o000);
      let blocked = true;
      try {
        fs.readdirSync(locked);
        blocked = false;
      } catch {
        blocked = true;
      }
      return {
        args: c.args,
        detail: whole ? 'the --cloudtrail folder itself' : 'a subfolder',
        note: blocked ? undefined : `chmod 000 did not block reading${isRoot ? ' (running as root)' : ''}`,
        cleanup: () => fs.chmodSync(locked, 0o755),
      };
    },
  },
  {
    name: 'crash/event-map-deep',
    kind: 'crash',
    weight: 3,
    build(ctx) {
      const c = worldCase(ctx);
      const depth = ctx.rng.pick([10_000, 10_000, 2_000, 50_000]);
      const shape = ctx.rng.pick(['object', 'array', 'entry']);
      const map = path.join(ctx.dir, 'event-map.json');
      let text: string;
      if (shape === 'object') text = '{"a":'.repeat(depth) + '"TA0001"' + '}'.repeat(depth);
      else if (shape === 'array') text = '{"ListUsers":' + '['.repeat(depth) + '"TA0007"' + ']'.repeat(depth) + '}';
      else text = '{"ListUsers":{"tactic":"TA0007","technique":' + '{"id":'.repeat(depth) + '"T1087"' + '}'.repeat(depth) + '}}';
      fs.writeFileSync(map, text);
      return { args: [...c.args, '--event-map', map], detail: `${shape} ${depth}` };
    },
  },
  {
    name: 'crash/event-map-hostile',
    kind: 'crash',
    weight: 2,
    build(ctx) {
      const c = worldCase(ctx);
      const map = path.join(ctx.dir, 'event-map.json');
      const text = ctx.rng.pick([
        '{"__proto__":"TA0001","constructor":"TA0002","toString":{"tactic":"TA0003"}}',
        '{"ListUsers":"TA9999"}',
        JSON.stringify({ ListUsers: { tactic: 'TA0007', technique: { id: 'T1087', name: hugeString(ctx.rng, 100_000) } } }),
        JSON.stringify({ [ctx.rng.pick(HOSTILE_STRINGS)]: ctx.rng.pick(HOSTILE_STRINGS) }),
        '{"events":{"ListUsers":null}}',
        '[]',
        '"TA0001"',
        'null',
      ]);
      fs.writeFileSync(map, text);
      return { args: [...c.args, '--event-map', map] };
    },
  },
  {
    name: 'crash/proto-indicator',
    kind: 'crash',
    weight: 3,
    build(ctx) {
      const w = buildWorld();
      const finding = attackSequence(repoRoot);
      const key = ctx.rng.pick(PROTO_KEYS);
      const text = JSON.stringify(finding).replace(/"key":"[A-Z_]+"/g, () => `"key":${JSON.stringify(ctx.rng.chance(0.7) ? key : ctx.rng.pick(PROTO_KEYS))}`);
      const withSeq = text.replace('"signals":', `"sequenceIndicators":[{"key":${JSON.stringify(key)},"values":["x"]},{"key":"__proto__","values":{"polluted":true}}],"signals":`);
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, withSeq);
      const trail = path.join(ctx.dir, 'records.json');
      fs.writeFileSync(trail, deliveryFile(w.records));
      return { args: ['--finding', f, '--cloudtrail', trail], detail: key };
    },
  },
  {
    name: 'crash/special-file',
    kind: 'crash',
    weight: 2,
    build(ctx) {
      const c = worldCase(ctx);
      const which = ctx.rng.pick(['finding-dir', 'event-map-dir', 'trail-missing', 'finding-missing', 'dev-null-finding', 'dev-null-trail']);
      switch (which) {
        case 'finding-dir':
          return { args: ['--finding', ctx.dir, '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which };
        case 'event-map-dir':
          return { args: [...c.args, '--event-map', ctx.dir], expect: 'refusal', detail: which };
        case 'trail-missing':
          return { args: [...c.args, '--cloudtrail', path.join(ctx.dir, 'no-such')], expect: 'refusal', detail: which };
        case 'finding-missing':
          return { args: ['--finding', path.join(ctx.dir, 'no-such.json'), '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which };
        case 'dev-null-finding':
          return { args: ['--finding', '/dev/null', '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which };
        default:
          return { args: ['--finding', c.args[1] as string, '--cloudtrail', '/dev/null'], expect: 'refusal', detail: which };
      }
    },
  },
  {
    name: 'crash/dev-zero',
    kind: 'crash',
    weight: 0,
    fixed: 3,
    formats: ['json', 'text', 'html'],
    build(ctx) {
      const c = worldCase(ctx);
      const which = ctx.rng.pick(['--finding', '--cloudtrail', '--event-map']);
      if (which === '--finding') return { args: ['--finding', '/dev/zero', '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which, timeoutMs: 30_000 };
      if (which === '--cloudtrail') return { args: [...c.args, '--cloudtrail', '/dev/zero'], detail: which, timeoutMs: 30_000 };
      return { args: [...c.args, '--event-map', '/dev/zero'], expect: 'refusal', detail: which, timeoutMs: 30_000 };
    },
  },
  {
    name: 'crash/fifo',
    kind: 'crash',
    weight: 0,
    fixed: 3,
    formats: ['json', 'text', 'markdown'],
    build(ctx) {
      const c = worldCase(ctx);
      const fifo = path.join(ctx.dir, 'pipe.json');
      mkfifo(fifo);
      const which = ctx.rng.pick(['--finding', '--event-map', 'in-folder']);
      if (which === '--finding') return { args: ['--finding', fifo, '--cloudtrail', c.args[3] as string], expect: 'refusal', detail: which, timeoutMs: 15_000 };
      if (which === '--event-map') return { args: [...c.args, '--event-map', fifo], expect: 'refusal', detail: which, timeoutMs: 15_000 };
      const inFolder = path.join(c.args[3] as string, 'pipe.json');
      mkfifo(inFolder);
      return { args: c.args, detail: which, timeoutMs: 15_000 };
    },
  },
  {
    name: 'crash/gzip-jsonl-700MiB',
    kind: 'crash',
    weight: 0,
    fixed: 1,
    formats: ['json'],
    async build(ctx) {
      const line = JSON.stringify(buildWorld().records[6]) + '\n';
      const big = await ctx.shared.gzipOf('big-700MiB.jsonl.gz', '', line, 700 * MiB, '');
      const c = worldCase(ctx);
      return { args: [...c.args, '--cloudtrail', big], timeoutMs: 60_000 };
    },
  },
];

const growth: Family[] = [
  {
    name: 'growth/gzip-bomb-spaces',
    kind: 'growth',
    weight: 0,
    fixed: 2,
    formats: ['json', 'html'],
    async build(ctx) {
      const bomb = await ctx.shared.gzipOf('bomb-spaces-1GiB.json.gz', '{"Records":[', ' ', GiB, ']}');
      const c = worldCase(ctx);
      const alone = ctx.rng.chance(0.5);
      return alone
        ? { args: ['--finding', c.args[1] as string, '--cloudtrail', bomb], expect: 'refusal', detail: 'the only input' }
        : { args: [...c.args, '--cloudtrail', bomb], expect: 'success', detail: 'beside a good trail' };
    },
  },
  {
    name: 'growth/gzip-bomb-records',
    kind: 'growth',
    weight: 0,
    fixed: 1,
    formats: ['text'],
    async build(ctx) {
      const rec = JSON.stringify(buildWorld().records[7]);
      const bomb = await ctx.shared.gzipOf('bomb-records-1GiB.json.gz', `{"Records":[${rec}`, `,${rec}`, GiB, ']}');
      const c = worldCase(ctx);
      return { args: [...c.args, '--cloudtrail', bomb], detail: 'beside a good trail' };
    },
  },
  {
    name: 'growth/far-date',
    kind: 'growth',
    weight: 3,
    build(ctx) {
      const when = ctx.rng.pick(['9999-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2100-01-01T00:00:01Z', '+275760-09-13T00:00:00Z', '2026-02-30T25:61:61Z']);
      return { ...worldCase(ctx, { oddStepTime: when }), detail: when };
    },
  },
  {
    name: 'growth/created-users-2000',
    kind: 'growth',
    weight: 0,
    fixed: 3,
    formats: ['html', 'mermaid', 'markdown'],
    build(ctx) {
      return worldCase(ctx, { createdUsers: 2000 });
    },
  },
  {
    name: 'growth/steps-50000',
    kind: 'growth',
    weight: 0,
    fixed: 2,
    formats: ['html', 'text'],
    async build(ctx) {
      const trail = await ctx.shared.get('steps-50000.json.gz', (file) => {
        fs.writeFileSync(file, zlib.gzipSync(deliveryFile(buildWorld({ extraSteps: 50_000 }).records)));
      });
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, JSON.stringify(buildWorld().finding));
      return { args: ['--finding', f, '--cloudtrail', trail] };
    },
  },
  {
    name: 'growth/huge-user-agent-60MB',
    kind: 'growth',
    weight: 0,
    fixed: 1,
    formats: ['markdown'],
    build(ctx) {
      // One record carries it (every record with 60 MB would be a 2 GB trail).
      const w = buildWorld();
      (w.records[6] as TrailRecord).userAgent = hugeString(ctx.rng, 60 * MiB, true);
      const { finding, trail } = writeWorld(ctx.dir, w, { gzip: true });
      return { args: ['--finding', finding, '--cloudtrail', trail] };
    },
  },
  {
    name: 'growth/long-user-agent',
    kind: 'growth',
    weight: 3,
    build(ctx) {
      const bytes = ctx.rng.pick([9_000, 70_000, 500_000, 1_200_000]);
      return { ...worldCase(ctx, { userAgent: hugeString(ctx.rng, bytes, ctx.rng.chance(0.5)) }), detail: `${bytes} bytes` };
    },
  },
  {
    name: 'growth/medium-story',
    kind: 'growth',
    weight: 2,
    build(ctx) {
      const o = { createdUsers: ctx.rng.int(1, 150), extraSteps: ctx.rng.int(0, 3000), assumedRoles: ctx.rng.int(1, 40) };
      return { ...worldCase(ctx, o), detail: `users ${o.createdUsers} steps ${o.extraSteps} roles ${o.assumedRoles}` };
    },
  },
];

/** Adds a hostile string to (or puts it in place of) each chosen string. */
function hostile(rng: Rng, s: string): string {
  const h = rng.pick(HOSTILE_STRINGS);
  return rng.chance(0.6) ? `${s}${h}` : h;
}

const control: Family[] = [
  {
    name: 'control/every-string',
    kind: 'control',
    weight: 6,
    build(ctx) {
      const p = ctx.rng.pick([0.05, 0.3, 1]);
      const w = buildWorld();
      const mapped: World = {
        finding: mapStrings(w.finding, (s) => (ctx.rng.chance(p) ? hostile(ctx.rng, s) : s)) as Record<string, unknown>,
        records: mapStrings(w.records, (s) => (ctx.rng.chance(p) ? hostile(ctx.rng, s) : s)) as TrailRecord[],
      };
      const { finding, trail } = writeWorld(ctx.dir, mapped, { gzip: ctx.rng.chance(0.3) });
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: `p=${p}` };
    },
  },
  {
    name: 'control/append-keep-links',
    kind: 'control',
    weight: 6,
    build(ctx) {
      // Appending to names, user agents, regions and types only, so the chain still links and
      // every renderer shows the hostile strings.
      const fields = new Set(['userAgent', 'awsRegion', 'userName', 'roleSessionName', 'type', 'title', 'description', 'region', 'api', 'eventName', 'eventSource', 'errorCode', 'errorMessage', 'secretId', 'bucketName', 'key', 'policyArn', 'countryName', 'asnOrg', 'sourceIPAddress', 'ipAddressV4']);
      const w = buildWorld();
      const h = ctx.rng.pick(HOSTILE_STRINGS);
      const walk = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(walk);
        if (v !== null && typeof v === 'object') {
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' && fields.has(k) && ctx.rng.chance(0.5) ? `${x}${h}` : walk(x);
          return out;
        }
        return v;
      };
      for (const r of w.records as Record<string, unknown>[]) if (ctx.rng.chance(0.2)) r.errorMessage = h;
      const { finding, trail } = writeWorld(ctx.dir, { finding: walk(w.finding) as Record<string, unknown>, records: walk(w.records) as TrailRecord[] });
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: JSON.stringify(h).slice(0, 40) };
    },
  },
  {
    name: 'control/one-field',
    kind: 'control',
    weight: 4,
    build(ctx) {
      const w = buildWorld();
      const inFinding = ctx.rng.chance(0.4);
      const target = (inFinding ? w.finding : ctx.rng.pick(w.records)) as Parameters<typeof slotsOf>[0];
      const slots = slotsOf(target).filter((s) => typeof (s.parent as Record<string | number, unknown>)[s.key] === 'string');
      const s = ctx.rng.pick(slots);
      const parent = s.parent as Record<string | number, unknown>;
      parent[s.key] = hostile(ctx.rng, parent[s.key] as string);
      const { finding, trail } = writeWorld(ctx.dir, w);
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: `${inFinding ? 'finding' : 'record'}.${String(s.key)}` };
    },
  },
  {
    name: 'control/paths',
    kind: 'control',
    weight: 4,
    build(ctx) {
      const w = buildWorld();
      const name = ctx.rng.pick(['\x1b[2Jclear', 'bell\x07', 'new\nline', 'cr\rreturn', 'bidi\u202eevil', 'c1\u009bx', 'del\x7f', 'tab\tname']).replace(/\//g, '_');
      const sub = path.join(ctx.dir, `dir-${name}`);
      fs.mkdirSync(sub);
      const which = ctx.rng.pick(['trail-file', 'finding-file', 'missing-trail', 'missing-finding', 'damaged-trail', 'bad-finding']);
      const finding = path.join(sub, `finding-${name}.json`);
      fs.writeFileSync(finding, JSON.stringify(w.finding));
      const trail = path.join(sub, `records-${name}.json`);
      fs.writeFileSync(trail, deliveryFile(w.records));
      switch (which) {
        case 'missing-trail':
          return { args: ['--finding', finding, '--cloudtrail', path.join(sub, `gone-${name}`)], expect: 'refusal', detail: which };
        case 'missing-finding':
          return { args: ['--finding', path.join(sub, `gone-${name}.json`), '--cloudtrail', trail], expect: 'refusal', detail: which };
        case 'damaged-trail': {
          const damaged = path.join(sub, `damaged-${name}.json.gz`);
          fs.writeFileSync(damaged, zlib.gzipSync(deliveryFile(w.records)).subarray(0, 40));
          return { args: ['--finding', finding, '--cloudtrail', sub], detail: which };
        }
        case 'bad-finding':
          fs.writeFileSync(finding, JSON.stringify({ hello: name }));
          return { args: ['--finding', finding, '--cloudtrail', trail], expect: 'refusal', detail: which };
        default:
          return { args: ['--finding', finding, '--cloudtrail', which === 'trail-file' ? sub : trail], detail: which };
      }
    },
  },
  {
    name: 'control/error-messages',
    kind: 'control',
    weight: 4,
    build(ctx) {
      const h = ctx.rng.pick(HOSTILE_STRINGS.filter((s) => s.length > 2));
      const w = buildWorld();
      const trail = path.join(ctx.dir, 'records.json');
      fs.writeFileSync(trail, deliveryFile(w.records));
      const f = path.join(ctx.dir, 'finding.json');
      const which = ctx.rng.pick(['detail-type', 'product-name', 'two-findings', 'finding-id', 'event-map-tactic', 'not-json']);
      const args = ['--finding', f, '--cloudtrail', trail];
      switch (which) {
        case 'detail-type':
          fs.writeFileSync(f, JSON.stringify({ version: '0', id: 'x', source: 'aws.guardduty', 'detail-type': `GuardDuty ${h}`, detail: w.finding }));
          break;
        case 'product-name':
          fs.writeFileSync(f, JSON.stringify({ Findings: [{ SchemaVersion: '2018-10-08', Id: `id${h}`, ProductArn: `arn:aws:securityhub:us-east-1::product/${h}`, ProductName: h, AwsAccountId: '111122223333', Types: [h] }] }));
          break;
        case 'two-findings': {
          const other = { ...w.finding, id: `other${h}`, arn: `${String(w.finding.arn)}${h}` };
          fs.writeFileSync(f, JSON.stringify({ Findings: [w.finding, other] }));
          break;
        }
        case 'finding-id': {
          const other = { ...w.finding, id: 'other' };
          fs.writeFileSync(f, JSON.stringify({ Findings: [w.finding, other] }));
          // A command-line argument cannot hold NUL.
          args.push('--finding-id', h.replace(/\0/g, ''));
          break;
        }
        case 'event-map-tactic': {
          fs.writeFileSync(f, JSON.stringify(w.finding));
          const map = path.join(ctx.dir, 'map.json');
          fs.writeFileSync(map, JSON.stringify({ [`List${h}`]: `TA${h}` }));
          args.push('--event-map', map);
          break;
        }
        default:
          fs.writeFileSync(f, `{"not json ${h}`);
      }
      return { args, detail: which, expect: which === 'two-findings' || which === 'finding-id' || which === 'not-json' || which === 'product-name' || which === 'event-map-tactic' ? 'refusal' : undefined };
    },
  },
];

const mermaid: Family[] = [
  {
    name: 'mermaid/no-arn',
    kind: 'mermaid',
    weight: 4,
    formats: ['mermaid', 'mermaid', 'mermaid', 'html', 'text', 'markdown', 'json', 'asff'],
    build(ctx) {
      return worldCase(ctx, { noArn: true });
    },
  },
  {
    name: 'mermaid/many-edges',
    kind: 'mermaid',
    weight: 3,
    formats: ['mermaid', 'mermaid', 'mermaid', 'html', 'markdown'],
    build(ctx) {
      const users = ctx.rng.pick([200, 260, 400, 600]);
      const roles = ctx.rng.pick([1, 120, 300, 550]);
      return { ...worldCase(ctx, { createdUsers: users, assumedRoles: roles }), detail: `users ${users} roles ${roles}` };
    },
  },
  {
    name: 'mermaid/scenario-as-is',
    kind: 'mermaid',
    weight: 4,
    formats: ['mermaid'],
    build(ctx) {
      const s = ctx.rng.pick(ctx.sources.scenarios);
      return { args: ['--finding', s.finding, '--cloudtrail', s.cloudtrail], detail: s.name, expect: 'success' };
    },
  },
  {
    name: 'mermaid/syntax-in-names',
    kind: 'mermaid',
    weight: 3,
    formats: ['mermaid', 'mermaid', 'markdown', 'html'],
    build(ctx) {
      const bad = ctx.rng.pick(['a"b', 'x]y', 'p-->q', '%%c', 'end', 'graph', 'click', 'a;b', '{x}', '`t`', '<br>', '#quot;', 'subgraph', 'style n1 fill:#f00', '()', '']);
      const w = buildWorld();
      const inJson = (x: string) => JSON.stringify(x).slice(1, -1);
      const text = JSON.stringify(w.records).replace(/user\/backdoor/g, `user/${inJson(`back${bad}door`)}`).replace(/"userName":"backdoor"/g, `"userName":${JSON.stringify(`back${bad}door`)}`).replace(/assumed-role\/admin\/fuzz/g, `assumed-role/admin/${inJson(bad)}`);
      const { finding, trail } = writeWorld(ctx.dir, { finding: w.finding, records: JSON.parse(text) as TrailRecord[] });
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: JSON.stringify(bad) };
    },
  },
];

const asff: Family[] = [
  {
    name: 'asff/huge-id-or-arn',
    kind: 'asff',
    weight: 4,
    formats: ['asff', 'asff', 'asff', 'json', 'text', 'html'],
    build(ctx) {
      const w = buildWorld();
      const size = ctx.rng.pick([513, 2_049, 70_000, MiB]);
      const field = ctx.rng.pick(['id', 'arn', 'both', 'type', 'title']);
      const big = hugeString(ctx.rng, size, ctx.rng.chance(0.7)).replace(/\//g, 'x');
      const f = w.finding as Record<string, unknown>;
      if (field === 'id' || field === 'both') f.id = big;
      if (field === 'arn' || field === 'both') f.arn = `${String(f.arn)}${big}`;
      if (field === 'type') f.type = `Discovery:IAMUser/${big}`;
      if (field === 'title') f.title = big;
      const { finding, trail } = writeWorld(ctx.dir, w);
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: `${field} ${size}` };
    },
  },
  {
    name: 'asff/odd-account-region',
    kind: 'asff',
    weight: 4,
    formats: ['asff', 'asff', 'asff', 'json', 'text', 'mermaid'],
    build(ctx) {
      const w = buildWorld();
      const account = ctx.rng.pick(['__proto__', 'constructor', 'toString', '', '1234', '1111222233334444', '١١١١٢٢٢٢٣٣٣٣', '11112222333\n', 'abcdefghijkl', '0']);
      const region = ctx.rng.pick(['us-east-1', '__proto__', '', 'us-east-1\x1b[2J', 'x'.repeat(300), 'constructor']);
      const f = w.finding as Record<string, unknown>;
      f.accountId = account;
      f.region = region;
      if (ctx.rng.chance(0.5)) f.arn = `arn:aws:guardduty:${region}:${account}:detector/d/finding/${String(f.id)}`;
      const { finding, trail } = writeWorld(ctx.dir, w);
      return { args: ['--finding', finding, '--cloudtrail', trail], detail: `${JSON.stringify(account)} ${JSON.stringify(region).slice(0, 20)}` };
    },
  },
  {
    name: 'asff/huge-note-fields',
    kind: 'asff',
    weight: 2,
    formats: ['asff'],
    build(ctx) {
      const w = buildWorld();
      const f = w.finding as Record<string, unknown>;
      f.service = { ...(f.service as object), userFeedback: hugeString(ctx.rng, 300_000), additionalInfo: { value: JSON.stringify({ sample: false, big: hugeString(ctx.rng, 300_000) }), type: 'default' } };
      const asffNote = { Findings: [{ SchemaVersion: '2018-10-08', Id: String(f.arn), ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty', GeneratorId: 'x', AwsAccountId: '111122223333', Types: ['TTPs/Discovery'], CreatedAt: '2026-03-04T09:00:00Z', UpdatedAt: '2026-03-04T09:00:00Z', Severity: { Label: 'MEDIUM' }, Title: 't', Description: 'd', Resources: [{ Type: 'AwsIamAccessKey', Id: 'AKIAFUZZLEAKEDKEY001' }], Note: { Text: hugeString(ctx.rng, 600), UpdatedBy: hugeString(ctx.rng, 600), UpdatedAt: '2026-03-04T09:00:00Z' }, ProductFields: { 'aws/guardduty/service/action/actionType': 'AWS_API_CALL' } }] };
      const { finding, trail } = writeWorld(ctx.dir, w);
      if (ctx.rng.chance(0.4)) fs.writeFileSync(finding, JSON.stringify(asffNote));
      return { args: ['--finding', finding, '--cloudtrail', trail] };
    },
  },
];

const empty: Family[] = [
  {
    name: 'empty/truncated-gz-only',
    kind: 'empty',
    weight: 3,
    build(ctx) {
      const w = buildWorld();
      const gz = zlib.gzipSync(deliveryFile(w.records));
      // Outside json, cut early enough that no whole record can come out of the stream.
      const cut = ctx.format === 'json' ? ctx.rng.int(1, gz.length - 1) : ctx.rng.int(1, 64);
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, JSON.stringify(w.finding));
      const t = path.join(ctx.dir, 'records.json.gz');
      fs.writeFileSync(t, gz.subarray(0, cut));
      return { args: ['--finding', f, '--cloudtrail', t], expect: 'refusal', refusalUnlessRecordsRead: true, detail: `cut at ${cut} of ${gz.length}` };
    },
  },
  {
    name: 'empty/empty-file',
    kind: 'empty',
    weight: 2,
    build(ctx) {
      const w = buildWorld();
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, JSON.stringify(w.finding));
      const name = ctx.rng.pick(['records.json', 'records.json.gz', 'records.jsonl', 'dir']);
      const t = path.join(ctx.dir, name);
      if (name === 'dir') fs.mkdirSync(t);
      else fs.writeFileSync(t, '');
      return { args: ['--finding', f, '--cloudtrail', t], expect: 'refusal', detail: name };
    },
  },
  {
    name: 'empty/not-cloudtrail-only',
    kind: 'empty',
    weight: 3,
    build(ctx) {
      const w = buildWorld();
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, JSON.stringify(w.finding));
      const t = path.join(ctx.dir, 'trail');
      fs.mkdirSync(t);
      const files: Record<string, string | Buffer> = {
        'README.md': '# not a trail\n',
        'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]),
        '111122223333_CloudTrail-Digest_us-east-1_x.json.gz': zlib.gzipSync(JSON.stringify({ awsAccountId: ACCOUNT_OF(w), digestStartTime: '2026-03-04T08:00:00Z', digestEndTime: '2026-03-04T09:00:00Z', logFiles: [] })),
        'insights.json': JSON.stringify({ Records: [{ eventVersion: '1.07', eventType: 'AwsCloudTrailInsight', eventID: 'x', insightDetails: {} }] }),
        'empty-object.json': '{}',
        'empty-array.json': '[]',
        'no-records.json': '{"Records":[]}',
        'numbers.jsonl': '1\n2\n3\n',
        'other.json': JSON.stringify({ Events: 'nope', Records: 'nope' }),
      };
      const chosen = ctx.rng.sample(Object.keys(files), ctx.rng.int(1, 4));
      for (const n of chosen) fs.writeFileSync(path.join(t, n), files[n] as string | Buffer);
      return { args: ['--finding', f, '--cloudtrail', t], expect: 'refusal', detail: chosen.join(',') };
    },
  },
  {
    name: 'empty/damaged-beside-good',
    kind: 'empty',
    weight: 2,
    build(ctx) {
      const c = worldCase(ctx);
      const trail = c.args[3] as string;
      const gz = zlib.gzipSync(deliveryFile(buildWorld().records));
      fs.writeFileSync(path.join(trail, 'damaged.json.gz'), gz.subarray(0, ctx.rng.int(1, gz.length - 1)));
      fs.writeFileSync(path.join(trail, 'empty.json'), '');
      return { ...c, expect: 'success' };
    },
  },
];

function ACCOUNT_OF(w: World): string {
  return String((w.finding as Record<string, unknown>).accountId);
}

function readMaybeGz(file: string): string {
  const b = fs.readFileSync(file);
  return (b[0] === 0x1f && b[1] === 0x8b ? zlib.gunzipSync(b) : b).toString('utf8');
}

function mutateFile(rng: Rng, text: string): { text: string; detail: string } {
  if (rng.chance(0.25)) {
    const m = mutateText(rng, text);
    return { text: m.text, detail: m.mutation };
  }
  let value: Parameters<typeof mutateValue>[1];
  try {
    value = JSON.parse(text) as Parameters<typeof mutateValue>[1];
  } catch {
    // JSON Lines: mutate one line.
    const lines = text.split('\n');
    const i = rng.int(0, lines.length - 1);
    const m = mutateText(rng, lines[i] as string);
    lines[i] = m.text;
    return { text: lines.join('\n'), detail: `jsonl ${m.mutation}` };
  }
  const splices: Splices = new Map();
  const done = mutateValue(rng, value, rng.int(1, 4), splices);
  return { text: stringifyMutated(value, splices), detail: done.join('+') };
}

const mutation: Family[] = [
  {
    name: 'mutation/finding',
    kind: 'mutation',
    weight: 10,
    build(ctx) {
      const src = ctx.rng.pick(ctx.sources.findings);
      const scenario = ctx.sources.scenarios.find((s) => s.finding === src);
      const m = mutateFile(ctx.rng, fs.readFileSync(src, 'utf8'));
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, m.text);
      let trail = scenario?.cloudtrail;
      if (!trail) {
        trail = path.join(ctx.dir, 'records.json');
        fs.writeFileSync(trail, deliveryFile(buildWorld().records));
      }
      return { args: ['--finding', f, '--cloudtrail', trail], detail: `${path.basename(path.dirname(src))}/${path.basename(src)} ${m.detail}` };
    },
  },
  {
    name: 'mutation/scenario-trail',
    kind: 'mutation',
    weight: 10,
    build(ctx) {
      const s = ctx.rng.pick(ctx.sources.scenarios);
      const trail = path.join(ctx.dir, 'cloudtrail');
      fs.cpSync(s.cloudtrail, trail, { recursive: true });
      const files = listFiles(trail);
      const details: string[] = [];
      for (const file of ctx.rng.sample(files, ctx.rng.int(1, 3))) {
        const m = mutateFile(ctx.rng, readMaybeGz(file));
        fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(m.text) : m.text);
        details.push(m.detail);
      }
      return { args: ['--finding', s.finding, '--cloudtrail', trail], detail: `${s.name} ${details.join(', ')}` };
    },
  },
  {
    name: 'mutation/corpus-trail',
    kind: 'mutation',
    weight: 4,
    build(ctx) {
      const w = buildWorld();
      const f = path.join(ctx.dir, 'finding.json');
      fs.writeFileSync(f, JSON.stringify(w.finding));
      const source = ctx.sources.trailFiles.length > 0 ? ctx.rng.pick(ctx.sources.trailFiles) : undefined;
      const text = source ? fs.readFileSync(source, 'utf8') : deliveryFile(w.records);
      const m = mutateFile(ctx.rng, text);
      const t = path.join(ctx.dir, 'trail');
      fs.mkdirSync(t);
      fs.writeFileSync(path.join(t, 'corpus.json'), m.text);
      fs.writeFileSync(path.join(t, 'world.json'), deliveryFile(w.records));
      return { args: ['--finding', f, '--cloudtrail', t], detail: `${source ? path.basename(source) : 'world'} ${m.detail}` };
    },
  },
];

/**
 * Every family, for a repository root.
 * @param root the repository root (for the fixtures the families start from)
 */
export function familiesFor(root: string): Family[] {
  repoRoot = root;
  return [...crash, ...growth, ...control, ...mermaid, ...asff, ...empty, ...mutation];
}
