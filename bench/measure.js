'use strict';
// Times one child process for `npm run bench`: from spawn to exit, measured here in the parent
// (so a child's start-up, module loading and exit count, as they do for a user), and the child's
// peak resident set: GNU time's %M (/usr/bin/time -f %M: the whole process, worker threads and
// DuckDB's threads included). Where /usr/bin/time is not GNU time (macOS), a Node child is
// started with `--require bench/peak-rss.js` instead, which writes process.resourceUsage().maxRSS
// (the process's, threads included) when the process exits.
// The child's standard output goes to a file, read after the timing; its standard error is kept
// for the error message when it fails.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const GNU_TIME = '/usr/bin/time';
let gnuTime;
/** Whether /usr/bin/time is GNU time (checked once). */
function hasGnuTime(tmp) {
  if (gnuTime === undefined) {
    const probe = path.join(tmp, 'time-probe');
    const r = spawnSync(GNU_TIME, ['-f', '%M', '-o', probe, process.execPath, '-e', '0'], { stdio: 'ignore' });
    gnuTime = !r.error && r.status === 0 && fs.existsSync(probe) && /^\d+\s*$/.test(fs.readFileSync(probe, 'utf8'));
  }
  return gnuTime;
}
/** How peak RSS is measured, in words, for the report's header. */
const rssMethod = (tmp) => (hasGnuTime(tmp) ? 'GNU time `%M`' : "`process.resourceUsage().maxRSS` at the child's exit (bench/peak-rss.js)");

/**
 * Runs `argv` (argv[0] the program) in `cwd` and times it.
 * @param {string[]} argv the command, argv[0] being process.execPath for the fallback to work
 * @param {{cwd: string, tmp: string, name: string}} o tmp: a folder for the output files
 * @returns {{ms: number, peakRssMb: number, stdoutFile: string}}
 */
function timeProcess(argv, { cwd, tmp, name }) {
  const stdoutFile = path.join(tmp, `${name}.out`);
  const rssFile = path.join(tmp, `${name}.rss`);
  fs.rmSync(rssFile, { force: true });
  const out = fs.openSync(stdoutFile, 'w');
  let cmd;
  let args;
  let env = process.env;
  if (hasGnuTime(tmp)) {
    cmd = GNU_TIME;
    args = ['-f', '%M', '-o', rssFile, ...argv];
  } else {
    [cmd, ...args] = argv;
    args = ['--require', path.join(__dirname, 'peak-rss.js'), ...args];
    env = { ...process.env, TRAILSTORY_BENCH_RSS_FILE: rssFile };
  }
  let r;
  let ms;
  try {
    const t0 = process.hrtime.bigint();
    r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', out, 'pipe'], maxBuffer: 64 << 20 });
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    fs.closeSync(out);
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`bench: \`${argv.map((a) => path.basename(a)).join(' ')}\` in ${cwd} exited ${r.status ?? r.signal}:\n${String(r.stderr).trim().split('\n').slice(-15).join('\n')}`);
  // GNU time puts "Command exited with non-zero status N" first when the child failed: the
  // figure is the last line.
  const kb = Number(fs.existsSync(rssFile) ? fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() : NaN);
  return { ms, peakRssMb: kb / 1024, stdoutFile };
}

module.exports = { timeProcess, rssMethod };
