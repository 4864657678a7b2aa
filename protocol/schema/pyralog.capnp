# Pyralog wire protocol, version 1 (ALPN "pyralog/1").
#
# One bidirectional QUIC stream carries exactly one request and its response:
# the client writes one `Request` message (Cap'n Proto standard framing) and
# finishes its side; the server answers one `Response` message and finishes.
# Record batches travel as opaque `Data` in the batch format of docs/FORMAT.md.
# Ordinals are never reused; new requests take new ordinals.

@0xc4a1d2b7e9f03a51;

struct Request {
  union {
    metadata @0 :MetadataRequest;
    createLog @1 :CreateLogRequest;
    listLogs @2 :Void;
    describeLog @3 :LogName;
    updateLogConfig @4 :UpdateLogConfigRequest;
    pauseLog @5 :LogName;
    resumeLog @6 :LogName;
    deleteLog @7 :LogName;
    addPartitions @8 :AddPartitionsRequest;
    logStats @9 :LogName;
    produce @10 :ProduceRequest;
    fetch @11 :FetchRequest;
    listOffsets @12 :ListOffsetsRequest;
  }
}

struct Response {
  union {
    # Any request may be answered with an error instead of its own response.
    error @0 :Error;
    metadata @1 :MetadataResponse;
    createLog @2 :LogMetadata;
    listLogs @3 :List(LogMetadata);
    describeLog @4 :LogMetadata;
    updateLogConfig @5 :LogMetadata;
    pauseLog @6 :LogMetadata;
    resumeLog @7 :LogMetadata;
    deleteLog @8 :Void;
    addPartitions @9 :LogMetadata;
    logStats @10 :LogStats;
    produce @11 :ProduceResponse;
    fetch @12 :FetchResponse;
    listOffsets @13 :ListOffsetsResponse;
  }
}

struct Error {
  # Stable numeric code, see protocol/src/error.rs and docs/PROTOCOL.md.
  code @0 :UInt16;
  message @1 :Text;
}

struct LogName {
  name @0 :Text;
}

struct MetadataRequest {
  # Empty list: every log.
  logs @0 :List(Text);
}

struct MetadataResponse {
  brokers @0 :List(Broker);
  logs @1 :List(LogMetadata);
}

struct Broker {
  nodeId @0 :UInt32;
  address @1 :Text;
}

enum LogState {
  active @0;
  paused @1;
  deleting @2;
}

enum PartitioningMode {
  static @0;
  dynamic @1;
}

enum FlushPolicy {
  # Follow the server's default.
  serverDefault @0;
  # fsync before acknowledging (group commit).
  always @1;
  # fsync at least every `flushIntervalMs`; acknowledge after the write.
  interval @2;
  # Never fsync explicitly; the OS writes back.
  never @3;
}

enum TimestampType {
  createTime @0;
  logAppendTime @1;
}

struct LogConfig {
  # 0 in an optional field means "not set": no limit, or the server default.
  retentionMs @0 :Int64;
  retentionBytes @1 :Int64;
  minInSyncReplicas @2 :UInt32;
  flushPolicy @3 :FlushPolicy;
  flushIntervalMs @4 :UInt32;
  segmentBytes @5 :UInt64;
  segmentMs @6 :Int64;
  timestampType @7 :TimestampType;
  partitioningMode @8 :PartitioningMode;
}

struct LogMetadata {
  name @0 :Text;
  partitionCount @1 :UInt32;
  replicationFactor @2 :UInt32;
  config @3 :LogConfig;
  createdAtMs @4 :Int64;
  state @5 :LogState;
  partitions @6 :List(PartitionMetadata);
}

struct PartitionMetadata {
  partition @0 :UInt32;
  leader @1 :UInt32;
  replicas @2 :List(UInt32);
  isr @3 :List(UInt32);
  leaderEpoch @4 :UInt64;
  logStartOffset @5 :UInt64;
  highWatermark @6 :UInt64;
}

struct CreateLogRequest {
  name @0 :Text;
  partitionCount @1 :UInt32;
  replicationFactor @2 :UInt32;
  config @3 :LogConfig;
}

struct UpdateLogConfigRequest {
  name @0 :Text;
  config @1 :LogConfig;
}

struct AddPartitionsRequest {
  name @0 :Text;
  # The new total number of partitions.
  partitionCount @1 :UInt32;
}

struct LogStats {
  name @0 :Text;
  recordCount @1 :UInt64;
  sizeBytes @2 :UInt64;
  # Records appended per second, averaged over the last minute.
  writeRate @3 :Float64;
  partitions @4 :List(PartitionStats);
}

struct PartitionStats {
  partition @0 :UInt32;
  logStartOffset @1 :UInt64;
  highWatermark @2 :UInt64;
  sizeBytes @3 :UInt64;
  segmentCount @4 :UInt32;
}

struct ProduceRequest {
  log @0 :Text;
  partition @1 :UInt32;
  # One record batch (docs/FORMAT.md), server-assigned fields zero.
  batch @2 :Data;
  # Wait this long at most for durability before answering `timeout`.
  timeoutMs @3 :UInt32;
}

struct ProduceResponse {
  baseOffset @0 :UInt64;
  leaderEpoch @1 :UInt64;
  # The server's append time (ms since the Unix epoch).
  appendTimeMs @2 :Int64;
  logStartOffset @3 :UInt64;
}

struct FetchRequest {
  partitions @0 :List(FetchPartition);
  # Long-poll: answer when `minBytes` are available or after `maxWaitMs`.
  maxWaitMs @1 :UInt32;
  minBytes @2 :UInt32;
  # Total bytes of batches over all partitions (at least one batch is always
  # returned for the first partition that has one, even if larger).
  maxBytes @3 :UInt32;
}

struct FetchPartition {
  log @0 :Text;
  partition @1 :UInt32;
  offset @2 :UInt64;
  maxBytes @3 :UInt32;
}

struct FetchResponse {
  partitions @0 :List(FetchedPartition);
}

struct FetchedPartition {
  log @0 :Text;
  partition @1 :UInt32;
  # 0 when this partition's fetch succeeded.
  errorCode @2 :UInt16;
  errorMessage @3 :Text;
  highWatermark @4 :UInt64;
  logStartOffset @5 :UInt64;
  # Whole record batches, concatenated as stored.
  records @6 :Data;
}

enum OffsetSpec {
  earliest @0;
  latest @1;
  timestamp @2;
}

struct ListOffsetsRequest {
  log @0 :Text;
  partition @1 :UInt32;
  spec @2 :OffsetSpec;
  # With spec = timestamp: the first offset whose timestamp is >= this.
  timestampMs @3 :Int64;
}

struct ListOffsetsResponse {
  # With spec = timestamp and no such record: the log end offset.
  offset @0 :UInt64;
  leaderEpoch @1 :UInt64;
  timestampMs @2 :Int64;
}
