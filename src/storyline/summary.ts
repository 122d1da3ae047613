/**
 * The storyline as one flow line (origin -> … -> finding), at most 512 characters: the
 * length of a Security Hub `Note.Text` (ASFF `Note`,
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Note.html).
 */
import type { Step, Storyline } from '../model/storyline';

/** Note.Text limit (characters). */
export const NOTE_TEXT_MAX = 512;
const ELLIPSIS = ' … ';

function principalShort(arn: string | null): string {
  if (!arn) return 'another account';
  const r = arn.split(':').slice(5).join(':');
  if (r.startsWith('assumed-role/')) {
    const [, role, sess] = r.split('/');
    return `${role}/${sess ?? ''}`;
  }
  return r.replace(/^user\//, '').replace(/^federated-user\//, 'fed:');
}

function stepWord(s: Step): string {
  const g = s.grants?.[0];
  let extra = '';
  if (g?.value && (g.kind === 'managed-policy' || g.kind === 'policy-version')) extra = ` ${g.value.split('/').pop()}`;
  else if (g?.value && (g.kind === 'user' || g.kind === 'group-membership')) extra = ` ${g.value}`;
  else if (g?.target && g.kind === 'login-profile') extra = ` ${g.target}`;
  return `${s.eventName}${extra}${s.errorCode ? ' (failed)' : ''}`;
}

/**
 * Builds the flow line: segments per principal and source (`[user from ip]`), runs of steps of
 * the same tactic folded (`Discovery x4`), escalations and credential steps named, then the
 * finding. Within {@link NOTE_TEXT_MAX}: parts left out in the middle behind a visible ` … `.
 */
export function summarize(st: Storyline): string {
  const f = `finding ${st.finding.type}`;
  if (st.steps.length === 0) {
    const why = st.coverage.sample ? 'sample finding' : st.coverage.gaps[0] ?? 'no attacker activity found';
    return clip(`No storyline: ${why} -> ${f}`);
  }
  const parts: string[] = [];
  let segment = '';
  let run: { tactic: string; n: number; names: Set<string> } | null = null;
  const flush = () => {
    if (!run) return;
    parts.push(run.n === 1 ? [...run.names][0] ?? run.tactic : `${run.tactic} x${run.n}`);
    run = null;
  };
  st.steps.forEach((s, i) => {
    const seg = `[${principalShort(s.principalArn)} from ${s.sourceIPAddress}]`;
    if (seg !== segment) {
      flush();
      parts.push(i === 0 ? `origin ${seg}` : seg);
      segment = seg;
    }
    const tactic = s.tactic?.name ?? 'Unmapped';
    const notable = (s.grants && s.grants.length > 0) || s.tactic?.id === 'TA0004' || s.tactic?.id === 'TA0003' || s.tactic?.id === 'TA0005' || s.tactic?.id === 'TA0010' || s.tactic?.id === 'TA0040' || s.tactic?.id === 'TA0001';
    if (notable) {
      flush();
      const last = parts[parts.length - 1];
      const w = stepWord(s);
      const m = last ? /^(.*?)(?: x(\d+))?$/.exec(last) : null;
      if (m && m[1] === w) parts[parts.length - 1] = `${w} x${Number(m[2] ?? 1) + 1}`;
      else parts.push(w);
      return;
    }
    if (run && run.tactic === tactic) {
      run.n++;
      run.names.add(s.eventName);
    } else {
      flush();
      run = { tactic, n: 1, names: new Set([s.eventName]) };
    }
  });
  flush();
  parts.push(f);
  return joinWithin(parts, NOTE_TEXT_MAX);
}

/**
 * Joins the flow's parts with ` -> ` within `max` characters: when they do not fit, whole parts
 * are left out in the middle (` -> … -> `), the start kept before the end, so no name is cut;
 * a single part longer than the room left is cut by {@link clip}.
 */
export function joinWithin(parts: string[], max: number): string {
  const SEP = ' -> ';
  const GAP = ' -> … -> ';
  const all = parts.join(SEP);
  if (all.length <= max) return all;
  const tail: string[] = [];
  let tailLen = 0;
  for (let i = parts.length - 1; i > 0; i--) {
    const add = (parts[i] ?? '').length + (tail.length ? SEP.length : 0);
    if (tailLen + add > max / 3) break;
    tail.unshift(parts[i] ?? '');
    tailLen += add;
  }
  const head: string[] = [];
  let headLen = 0;
  for (let i = 0; i < parts.length - tail.length; i++) {
    const add = (parts[i] ?? '').length + (head.length ? SEP.length : 0);
    if (headLen + add + GAP.length + tailLen > max) break;
    head.push(parts[i] ?? '');
    headLen += add;
  }
  // Not even the first part fits: the text is cut instead, both ends kept.
  if (head.length === 0) return clip(all, max);
  return clip(`${head.join(SEP)}${GAP}${tail.join(SEP)}`, max);
}

/**
 * Cuts text to `max` characters (UTF-16 code units) keeping both ends, with a visible ` … `
 * marker; never through a surrogate pair (an emoji cut in two is invalid for strict JSON
 * readers), so the result may be one unit shorter at each cut.
 */
export function clip(text: string, max = NOTE_TEXT_MAX): string {
  if (text.length <= max) return text;
  const keepEnd = Math.floor(max / 3);
  const keepStart = max - keepEnd - ELLIPSIS.length;
  return headUnits(text, keepStart) + ELLIPSIS + tailUnits(text, keepEnd);
}

/** The first `n` UTF-16 units of `text`, one fewer when the last would be half a surrogate pair. */
export function headUnits(text: string, n: number): string {
  const c = text.charCodeAt(n - 1);
  return text.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/** The last `n` UTF-16 units of `text`, one fewer when the first would be half a surrogate pair. */
function tailUnits(text: string, n: number): string {
  if (n <= 0) return '';
  const at = text.length - n;
  const c = text.charCodeAt(at);
  return text.slice(c >= 0xdc00 && c <= 0xdfff ? at + 1 : at);
}
