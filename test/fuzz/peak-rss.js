'use strict';
// Preloaded into every fuzz child (`node --require test/fuzz/peak-rss.js bin/trailstory.js …`):
// on exit, also after an uncaught exception or process.exit(), it writes the process's peak
// resident set size in bytes (`maxrss=<n>`) to file descriptor 3 when the parent opened it as a
// pipe. A child killed by a signal or aborted by V8 writes nothing; the parent then falls back
// to the peak it read from /proc/<pid>/status while the child ran.
const fs = require('fs');

let written = false;
function report() {
  if (written) return;
  written = true;
  try {
    const kib = process.resourceUsage().maxRSS;
    fs.writeSync(3, `maxrss=${kib * 1024}\n`);
  } catch {
    // fd 3 not open (run outside the harness): nothing to report to.
  }
}

process.on('exit', report);
