'use strict';
// The access key a GuardDuty finding is about (Resource.AccessKeyDetails.AccessKeyId), for the
// benchmark's own scripts (bench/duckdb-pivot.js, bench/floor.js key). It reads the finding as
// gen-trail writes it (GuardDuty's native JSON, camelCase) and also the API's PascalCase, an
// `aws guardduty get-findings` output (its first finding) and an EventBridge event; it uses no
// product code.
const fs = require('fs');

/** The value under `key` of an object, the key's case ignored. */
const get = (o, key) => {
  if (!o || typeof o !== 'object') return undefined;
  const k = Object.keys(o).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : o[k];
};

/**
 * @param {string} file the finding's JSON file
 * @returns {string} the access key id
 */
function findingAccessKey(file) {
  let f = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (get(f, 'detail')) f = get(f, 'detail');
  const list = get(f, 'findings');
  if (Array.isArray(list)) f = list[0];
  const key = get(get(get(f, 'resource'), 'accessKeyDetails'), 'accessKeyId');
  // An access key id is letters and digits: anything else is not a key (and never reaches SQL).
  if (typeof key !== 'string' || !/^[A-Z0-9]{16,128}$/.test(key)) throw new Error(`${file}: no Resource.AccessKeyDetails.AccessKeyId`);
  return key;
}

module.exports = { findingAccessKey };
