/**
 * Usual sources (storyline contract, "Usual sources belong to the credential"): a use of a
 * credential is legitimate only when both its address (the same address, or the same /24 for
 * IPv4 and /48 for IPv6) and its client product (`aws-cli`, `boto3`, a browser, …) were seen in
 * the history of that credential together with its principal's (the same user; the same role
 * and session name). The history is every use from an address made before the cut: 24 hours
 * before the finding's first-seen time. Later uses never join it. A credential whose
 * principal has no use that early has no history, and every use of it is the attacker's.
 *
 * Pure: built once from the records read, then asked per use.
 */
import type { TrailEvent } from '../trail/event';
import { clientProduct, historyPrincipal, ipOf, networkOf } from './edges';

/** How far before the finding's first-seen time the history ends (ms). */
export const HISTORY_GAP_MS = 24 * 3600 * 1000;

/** The usual sources of one credential or principal. */
export interface UsualSources {
  addresses: Set<string>;
  networks: Set<string>;
  products: Set<string>;
  /** Uses in the history. */
  count: number;
  /** Epoch ms of the first use in the history, or null. */
  since: number | null;
}

/** How one use compares with its history. */
export interface Verdict {
  /** True when address and client were both seen before. */
  usual: boolean;
  /** True when the credential and its principal have no history at all. */
  noHistory: boolean;
  /** Why, in words (for the step's reason). */
  why: string;
}

function empty(): UsualSources {
  return { addresses: new Set(), networks: new Set(), products: new Set(), count: 0, since: null };
}

function add(u: UsualSources, ev: TrailEvent, ip: string): void {
  u.addresses.add(ip);
  const net = networkOf(ip);
  if (net) u.networks.add(net);
  u.products.add(clientProduct(ev.userAgent));
  u.count++;
  if (u.since === null) u.since = ev.epochMs;
}

/**
 * The history of every credential and principal in the records, up to `cutMs` (epoch ms).
 * Credentials are keyed by their access key id, principals by {@link historyPrincipal}.
 */
export class History {
  private readonly byKey = new Map<string, UsualSources>();
  private readonly byPrincipal = new Map<string, UsualSources>();
  /** The merged sources of each credential and principal pair, built on first use. */
  private readonly merged = new Map<string, UsualSources>();

  /**
   * @param events the records read, any order
   * @param cutMs epoch ms: uses at or after it are not history (NaN: no history at all)
   */
  constructor(
    events: TrailEvent[],
    readonly cutMs: number,
  ) {
    for (const ev of events) {
      if (!(ev.epochMs < cutMs)) continue;
      const ip = ipOf(ev);
      if (!ip) continue;
      const k = ev.identity.accessKeyId;
      if (k) {
        let u = this.byKey.get(k);
        if (!u) this.byKey.set(k, (u = empty()));
        add(u, ev, ip);
      }
      const p = historyPrincipal(ev);
      if (p) {
        let u = this.byPrincipal.get(p);
        if (!u) this.byPrincipal.set(p, (u = empty()));
        add(u, ev, ip);
      }
    }
  }

  /** The usual sources a use is judged by: its credential's and its principal's together. */
  sourcesOf(ev: TrailEvent): UsualSources {
    const k = ev.identity.accessKeyId ? this.byKey.get(ev.identity.accessKeyId) : undefined;
    const p = historyPrincipal(ev);
    const q = p ? this.byPrincipal.get(p) : undefined;
    if (!k) return q ?? empty();
    if (!q) return k;
    const pair = `${ev.identity.accessKeyId}\u0000${p}`;
    const done = this.merged.get(pair);
    if (done) return done;
    const u = empty();
    for (const s of [k, q]) {
      for (const a of s.addresses) u.addresses.add(a);
      for (const n of s.networks) u.networks.add(n);
      for (const c of s.products) u.products.add(c);
      u.count += s.count;
      if (s.since !== null && (u.since === null || s.since < u.since)) u.since = s.since;
    }
    this.merged.set(pair, u);
    return u;
  }

  /**
   * Judges one use from an address against its history.
   * @returns null for a use without an address (a service's call): it is judged by what caused it
   */
  judge(ev: TrailEvent): Verdict | null {
    const ip = ipOf(ev);
    if (!ip) return null;
    const h = this.sourcesOf(ev);
    if (h.count === 0) {
      const cut = new Date(this.cutMs).toISOString().replace(/\.000Z$/, 'Z');
      return { usual: false, noHistory: true, why: `no use of this credential or its principal in the records read before ${cut} (a day before the finding): every use is the attacker's` };
    }
    const net = networkOf(ip);
    const addressSeen = h.addresses.has(ip) || (net !== undefined && h.networks.has(net));
    const product = clientProduct(ev.userAgent);
    const clientSeen = h.products.has(product);
    if (addressSeen && clientSeen) return { usual: true, noHistory: false, why: 'from a usual address with a usual client' };
    const parts: string[] = [];
    if (!addressSeen) parts.push(`${ip} (network ${net ?? ip}) never seen before`);
    if (!clientSeen) parts.push(`client ${product || '(none)'} never seen before`);
    return { usual: false, noHistory: false, why: `${parts.join(', ')} in ${h.count} earlier use(s)` };
  }
}
