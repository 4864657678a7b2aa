'use strict';
/**
 * Pyralog for Node.js: a thin layer over the Rust core client.
 *
 *   const { Client } = require('pyralog');
 *   const client = await Client.connect('127.0.0.1:9092', { caFile: 'pyralog-data/tls/ca.pem' });
 */
const native = require('./lib/native.cjs');
const errors = require('./lib/errors.cjs');

native.registerErrorFactory(
  (code, message, retryAfterMs, corruptBatch) =>
    new (errors.BY_CODE.get(code) ?? errors.PyralogError)(code, message, retryAfterMs, corruptBatch),
);

const { Client } = require('./lib/client.cjs');
const { Producer } = require('./lib/producer.cjs');
const { Consumer } = require('./lib/consumer.cjs');

/** The offset meaning "the end of the partition at the time of the read" (2^64 - 1). */
const OFFSET_END = 2n ** 64n - 1n;
/** The offset of the beginning of a partition (its log start offset). */
const OFFSET_BEGINNING = 0;

/** Every error code of the native core, `[{code, name}]` in numeric order. */
function errorCodes() {
  return native.errorCodes();
}

/** This package's version, the repository's one version (its native addon's too: checked at load). */
const version = require('./package.json').version;

/** "debug" or "release": how the loaded native addon was built. */
function buildProfile() {
  return native.buildProfile();
}

module.exports = {
  Client,
  Producer,
  Consumer,
  OFFSET_END,
  OFFSET_BEGINNING,
  errorCodes,
  buildProfile,
  version,
  ...errors,
};
