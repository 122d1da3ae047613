'use strict';
// Preloaded into a measured child by bench/measure.js where /usr/bin/time is not GNU time:
// writes the process's peak RSS (KB, all threads: getrusage of the process) to
// $TRAILSTORY_BENCH_RSS_FILE when the main thread exits (worker threads inherit the preload).
const file = process.env.TRAILSTORY_BENCH_RSS_FILE;
// /proc's VmHWM where there is one: getrusage's maxrss starts at the spawning parent's RSS.
function peakKB() {
  const m = /VmHWM:\s+(\d+) kB/.exec((() => { try { return require('fs').readFileSync('/proc/self/status', 'utf8'); } catch { return ''; } })());
  return m ? Number(m[1]) : process.resourceUsage().maxRSS;
}
if (file && require('worker_threads').isMainThread) process.on('exit', () => require('fs').writeFileSync(file, `${peakKB()}\n`));
