'use strict';
// The package's install step. In the repository (node/ beside bindings/node) it builds the
// native addon with cargo (release profile) and copies it to pyralog.node; in an installed
// tarball (`npm pack` runs this with --require-source first) the prebuilt pyralog.node is
// already inside, so there is nothing to do.
//
//   PYRALOG_NODE_PROFILE=debug  build the debug profile instead
//   CARGO_TARGET_DIR            where cargo builds (default: <repository>/target)
const { execFileSync } = require('node:child_process');
const { copyFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const repo = path.resolve(pkg, '..');
const addon = path.join(pkg, 'pyralog.node');
const hasSource = existsSync(path.join(repo, 'bindings', 'node', 'Cargo.toml'));

function libraryName() {
  if (process.platform === 'win32') return 'pyralog_node.dll';
  if (process.platform === 'darwin') return 'libpyralog_node.dylib';
  return 'libpyralog_node.so';
}

if (!hasSource) {
  if (process.argv.includes('--require-source')) {
    console.error(`pyralog: no Rust sources at ${repo}; pack the package from the repository`);
    process.exit(1);
  }
  if (!existsSync(addon)) {
    console.error('pyralog: this package has no prebuilt pyralog.node and no Rust sources to build one from');
    process.exit(1);
  }
  process.exit(0);
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
console.error(`pyralog: installed ${addon} (${profile})`);
