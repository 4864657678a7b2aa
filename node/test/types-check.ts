// Type-checked by `tsc -p tsconfig.json` (not run): the declarations describe a usable API.
import {
  Client,
  ConsumerRecord,
  CorruptData,
  LogNotFound,
  OFFSET_END,
  PyralogError,
  RecordMetadata,
  Throttled,
  type BatchLocation,
  type LogPartition,
} from 'pyralog';

export async function example(addr: string, caFile: string): Promise<number> {
  const client: Client = await Client.connect(addr, { caFile, connectTimeoutMs: 2000 });
  await client.createLog('events', { partitions: 4, retentionMs: 60_000, flushPolicy: 'always' });
  await client.createLog('events-2', 2);
  await client.createLog('compacted', { cleanupPolicy: 'compact', deleteRetentionMs: 60_000 });
  const md = await client.getLogMetadata('events');
  await client.updateLogConfig('events', { ...md.config, retentionBytes: 1 << 30 });
  const ack: RecordMetadata = await client.produce('events', {
    key: 'k',
    value: Buffer.from('v'),
    headers: [['h', 'x']],
  });
  const tail: ConsumerRecord[] = await client.consumeFromPartition('events', ack.partition, OFFSET_END, 10);
  const producer = client.producer({ lingerMs: 5, idempotence: true });
  const acks: RecordMetadata[] = await producer.sendBatch('events', ['a', { value: 'b' }], { partition: 0 });
  const id = await producer.identity();
  if (id) client.producer({ resume: id });
  await client.producer({ compression: 'zstd', compressionLevel: 9, acks: 'leader' }).close();
  await producer.close();
  const consumer = client.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
  consumer.subscribe(['events'], { onAssign: (ps: LogPartition[]) => ps.length, onRevoke: () => {} });
  for await (const record of consumer) {
    const value: Buffer = record.value;
    if (value.length) break;
  }
  try {
    await consumer.poll(100);
  } catch (e) {
    const at: BatchLocation | undefined = e instanceof CorruptData ? e.corruptBatch : undefined;
    if (at) consumer.seek({ log: at.log, partition: at.partition }, at.lastOffset + 1);
  }
  await consumer.commit([{ log: 'events', partition: 0, offset: 12 }]);
  const committed = await consumer.committed();
  await consumer.close();
  try {
    await client.deleteLog('missing');
  } catch (e) {
    if (e instanceof LogNotFound) return e.code;
    if (e instanceof Throttled && e.retryAfterMs !== undefined) return e.retryAfterMs;
    if (e instanceof PyralogError) return -e.code;
  }
  await client.close();
  return tail.length + acks.length + committed.length;
}

export async function authenticated(addr: string, caFile: string, token: string): Promise<Client> {
  await (await Client.connect(addr, { caFile, certFile: 'admin.pem', keyFile: 'admin-key.pem' })).close();
  return Client.connect([addr], { caFile, token });
}
