/* global process */
// Parses Mermaid diagrams with the real parser (the `mermaid` package, its DOM from jsdom), for
// test/render/mermaid.test.ts: reads a JSON array of diagram texts on standard input, prints a
// JSON array of the same length: null where the diagram parses, else Mermaid's error message.
// A separate ES module run with node because mermaid ships as ES modules only. Parsing checks
// Mermaid's default `maxEdges` (500) too; `maxTextSize` is checked by the test itself.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    await mermaid.parse(text);
    out.push(null);
  } catch (e) {
    out.push(String(e && e.message ? e.message : e));
  }
}
process.stdout.write(JSON.stringify(out));
