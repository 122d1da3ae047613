/**
 * The README's worked example is the CLI's real output: each block between `demo…:start` and
 * `demo…:end` markers is the text of its command at 80 columns, with runs of lines left out
 * where the README writes `…` (every other line is an output line, in order).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');
const INVICTUS = path.join(ROOT, 'events', 'invictus');

async function text(finding: string): Promise<string[]> {
  let out = '';
  const code = await main(['investigate', '--finding', path.join(INVICTUS, finding), '--cloudtrail', path.join(INVICTUS, 'cloudtrail'), '--format', 'text', '--width', '80'], { out: (s) => (out += s), err: () => undefined });
  expect(code).toBe(0);
  return out.split('\n');
}

function block(readme: string, name: string): string[] {
  const m = new RegExp(`<!-- ${name}:start -->\\n\`\`\`\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- ${name}:end -->`).exec(readme);
  if (!m?.[1]) throw new Error(`README: no ${name} block`);
  return m[1].split('\n');
}

/** The block's lines, `…` a gap of one or more lines, as an in-order sub-list of the output's. */
function expectExcerpt(excerpt: string[], out: string[]): void {
  let at = 0;
  let gap = false;
  for (const line of excerpt) {
    if (line === '…') {
      gap = true;
      continue;
    }
    const i = gap ? out.indexOf(line, at) : at;
    expect({ line, found: out[i] }).toEqual({ line, found: line });
    at = i + 1;
    gap = false;
  }
  expect(at).toBeGreaterThan(0);
}

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

test.each([
  ['demo', 'finding.json'],
  ['demo-console-login', 'finding-console-login.json'],
])('README: the %s block is what the command prints', async (name, finding) => {
  expectExcerpt(block(readme, name), await text(finding));
}, 60_000);
