/**
 * Pyralog for Node.js: a thin layer over the Rust core client (napi-rs).
 *
 * Every I/O method returns a Promise whose work runs on the native runtime's threads: the
 * event loop is never blocked and the libuv thread pool is never used. Durations are in
 * milliseconds (every such setting ends in `Ms`). Offsets, epochs and timestamps are numbers
 * (exact below 2^53); an offset argument may also be a bigint, such as {@link OFFSET_END}.
 *
 * @example
 * import { Client } from 'pyralog';
 * const client = await Client.connect('127.0.0.1:9092', { caFile: 'pyralog-data/tls/ca.pem' });
 * await client.createLog('user_events', { partitions: 4 });
 * const md = await client.produce('user_events', { key: 'user-1', value: 'event-1' });
 * const records = await client.consumeFromPartition('user_events', md.partition, 0, 10);
 * await client.close();
 */

/// <reference types="node" />

/** Bytes as accepted: a Buffer, another Uint8Array, or a string (encoded as UTF-8). */
export type Bytes = Buffer | Uint8Array | string;

/** An offset argument: a number, or a bigint (for {@link OFFSET_END}). */
export type Offset = number | bigint;

/** The offset meaning "the end of the partition at the time of the read" (2^64 - 1). */
export const OFFSET_END: bigint;
/** The offset of the beginning of a partition (reading starts at its log start offset). */
export const OFFSET_BEGINNING: 0;

/** Every error code of the native core, in numeric order (`lib/errors.cjs` is generated from it). */
export function errorCodes(): { code: number; name: string }[];
/** "debug" or "release": how the loaded native addon was built. */
export function buildProfile(): 'debug' | 'release';
/** This package's version (its native addon's too: checked at load). */
export const version: string;

/** Options of {@link Client.connect}. Unknown keys are rejected with `InvalidArgument`. */
export interface ClientOptions {
  /** PEM file of the CA that signed the server certificate (the server's `<data-dir>/tls/ca.pem`). Required: there is no insecure mode. */
  caFile?: string;
  /** TLS server name; defaults to the host part of the address. */
  serverName?: string;
  /**
   * PEM file of a client certificate (mutual TLS): its subject CN (or first DNS SAN) is the
   * principal the server authorizes. Goes with `keyFile`: set both or neither (else `InvalidArgument`).
   */
  certFile?: string;
  /** PEM file of the private key of `certFile`. */
  keyFile?: string;
  /**
   * Bearer token (`pyralog-server token create NAME` prints one): sent on every new connection.
   * A wrong or revoked one fails with `AuthenticationFailed`.
   */
  token?: string;
  /** How long connecting may take, handshake included (default 5000). */
  connectTimeoutMs?: number;
  /** How long one request may wait for its response (default 30000). */
  requestTimeoutMs?: number;
  /** Cached log metadata older than this is refreshed (default 30000). */
  metadataMaxAgeMs?: number;
}

/** A log's settings. Zero means "not set": unlimited retention, server defaults for the rest. */
export interface LogConfig {
  /** Records older than this are deleted (whole segments); 0: kept forever. */
  retentionMs: number;
  /** A partition is trimmed (whole segments) above this size; 0: no limit. */
  retentionBytes: number;
  /** Replicas that must have a write before it is acknowledged with acks=all. */
  minInSyncReplicas: number;
  /** When appended data is fsynced relative to the acknowledgement. */
  flushPolicy: 'server_default' | 'always' | 'interval' | 'never';
  /** The fsync interval of `flushPolicy: 'interval'`. */
  flushIntervalMs: number;
  /** Segments roll at this size. */
  segmentBytes: number;
  /** Segments roll at this age. */
  segmentMs: number;
  /** Whose clock stamps records: the producer's or the server's at append. */
  timestampType: 'create_time' | 'log_append_time';
  /** Whether partitions are fixed or added on demand. */
  partitioningMode: 'static' | 'dynamic';
  /**
   * What happens to old records: `'delete'` by retention, `'compact'` keeps the newest record of
   * each key (an empty value is a tombstone), `'compact,delete'` both.
   */
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** How long a compacted log keeps tombstones; 0: the server's default. */
  deleteRetentionMs: number;
}

/** What {@link Client.createLog} takes: a partition count and settings. Unknown keys are rejected. */
export interface CreateLogConfig extends Partial<LogConfig> {
  /** Partitions of the log (default 1). */
  partitions?: number;
  /** Copies of each partition, on as many nodes (default: the server's `default_replication_factor`). */
  replicationFactor?: number;
}

/** One partition's placement and bounds. */
export interface PartitionMetadata {
  /** The partition number. */
  partition: number;
  /** The node leading it. */
  leader: number;
  /** The nodes holding a copy. */
  replicas: number[];
  /** The replicas in sync with the leader. */
  isr: number[];
  /** Incremented every time leadership is (re)established. */
  leaderEpoch: number;
  /** The first offset still stored. */
  logStartOffset: number;
  /** The next offset to be written and readable. */
  highWatermark: number;
}

/** A log's metadata. */
export interface LogMetadata {
  /** The log's name. */
  name: string;
  /** How many partitions it has. */
  partitionCount: number;
  /** Copies of each partition. */
  replicationFactor: number;
  /** Creation time, ms since the Unix epoch. */
  createdAtMs: number;
  /** Its lifecycle state. */
  state: 'Active' | 'Paused' | 'Deleting';
  /** Its settings. */
  config: LogConfig;
  /** Its partitions, in order. */
  partitions: PartitionMetadata[];
}

/** One partition's size and bounds. */
export interface PartitionStats {
  /** The partition number. */
  partition: number;
  /** The first offset still stored. */
  logStartOffset: number;
  /** The next offset to be written. */
  highWatermark: number;
  /** Bytes stored. */
  sizeBytes: number;
  /** Segments stored. */
  segmentCount: number;
}

/** A log's statistics. */
export interface LogStats {
  /** The log's name. */
  name: string;
  /** Records stored, over all partitions. */
  recordCount: number;
  /** Bytes stored, over all partitions. */
  sizeBytes: number;
  /** Records appended per second, averaged over the last minute. */
  writeRate: number;
  /** Per partition. */
  partitions: PartitionStats[];
}

/** A record to produce; a value alone (Buffer, Uint8Array or string) stands for `{value}`. */
export interface ProducerRecord {
  /** The value (may be empty). */
  value?: Bytes;
  /** The key: records with the same key go to the same partition. */
  key?: Bytes | null;
  /** Ordered `[name, value]` pairs; duplicate names allowed. */
  headers?: [string, Bytes][] | null;
  /** An explicit partition; left out, the partitioner chooses. */
  partition?: number | null;
  /** The producer timestamp (ms since the Unix epoch); left out, the time its batch is built. */
  timestamp?: number | null;
}

/** Where a produced record was written. */
export interface RecordMetadata {
  /** The log. */
  log: string;
  /** The partition. */
  partition: number;
  /** The record's offset in the partition. */
  offset: number;
  /** The leader epoch it was written in. */
  epoch: number;
  /** The record's timestamp (the server's append time on `log_append_time` logs). */
  timestamp: number;
}

/**
 * A record read back. `key`, `value` and header values are views into the Buffer of the
 * batch they arrived in: copy one (`Buffer.from(record.value)`) to keep it apart from the rest.
 */
export interface ConsumerRecord {
  /** The log. */
  log: string;
  /** The partition. */
  partition: number;
  /** The record's offset in the partition. */
  offset: number;
  /** The leader epoch it was written in. */
  epoch: number;
  /** Its timestamp, ms since the Unix epoch. */
  timestamp: number;
  /** Its key, or `null` without one. */
  key: Buffer | null;
  /** Its value. */
  value: Buffer;
  /** Its headers, in order, duplicates kept. */
  headers: [string, Buffer][];
}

/** A log and one of its partitions. */
export interface LogPartition {
  /** The log. */
  log: string;
  /** The partition. */
  partition: number;
}

/** A partition's offset: the next one to read. */
export interface PartitionOffset extends LogPartition {
  /** The next offset to read. */
  offset: Offset;
}

/** A committed offset as read back. */
export interface CommittedOffset extends LogPartition {
  /** The next offset to read. */
  offset: number;
}

/** A producer's identity: keep it to resume a later incarnation (which fences this one). */
export interface ProducerIdentity {
  /** The server-assigned producer id. */
  id: bigint;
  /** The incarnation's epoch. */
  epoch: number;
}

/** Options of {@link Client.producer}. Unknown keys are rejected with `InvalidArgument`. */
export interface ProducerOptions {
  /** A partition's batch is sent when it reaches this many bytes (default 262144). */
  batchSize?: number;
  /** ...or when its oldest record has waited this long (default 5). */
  lingerMs?: number;
  /** Bytes of records waiting to be sent, at most (default 64 MiB); `send` waits for room. */
  bufferMemory?: number;
  /** Longest `send` waits for buffer room before failing `BufferFull` (default 60000). */
  maxBlockMs?: number;
  /** A record not acknowledged within this time fails with `Timeout` (default 120000). */
  deliveryTimeoutMs?: number;
  /** Wait between retries of a failed batch (default 100). */
  retryBackoffMs?: number;
  /** Write each record exactly once, in order, across retries (default true). */
  idempotence?: boolean;
  /** Batches of one partition in flight, at most (1..=5, default 5). */
  maxInFlight?: number;
  /**
   * When a batch counts as written: `'all'` (every in-sync replica holds it; the default),
   * `'leader'` (the partition leader only), `'none'` (written, durable or not).
   */
  acks?: 'all' | 'leader' | 'none';
  /**
   * How batches are compressed: `'none'` (the default), `'snappy'`, `'lz4'` or `'zstd'`.
   * Consumers decompress transparently.
   */
  compression?: 'none' | 'snappy' | 'lz4' | 'zstd';
  /**
   * zstd's level, 1 to 22 (default 3). A level out of range or with another codec is
   * rejected with `InvalidArgument`.
   */
  compressionLevel?: number;
  /** Continue as this earlier producer (from {@link Producer.identity}), fencing it. */
  resume?: { id: bigint | number; epoch: number };
}

/** Options of {@link Client.consumer}. Unknown keys are rejected with `InvalidArgument`. */
export interface ConsumerOptions {
  /** The consumer group `subscribe` joins (and commits go to). */
  groupId?: string;
  /** Static membership: a stable id that keeps the member's partitions across a restart. */
  groupInstanceId?: string;
  /** Where to start without a valid position: the log start, the end, or fail (default 'earliest'). */
  autoOffsetReset?: 'earliest' | 'latest' | 'error';
  /** Most records one `poll` returns (default 10000). */
  maxPollRecords?: number;
  /** Most bytes one fetch returns over all partitions (default 16 MiB). */
  fetchMaxBytes?: number;
  /** Most bytes one fetch returns per partition (default 4 MiB). */
  maxPartitionFetchBytes?: number;
  /** Longest the server holds a fetch waiting for data (default 500). */
  fetchMaxWaitMs?: number;
  /** The coordinator expels a member silent for this long (default 10000). */
  sessionTimeoutMs?: number;
  /** How often the member heartbeats (default 3000). */
  heartbeatIntervalMs?: number;
  /** Longest a rebalance waits for every member to rejoin (default 30000). */
  rebalanceTimeoutMs?: number;
  /** A member that does not poll for this long leaves the group until its next poll (default 300000). */
  maxPollIntervalMs?: number;
  /** Assignors offered, in preference order: 'cooperative-sticky', 'range', 'roundrobin'. */
  assignors?: string[];
  /** Commit positions periodically, before partitions are revoked, and on close (default true). */
  enableAutoCommit?: boolean;
  /** The auto-commit period (default 5000). */
  autoCommitIntervalMs?: number;
}

/**
 * Rebalance callbacks. They run inside `poll` (and `close`/`unsubscribe`), synchronously on
 * the JavaScript thread, while the consumer is busy: they must not call the consumer (that
 * fails `Busy`). An exception thrown in one rejects the `poll` that ran it.
 */
export interface RebalanceCallbacks {
  /** Partitions newly assigned; their positions are already set. */
  onAssign?: (partitions: LogPartition[]) => void;
  /** Partitions handed back in an orderly rebalance, after the last commit. */
  onRevoke?: (partitions: LogPartition[]) => void;
  /** Partitions taken away without a rebalance (defaults to `onRevoke`): do not commit them. */
  onLost?: (partitions: LogPartition[]) => void;
}

/**
 * A connection to a Pyralog server. Make one with `await Client.connect(addr, opts)`. Every
 * I/O method returns a Promise; the client may be used by many tasks at once. Close it when
 * done (or `await using client = ...`).
 */
export class Client {
  private constructor();
  /**
   * Connects to the cluster through `addr`: one server ("host:port") or several
   * (`['a:9092', 'b:9092']`; any one answering is enough), verifying them against `opts.caFile`,
   * and authenticating with `opts.token` or `opts.certFile`/`opts.keyFile` when given.
   * Rejects with `TlsError` (missing or wrong CA) or `ConnectionFailed` within `connectTimeoutMs`;
   * with authentication on, requests reject `AuthenticationFailed` (no or a wrong identity) or
   * `NotAuthorized` (no ACL allows them).
   */
  static connect(addr: string | string[], opts?: ClientOptions): Promise<Client>;
  /** Creates a log; `config` is a partition count or settings. Rejects `LogAlreadyExists`, `InvalidLogId`, `InvalidConfig`. */
  createLog(name: string, config?: number | CreateLogConfig): Promise<LogMetadata>;
  /** Every log, sorted by name. */
  listLogs(): Promise<LogMetadata[]>;
  /** Whether a log of that name exists. */
  logExists(name: string): Promise<boolean>;
  /** A log's partitions, settings and state, fresh from the server. Rejects `LogNotFound`. */
  getLogMetadata(name: string): Promise<LogMetadata>;
  /** A log's record count, size and write rate. Rejects `LogNotFound`. */
  getLogStats(name: string): Promise<LogStats>;
  /**
   * Replaces a log's settings; settings left out take their defaults, so pass the current
   * ones with changes: `{ ...(await client.getLogMetadata(name)).config, retentionMs: 60000 }`.
   */
  updateLogConfig(name: string, config: Partial<LogConfig>): Promise<LogMetadata>;
  /** Rejects writes with `LogPaused` until resumed; reads go on. */
  pauseLog(name: string): Promise<LogMetadata>;
  /** Accepts writes again. */
  resumeLog(name: string): Promise<LogMetadata>;
  /** Deletes a log: reads and writes stop at once; a new log of that name starts empty. */
  deleteLog(name: string): Promise<void>;
  /** Grows a log to `partitions` partitions (keys may move). Rejects `InvalidPartitions`. */
  addPartitions(name: string, partitions: number): Promise<LogMetadata>;
  /**
   * Writes one record and waits for its acknowledgement (use {@link Client.producer} for
   * throughput). Rejects `LogNotFound`, `LogPaused`, `RecordTooLarge`.
   */
  produce(log: string, record: ProducerRecord | Bytes): Promise<RecordMetadata>;
  /** Up to `maxRecords` (default 1000) records of every partition from `offset` (default 0), without waiting. */
  consume(log: string, offset?: Offset, maxRecords?: number): Promise<ConsumerRecord[]>;
  /**
   * Up to `maxRecords` (default 1000) records of one partition starting exactly at `offset`
   * (default 0: the log start; {@link OFFSET_END}: nothing yet), without waiting.
   * Rejects `OffsetOutOfRange` past the end. The records before a stored batch that cannot be
   * decoded are returned; a read from it rejects with `CorruptData`, whose `corruptBatch` names
   * it (read on from its `lastOffset + 1` to skip it).
   */
  consumeFromPartition(log: string, partition: number, offset?: Offset, maxRecords?: number): Promise<ConsumerRecord[]>;
  /** A batching producer. Throws `InvalidArgument` for bad options. */
  producer(opts?: ProducerOptions): Producer;
  /** A consumer. Throws `InvalidArgument` for bad options. */
  consumer(opts?: ConsumerOptions): Consumer;
  /** Closes the connection. Idempotent; later calls reject with `Closed`. */
  close(): Promise<void>;
  /** Whether `close` was called. */
  readonly closed: boolean;
  /** Closes the client at the end of an `await using` scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A batching, retrying and (by default) idempotent producer: each record is written once, in
 * order per partition, across retries. Make one with {@link Client.producer}; close it.
 */
export class Producer {
  private constructor();
  /**
   * Queues one record (without waiting, unless the buffer is full) and resolves with its
   * metadata once it is acknowledged. Rejects `Closed`, `RecordTooLarge`, `LogNotFound`, `BufferFull`.
   */
  send(log: string, record: ProducerRecord | Bytes): Promise<RecordMetadata>;
  /**
   * Queues many records in one native call and resolves once with all their metadata, in
   * order, or rejects with the first error. Every record is checked first, so a bad one
   * (`RecordTooLarge`) queues none; after `BufferFull` or `Closed` the records before it stay
   * queued. `opts.partition` applies to records that name none. The fast way to produce.
   */
  sendBatch(log: string, records: (ProducerRecord | Bytes)[], opts?: { partition?: number }): Promise<RecordMetadata[]>;
  /** Resolves when every record sent before it is acknowledged or failed. */
  flush(): Promise<void>;
  /** The id and epoch this producer writes under, or `null` without idempotence. */
  identity(): Promise<ProducerIdentity | null>;
  /** Flushes, then stops. Idempotent; `send` afterwards rejects with `Closed`. */
  close(): Promise<void>;
  /** Closes the producer at the end of an `await using` scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Reads assigned partitions ({@link Consumer.assign}) or a group's share of logs
 * ({@link Consumer.subscribe}). {@link Consumer.poll} resolves with the next records;
 * `for await (const record of consumer)` yields them one by one until the consumer is closed.
 * A consumer serves one call at a time: a call made while another runs fails with `Busy`.
 * Close it to leave its group.
 */
export class Consumer implements AsyncIterable<ConsumerRecord> {
  private constructor();
  /**
   * Joins the consumer's group (`groupId`) for `logs`; the group assigns partitions inside
   * `poll`, which calls the callbacks. Throws `InvalidArgument` without a `groupId`.
   */
  subscribe(logs: string[], callbacks?: RebalanceCallbacks): void;
  /** Leaves the group (committing first with auto-commit). */
  unsubscribe(): Promise<void>;
  /** Reads exactly these partitions (no group); kept partitions keep their positions. */
  assign(partitions: LogPartition[]): void;
  /** Reads every partition of `log` (no group). */
  assignLog(log: string): Promise<void>;
  /** The partitions read now. */
  assignment(): LogPartition[];
  /**
   * Resolves with the next records, or an empty array after `timeoutMs` (default 1000). A
   * stored batch that cannot be decoded rejects with `CorruptData`, whose `corruptBatch` names
   * it, once the records before it were returned, on every poll until `seek` moves its
   * partition to `corruptBatch.lastOffset + 1`.
   */
  poll(timeoutMs?: number): Promise<ConsumerRecord[]>;
  /** Yields records one by one (polling 1000 ms at a time) until the consumer is closed. */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord>;
  /** The next poll reads `partition` from `offset` ({@link OFFSET_END}: the end). */
  seek(partition: LogPartition, offset: Offset): void;
  /** Reads from the log start (default: every assigned partition). */
  seekToBeginning(partitions?: LogPartition[]): void;
  /** Reads only what comes next (default: every assigned partition). */
  seekToEnd(partitions?: LogPartition[]): void;
  /** Reads from the first record at or after `timestampMs` (default: every assigned partition). */
  seekToTimestamp(timestampMs: number, partitions?: LogPartition[]): void;
  /** Stops fetching these partitions until {@link Consumer.resume}. */
  pause(partitions: LogPartition[]): void;
  /** Fetches paused partitions again. */
  resume(partitions: LogPartition[]): void;
  /** The paused partitions. */
  paused(): LogPartition[];
  /** Resolves with the offset of the next record `poll` returns for `partition`. */
  position(partition: LogPartition): Promise<number>;
  /**
   * Commits the positions (or `offsets`: the next offset to read per partition) for the group
   * and waits until durable. Rejects `RebalanceInProgress`, `IllegalGeneration`, ...
   */
  commit(offsets?: PartitionOffset[]): Promise<void>;
  /** Starts committing the positions now; the promise tells how it went. */
  commitAsync(): Promise<void>;
  /** The group's committed offsets of `partitions` (default: the assignment); uncommitted ones left out. */
  committed(partitions?: LogPartition[]): Promise<CommittedOffset[]>;
  /** Leaves the group (committing first with auto-commit) and stops. Idempotent. */
  close(): Promise<void>;
  /** Closes the consumer at the end of an `await using` scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

// BEGIN GENERATED ERRORS (scripts/generate-errors.mjs)
/**
 * Base of every error pyralog raises: `code` is the stable numeric error code
 * (the same in every language), `name` the class name, `message` what happened,
 * `retryAfterMs` how long the server asked to wait before a retry (`Throttled`).
 */
export class PyralogError extends Error {
  constructor(code: number, message: string, retryAfterMs?: number | null);
  /** The stable numeric error code. */
  readonly code: number;
  /** Milliseconds the server asked to wait before a retry (set on `Throttled`); `undefined` when it did not say. */
  readonly retryAfterMs: number | undefined;
}
/**
 * A stored batch that cannot be decoded (`CorruptData.corruptBatch`): records `firstOffset` to
 * `lastOffset` of `log`/`partition`. Every record before them was delivered; seek the partition
 * to `lastOffset + 1` to skip them.
 */
export interface BatchLocation {
  readonly log: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}
/** An error the server could not classify; the message says more. (code 100) */
export class Unknown extends PyralogError {
  /** This class's error code. */
  static readonly code: 100;
}
/** The request was not a well-formed message of this protocol. (code 101) */
export class InvalidRequest extends PyralogError {
  /** This class's error code. */
  static readonly code: 101;
}
/** The request exceeded `MAX_REQUEST_BYTES` or a nesting/traversal limit. (code 102) */
export class RequestTooLarge extends PyralogError {
  /** This class's error code. */
  static readonly code: 102;
}
/** A wait ran out of time (durability, long-poll, connect). (code 103) */
export class Timeout extends PyralogError {
  /** This class's error code. */
  static readonly code: 103;
}
/** A connection or waiting-room limit of the server was reached; retry later. (code 104) */
export class Busy extends PyralogError {
  /** This class's error code. */
  static readonly code: 104;
}
/** The server is shutting down. (code 105) */
export class ShuttingDown extends PyralogError {
  /** This class's error code. */
  static readonly code: 105;
}
/** An I/O error in the server's storage; nothing was acknowledged. (code 106) */
export class StorageError extends PyralogError {
  /** This class's error code. */
  static readonly code: 106;
}
/** The server's disk is full: nothing was written. Writes resume once space is freed; reads go on. (code 107) */
export class StorageFull extends PyralogError {
  /** This class's error code. */
  static readonly code: 107;
}
/** The node is starting (recovering its replicas, joining the cluster): it serves requests within seconds; retry shortly. (code 108) */
export class NodeStarting extends PyralogError {
  /** This class's error code. */
  static readonly code: 108;
}
/** No log of that name exists. (code 200) */
export class LogNotFound extends PyralogError {
  /** This class's error code. */
  static readonly code: 200;
}
/** A log of that name already exists. (code 201) */
export class LogAlreadyExists extends PyralogError {
  /** This class's error code. */
  static readonly code: 201;
}
/** The log name breaks the naming rules (the message names the bad character). (code 202) */
export class InvalidLogId extends PyralogError {
  /** This class's error code. */
  static readonly code: 202;
}
/** The log is paused: writes are rejected, reads are served. (code 203) */
export class LogPaused extends PyralogError {
  /** This class's error code. */
  static readonly code: 203;
}
/** A log setting is out of range. (code 204) */
export class InvalidConfig extends PyralogError {
  /** This class's error code. */
  static readonly code: 204;
}
/** A partition count is out of range or would shrink the log. (code 205) */
export class InvalidPartitions extends PyralogError {
  /** This class's error code. */
  static readonly code: 205;
}
/** The log has no partition with that number. (code 206) */
export class PartitionNotFound extends PyralogError {
  /** This class's error code. */
  static readonly code: 206;
}
/** Names starting with `__` belong to internal logs. (code 207) */
export class ReservedLogName extends PyralogError {
  /** This class's error code. */
  static readonly code: 207;
}
/** The log is being deleted. (code 208) */
export class LogDeleting extends PyralogError {
  /** This class's error code. */
  static readonly code: 208;
}
/** A record exceeds `MAX_RECORD_BYTES`. (code 300) */
export class RecordTooLarge extends PyralogError {
  /** This class's error code. */
  static readonly code: 300;
}
/** A batch exceeds `MAX_BATCH_BYTES` or `MAX_BATCH_RECORDS`. (code 301) */
export class BatchTooLarge extends PyralogError {
  /** This class's error code. */
  static readonly code: 301;
}
/** A batch's checksum does not match its bytes. (code 302) */
export class CorruptBatch extends PyralogError {
  /** This class's error code. */
  static readonly code: 302;
}
/** A batch is malformed (bad lengths, counts or fields). (code 303) */
export class InvalidBatch extends PyralogError {
  /** This class's error code. */
  static readonly code: 303;
}
/** The offset is below the log start or past the end. (code 304) */
export class OffsetOutOfRange extends PyralogError {
  /** This class's error code. */
  static readonly code: 304;
}
/**
 * Stored data failed its checksum inside a sealed segment. (code 305)
 *
 * Raised for fetched data, it names the batch that cannot be decoded in `corruptBatch`,
 * `undefined` when it names none. Every record before that batch was delivered; to skip the batch
 * (after deciding its records are lost: a replica may still hold them intact), seek the partition
 * to `lastOffset + 1`.
 */
export class CorruptData extends PyralogError {
  /** This class's error code. */
  static readonly code: 305;
  constructor(code: number, message: string, retryAfterMs?: number | null, corruptBatch?: BatchLocation | null);
  /** Where the batch that cannot be decoded lies; `undefined` when the error names none. */
  readonly corruptBatch: BatchLocation | undefined;
}
/** A batch's sequence leaves a gap after the last one written. (code 400) */
export class OutOfOrderSequence extends PyralogError {
  /** This class's error code. */
  static readonly code: 400;
}
/** A newer producer with the same id exists. (code 401) */
export class ProducerFenced extends PyralogError {
  /** This class's error code. */
  static readonly code: 401;
}
/** The server has no state for this producer id. (code 402) */
export class UnknownProducer extends PyralogError {
  /** This class's error code. */
  static readonly code: 402;
}
/** The member id is not (or no longer) a member of the group; rejoin. (code 500) */
export class UnknownMemberId extends PyralogError {
  /** This class's error code. */
  static readonly code: 500;
}
/** The request carried another generation than the group's; rejoin. (code 501) */
export class IllegalGeneration extends PyralogError {
  /** This class's error code. */
  static readonly code: 501;
}
/** The group is rebalancing; rejoin to get the new assignment. (code 502) */
export class RebalanceInProgress extends PyralogError {
  /** This class's error code. */
  static readonly code: 502;
}
/** No assignor is supported by every member. (code 503) */
export class InconsistentGroupProtocol extends PyralogError {
  /** This class's error code. */
  static readonly code: 503;
}
/** The group has `MAX_GROUP_MEMBERS` members already. (code 504) */
export class GroupMaxSizeReached extends PyralogError {
  /** This class's error code. */
  static readonly code: 504;
}
/** The group name breaks the naming rules of log names. (code 505) */
export class InvalidGroupId extends PyralogError {
  /** This class's error code. */
  static readonly code: 505;
}
/** A session or rebalance timeout is outside the server's bounds. (code 506) */
export class InvalidSessionTimeout extends PyralogError {
  /** This class's error code. */
  static readonly code: 506;
}
/** The operation needs a group without members (offset reset). (code 507) */
export class GroupNotEmpty extends PyralogError {
  /** This class's error code. */
  static readonly code: 507;
}
/** Another process joined with the same static instance id. (code 508) */
export class FencedInstanceId extends PyralogError {
  /** This class's error code. */
  static readonly code: 508;
}
/** No group of that name exists. (code 509) */
export class GroupNotFound extends PyralogError {
  /** This class's error code. */
  static readonly code: 509;
}
/** This server does not coordinate the group (it moved); find the coordinator again and retry. (code 510) */
export class NotCoordinator extends PyralogError {
  /** This class's error code. */
  static readonly code: 510;
}
/** The request carried a stale leader epoch. (code 600) */
export class FencedEpoch extends PyralogError {
  /** This class's error code. */
  static readonly code: 600;
}
/** This server does not lead the partition. (code 601) */
export class NotLeader extends PyralogError {
  /** This class's error code. */
  static readonly code: 601;
}
/** Fewer in-sync replicas than the log's `min_in_sync_replicas`, or fewer live nodes than the replication factor; nothing was acknowledged. (code 602) */
export class NotEnoughReplicas extends PyralogError {
  /** This class's error code. */
  static readonly code: 602;
}
/** The metadata quorum is unreachable from this node; admin changes are refused until a majority of the voters can be reached. (code 603) */
export class QuorumUnavailable extends PyralogError {
  /** This class's error code. */
  static readonly code: 603;
}
/** The connection has no accepted identity: no credentials, a wrong or revoked token, or a client certificate the server does not accept. (code 700) */
export class AuthenticationFailed extends PyralogError {
  /** This class's error code. */
  static readonly code: 700;
}
/** The principal has no ACL allowing the operation on the resource (the message names both); nothing changed. (code 701) */
export class NotAuthorized extends PyralogError {
  /** This class's error code. */
  static readonly code: 701;
}
/** The principal is over a quota (connections or requests per second); retry after the error's `retryAfterMs`. (code 702) */
export class Throttled extends PyralogError {
  /** This class's error code. */
  static readonly code: 702;
}
/** Could not connect, or the connection was lost. (code 900) */
export class ConnectionFailed extends PyralogError {
  /** This class's error code. */
  static readonly code: 900;
}
/** TLS setup or certificate verification failed. (code 901) */
export class TlsError extends PyralogError {
  /** This class's error code. */
  static readonly code: 901;
}
/** The client, producer or consumer was closed. (code 902) */
export class Closed extends PyralogError {
  /** This class's error code. */
  static readonly code: 902;
}
/** An argument was invalid before anything was sent. (code 903) */
export class InvalidArgument extends PyralogError {
  /** This class's error code. */
  static readonly code: 903;
}
/** A local buffer limit was reached. (code 904) */
export class BufferFull extends PyralogError {
  /** This class's error code. */
  static readonly code: 904;
}
/** The caller cancelled the wait (a Go context, a cancel token, a consumer's `wakeup`); the operation itself may still complete. (code 905) */
export class Cancelled extends PyralogError {
  /** This class's error code. */
  static readonly code: 905;
}
/** The consumer is running another call (an unawaited poll, or a rebalance callback calling its own consumer): it serves one caller at a time. (code 906) */
export class ConcurrentCall extends PyralogError {
  /** This class's error code. */
  static readonly code: 906;
}
/** The error class of each code. */
export const BY_CODE: ReadonlyMap<number, typeof PyralogError>;
// END GENERATED ERRORS
