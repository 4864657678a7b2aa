// Per-log cleanup policy and tombstone retention round-trip through the server; a policy the
// core client does not know is rejected with InvalidArgument, as a bad flush policy is.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InvalidArgument } from '../index.mjs';
import { unique, withClient } from './server.mjs';

const LIMIT = { timeout: 60_000 };

const ctx = withClient();

test('cleanupPolicy and deleteRetentionMs round-trip', LIMIT, async () => {
  const log = unique('cleanup');
  const created = await ctx.client.createLog(log, { cleanupPolicy: 'compact', deleteRetentionMs: 60_000 });
  assert.equal(created.config.cleanupPolicy, 'compact');
  assert.equal(created.config.deleteRetentionMs, 60_000);
  const { config } = await ctx.client.getLogMetadata(log);
  assert.equal(config.cleanupPolicy, 'compact');
  assert.equal(config.deleteRetentionMs, 60_000);
  await ctx.client.updateLogConfig(log, { ...config, cleanupPolicy: 'compact,delete' });
  assert.equal((await ctx.client.getLogMetadata(log)).config.cleanupPolicy, 'compact,delete');
});

test('an unknown cleanupPolicy is rejected with InvalidArgument', LIMIT, async () => {
  const log = unique('cleanup-bad');
  await assert.rejects(
    ctx.client.createLog(log, { cleanupPolicy: 'compacted' }),
    (e) => e instanceof InvalidArgument && /cleanupPolicy/.test(e.message),
  );
  assert.equal(await ctx.client.logExists(log), false);
});
