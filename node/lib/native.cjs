'use strict';
// Loads the native addon that lib/loader.cjs finds for this machine (or throws its
// message: no prebuilt addon for this platform, its package not installed, or an
// addon of another version).
const { locate, load, hostPlatform } = require('./loader.cjs');

const found = locate(hostPlatform());
if (found instanceof Error) throw found;
module.exports = load(found);
