// A consumer group of two members splitting a log: each member is assigned two of
// the four partitions of `orders`, reads its share of 200 orders and commits.
//
// Run: node group.mjs [HOST:PORT] [CA_FILE]   (against a running server)
import { Client } from 'pyralog';

const [addr = '127.0.0.1:9092', caFile = 'pyralog-data/tls/ca.pem'] = process.argv.slice(2);
const LOG = 'orders';
const PARTITIONS = 4;
const ORDERS = 200;
/** How long each phase (joining, reading) may take before the example gives up. */
const PHASE_LIMIT_MS = 30_000;

const list = (partitions) => `[${partitions.join(', ')}]`;

/** A group member: its consumer, the partitions it owns (from the callbacks) and what it read. */
function member(client, groupId, id) {
  const m = { id, owned: new Set(), received: [], consumer: client.consumer({ groupId }) };
  // A rebalance may take rounds that change nothing for a member: the callbacks then get [].
  const show = (what, parts) => {
    if (parts.length > 0) console.log(`member ${id} ${what} ${list(parts.map((p) => p.partition))}`);
  };
  m.consumer.subscribe([LOG], {
    onAssign: (parts) => {
      for (const p of parts) m.owned.add(p.partition);
      show('assigned', parts);
    },
    onRevoke: (parts) => {
      for (const p of parts) m.owned.delete(p.partition);
      show('revoked', parts);
    },
  });
  return m;
}

/**
 * Polls every member at once until `done()`, committing after each poll that returned
 * records. The members poll concurrently: a rebalance waits for every member to rejoin,
 * so a member must not wait for another's poll to end before polling again.
 */
async function pollUntil(members, done, what) {
  const deadline = Date.now() + PHASE_LIMIT_MS;
  const run = async (m) => {
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`gave up after ${PHASE_LIMIT_MS} ms waiting for ${what}`);
      const records = await m.consumer.poll(200);
      if (records.length === 0) continue;
      for (const r of records) m.received.push({ partition: r.partition, offset: r.offset, value: r.value.toString() });
      await m.consumer.commit();
    }
  };
  await Promise.all(members.map(run));
}

async function main() {
  const client = await Client.connect(addr, { caFile });
  if (await client.logExists(LOG)) await client.deleteLog(LOG);
  await client.createLog(LOG, PARTITIONS);

  const groupId = `billing-${Date.now()}`; // a new group each run: it starts from the beginning
  console.log(`group ${groupId}`);
  const members = [member(client, groupId, 'a'), member(client, groupId, 'b')];
  try {
    await pollUntil(members, () => members.every((m) => m.owned.size === PARTITIONS / 2), 'the partitions to split');

    const producer = client.producer();
    const sends = [];
    for (let i = 0; i < ORDERS; i++) sends.push(producer.send(LOG, { key: `customer-${i % 20}`, value: `order-${i}` }));
    await producer.flush();
    await Promise.all(sends);
    await producer.close();
    console.log(`produced ${ORDERS} orders`);

    const total = () => members.reduce((n, m) => n + m.received.length, 0);
    await pollUntil(members, () => total() >= ORDERS, `${ORDERS} records`);

    for (const m of members) {
      const owned = [...m.owned].sort((a, b) => a - b);
      console.log(`member ${m.id} read ${m.received.length} records from partitions ${list(owned)}`);
    }
    check(members);

    const all = Array.from({ length: PARTITIONS }, (_, partition) => ({ log: LOG, partition }));
    for (const c of await members[0].consumer.committed(all)) {
      console.log(`committed ${c.log}/${c.partition}: ${c.offset}`);
    }
  } finally {
    await Promise.all(members.map((m) => m.consumer.close())); // each leaves the group
    await client.close();
  }
}

/** Throws unless the members own disjoint partitions covering the log and got every order exactly once. */
function check(members) {
  const owned = members.flatMap((m) => [...m.owned]).sort((a, b) => a - b);
  const expected = Array.from({ length: PARTITIONS }, (_, p) => p);
  if (owned.join() !== expected.join()) {
    throw new Error(`the members' partitions ${list(owned)} are not a split of ${list(expected)}`);
  }
  const received = members.flatMap((m) => m.received);
  const positions = new Set(received.map((r) => `${r.partition}/${r.offset}`));
  const values = new Set(received.map((r) => r.value));
  const allOrders = Array.from({ length: ORDERS }, (_, i) => `order-${i}`).every((v) => values.has(v));
  if (received.length !== ORDERS || positions.size !== ORDERS || !allOrders) {
    throw new Error(`expected ${ORDERS} orders exactly once, got ${received.length} (${positions.size} distinct)`);
  }
  console.log(`all ${ORDERS} orders arrived exactly once`);
}

try {
  await main();
} catch (e) {
  console.error(`group: ${e.name}: ${e.message}`);
  process.exitCode = 1;
}
