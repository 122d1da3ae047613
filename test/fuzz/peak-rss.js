'use strict';
// Preloaded into every fuzz child (`node --require test/fuzz/peak-rss.js bin/trailstory.js …`):
// on exit, also after an uncaught exception or process.exit(), it writes the process's peak
// resident set size in bytes (`maxrss=<n>`) to file descriptor 3 when the parent opened it as a
// pipe. A child killed by a signal or aborted by V8 writes nothing; the parent then falls back
// to the peak it read from /proc/<pid>/status while the child ran.
const fs = require('fs');

/**
 * The process's own peak RSS in bytes: /proc's VmHWM on Linux. getrusage's maxrss is not: it
 * starts at the spawning parent's RSS (carried across fork and exec), so a child of a large
 * jest worker would report the worker's size.
 */
function peakRssBytes() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: getrusage below
  }
  return process.resourceUsage().maxRSS * 1024;
}

let written = false;
function report() {
  if (written) return;
  written = true;
  try {
    fs.writeSync(3, `maxrss=${peakRssBytes()}\n`);
  } catch {
    // fd 3 not open (run outside the harness): nothing to report to.
  }
}

process.on('exit', report);
