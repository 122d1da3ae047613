/**
 * The HTML report's renderers (src/render/html.ts, its SVG diagram and elkjs, most of the enrich
 * worker's bytes), as a file of their own: the second of the enrich worker's EntryPoints in
 * template.yaml, which esbuild writes beside the handler as `report.js`. Not a handler: the
 * worker requires it on its first report (src/report/renderer.ts), so it is not loaded at start.
 */
export { renderHtml } from '../src/render/html';
