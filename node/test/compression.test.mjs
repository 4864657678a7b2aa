// Producer compression: every codec round-trips through the server, and a codec or level
// the core client does not know is rejected with InvalidArgument.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InvalidArgument } from '../index.mjs';
import { unique, withClient } from './server.mjs';

const LIMIT = { timeout: 120_000 };
const RECORDS = 500;

const ctx = withClient();

const sample = Array.from({ length: RECORDS }, (_, i) => ({
  key: `user-${i % 17}`,
  value: JSON.stringify({ id: i, kind: 'click', page: `/items/${i % 40}` }),
}));

/** Sends the sample to a fresh 1-partition log; returns the log. */
async function produce(options) {
  const log = unique('compression');
  await ctx.client.createLog(log, 1);
  const p = ctx.client.producer({ lingerMs: 10, ...options });
  const sends = sample.map((r) => p.send(log, r));
  await p.flush();
  const acks = await Promise.all(sends);
  await p.close();
  assert.deepEqual(
    acks.map((m) => m.offset),
    Array.from({ length: RECORDS }, (_, i) => i),
  );
  return log;
}

for (const [name, options] of [
  ['snappy', { compression: 'snappy' }],
  ['lz4', { compression: 'lz4' }],
  ['zstd', { compression: 'zstd' }],
  ['zstd level 9', { compression: 'zstd', compressionLevel: 9 }],
]) {
  test(`${name}: compressed records read back identical and in order`, LIMIT, async () => {
    const log = await produce(options);
    const got = [];
    while (got.length < RECORDS) {
      const more = await ctx.client.consumeFromPartition(log, 0, got.length, RECORDS);
      assert.ok(more.length > 0, `read ${got.length} of ${RECORDS} records`);
      got.push(...more);
    }
    assert.deepEqual(
      got.map((r) => ({ key: r.key.toString(), value: r.value.toString() })),
      sample,
    );
    assert.deepEqual(
      got.map((r) => r.offset),
      Array.from({ length: RECORDS }, (_, i) => i),
    );
    const stored = (await ctx.client.getLogStats(log)).sizeBytes;
    const plain = (await ctx.client.getLogStats(await produce({}))).sizeBytes;
    assert.ok(stored * 2 < plain, `${stored} bytes stored, ${plain} uncompressed`);
  });
}

test('an unknown codec or level is rejected with InvalidArgument', LIMIT, () => {
  for (const options of [
    { compression: 'gzip' },
    { compression: 'lz4', compressionLevel: 1 },
    { compression: 'zstd', compressionLevel: 23 },
    { compression: 'zstd', compressionLevel: 2 ** 32 + 9 },
    { compression: 'zstd', compressionLevel: 1.5 },
    { compressionLevel: 9 },
  ]) {
    assert.throws(
      () => ctx.client.producer(options),
      (e) => e instanceof InvalidArgument && /compression|level/i.test(e.message),
      JSON.stringify(options),
    );
  }
});
