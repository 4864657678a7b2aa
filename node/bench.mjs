// The Node SDK benchmark: 1,000,000 records of 100 B produced with sendBatch (one native
// call and one Promise per batch) and consumed back with poll (one native call per batch of
// records), three rounds, against a release pyralog-server this script starts (durable: the
// server's default flush = always). Prints msgs/s and MB/s per round and the medians.
//
//   cargo build --release -p pyralog-server -p pyralog-node
//   PYRALOG_NODE_ADDON=target/release/libpyralog_node.so node node/bench.mjs
//
// (or `npm install` in node/, which builds the release addon into node/pyralog.node).
// Options by environment: BENCH_RECORDS (1000000), BENCH_BATCH (10000), BENCH_ROUNDS (3),
// BENCH_PARTITIONS (4), PYRALOG_SERVER_BIN (target/release/pyralog-server).
import { join } from 'node:path';

import { Client, buildProfile } from './index.mjs';
import { REPO, startServer, unique } from './test/server.mjs';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const VALUE_BYTES = 100;

if (buildProfile() !== 'release' && !process.env.BENCH_ALLOW_DEBUG) {
  console.error('the loaded addon is a debug build; build the release one (see the top of bench.mjs)');
  process.exit(1);
}
process.env.PYRALOG_SERVER_BIN ??= join(
  process.env.CARGO_TARGET_DIR ?? join(REPO, 'target'),
  'release',
  'pyralog-server',
);

/** The batches of one round: records of 100 B with distinct values, built before timing. */
function batches() {
  const out = [];
  for (let i = 0; i < RECORDS; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(i + BATCH, RECORDS); j++) {
      const value = Buffer.alloc(VALUE_BYTES, 0x61);
      value.writeUInt32BE(j, 0);
      batch.push({ value });
    }
    out.push(batch);
  }
  return out;
}

async function produce(client, log, work) {
  const producer = client.producer();
  const started = performance.now();
  // Every batch is handed over at once; the producer's buffer (64 MiB) paces them.
  const acks = await Promise.all(work.map((batch) => producer.sendBatch(log, batch)));
  await producer.flush();
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  const count = acks.reduce((n, a) => n + a.length, 0);
  if (count !== RECORDS) throw new Error(`${count} acknowledgements, expected ${RECORDS}`);
  return seconds;
}

async function consume(client, log) {
  const consumer = client.consumer({ maxPollRecords: 50_000 });
  await consumer.assignLog(log);
  let count = 0;
  let bytes = 0;
  const started = performance.now();
  while (count < RECORDS) {
    for (const record of await consumer.poll(1000)) {
      bytes += record.value.length; // touch every record
      count++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  if (bytes !== RECORDS * VALUE_BYTES) throw new Error(`read ${bytes} bytes`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const server = await startServer();
try {
  const client = await Client.connect(server.addr, { caFile: server.caFile });
  const rows = [];
  console.log(`${RECORDS} records of ${VALUE_BYTES} B, ${PARTITIONS} partitions, sendBatch of ${BATCH}`);
  console.log('| round | produce msgs/s | produce MB/s | consume msgs/s | consume MB/s |');
  console.log('|---|---|---|---|---|');
  for (let round = 1; round <= ROUNDS; round++) {
    const log = unique('bench');
    await client.createLog(log, PARTITIONS);
    const work = batches();
    const produceS = await produce(client, log, work);
    const consumeS = await consume(client, log);
    const row = { produce: RECORDS / produceS, consume: RECORDS / consumeS };
    rows.push(row);
    const mb = (rate) => ((rate * VALUE_BYTES) / 1e6).toFixed(1);
    console.log(`| ${round} | ${fmt(row.produce)} | ${mb(row.produce)} | ${fmt(row.consume)} | ${mb(row.consume)} |`);
    await client.deleteLog(log);
  }
  const p = median(rows.map((r) => r.produce));
  const c = median(rows.map((r) => r.consume));
  console.log(
    `| **median** | **${fmt(p)}** | **${((p * VALUE_BYTES) / 1e6).toFixed(1)}** | **${fmt(c)}** | **${((c * VALUE_BYTES) / 1e6).toFixed(1)}** |`,
  );
  await client.close();
} finally {
  await server.stop();
}
