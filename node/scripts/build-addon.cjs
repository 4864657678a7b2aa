'use strict';
// Builds the native addon from source with cargo and copies it to pyralog.node,
// which lib/loader.cjs prefers over a platform package: `npm run build` in a
// checkout (contributors, and platforms without a published package). Never
// run on install: the published package carries no scripts.
//
//   PYRALOG_NODE_PROFILE=debug  build the debug profile instead of release
//   CARGO_TARGET_DIR            where cargo builds (default: <repository>/target)
const { execFileSync } = require('node:child_process');
const { copyFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const repo = path.resolve(pkg, '..');
const addon = path.join(pkg, 'pyralog.node');

function libraryName() {
  if (process.platform === 'win32') return 'pyralog_node.dll';
  if (process.platform === 'darwin') return 'libpyralog_node.dylib';
  return 'libpyralog_node.so';
}

if (!existsSync(path.join(repo, 'bindings', 'node', 'Cargo.toml'))) {
  console.error(`pyralog: no Rust sources at ${repo}; build from a checkout of the repository`);
  process.exit(1);
}

const profile = process.env.PYRALOG_NODE_PROFILE === 'debug' ? 'debug' : 'release';
const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
const args = ['build', '-p', 'pyralog-node', '--manifest-path', path.join(repo, 'Cargo.toml')];
if (profile === 'release') args.push('--release');
console.error(`pyralog: cargo ${args.join(' ')}`);
try {
  execFileSync('cargo', args, { stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: target } });
} catch (e) {
  console.error(`pyralog: building the native addon failed (${e.message}); is cargo (Rust >= 1.88) installed?`);
  process.exit(1);
}
copyFileSync(path.join(target, profile, libraryName()), addon);
console.error(`pyralog: built ${addon} (${profile})`);
