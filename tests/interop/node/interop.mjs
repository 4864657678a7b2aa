// The Node program of the interop test: `produce`, `dump` and `member` as
// tests/interop/README.md defines them. It only moves records between the text
// format and the SDK; the driver makes every check.
//
//   node interop.mjs produce SERVER CA_FILE LOG IN_TSV OUT_TSV
//   node interop.mjs dump    SERVER CA_FILE LOG OUT_TSV
//   node interop.mjs member  SERVER CA_FILE LOG GROUP STOP_FILE OUT_TSV
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

import { Client, RebalanceInProgress } from '../../../node/index.mjs';

/** Records one `dump` read asks for. */
const DUMP_READ_MAX = 1000;
/** How long a member's poll waits. */
const MEMBER_POLL_MS = 200;
/** A member gives up (exit 2) after this long. */
const MEMBER_GIVE_UP_MS = 180_000;

const hex = (bytes) => Buffer.from(bytes).toString('hex');

function unhex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error(`bad hex ${JSON.stringify(text)}`);
  return Buffer.from(text, 'hex');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseHeaders(field) {
  if (field === '-') return [];
  return field.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new Error(`header without '=': ${JSON.stringify(pair)}`);
    return [utf8.decode(unhex(pair.slice(0, eq))), unhex(pair.slice(eq + 1))];
  });
}

/** One IN_TSV line: `partition<TAB>key<TAB>value<TAB>headers`. */
function parseRecord(line) {
  const fields = line.split('\t');
  if (fields.length !== 4) throw new Error(`want 4 tab-separated fields: ${JSON.stringify(line)}`);
  const [partition, key, value, headers] = fields;
  const record = { value: unhex(value), headers: parseHeaders(headers) };
  if (key !== '-') record.key = unhex(key);
  if (partition !== '-') {
    if (!/^\d+$/.test(partition)) throw new Error(`bad partition ${JSON.stringify(partition)}`);
    record.partition = Number(partition);
  }
  return record;
}

function readRecords(path) {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, n) => {
    try {
      return parseRecord(line);
    } catch (e) {
      throw new Error(`${path} line ${n + 1}: ${e.message}`);
    }
  });
}

function dumpLine(r) {
  const key = r.key === null ? '-' : hex(r.key);
  const headers =
    r.headers.length === 0 ? '-' : r.headers.map(([n, v]) => `${hex(Buffer.from(n))}=${hex(v)}`).join(',');
  return `${r.partition}\t${r.offset}\t${r.epoch}\t${r.timestamp}\t${key}\t${hex(r.value)}\t${headers}\n`;
}

/** Sends every record without waiting on each, flushes, then writes where each landed, in input order. */
async function produce(client, log, input, output) {
  const records = readRecords(input);
  const producer = client.producer({ acks: 'all' });
  const sends = records.map((record) => producer.send(log, record));
  await producer.flush();
  const acks = await Promise.all(sends);
  writeFileSync(output, acks.map((md) => `${md.partition}\t${md.offset}\n`).join(''));
  await producer.close();
  return 0;
}

/** Reads every partition from its start until a read returns nothing. */
async function dump(client, log, output) {
  const { partitionCount } = await client.getLogMetadata(log);
  const lines = [];
  for (let p = 0; p < partitionCount; p++) {
    let next = 0;
    for (;;) {
      const records = await client.consumeFromPartition(log, p, next, DUMP_READ_MAX);
      if (records.length === 0) break;
      for (const r of records) lines.push(dumpLine(r));
      next = records.at(-1).offset + 1;
    }
  }
  writeFileSync(output, lines.join(''));
  return 0;
}

/** Polls as a group member, recording and committing, until the stop file appears. */
async function member(client, log, group, stop, output) {
  const assigned = new Set();
  const change = (partitions, add) => {
    for (const { partition } of partitions) add ? assigned.add(partition) : assigned.delete(partition);
    const shown = [...assigned].sort((a, b) => a - b).join(',') || '-';
    process.stdout.write(`assignment ${shown}\n`);
  };
  const consumer = client.consumer({ groupId: group });
  consumer.subscribe([log], {
    onAssign: (parts) => change(parts, true),
    onRevoke: (parts) => change(parts, false),
    onLost: (parts) => change(parts, false),
  });
  writeFileSync(output, '');
  const started = Date.now();
  while (!existsSync(stop)) {
    if (Date.now() - started > MEMBER_GIVE_UP_MS) {
      console.error(`interop: no stop file after ${MEMBER_GIVE_UP_MS} ms`);
      await consumer.close();
      return 2;
    }
    const records = await consumer.poll(MEMBER_POLL_MS);
    if (records.length === 0) continue;
    appendFileSync(output, records.map((r) => `${r.partition}\t${r.offset}\t${hex(r.value)}\n`).join(''));
    await commit(consumer);
  }
  await commit(consumer);
  await consumer.close();
  process.stdout.write('closed\n');
  return 0;
}

/** Commits the positions; during a rebalance the next poll rejoins and the next commit covers them. */
async function commit(consumer) {
  try {
    await consumer.commit();
  } catch (e) {
    if (!(e instanceof RebalanceInProgress)) throw e;
  }
}

const COMMANDS = {
  produce: { args: ['LOG', 'IN_TSV', 'OUT_TSV'], run: produce },
  dump: { args: ['LOG', 'OUT_TSV'], run: dump },
  member: { args: ['LOG', 'GROUP', 'STOP_FILE', 'OUT_TSV'], run: member },
};

async function main([command, server, caFile, ...args]) {
  const spec = COMMANDS[command];
  if (!spec || args.length !== spec.args.length || !server || !caFile) {
    throw new Error('usage: interop.mjs produce|dump|member SERVER CA_FILE ... (see tests/interop/README.md)');
  }
  const client = await Client.connect(server.split(','), { caFile });
  try {
    return await spec.run(client, ...args);
  } finally {
    await client.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`interop: ${e.name}: ${e.message}`);
  process.exitCode = 1;
}
