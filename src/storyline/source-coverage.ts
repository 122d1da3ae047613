/**
 * What a source could not gather, and what a querying source spent, put in a storyline's
 * coverage: the same for the enrich worker and the CLI.
 */
import type { Storyline } from '../model/storyline';
import type { SourceResult } from '../sources/types';

/** Adds the source's gaps (once each) and its usage (`coverage.queries`) to the storyline. Returns it. */
export function withSourceCoverage(storyline: Storyline, collected: Pick<SourceResult, 'gaps' | 'usage'>): Storyline {
  for (const g of collected.gaps) if (!storyline.coverage.gaps.includes(g)) storyline.coverage.gaps.push(g);
  if (collected.usage) storyline.coverage.queries = { ...collected.usage };
  return storyline;
}
