'use strict';
// Loads the native addon: $PYRALOG_NODE_ADDON if set (the test command points
// it at the debug build), else pyralog.node in the package (built by the
// install script, or shipped in a packed tarball).
const path = require('node:path');

const file = path.resolve(process.env.PYRALOG_NODE_ADDON || path.join(__dirname, '..', 'pyralog.node'));
const addon = { exports: {} };
try {
  process.dlopen(addon, file);
} catch (e) {
  throw new Error(
    `pyralog: cannot load the native addon ${file} (${e.message}); ` +
      'build it with `npm install` in the package directory (needs cargo), see README.md',
    { cause: e },
  );
}
module.exports = addon.exports;
