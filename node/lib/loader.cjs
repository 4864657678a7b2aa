'use strict';
// Where the native addon is and whether it fits; lib/native.cjs loads it with these.
// The napi-rs way: a release publishes one package per platform
// (`@pyralog/linux-x64-gnu` carrying `pyralog.linux-x64-gnu.node`), all listed as
// optionalDependencies of `pyralog`, so npm installs only the one whose os/cpu/libc
// match. Looked for, in order:
//   1. $PYRALOG_NODE_ADDON (the repository's tests point it at a debug build);
//   2. pyralog.node in this package (built from source: `npm run build`);
//   3. the platform package of this machine.
// Nothing is ever built here. A platform without a published package, or a package
// not installed, fails with one message that names the platform and how to build
// from source; an addon of another version than this package fails at load with
// both versions named.
const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_DIR = path.join(__dirname, '..');
const { version: PACKAGE_VERSION } = require('../package.json');

/** The platforms a release publishes a package for (docs/RELEASING.md). */
const PREBUILT = new Set(['linux-x64-gnu']);

const BUILD_FROM_SOURCE =
  'To build it from source (needs Rust 1.88+ and a C toolchain): clone the repository, ' +
  'run `npm run build` in node/, then `npm install /path/to/pyralog/node` in your project ' +
  '(node/README.md, "Build from source").';

/** `gnu` (glibc) or `musl`, for Linux; napi-rs tells them apart the same way. */
function linuxLibc(report = () => process.report.getReport()) {
  const header = report().header;
  return header.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** The napi-rs name of a platform: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
function platformName({ platform, arch, libc }) {
  if (platform === 'linux') return `${platform}-${arch}-${libc}`;
  if (platform === 'win32') return `${platform}-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * The path of the addon to load for `host` ({platform, arch, libc}), or an Error saying
 * why there is none. `exists` and `resolve` are node's own unless a test fakes them.
 */
function locate(host, { env = process.env, exists = fs.existsSync, resolve = require.resolve } = {}) {
  if (env.PYRALOG_NODE_ADDON) return path.resolve(env.PYRALOG_NODE_ADDON);
  const local = path.join(PACKAGE_DIR, 'pyralog.node');
  if (exists(local)) return local;
  const name = platformName(host);
  if (!PREBUILT.has(name)) {
    return new Error(
      `pyralog: no prebuilt native addon for this platform (${name}); ` +
        `pyralog ${PACKAGE_VERSION} publishes one for: ${[...PREBUILT].join(', ')}. ${BUILD_FROM_SOURCE}`,
    );
  }
  const pkg = `@pyralog/${name}`;
  try {
    return resolve(`${pkg}/pyralog.${name}.node`);
  } catch {
    return new Error(
      `pyralog: the native addon package ${pkg}@${PACKAGE_VERSION} for this platform (${name}) is not ` +
        'installed; npm installs it with pyralog unless optional dependencies are omitted ' +
        `(--omit=optional, --no-optional): reinstall without that, or add ${pkg}@${PACKAGE_VERSION}. ${BUILD_FROM_SOURCE}`,
    );
  }
}

/** Loads the addon at `file` and checks that it is of `expectedVersion`. */
function load(file, expectedVersion = PACKAGE_VERSION) {
  const addon = { exports: {} };
  try {
    process.dlopen(addon, file);
  } catch (e) {
    throw new Error(`pyralog: cannot load the native addon ${file} (${e.message}). ${BUILD_FROM_SOURCE}`, {
      cause: e,
    });
  }
  const found = typeof addon.exports.nativeVersion === 'function' ? addon.exports.nativeVersion() : 'unknown';
  if (found !== expectedVersion) {
    throw new Error(
      `pyralog: the native addon ${file} is version ${found}, but the package is ${expectedVersion}; ` +
        'install the same version of both (a stale addon left from another version?)',
    );
  }
  return addon.exports;
}

/** This machine: {platform, arch, libc}. */
function hostPlatform() {
  const { platform, arch } = process;
  return { platform, arch, libc: platform === 'linux' ? linuxLibc() : undefined };
}

module.exports = { locate, load, platformName, linuxLibc, hostPlatform, PACKAGE_VERSION, PREBUILT };
