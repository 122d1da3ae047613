// Jest globalTeardown: removes the run's temporary folder made by global-setup.js (and all the
// tests left in it), and gives TMPDIR back its value from before the run.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function globalTeardown() {
  const dir = process.env.TRAILSTORY_JEST_TMPDIR;
  // Only the folder global-setup.js made: an absolute path named trailstory-jest-*.
  if (dir && path.isAbsolute(dir) && path.basename(dir).startsWith('trailstory-jest-')) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  const previous = process.env.TRAILSTORY_JEST_PREVIOUS_TMPDIR;
  if (previous) process.env.TMPDIR = previous;
  else delete process.env.TMPDIR;
  delete process.env.TRAILSTORY_JEST_TMPDIR;
  delete process.env.TRAILSTORY_JEST_PREVIOUS_TMPDIR;
};
