// The per-language scenarios 1-13 of spec/conformance.md, against the real
// pyralog-server binary (started once for this file on a free loopback port).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  Client,
  Closed,
  ConnectionFailed,
  InvalidLogId,
  LogAlreadyExists,
  LogNotFound,
  LogPaused,
  OFFSET_END,
  OffsetOutOfRange,
  RecordTooLarge,
  TlsError,
} from '../index.mjs';
import { REPO, startServer, unique } from './server.mjs';

const VECTORS = JSON.parse(readFileSync(join(REPO, 'spec', 'partitioner-vectors.json'), 'utf8'));
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

/** Every record of partitions 0..count-1, each read from offset 0 until the end. */
async function readAll(log, partitions) {
  const out = [];
  for (let p = 0; p < partitions; p++) {
    let offset = 0;
    for (;;) {
      const records = await client.consumeFromPartition(log, p, offset, 20_000);
      if (records.length === 0) break;
      out.push(...records);
      offset = records.at(-1).offset + 1;
    }
  }
  return out;
}

async function until(condition, limitMs = 30_000) {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), 'condition not reached in time');
}

/** A UDP port bound on loopback that never answers (a dead server), and its socket. */
async function silentPort() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

test('scenario 1: connect with the CA; a wrong CA or a dead port fails typed within 10 s', LIMIT, async () => {
  const c = await Client.connect(server.addr, { caFile: server.caFile });
  await c.listLogs();
  await c.close();
  const other = await startServer();
  const started = Date.now();
  try {
    await assert.rejects(Client.connect(server.addr, { caFile: other.caFile }), (e) => {
      assert.ok(e instanceof TlsError);
      assert.equal(e.code, 901);
      return true;
    });
  } finally {
    await other.stop();
  }
  const dead = await silentPort();
  try {
    const addr = `127.0.0.1:${dead.address().port}`;
    await assert.rejects(Client.connect(addr, { caFile: server.caFile, connectTimeoutMs: 2000 }), (e) => {
      assert.ok(e instanceof ConnectionFailed, `${e}`);
      assert.equal(e.code, 900);
      return true;
    });
  } finally {
    dead.close();
  }
  assert.ok(Date.now() - started < 10_000);
});

test('scenario 2: log admin, and invalid names create nothing', LIMIT, async () => {
  const name = unique('conf-2');
  const md = await client.createLog(name, { partitions: 4 });
  assert.equal(md.partitionCount, 4);
  assert.equal(await client.logExists(name), true);
  const listed = (await client.listLogs()).find((m) => m.name === name);
  assert.equal(listed.partitionCount, 4);
  assert.deepEqual(
    (await client.getLogMetadata(name)).partitions.map((p) => p.partition),
    [0, 1, 2, 3],
  );
  await assert.rejects(client.createLog(name, 4), LogAlreadyExists);
  for (const bad of ['user/events', 'events@prod', 'a b', '', 'a'.repeat(250)]) {
    await assert.rejects(client.createLog(bad, 1), (e) => e instanceof InvalidLogId && e.code === 202);
    if (bad) assert.equal(await client.logExists(bad), false);
  }
});

test('scenario 3: keys land on the vector partitions (1, 4, 7, 16 partitions)', LIMIT, async () => {
  for (const count of [1, 4, 7, 16]) {
    const log = unique(`conf-3-${count}`);
    await client.createLog(log, count);
    for (const v of VECTORS.vectors) {
      const key = Buffer.from(v.key_hex, 'hex');
      const md = await client.produce(log, { key, value: 'x' });
      assert.equal(md.partition, v.partitions[String(count)], JSON.stringify(v));
      const [back] = await client.consumeFromPartition(log, md.partition, md.offset, 1);
      assert.deepEqual(back.key, key);
      assert.equal(back.partition, md.partition);
    }
  }
});

test('scenarios 4 and 6: round trip keeps every field; stats count 1003', LIMIT, async () => {
  const log = unique('conf-4');
  await client.createLog(log, 4);
  const start = Date.now() - 1;
  const headers = [
    ['source', Buffer.from('web-app')],
    ['source', Buffer.from('dup')],
    ['empty', Buffer.alloc(0)],
  ];
  const p = client.producer();
  const sends = [];
  for (let i = 0; i < 1000; i++) sends.push(p.send(log, { key: `user-${i % 100}`, value: `event-${i}`, headers }));
  const binaryKey = Buffer.from([0x80, 0x81]);
  const binaryValue = Buffer.from([0xff, 0x00, 0xfe]);
  sends.push(p.send(log, { key: binaryKey, value: binaryValue }));
  sends.push(p.send(log, { key: 'empty-value', value: Buffer.alloc(0) }));
  sends.push(p.send(log, { value: 'no key' }));
  const metadata = await Promise.all(sends);
  await p.close();
  const end = Date.now() + 1;

  const got = await readAll(log, 4);
  assert.equal(got.length, 1003);
  const byPosition = new Map(got.map((r) => [`${r.partition}/${r.offset}`, r]));
  metadata.slice(0, 1000).forEach((md, i) => {
    const r = byPosition.get(`${md.partition}/${md.offset}`);
    assert.equal(r.key.toString(), `user-${i % 100}`);
    assert.equal(r.value.toString(), `event-${i}`);
    assert.deepEqual(r.headers, headers);
    assert.ok(r.epoch >= 1);
    assert.ok(r.timestamp >= start && r.timestamp <= end, `${r.timestamp} outside ${start}..${end}`);
  });
  const [binary, empty, keyless] = metadata.slice(1000).map((md) => byPosition.get(`${md.partition}/${md.offset}`));
  assert.deepEqual([binary.key, binary.value], [binaryKey, binaryValue]);
  assert.equal(empty.value.length, 0);
  assert.equal(keyless.key, null);
  assert.equal(keyless.value.toString(), 'no key');
  for (let part = 0; part < 4; part++) {
    const offsets = got.filter((r) => r.partition === part).map((r) => r.offset);
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => i),
    );
  }
  // Per-key order: within a key, values come back in the order they were sent.
  const byKey = new Map();
  for (const r of got.filter((r) => r.key?.toString().startsWith('user-'))) {
    const k = r.key.toString();
    byKey.set(k, [...(byKey.get(k) ?? []), Number(r.value.toString().slice(6))]);
  }
  for (const seq of byKey.values()) {
    assert.deepEqual(
      seq,
      [...seq].sort((a, b) => a - b),
    );
  }
  const stats = await client.getLogStats(log);
  assert.equal(stats.recordCount, 1003);
  assert.ok(stats.sizeBytes > 0);
});

test('scenario 5: offsets start exactly where asked; the end waits for new records', LIMIT, async () => {
  const log = unique('conf-5');
  await client.createLog(log, 1);
  for (let i = 0; i < 10; i++) await client.produce(log, `v${i}`);
  assert.deepEqual(
    (await client.consumeFromPartition(log, 0, 7, 100)).map((r) => r.offset),
    [7, 8, 9],
  );
  assert.deepEqual(await client.consumeFromPartition(log, 0, OFFSET_END, 100), []);
  await client.produce(log, 'new');
  const fresh = await client.consumeFromPartition(log, 0, 10, 100);
  assert.deepEqual(
    fresh.map((r) => r.value.toString()),
    ['new'],
  );
  await assert.rejects(client.consumeFromPartition(log, 0, 12, 100), OffsetOutOfRange);
  await assert.rejects(client.consumeFromPartition(log, 0, 12n, 100), OffsetOutOfRange);
});

test('scenario 7: pause, resume, update retention, delete, re-create empty', LIMIT, async () => {
  const log = unique('conf-7');
  await client.createLog(log, 2);
  await client.pauseLog(log);
  await assert.rejects(client.produce(log, 'x'), LogPaused);
  assert.deepEqual(await client.consume(log, 0, 10), []);
  await client.resumeLog(log);
  await client.produce(log, 'x');
  const config = (await client.getLogMetadata(log)).config;
  await client.updateLogConfig(log, { ...config, retentionBytes: 2 ** 30 });
  assert.equal((await client.getLogMetadata(log)).config.retentionBytes, 2 ** 30);
  await client.deleteLog(log);
  await assert.rejects(client.produce(log, 'x'), LogNotFound);
  await assert.rejects(client.consume(log, 0, 10), LogNotFound);
  await client.createLog(log, 2);
  assert.deepEqual(await client.consume(log, 0, 10), []);
});

test('scenario 8: 100,000 sends of 100 B resolve and read back exactly once', LIMIT, async () => {
  const log = unique('conf-8');
  await client.createLog(log, 4);
  const count = 100_000;
  const p = client.producer();
  const sends = new Array(count);
  for (let i = 0; i < count; i++) {
    sends[i] = p.send(log, { key: `k${i % 1000}`, value: String(i).padStart(100, '0') });
  }
  await p.flush();
  const metadata = await Promise.all(sends);
  await p.close();
  assert.equal(new Set(metadata.map((m) => `${m.partition}/${m.offset}`)).size, count);
  const pairs = new Set((await readAll(log, 4)).map((r) => `${r.key}:${r.value}`));
  assert.equal(pairs.size, count);
});

/** A group member iterating its consumer; the callbacks track what it owns. */
class Member {
  constructor(log, group) {
    this.owned = new Set();
    this.delivered = [];
    this.events = [];
    this.closing = false;
    this.consumer = client.consumer({ groupId: group, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 });
    this.consumer.subscribe([log], {
      onAssign: (parts) => {
        this.events.push('assign');
        for (const p of parts) this.owned.add(p.partition);
      },
      onRevoke: (parts) => {
        this.events.push('revoke');
        for (const p of parts) this.owned.delete(p.partition);
      },
    });
    this.task = this.run();
  }

  async run() {
    try {
      for await (const record of this.consumer) {
        this.delivered.push(`${record.partition}/${record.offset}`);
        await this.consumer.commit();
      }
    } catch (e) {
      if (!this.closing) throw e; // a commit racing close() may fail ConcurrentCall; close commits
    }
  }

  async close() {
    this.closing = true;
    await this.consumer.close();
    await this.task;
  }
}

test('scenario 9: two members split 4 partitions, one owns all after the other leaves', LIMIT, async () => {
  const log = unique('conf-9');
  const group = unique('g9');
  await client.createLog(log, 4);
  for (let i = 0; i < 100; i++) await client.produce(log, { key: `k${i}`, value: `v${i}` });
  const a = new Member(log, group);
  const b = new Member(log, group);
  await until(() => a.owned.size === 2 && b.owned.size === 2 && a.delivered.length + b.delivered.length >= 100);
  assert.deepEqual(
    [...a.owned].filter((p) => b.owned.has(p)),
    [],
  );
  assert.deepEqual([...a.owned, ...b.owned].sort(), [0, 1, 2, 3]);
  assert.ok(a.events.includes('assign') && b.events.includes('assign'));
  await b.close();
  assert.ok(b.events.includes('revoke'));
  await until(() => a.owned.size === 4);
  const delivered = [...a.delivered, ...b.delivered];
  assert.equal(delivered.length, 100);
  assert.equal(new Set(delivered).size, 100);
  await a.close();

  for (let i = 100; i < 110; i++) await client.produce(log, { key: `k${i}`, value: `v${i}` });
  const late = client.consumer({ groupId: group });
  late.subscribe([log]);
  const got = [];
  const deadline = Date.now() + 30_000;
  while (got.length < 10 && Date.now() < deadline) got.push(...(await late.poll(200)));
  await late.close();
  assert.deepEqual(
    got.map((r) => r.value.toString()).sort(),
    Array.from({ length: 10 }, (_, i) => `v${100 + i}`).sort(),
  );
});

test('scenario 10: commit, committed, and a new member resumes there', LIMIT, async () => {
  const log = unique('conf-10');
  const group = unique('g10');
  await client.createLog(log, 1);
  for (let i = 0; i < 20; i++) await client.produce(log, `v${i}`);
  const k = client.consumer({ groupId: group, enableAutoCommit: false });
  k.subscribe([log]);
  const deadline = Date.now() + 30_000;
  while (k.assignment().length === 0 && Date.now() < deadline) await k.poll(200);
  await k.commit([{ log, partition: 0, offset: 12 }]);
  assert.deepEqual(await k.committed(), [{ log, partition: 0, offset: 12 }]);
  await k.close();

  const next = client.consumer({ groupId: group });
  next.subscribe([log]);
  const records = [];
  while (records.length < 8 && Date.now() < deadline) records.push(...(await next.poll(200)));
  await next.close();
  assert.deepEqual(
    records.map((r) => r.offset),
    [12, 13, 14, 15, 16, 17, 18, 19],
  );
});

test('scenario 11: missing log, record too large (nothing written), empty poll after its timeout', LIMIT, async () => {
  await assert.rejects(client.produce(unique('missing'), 'x'), LogNotFound);
  const log = unique('conf-11');
  await client.createLog(log, 1);
  await assert.rejects(client.produce(log, Buffer.alloc(2 * 1024 * 1024)), RecordTooLarge);
  const p = client.producer();
  await assert.rejects(p.sendBatch(log, ['ok', Buffer.alloc(2 * 1024 * 1024)]), RecordTooLarge);
  await p.close();
  assert.deepEqual(
    (await client.consume(log, 0, 10)).map((r) => r.value.toString()),
    [],
    'a batch with an oversized record writes none of its records',
  );
  const k = client.consumer();
  k.assign([{ log, partition: 0 }]);
  k.seekToEnd();
  const started = Date.now();
  assert.deepEqual(await k.poll(500), []);
  const waited = Date.now() - started;
  assert.ok(waited >= 400 && waited < 3000, `poll took ${waited} ms`);
  await k.close();
});

test('scenario 12: close is idempotent; calls after close fail Closed', LIMIT, async () => {
  const c = await Client.connect(server.addr, { caFile: server.caFile });
  const p = c.producer();
  await p.close();
  await p.close();
  await assert.rejects(p.send(unique('x'), 'x'), Closed);
  const k = c.consumer();
  await k.close();
  await k.close();
  await assert.rejects(k.poll(10), Closed);
  await c.close();
  await c.close();
  assert.equal(c.closed, true);
  await assert.rejects(c.listLogs(), (e) => e instanceof Closed && /closed/.test(e.message));
  // The process exiting on its own after close() is tested in a child process (runtime.test.mjs).
});

test('scenario 13: eight tasks produce through one client at once, each record once', LIMIT, async () => {
  const log = unique('conf-13');
  await client.createLog(log, 4);
  const p = client.producer();
  const work = async (t) => {
    const sends = [];
    for (let i = 0; i < 500; i++) {
      sends.push(i % 2 ? p.send(log, `t${t}-${i}`) : client.produce(log, `t${t}-${i}`));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // interleave the tasks
    }
    return Promise.all(sends);
  };
  const results = await Promise.all(Array.from({ length: 8 }, (_, t) => work(t)));
  await p.close();
  const acks = results.flat();
  assert.equal(acks.length, 4000);
  assert.equal(new Set(acks.map((m) => `${m.partition}/${m.offset}`)).size, 4000);
  const values = (await client.consume(log, 0, 100_000)).map((r) => r.value.toString());
  assert.equal(values.length, 4000);
  assert.equal(new Set(values).size, 4000);
});
