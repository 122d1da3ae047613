/**
 * The report's renderers, loaded on the first report (src/report/renderer.ts): from the file
 * beside the entry file in a function's bundle, from their own module in the sources. The
 * bundle itself is run from its own folder in test/template (EnrichWorker: the bundled worker
 * writes the HTML report through report.js).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderHtml } from '../../src/render/html';
import { REPORT_FILE, reportRenderer, reportRendererPath } from '../../src/report/renderer';

const SRC_REPORT = path.resolve(__dirname, '../../src/report');

test('in a bundle, the report file beside the entry file; from the sources, the renderers\' own module', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-renderer-'));
  try {
    // Prepare: a function's folder as the build writes it.
    fs.writeFileSync(path.join(dir, 'enrich-worker.js'), '');
    expect(reportRendererPath(dir)).toBe(path.join(dir, '..', 'render', 'html')); // no report.js: the sources' path
    fs.writeFileSync(path.join(dir, REPORT_FILE), '');
    // Assess
    expect(REPORT_FILE).toBe('report.js');
    expect(reportRendererPath(dir)).toBe(path.join(dir, 'report.js'));
    expect(reportRendererPath(SRC_REPORT)).toBe(path.resolve(__dirname, '../../src/render/html'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('from the sources: the renderers\' own renderHtml, required once and kept', () => {
  const first = reportRenderer();
  expect(first.renderHtml).toBe(renderHtml);
  expect(reportRenderer()).toBe(first);
});
