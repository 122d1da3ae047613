/**
 * The README's org-status example is the command's real output: `npm run org-status:local --
 * --format markdown` (scripts/org-status-local.ts) against the emulated organisation, between
 * the `org-status:begin` / `org-status:end` markers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { orgStatusLocal } from '../../scripts/org-status-local';

const ROOT = path.resolve(__dirname, '../..');

test('README: the org-status table is what the command prints', async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- org-status:begin -->\n([\s\S]*?)<!-- org-status:end -->/.exec(readme);
  expect(m).not.toBeNull();
  const r = await orgStatusLocal(ROOT, ['--format', 'markdown']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(m![1]).toBe(r.out);
});
