'use strict';
const { toMetadata } = require('./convert.cjs');
const { InvalidArgument } = require('./errors.cjs');

/**
 * A batching, retrying and (by default) idempotent producer: each record is written once,
 * in order per partition, across retries. Make one with `client.producer(opts)`.
 */
class Producer {
  #n;

  /** @internal Use `client.producer()`. */
  constructor(handle, token) {
    if (token === undefined) throw new TypeError('use `client.producer(opts)` to make a Producer');
    this.#n = handle;
  }

  /** Queues one record; resolves with its metadata once it is acknowledged. */
  send(log, record) {
    return this.#n.send(log, record);
  }

  /** Queues many records in one native call; resolves once with all their metadata, in order. */
  async sendBatch(log, records, opts) {
    return toMetadata(await this.#n.sendBatch(log, records, batchPartition(opts)));
  }

  /** Resolves when every record sent before it is acknowledged or failed. */
  async flush() {
    await this.#n.flush();
  }

  /** The producer id and epoch this producer writes under, or `null` without idempotence. */
  async identity() {
    return this.#n.identity();
  }

  /** Flushes, then stops. Idempotent; `send` afterwards fails with `Closed`. */
  async close() {
    await this.#n.close();
  }

  /** Closes the producer at the end of an `await using` scope. */
  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.close();
  }
}

function batchPartition(opts) {
  if (opts === undefined || opts === null) return undefined;
  for (const k of Object.keys(opts)) {
    if (k !== 'partition') {
      throw new InvalidArgument(InvalidArgument.code, `unknown sendBatch option ${JSON.stringify(k)}`);
    }
  }
  return opts.partition ?? undefined;
}

module.exports = { Producer };
