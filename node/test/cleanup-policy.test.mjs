// Per-log cleanup policy and tombstone retention round-trip through the server; a policy the
// core client does not know is rejected with InvalidArgument, as a bad flush policy is.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Client, InvalidArgument } from '../index.mjs';
import { startServer, unique } from './server.mjs';

const LIMIT = { timeout: 60_000 };

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

test('cleanupPolicy and deleteRetentionMs round-trip', LIMIT, async () => {
  const log = unique('cleanup');
  const created = await client.createLog(log, { cleanupPolicy: 'compact', deleteRetentionMs: 60_000 });
  assert.equal(created.config.cleanupPolicy, 'compact');
  assert.equal(created.config.deleteRetentionMs, 60_000);
  const { config } = await client.getLogMetadata(log);
  assert.equal(config.cleanupPolicy, 'compact');
  assert.equal(config.deleteRetentionMs, 60_000);
  await client.updateLogConfig(log, { ...config, cleanupPolicy: 'compact,delete' });
  assert.equal((await client.getLogMetadata(log)).config.cleanupPolicy, 'compact,delete');
});

test('an unknown cleanupPolicy is rejected with InvalidArgument', LIMIT, async () => {
  const log = unique('cleanup-bad');
  await assert.rejects(
    client.createLog(log, { cleanupPolicy: 'compacted' }),
    (e) => e instanceof InvalidArgument && /cleanupPolicy/.test(e.message),
  );
  assert.equal(await client.logExists(log), false);
});
