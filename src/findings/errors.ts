/**
 * Errors raised while reading a finding file. Their `message` is ONE line naming the file and
 * the problem, fit to print as is on standard error (storyline contract, "The command").
 */

/**
 * The input is not a usable GuardDuty finding: not JSON, JSON of no recognised form, an
 * `aws.guardduty` event that is not a "GuardDuty Finding" (pitfall 1), a Security Hub event or
 * `GetFindings` output without a GuardDuty finding, a CloudTrail file, an empty `Findings`.
 *
 * @example new FindingInputError('finding.json', 'holds no findings (empty "Findings")').message
 *   === 'finding.json: holds no findings (empty "Findings")'
 */
export class FindingInputError extends Error {
  /** The file name as given by the caller. */
  readonly fileName: string;
  /** The problem, without the file name. */
  readonly problem: string;

  constructor(fileName: string, problem: string) {
    super(`${fileName}: ${problem}`.replace(/[\r\n]+/g, ' '));
    this.name = 'FindingInputError';
    this.fileName = fileName;
    this.problem = problem;
  }
}

/** The ids an {@link AmbiguousFindingError}'s message names (all of them are in `ids`). */
const LISTED_IDS_IN_MESSAGE = 10;

/**
 * The file holds several findings and no finding id was chosen. `ids` lists GuardDuty's finding
 * ids in file order (the CLI prints them one a line and exits 2).
 */
export class AmbiguousFindingError extends FindingInputError {
  readonly ids: string[];

  constructor(fileName: string, ids: string[]) {
    super(fileName, `holds ${ids.length} findings; choose one with --finding-id: ${ids.slice(0, LISTED_IDS_IN_MESSAGE).join(', ')}${ids.length > LISTED_IDS_IN_MESSAGE ? `, … (${ids.length - LISTED_IDS_IN_MESSAGE} more)` : ''}`);
    this.name = 'AmbiguousFindingError';
    this.ids = ids;
  }
}
