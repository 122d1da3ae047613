/**
 * The report's renderers, loaded on the first report rather than when the function starts: they
 * and elkjs are more than half of the enrich worker's code, and most invocations write no report
 * (a storyline without steps) or write it well after start.
 *
 * In a function's bundle this module is inside the entry file, and the renderers are in
 * {@link REPORT_FILE} beside it: functions/report.ts, the function's second entry point in
 * template.yaml, which esbuild writes next to the handler. The path is computed at run time, so
 * esbuild leaves the `require` alone and the renderers out of the entry file. From the
 * TypeScript sources (ts-jest) and tsc's output there is no such file: the renderers' own module
 * is required instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the report file exports (functions/report.ts). */
export type ReportRenderer = Pick<typeof import('../render/html'), 'renderHtml'>;

/** The renderers' file in a function's bundle, beside the entry file. */
export const REPORT_FILE = 'report.js';

let loaded: ReportRenderer | undefined;

/**
 * The module {@link reportRenderer} requires from `dir` (default this module's folder, which in a
 * bundle is the entry file's): {@link REPORT_FILE} when it is there, else the sources' renderers.
 */
export function reportRendererPath(dir: string = __dirname): string {
  const beside = path.join(dir, REPORT_FILE);
  return fs.existsSync(beside) ? beside : path.join(dir, '..', 'render', 'html');
}

/**
 * The renderers, required on the first call and kept.
 * @throws Error naming the file when it cannot be loaded (a bundle deployed without its report file).
 */
export function reportRenderer(): ReportRenderer {
  if (loaded) return loaded;
  const file = reportRendererPath();
  let m: Partial<ReportRenderer>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path computed at run time, which esbuild does not bundle
    m = require(file) as Partial<ReportRenderer>;
  } catch (e) {
    throw new Error(`the report renderers could not be loaded from ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof m.renderHtml !== 'function') throw new Error(`${file} does not export renderHtml`);
  loaded = { renderHtml: m.renderHtml };
  return loaded;
}
