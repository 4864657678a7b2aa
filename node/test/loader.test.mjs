// The addon loader (lib/loader.cjs): which file it picks on which platform, the one
// message for a platform without a prebuilt addon or with its package missing, and
// an addon of another version named at load.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const loader = require('../lib/loader.cjs');
const NOTHING_LOCAL = { env: {}, exists: () => false };

test('given a platform with no prebuilt addon when locating should name the platform and how to build from source', () => {
  const found = loader.locate({ platform: 'linux', arch: 'arm64', libc: 'musl' }, NOTHING_LOCAL);
  assert.ok(found instanceof Error);
  assert.match(found.message, /no prebuilt native addon for this platform \(linux-arm64-musl\)/);
  assert.match(found.message, /publishes one for: linux-x64-gnu/);
  assert.match(found.message, /npm run build/);
});

test('given macOS and Windows when naming the platform should follow the napi-rs names', () => {
  assert.equal(loader.platformName({ platform: 'darwin', arch: 'arm64' }), 'darwin-arm64');
  assert.equal(loader.platformName({ platform: 'win32', arch: 'x64' }), 'win32-x64-msvc');
  assert.equal(loader.platformName({ platform: 'linux', arch: 'x64', libc: 'gnu' }), 'linux-x64-gnu');
});

test('given linux x64 glibc when locating should resolve the platform package file', () => {
  const asked = [];
  const resolve = (name) => {
    asked.push(name);
    return `/node_modules/${name}`;
  };
  const found = loader.locate({ platform: 'linux', arch: 'x64', libc: 'gnu' }, { ...NOTHING_LOCAL, resolve });
  assert.equal(found, '/node_modules/@pyralog/linux-x64-gnu/pyralog.linux-x64-gnu.node');
  assert.deepEqual(asked, ['@pyralog/linux-x64-gnu/pyralog.linux-x64-gnu.node']);
});

test('given the platform package not installed when locating should say so and how to get it', () => {
  const resolve = () => {
    throw new Error('Cannot find module');
  };
  const found = loader.locate({ platform: 'linux', arch: 'x64', libc: 'gnu' }, { ...NOTHING_LOCAL, resolve });
  assert.ok(found instanceof Error);
  assert.match(found.message, /@pyralog\/linux-x64-gnu@\S+ for this platform \(linux-x64-gnu\) is not installed/);
  assert.match(found.message, /--omit=optional/);
});

test('given PYRALOG_NODE_ADDON when locating should take it before anything else', () => {
  const found = loader.locate(
    { platform: 'freebsd', arch: 'x64' },
    { env: { PYRALOG_NODE_ADDON: '/tmp/x.node' }, exists: () => false },
  );
  assert.equal(found, '/tmp/x.node');
});

test('given this machine when detecting the libc should say gnu or musl', () => {
  assert.equal(
    loader.linuxLibc(() => ({ header: { glibcVersionRuntime: '2.36' } })),
    'gnu',
  );
  assert.equal(
    loader.linuxLibc(() => ({ header: {} })),
    'musl',
  );
});

test('given an addon of another version when loading should name both versions', () => {
  const file = loader.locate(loader.hostPlatform());
  assert.ok(!(file instanceof Error), String(file));
  assert.throws(
    () => loader.load(file, '0.0.0-other'),
    (e) =>
      e.message.includes(`native addon ${file} is version ${loader.PACKAGE_VERSION}`) &&
      e.message.includes('the package is 0.0.0-other'),
  );
});

test('given the addon of this version when loading should export the package version', () => {
  const pyralog = require('../index.cjs');
  assert.equal(pyralog.version, loader.PACKAGE_VERSION);
  assert.equal(pyralog.version, require('../package.json').version);
});
