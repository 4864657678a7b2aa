// The complete log setup: create a log with 10 partitions, write 1,000 keyed
// events, read 100 back, print the log's metadata and stats.
//
// Run: node quickstart.mjs [HOST:PORT] [CA_FILE]   (against a running server)
import { Client } from 'pyralog';

const [addr = '127.0.0.1:9092', caFile = 'pyralog-data/tls/ca.pem'] = process.argv.slice(2);

async function main() {
  // readme:start
  const client = await Client.connect(addr, { caFile });
  const log = 'user_events';
  if (await client.logExists(log)) await client.deleteLog(log);
  await client.createLog(log, 10);

  const producer = client.producer();
  const sends = [];
  for (let i = 0; i < 1000; i++) sends.push(producer.send(log, { key: `user-${i % 100}`, value: `event-${i}` }));
  await producer.flush();
  await Promise.all(sends); // every record acknowledged

  const records = await client.consume(log, 0, 100);
  // readme:end
  for (const r of records.slice(0, 5)) {
    console.log(`partition ${r.partition} offset ${r.offset}: ${r.key?.toString() ?? ''} = ${r.value.toString()}`);
  }
  console.log(`read ${records.length} records back`);

  const md = await client.getLogMetadata(log);
  console.log(`log ${md.name}: ${md.partitionCount} partitions, state ${md.state}`);
  const stats = await client.getLogStats(log);
  console.log(`stats: ${stats.recordCount} records, ${stats.sizeBytes} bytes`);

  await producer.close();
  await client.close();
}

try {
  await main();
} catch (e) {
  console.error(`quickstart: ${e.name}: ${e.message}`);
  process.exitCode = 1;
}
