'use strict';
/**
 * Writes one section of a benchmarks document (docs/benchmarks.md) and leaves the others as
 * they are: each benchmark owns the section under its heading, up to the next heading of the
 * same level (for the `# ` title section: up to the first `## `). A new section goes at the end.
 * @param {string} file the Markdown file (created when missing, with a `# Benchmarks` title)
 * @param {string} heading the section's heading line, e.g. `## HTML report`
 * @param {string} text the whole section, starting with its heading line
 */
function writeSection(file, heading, text) {
  const fs = require('fs');
  const path = require('path');
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const start = old.startsWith(`${heading}\n`) ? 0 : old.indexOf(`\n${heading}\n`) + 1;
  let next = '';
  if (start > 0 || old.startsWith(`${heading}\n`)) {
    const level = /^#+/.exec(heading)[0];
    const rest = old.slice(start + heading.length);
    const m = new RegExp(`\\n${level === '#' ? '##' : level} `).exec(rest);
    if (m) next = `\n${rest.slice(m.index + 1)}`;
  }
  const before = start > 0 || old.startsWith(`${heading}\n`) ? old.slice(0, start) : `${old.trimEnd()}\n\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, before + body + next);
}

/**
 * The `--out FILE` option of a benchmark script (Node's `util.parseArgs`): the file to write its
 * section into, or undefined when not asked; null (after printing `usage` to standard error and
 * setting exit code 2) when the option is malformed.
 * @param {string[]} args the script's arguments
 * @param {string} usage the one usage line
 * @returns {string | undefined | null}
 */
function outOption(args, usage) {
  const { parseArgs } = require('util');
  try {
    const { values } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true });
    return values.out;
  } catch {
    process.stderr.write(`${usage}\n`);
    process.exitCode = 2;
    return null;
  }
}

module.exports = { writeSection, outOption };
