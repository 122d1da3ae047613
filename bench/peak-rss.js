'use strict';
// Preloaded into a measured child by bench/measure.js where /usr/bin/time is not GNU time:
// writes the process's peak RSS (KB, all threads: getrusage of the process) to
// $TRAILSTORY_BENCH_RSS_FILE when the main thread exits (worker threads inherit the preload).
const file = process.env.TRAILSTORY_BENCH_RSS_FILE;
if (file && require('worker_threads').isMainThread) process.on('exit', () => require('fs').writeFileSync(file, `${process.resourceUsage().maxRSS}\n`));
