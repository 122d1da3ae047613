// Jest globalSetup: one temporary folder per run, made the temporary folder of everything the
// run starts. TMPDIR is what os.tmpdir() reads (and what Chromium and other child processes
// read); it is set here, in jest's parent process, before the test workers are forked, so they
// and their children inherit it. Every fs.mkdtempSync(path.join(os.tmpdir(), …)) of a test lands
// in it, and global-teardown.js removes it whole: a run leaves nothing in the system's /tmp.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async function globalSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-jest-'));
  process.env.TRAILSTORY_JEST_TMPDIR = dir;
  process.env.TRAILSTORY_JEST_PREVIOUS_TMPDIR = process.env.TMPDIR ?? '';
  process.env.TMPDIR = dir;
};
