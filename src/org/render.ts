/**
 * The `org-status` report as text (a terminal table and a numbered list of gaps) and as
 * Markdown (GitHub tables, as in the README). Account names come from Organizations and are
 * chosen by people: they pass through `neutral` / `mdEscape` like every other outside text.
 */
import { mdEscape, neutral } from '../render/escape';
import type { OrgStatus } from './status';

const COLUMNS = ['account', 'name', 'region', 'Security Hub', 'GuardDuty', 'Detective', 'member role'] as const;

function cells(st: OrgStatus): string[][] {
  return st.accounts.map((r) => [r.account, r.name, r.region, r.securityHub, r.guardDuty, r.detective, r.memberRole]);
}

/** What the cells say (each service's own status words are kept as it names them). */
export const LEGEND =
  'Cells: admin = this account administers the service there; Enabled / ENABLED (Detective) = a healthy member; another word = the member status the service reports ' +
  '(Created, Invited, Disabled, Removed, RegionDisabled, ...); not a member; no graph = no Detective behavior graph in the region; off = Detective not used; ' +
  '? = could not be read (see the gaps). Member role: ok = assumed; self = the account trailstory runs in; refused; region disabled; not checked.';

function header(st: OrgStatus): { label: string; value: string }[] {
  const admins = Object.entries(st.delegatedAdministrators).map(([sp, ids]) => `${sp.replace('.amazonaws.com', '')} ${ids.length ? ids.join(', ') : '(none)'}`);
  const agg = st.aggregation ? `home ${st.aggregation.homeRegion}, ${st.aggregation.regionLinkingMode}${st.aggregation.regions.length ? ` ${st.aggregation.regions.join(', ')}` : ''}` : 'none';
  return [
    { label: 'organisation', value: `${st.organizationId ?? '?'} (management account ${st.managementAccount ?? '?'})` },
    { label: 'checked from', value: `${st.adminAccount} as ${st.caller}, ${st.checkedAt}` },
    { label: 'delegated administrators', value: admins.join('; ') || '?' },
    { label: 'Security Hub aggregation', value: agg },
    { label: 'regions', value: st.regions.join(', ') + (st.regions.length === 1 ? ' (only this one: --regions, or the stack\'s OrgStatusRegions, to check more)' : '') },
  ];
}

/** Text for one terminal line: `neutral`, and no line break or tab to split a row. */
const line = (s: string): string => neutral(s).replace(/[\r\n\t]+/g, ' ');

/** A plain-text report for a terminal: the accounts × regions table, then the gaps with their fixes. */
export function renderOrgStatusText(st: OrgStatus): string {
  const out: string[] = ['trailstory org-status'];
  for (const h of header(st)) out.push(`  ${h.label.padEnd(26)}${line(h.value)}`);
  out.push('');
  const rows = [COLUMNS.map((c) => c.toUpperCase()), ...cells(st).map((r) => r.map(line))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) out.push(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  out.push('', LEGEND, '');
  if (st.gaps.length === 0) {
    out.push('No gaps: every account and region is covered.');
  } else {
    out.push(`${st.gaps.length} gap${st.gaps.length === 1 ? '' : 's'}:`);
    st.gaps.forEach((g, i) => {
      out.push(`${String(i + 1).padStart(3)}. ${g.account} ${g.region} ${g.component}: ${line(g.problem)}`);
      out.push(`     fix: ${line(g.fix)}`);
    });
  }
  return out.join('\n') + '\n';
}

/** The same report in GitHub Flavored Markdown (two tables). */
export function renderOrgStatusMarkdown(st: OrgStatus): string {
  const out: string[] = [];
  for (const h of header(st)) out.push(`- **${h.label}**: ${mdEscape(h.value)}`);
  out.push('', `| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`);
  for (const r of cells(st)) out.push(`| ${r.map(mdEscape).join(' | ')} |`);
  out.push('', mdEscape(LEGEND), '');
  if (st.gaps.length === 0) out.push('No gaps: every account and region is covered.');
  else {
    out.push('| # | account | region | component | problem | fix |', '|---|---|---|---|---|---|');
    st.gaps.forEach((g, i) => out.push(`| ${i + 1} | ${g.account} | ${g.region} | ${g.component} | ${mdEscape(g.problem)} | ${mdEscape(g.fix)} |`));
  }
  return out.join('\n') + '\n';
}
