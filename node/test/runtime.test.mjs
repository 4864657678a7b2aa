// The host-runtime rules of the Node binding (DESIGN.md §7): it never blocks the
// event loop, never parks work on the libuv thread pool, and lets the process exit on
// its own after close(); plus the rest of the bridge: ConcurrentCall, callback exceptions, option
// checking, typed errors generated from the native list, types covering the API.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, test } from 'node:test';

import * as esm from '../index.mjs';
import {
  BY_CODE,
  BufferFull,
  ConcurrentCall,
  Client,
  InvalidArgument,
  LogNotFound,
  PyralogError,
  errorCodes,
} from '../index.mjs';
import { startServer, unique } from './server.mjs';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const cjs = createRequire(import.meta.url)('../index.cjs');
const LIMIT = { timeout: 120_000 };

let server;
let client;

before(async () => {
  server = await startServer();
  client = await Client.connect(server.addr, { caFile: server.caFile });
});

after(async () => {
  await client?.close();
  await server?.stop();
});

async function emptyLogConsumer(opts) {
  const log = unique('rt');
  await client.createLog(log, 1);
  const consumer = client.consumer(opts);
  consumer.assign([{ log, partition: 0 }]);
  return { log, consumer };
}

test('a long poll does not block the event loop: a 10 ms interval keeps ticking on time', LIMIT, async () => {
  const { consumer } = await emptyLogConsumer();
  let ticks = 0;
  let last = performance.now();
  let worstGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    ticks++;
  }, 10);
  const records = await consumer.poll(1000);
  clearInterval(timer);
  await consumer.close();
  assert.deepEqual(records, []);
  assert.ok(ticks >= 60, `the interval ticked only ${ticks} times during a 1 s poll`);
  assert.ok(worstGap < 100, `the event loop stalled for ${worstGap.toFixed(1)} ms`);
});

test('eight consumers polling at once do not starve the libuv pool (fs calls stay fast)', LIMIT, async () => {
  const consumers = [];
  for (let i = 0; i < 8; i++) consumers.push((await emptyLogConsumer()).consumer);
  let pollsDone = 0;
  const polls = consumers.map((c) => c.poll(2000).then(() => pollsDone++));
  await new Promise((r) => setTimeout(r, 200)); // all eight polls are waiting now
  const started = performance.now();
  // More fs calls than the pool has threads (4 by default): each waits for a free one.
  await Promise.all(Array.from({ length: 16 }, () => readFile(fileURLToPath(import.meta.url))));
  const fsMs = performance.now() - started;
  assert.equal(pollsDone, 0, 'the polls were still waiting while fs ran');
  assert.ok(fsMs < 500, `16 fs reads took ${fsMs.toFixed(0)} ms while 8 polls waited`);
  await Promise.all(polls);
  await Promise.all(consumers.map((c) => c.close()));
});

test('the process exits on its own after close() (no stray handles)', LIMIT, async () => {
  const script = `
    const { Client } = require(${JSON.stringify(join(PKG, 'index.cjs'))});
    (async () => {
      const c = await Client.connect(${JSON.stringify(server.addr)}, { caFile: ${JSON.stringify(server.caFile)} });
      const log = 'rt-exit-' + process.pid;
      await c.createLog(log, 2);
      const p = c.producer();
      await p.sendBatch(log, ['a', 'b', 'c']);
      await p.send(log, 'd');
      await p.close();
      const k = c.consumer({ groupId: log });
      k.subscribe([log], { onAssign() {} });
      let n = 0;
      for (let i = 0; i < 50 && n < 4; i++) n += (await k.poll(200)).length;
      await k.close();
      await c.close();
      console.log('closed ' + n);
    })().catch((e) => { console.error(e); process.exit(2); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const started = Date.now();
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `child exit: ${code}; output: ${out}`);
  assert.equal(out.trim(), 'closed 4');
  assert.ok(Date.now() - started < 20_000);
});

test('a consumer used while a poll runs fails ConcurrentCall at once (no deadlock)', LIMIT, async () => {
  const { consumer } = await emptyLogConsumer();
  const running = consumer.poll(1000);
  await assert.rejects(consumer.poll(10), (e) => e instanceof ConcurrentCall && e.code === 906);
  assert.throws(() => consumer.seekToBeginning(), ConcurrentCall);
  assert.deepEqual(await running, []);
  assert.deepEqual(await consumer.poll(10), []); // free again
  await consumer.close();
});

test('an exception in a rebalance callback rejects the poll with that very exception', LIMIT, async () => {
  const log = unique('rt-cb');
  await client.createLog(log, 1);
  const consumer = client.consumer({ groupId: unique('gcb') });
  const thrown = new RangeError('from the callback');
  consumer.subscribe([log], {
    onAssign() {
      throw thrown;
    },
  });
  const deadline = Date.now() + 20_000;
  let caught;
  while (!caught && Date.now() < deadline) {
    try {
      await consumer.poll(200);
    } catch (e) {
      caught = e;
    }
  }
  assert.equal(caught, thrown);
  await consumer.close();
});

test('a rebalance callback calling its own consumer gets ConcurrentCall, and the poll goes on', LIMIT, async () => {
  const log = unique('rt-cb2');
  await client.createLog(log, 1);
  await client.produce(log, 'x');
  const consumer = client.consumer({ groupId: unique('gcb2') });
  let inner;
  consumer.subscribe([log], {
    onAssign() {
      try {
        consumer.assignment();
      } catch (e) {
        inner = e;
      }
    },
  });
  const got = [];
  const deadline = Date.now() + 20_000;
  while (got.length === 0 && Date.now() < deadline) got.push(...(await consumer.poll(200)));
  await consumer.close();
  assert.ok(inner instanceof ConcurrentCall, `${inner}`);
  assert.equal(got[0].value.toString(), 'x');
});

test('for await yields records one by one and ends when the consumer is closed', LIMIT, async () => {
  const log = unique('rt-iter');
  await client.createLog(log, 2);
  const p = client.producer({ lingerMs: 1 });
  await p.sendBatch(
    log,
    Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  );
  await p.close();
  const consumer = client.consumer();
  await consumer.assignLog(log);
  const seen = [];
  for await (const record of consumer) {
    seen.push(record.value.toString());
    if (seen.length === 50) setTimeout(() => consumer.close(), 0);
  }
  assert.deepEqual(seen.sort(), Array.from({ length: 50 }, (_, i) => `v${i}`).sort());
});

test('seek, pause/resume, position and paused act on the assignment', LIMIT, async () => {
  const log = unique('rt-seek');
  await client.createLog(log, 1);
  const p = client.producer({ lingerMs: 1 });
  await p.sendBatch(
    log,
    Array.from({ length: 10 }, (_, i) => `v${i}`),
  );
  await p.close();
  const lp = { log, partition: 0 };
  const k = client.consumer();
  k.assign([lp]);
  assert.deepEqual(k.assignment(), [lp]);
  k.seek(lp, 6);
  assert.equal(await k.position(lp), 6);
  assert.deepEqual(
    (await k.poll(1000)).map((r) => r.offset),
    [6, 7, 8, 9],
  );
  k.seekToBeginning();
  assert.equal(await k.position(lp), 0);
  k.pause([lp]);
  assert.deepEqual(k.paused(), [lp]);
  assert.deepEqual(await k.poll(200), []);
  k.resume([lp]);
  assert.equal((await k.poll(1000)).length, 10);
  k.seekToEnd([lp]);
  assert.equal(await k.position(lp), 10);
  assert.throws(() => k.seek({ log, partition: 5 }, 0), InvalidArgument);
  await k.close();
});

test('sendBatch resolves once with metadata in order; bad records reject InvalidArgument', LIMIT, async () => {
  const log = unique('rt-batch');
  await client.createLog(log, 2);
  const p = client.producer({ lingerMs: 1 });
  const mds = await p.sendBatch(log, [
    'a',
    { key: 'k', value: 'b' },
    { key: 'k', value: Buffer.from('c'), headers: [['h', '1']] },
    new Uint8Array([100]),
  ]);
  assert.equal(mds.length, 4);
  assert.equal(mds[1].partition, mds[2].partition);
  assert.equal(mds[2].offset, mds[1].offset + 1);
  const pinned = await p.sendBatch(log, ['x', 'y'], { partition: 1 });
  assert.deepEqual(
    pinned.map((m) => m.partition),
    [1, 1],
  );
  await assert.rejects(p.send(log, 42), InvalidArgument);
  await assert.rejects(p.sendBatch(log, [{ value: 'v', headers: [['only-name']] }]), InvalidArgument);
  await assert.rejects(p.sendBatch(log, 'not an array'), InvalidArgument);
  await assert.rejects(p.sendBatch(log, ['x'], { partitoin: 1 }), InvalidArgument);
  await p.close();
  const records = await client.consume(log, 0, 10);
  assert.deepEqual(records.map((r) => r.value.toString()).sort(), ['a', 'b', 'c', 'd', 'x', 'y']);
  assert.deepEqual(records.find((r) => r.value.toString() === 'c').headers, [['h', Buffer.from('1')]]);
});

test('records keep call order across send and sendBatch, even before metadata is known', LIMIT, async () => {
  const log = unique('rt-order');
  await client.createLog(log, 1);
  const p = client.producer(); // a fresh producer: its first sends wait for metadata
  const sends = [];
  for (let i = 0; i < 300; i++) sends.push(p.send(log, `s${i}`));
  const batch = p.sendBatch(
    log,
    Array.from({ length: 300 }, (_, i) => `b${i}`),
  );
  for (let i = 300; i < 600; i++) sends.push(p.send(log, `s${i}`));
  await p.flush(); // after flush every record above is acknowledged
  const acks = [
    ...(await Promise.all(sends.slice(0, 300))),
    ...(await batch),
    ...(await Promise.all(sends.slice(300))),
  ];
  await p.close();
  assert.deepEqual(
    acks.map((m) => m.offset),
    Array.from({ length: 900 }, (_, i) => i),
  );
  const values = (await client.consumeFromPartition(log, 0, 0, 1000)).map((r) => r.value.toString());
  assert.deepEqual(values, [
    ...Array.from({ length: 300 }, (_, i) => `s${i}`),
    ...Array.from({ length: 300 }, (_, i) => `b${i}`),
    ...Array.from({ length: 300 }, (_, i) => `s${300 + i}`),
  ]);
});

test('calls waiting to be queued are bounded: beyond the limit they reject BufferFull', LIMIT, async () => {
  const log = unique('rt-bound');
  await client.createLog(log, 1);
  // A small buffer fills after a few records, so later sends wait to be queued.
  const p = client.producer({ bufferMemory: 4096, batchSize: 1024 });
  const value = Buffer.alloc(1000);
  const outcomes = [];
  for (let i = 0; i < 3000; i++) {
    outcomes.push(
      p.send(log, { value }).then(
        () => 'ok',
        (e) => e,
      ),
    );
  }
  const settled = await Promise.all(outcomes);
  await p.close();
  const refused = settled.filter((o) => o !== 'ok');
  assert.ok(refused.length > 0, 'some sends beyond the limit were refused');
  assert.ok(
    refused.every((e) => e instanceof BufferFull && e.code === 904),
    String(refused[0]),
  );
  const written = settled.length - refused.length;
  assert.ok(written >= 1024, `at least the waiting limit was written (${written})`);
  const back = await client.consumeFromPartition(log, 0, 0, 10_000);
  assert.equal(back.length, written);
});

test('options objects: unknown keys and bad values are rejected with InvalidArgument', LIMIT, async () => {
  assert.throws(
    () => client.producer({ lingerr: 1 }),
    (e) => e instanceof InvalidArgument && /lingerr/.test(e.message),
  );
  assert.throws(() => client.producer({ lingerMs: -1 }), InvalidArgument);
  assert.throws(() => client.consumer({ groupid: 'g' }), InvalidArgument);
  assert.throws(() => client.consumer({ autoOffsetReset: 'middle' }), InvalidArgument);
  assert.throws(() => client.producer({ maxInFlight: 99 }), InvalidArgument);
  assert.throws(
    () => client.producer({ acks: 'most' }),
    (e) => e instanceof InvalidArgument && /acks/.test(e.message),
  );
  await assert.rejects(Client.connect(server.addr, { cafile: server.caFile }), InvalidArgument);
  await assert.rejects(client.createLog(unique('rt-opts'), { partitionz: 2 }), InvalidArgument);
  await assert.rejects(client.createLog(unique('rt-opts'), { flushPolicy: 'sometimes' }), InvalidArgument);
  const k = client.consumer({ groupId: unique('g') });
  assert.throws(() => k.subscribe([unique('x')], { onAssigned() {} }), InvalidArgument);
  await k.close();
  const log = unique('rt-opts');
  const md = await client.createLog(log, {
    partitions: 3,
    retentionMs: 3_600_000,
    flushPolicy: 'never',
    timestampType: 'log_append_time',
  });
  assert.equal(md.partitionCount, 3);
  assert.equal(md.config.retentionMs, 3_600_000);
  assert.equal(md.config.flushPolicy, 'never');
  const before = Date.now();
  const ack = await client.produce(log, { value: 'x', timestamp: 1 });
  assert.ok(ack.timestamp >= before - 1, 'log_append_time: the server stamps the record');
});

test('the error classes match the native error codes, one class per code with .code', () => {
  const native = errorCodes();
  assert.ok(native.length >= 40);
  for (const { code, name } of native) {
    const cls = esm[name];
    assert.equal(typeof cls, 'function', `${name} is not exported`);
    assert.equal(cls.code, code);
    assert.equal(BY_CODE.get(code), cls);
    const e = new cls(code, 'm');
    assert.ok(e instanceof PyralogError && e instanceof Error);
    assert.equal(e.name, name);
    assert.equal(e.code, code);
    assert.equal(e.retryAfterMs, undefined);
    assert.equal(new cls(code, 'm', 250).retryAfterMs, 250);
  }
  assert.equal(BY_CODE.size, native.length);
  // The generated files are up to date with the native list.
  execFileSync(process.execPath, [join(PKG, 'scripts', 'generate-errors.mjs'), '--check'], { stdio: 'inherit' });
});

test('ESM and CommonJS entry points export the same objects', () => {
  const esmNames = Object.keys(esm)
    .filter((k) => k !== 'default')
    .sort();
  assert.deepEqual(esmNames, Object.keys(cjs).sort());
  for (const k of esmNames) assert.equal(esm[k], cjs[k], k);
  assert.equal(esm.default, cjs);
});

test('index.d.ts declares every public method of Client, Producer and Consumer', async () => {
  const dts = await readFile(join(PKG, 'index.d.ts'), 'utf8');
  for (const cls of [esm.Client, esm.Producer, esm.Consumer]) {
    const block = dts.match(new RegExp(`export class ${cls.name} [^{]*\\{([\\s\\S]*?)\\n\\}`))[1];
    const declared = new Set([...block.matchAll(/^\s+(?:static\s+|readonly\s+)?(\w+)[(?:<]/gm)].map((m) => m[1]));
    const names = [
      ...Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor'),
      ...Object.getOwnPropertyNames(cls).filter((n) => typeof cls[n] === 'function'),
    ];
    for (const n of names) assert.ok(declared.has(n), `${cls.name}.${n} is not declared in index.d.ts`);
  }
});

test('a worker thread has its own client and typed errors', LIMIT, async () => {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Client, LogNotFound } = require(workerData.pkg);
    (async () => {
      const c = await Client.connect(workerData.addr, { caFile: workerData.caFile });
      try {
        await c.produce('rt-worker-missing-' + process.pid, 'x');
        parentPort.postMessage('no error');
      } catch (e) {
        parentPort.postMessage(e instanceof LogNotFound ? 'typed' : String(e));
      }
      await c.close();
    })();
  `,
    { eval: true, workerData: { pkg: join(PKG, 'index.cjs'), addr: server.addr, caFile: server.caFile } },
  );
  const message = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(message, 'typed');
  assert.equal(await new Promise((resolve) => worker.once('exit', resolve)), 0);
  await assert.rejects(client.produce(unique('missing'), 'x'), LogNotFound); // the main thread's still work
});
