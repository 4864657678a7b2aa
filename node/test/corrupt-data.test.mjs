// A stored batch that cannot be decoded (flipped on disk while the server runs) lets readers
// take every record before it, then rejects with CorruptData naming the batch; seeking past its
// last offset reads on.
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, test } from 'node:test';

import { CorruptData } from '../index.mjs';
import { unique, withClient } from './server.mjs';

const LIMIT = { timeout: 120_000 };
/** Records produced one at a time (one batch each); the batch of BAD is broken on disk. */
const RECORDS = 6;
const BAD = 3;
/** The fixed batch header (protocol/src/batch.rs); the records section follows it. */
const BATCH_HEADER_BYTES = 80;
/** base_offset (u64) and batch_length (u32): the bytes before batch_length's coverage. */
const LENGTH_PREFIX_BYTES = 12;
const WAIT_MS = 10_000;

const ctx = withClient();

/** The partition's first segment: `<data>/logs/<log>.<incarnation>/<partition>/<base:020>.log`. */
async function segmentFile(log, partition) {
  const logs = join(ctx.server.data, 'logs');
  const dirs = (await readdir(logs)).filter((name) => name.slice(0, name.lastIndexOf('.')) === log);
  assert.equal(dirs.length, 1, `one directory of ${log}: ${dirs}`);
  return join(logs, dirs[0], String(partition), `${'0'.repeat(20)}.log`);
}

/**
 * Flips one byte inside the records section of the `index`-th batch of the segment (its
 * checksum no longer holds); resolves with that batch's base offset.
 */
async function flipARecordByteOfBatch(path, index) {
  const f = await open(path, 'r+');
  try {
    const prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
    let at = 0;
    for (let i = 0; ; i++) {
      await f.read(prefix, 0, LENGTH_PREFIX_BYTES, at);
      const end = at + LENGTH_PREFIX_BYTES + prefix.readUInt32LE(8);
      if (i < index) {
        at = end;
        continue;
      }
      assert.ok(at + BATCH_HEADER_BYTES < end, 'the batch has a records section');
      const target = Math.floor((at + BATCH_HEADER_BYTES + end) / 2);
      const byte = Buffer.alloc(1);
      await f.read(byte, 0, 1, target);
      await f.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, target);
      return Number(prefix.readBigUInt64LE(0));
    }
  } finally {
    await f.close();
  }
}

/** A 1-partition log of one-record batches whose batch at BAD fails its checksum on disk. */
let log;
beforeEach(async () => {
  log = unique('corrupt');
  await ctx.client.createLog(log, 1);
  for (let i = 0; i < RECORDS; i++) {
    const md = await ctx.client.produce(log, { value: `value-${i}`, partition: 0 });
    assert.equal(md.offset, i);
  }
  assert.equal(await flipARecordByteOfBatch(await segmentFile(log, 0), BAD), BAD);
});

/** Asserts that `e` is CorruptData naming the batch at BAD; returns where it lies. */
function assertNamesTheBadBatch(e) {
  assert.ok(e instanceof CorruptData, `want CorruptData, got ${e}`);
  assert.equal(e.code, CorruptData.code);
  assert.deepEqual(e.corruptBatch, { log, partition: 0, firstOffset: BAD, lastOffset: BAD });
  assert.match(e.message, new RegExp(`seek the partition to ${BAD + 1}`));
  return e.corruptBatch;
}

test('consumeFromPartition returns the records before a corrupt batch and rejects at it', LIMIT, async () => {
  const got = await ctx.client.consumeFromPartition(log, 0, 0, 10);
  assert.deepEqual(
    got.map((r) => [r.offset, r.value.toString()]),
    [0, 1, 2].map((i) => [i, `value-${i}`]),
  );

  const e = await ctx.client.consumeFromPartition(log, 0, BAD, 10).then(
    () => assert.fail('a read from the corrupt batch resolved'),
    (err) => err,
  );
  const at = assertNamesTheBadBatch(e);
  const after = await ctx.client.consumeFromPartition(log, at.partition, at.lastOffset + 1, 10);
  assert.deepEqual(
    after.map((r) => r.offset),
    [4, 5],
  );
});

/** The error a poll rejects with within WAIT_MS; no poll resolves with records before it. */
async function pollUntilError(consumer) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    let records;
    try {
      records = await consumer.poll(200);
    } catch (e) {
      return e;
    }
    assert.deepEqual(records, [], 'nothing past the corrupt batch before a seek');
  }
  assert.fail(`no error within ${WAIT_MS} ms`);
}

/** Polls until `n` records came, within WAIT_MS. */
async function pollRecords(consumer, n) {
  const got = [];
  const deadline = Date.now() + WAIT_MS;
  while (got.length < n) {
    assert.ok(Date.now() < deadline, `${got.length} of ${n} records within ${WAIT_MS} ms`);
    got.push(...(await consumer.poll(200)));
  }
  return got;
}

test('a consumer delivers the records before a corrupt batch, then rejects until a seek past it', LIMIT, async () => {
  const k = ctx.client.consumer();
  try {
    k.assign([{ log, partition: 0 }]);
    k.seek({ log, partition: 0 }, 0);
    assert.deepEqual(
      (await pollRecords(k, BAD)).map((r) => r.offset),
      [0, 1, 2],
    );

    const at = assertNamesTheBadBatch(await pollUntilError(k));
    // Rejected again on the next polls, until the partition is moved past the batch.
    assertNamesTheBadBatch(await pollUntilError(k));

    k.seek({ log: at.log, partition: at.partition }, at.lastOffset + 1);
    const after = await pollRecords(k, RECORDS - BAD - 1);
    assert.deepEqual(
      after.map((r) => [r.offset, r.value.toString()]),
      [4, 5].map((i) => [i, `value-${i}`]),
    );
  } finally {
    await k.close();
  }
});
