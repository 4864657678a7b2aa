'use strict';
const { toRecords } = require('./convert.cjs');
const { InvalidArgument } = require('./errors.cjs');

/** How long each poll of a `for await` iteration waits before polling again. */
const ITERATION_POLL_MS = 1000;
const DEFAULT_POLL_MS = 1000;
const CALLBACKS = ['onAssign', 'onRevoke', 'onLost'];

/**
 * Reads assigned partitions (`assign`) or a group's share of logs (`subscribe`). `poll`
 * resolves with the next records; `for await (const record of consumer)` yields them one by
 * one until the consumer is closed. A consumer serves one call at a time: a call made while
 * another runs (an unawaited `poll`, or a rebalance callback calling its own consumer)
 * fails with `ConcurrentCall`. Close it to leave the group.
 */
class Consumer {
  #n;
  #closed = false;

  /** @internal Use `client.consumer()`. */
  constructor(handle, token) {
    if (token === undefined) throw new TypeError('use `client.consumer(opts)` to make a Consumer');
    this.#n = handle;
  }

  /** Joins the consumer's group (`groupId`) for `logs`; the callbacks run inside `poll`. */
  subscribe(logs, callbacks = {}) {
    for (const k of Object.keys(callbacks ?? {})) {
      if (!CALLBACKS.includes(k)) {
        throw new InvalidArgument(InvalidArgument.code, `unknown subscribe callback ${JSON.stringify(k)}`);
      }
    }
    const { onAssign, onRevoke, onLost } = callbacks ?? {};
    this.#n.subscribe(logs, onAssign, onRevoke, onLost);
  }

  /** Leaves the group (committing first with auto-commit). */
  async unsubscribe() {
    await this.#n.unsubscribe();
  }

  /** Reads exactly these partitions (no group). */
  assign(partitions) {
    this.#n.assign(partitions);
  }

  /** Reads every partition of `log` (no group). */
  async assignLog(log) {
    await this.#n.assignLog(log);
  }

  /** The partitions read now. */
  assignment() {
    return this.#n.assignment();
  }

  /** Resolves with the next records, or an empty array after `timeoutMs`. */
  async poll(timeoutMs = DEFAULT_POLL_MS) {
    return toRecords(await this.#n.poll(timeoutMs));
  }

  /** Yields records one by one until the consumer is closed. */
  async *[Symbol.asyncIterator]() {
    while (!this.#closed) {
      const records = await this.poll(ITERATION_POLL_MS);
      for (const record of records) yield record;
    }
  }

  /** The next poll reads `partition` from `offset`. */
  seek(partition, offset) {
    this.#n.seek(partition, offset);
  }

  /** Reads from the log start (default: every assigned partition). */
  seekToBeginning(partitions) {
    this.#n.seekToBeginning(partitions);
  }

  /** Reads only what comes next (default: every assigned partition). */
  seekToEnd(partitions) {
    this.#n.seekToEnd(partitions);
  }

  /** Reads from the first record at or after `timestampMs` (default: every assigned partition). */
  seekToTimestamp(timestampMs, partitions) {
    this.#n.seekToTimestamp(timestampMs, partitions);
  }

  /** Stops fetching these partitions until `resume`. */
  pause(partitions) {
    this.#n.pause(partitions);
  }

  /** Fetches paused partitions again. */
  resume(partitions) {
    this.#n.resume(partitions);
  }

  /** The paused partitions. */
  paused() {
    return this.#n.paused();
  }

  /** Resolves with the offset of the next record `poll` returns for `partition`. */
  async position(partition) {
    return this.#n.position(partition);
  }

  /** Commits the positions (or the given `{log, partition, offset}` list) and waits. */
  async commit(offsets) {
    await this.#n.commit(offsets);
  }

  /** Starts committing the positions now; the promise tells how it went. */
  commitAsync() {
    return this.#n.commitAsync();
  }

  /** Resolves with the group's committed offsets (default: of the assignment). */
  async committed(partitions) {
    return this.#n.committed(partitions);
  }

  /** Leaves the group (committing first with auto-commit) and stops. Idempotent. */
  async close() {
    this.#closed = true;
    await this.#n.close();
  }

  /** Closes the consumer at the end of an `await using` scope. */
  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.close();
  }
}

module.exports = { Consumer };
