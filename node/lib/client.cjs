'use strict';
const native = require('./native.cjs');
const { toRecords } = require('./convert.cjs');
const { Producer } = require('./producer.cjs');
const { Consumer } = require('./consumer.cjs');

const HANDLE = Symbol('pyralog.native');
/** Records `consume` and `consumeFromPartition` return at most unless told. */
const DEFAULT_MAX_RECORDS = 1000;

/**
 * A connection to a Pyralog server. Make one with `await Client.connect(addr, opts)`;
 * every I/O method returns a Promise and runs off the JavaScript thread. Close it when done.
 */
class Client {
  #n;

  /** @internal Use `Client.connect`. */
  constructor(handle) {
    if (!(handle instanceof native.NativeClient)) {
      throw new TypeError('use `await Client.connect(addr, opts)` to make a Client');
    }
    this.#n = handle;
  }

  /**
   * Connects through `addr` ("host:port", or an array of them), trusting the CA in `opts.caFile`;
   * authenticates with `opts.token` or the client certificate `opts.certFile`/`opts.keyFile`.
   */
  static async connect(addr, opts) {
    const servers = Array.isArray(addr) ? addr.join(',') : addr;
    return new Client(await native.NativeClient.connect(servers, opts));
  }

  /** Creates a log; `config` is a partition count or `{partitions, replicationFactor, ...LogConfig}`. */
  async createLog(name, config) {
    return this.#n.createLog(name, config);
  }

  /** Every log. */
  async listLogs() {
    return this.#n.listLogs();
  }

  /** Whether a log of that name exists. */
  async logExists(name) {
    return this.#n.logExists(name);
  }

  /** A log's partitions, settings and state. */
  async getLogMetadata(name) {
    return this.#n.getLogMetadata(name);
  }

  /** A log's record count, size and write rate. */
  async getLogStats(name) {
    return this.#n.getLogStats(name);
  }

  /** Replaces a log's settings (settings left out take their defaults). */
  async updateLogConfig(name, config) {
    return this.#n.updateLogConfig(name, config);
  }

  /** Rejects writes with `LogPaused` until resumed; reads go on. */
  async pauseLog(name) {
    return this.#n.pauseLog(name);
  }

  /** Accepts writes again. */
  async resumeLog(name) {
    return this.#n.resumeLog(name);
  }

  /** Deletes a log and its data. */
  async deleteLog(name) {
    await this.#n.deleteLog(name);
  }

  /** Grows a log to `partitions` partitions. */
  async addPartitions(name, partitions) {
    return this.#n.addPartitions(name, partitions);
  }

  /** Writes one record and waits for its acknowledgement. */
  async produce(log, record) {
    return this.#n.produce(log, record);
  }

  /** Up to `maxRecords` records of every partition from `offset`, without waiting. */
  async consume(log, offset = 0, maxRecords = DEFAULT_MAX_RECORDS) {
    return toRecords(await this.#n.consume(log, offset, maxRecords));
  }

  /** Up to `maxRecords` records of one partition from `offset`, without waiting. */
  async consumeFromPartition(log, partition, offset = 0, maxRecords = DEFAULT_MAX_RECORDS) {
    return toRecords(await this.#n.consumeFromPartition(log, partition, offset, maxRecords));
  }

  /** A batching producer. */
  producer(opts) {
    return new Producer(this.#n.producer(opts), HANDLE);
  }

  /** A consumer. */
  consumer(opts) {
    return new Consumer(this.#n.consumer(opts), HANDLE);
  }

  /** Closes the connection. Idempotent; later calls fail with `Closed`. */
  async close() {
    await this.#n.close();
  }

  /** Whether `close` was called. */
  get closed() {
    return this.#n.closed;
  }

  /** `await using client = await Client.connect(...)` closes it at the end of the scope. */
  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.close();
  }
}

module.exports = { Client, HANDLE };
