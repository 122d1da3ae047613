/** The storyline through emulated Athena and Security Lake is the CLI's: see equivalence.ts. */
import { describeEquivalence } from './equivalence';

describeEquivalence(true, 0, 34);
