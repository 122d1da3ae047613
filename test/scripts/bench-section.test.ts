/** scripts/bench-section.js: a benchmark rewrites its own section of docs/benchmarks.md and no other. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSection } = require('../../scripts/bench-section.js') as { writeSection: (file: string, heading: string, text: string) => void };

describe('writeSection', () => {
  let file: string;
  beforeEach(() => {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-section-')), 'benchmarks.md');
    fs.writeFileSync(file, '# Benchmarks\n\nold lead\n\n## A\n\nold a\n\n## B\n\nold b\n');
  });

  test('a middle section is replaced, the ones after it kept', () => {
    writeSection(file, '## A', '## A\n\nnew a\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('# Benchmarks\n\nold lead\n\n## A\n\nnew a\n\n## B\n\nold b\n');
  });

  test('the title section runs up to the first ## heading', () => {
    writeSection(file, '# Benchmarks', '# Benchmarks\n\nnew lead');
    expect(fs.readFileSync(file, 'utf8')).toBe('# Benchmarks\n\nnew lead\n\n## A\n\nold a\n\n## B\n\nold b\n');
  });

  test('a new section goes at the end; the last one is replaced to the end', () => {
    writeSection(file, '## C', '## C\n\nc\n');
    writeSection(file, '## B', '## B\n\nnew b\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('# Benchmarks\n\nold lead\n\n## A\n\nold a\n\n## B\n\nnew b\n\n## C\n\nc\n');
  });

  test('a missing file is created with its title', () => {
    const fresh = path.join(path.dirname(file), 'sub', 'new.md');
    writeSection(fresh, '## HTML report', '## HTML report\n\nx\n');
    expect(fs.readFileSync(fresh, 'utf8')).toBe('# Benchmarks\n\n## HTML report\n\nx\n');
  });
});

describe('outOption', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { outOption } = require('../../scripts/bench-section.js') as { outOption: (args: string[], usage: string) => string | undefined | null };
  const code = process.exitCode;
  afterEach(() => {
    process.exitCode = code;
  });

  test('no --out: undefined, nothing written; --out FILE: the file', () => {
    expect(outOption([], 'usage: x')).toBeUndefined();
    expect(outOption(['--out', 'docs/benchmarks.md'], 'usage: x')).toBe('docs/benchmarks.md');
    expect(outOption(['--out=b.md'], 'usage: x')).toBe('b.md');
  });

  test('--out without a file or an unknown option: null and exit code 2', () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(outOption(['--out'], 'usage: x')).toBeNull();
      expect(process.exitCode).toBe(2);
      expect(outOption(['--bogus'], 'usage: x')).toBeNull();
      expect(err).toHaveBeenCalledWith('usage: x\n');
    } finally {
      err.mockRestore();
    }
  });
});
