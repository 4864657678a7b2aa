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
    initProducer @13 :InitProducerRequest;
    joinGroup @14 :JoinGroupRequest;
    syncGroup @15 :SyncGroupRequest;
    heartbeat @16 :HeartbeatRequest;
    leaveGroup @17 :LeaveGroupRequest;
    offsetCommit @18 :OffsetCommitRequest;
    offsetFetch @19 :OffsetFetchRequest;
    listGroups @20 :Void;
    describeGroup @21 :GroupName;
    # The server's metrics in the Prometheus text format (what /metrics serves).
    metrics @22 :Void;
    # Authenticates this connection with a bearer token (from
    # `pyralog-server token create`); a client sends it first, before any
    # other request, when the server requires authentication and the
    # connection presented no client certificate.
    authenticate @23 :AuthenticateRequest;
    # ACLs of the cluster (allow rules); changing them needs `alter` on
    # `cluster`, listing them `describe` on `cluster`.
    aclAdd @24 :Acl;
    aclRemove @25 :Acl;
    aclList @26 :Void;
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
    initProducer @14 :InitProducerResponse;
    joinGroup @15 :JoinGroupResponse;
    syncGroup @16 :SyncGroupResponse;
    heartbeat @17 :Void;
    leaveGroup @18 :Void;
    offsetCommit @19 :OffsetCommitResponse;
    offsetFetch @20 :OffsetFetchResponse;
    listGroups @21 :List(GroupSummary);
    describeGroup @22 :GroupDescription;
    # Prometheus text format, UTF-8.
    metrics @23 :Data;
    authenticate @24 :AuthenticateResponse;
    aclAdd @25 :Void;
    # Whether the ACL existed (and is now gone).
    aclRemove @26 :Bool;
    aclList @27 :List(Acl);
  }
}

struct Error {
  # Stable numeric code, see protocol/src/error.rs and docs/PROTOCOL.md.
  code @0 :UInt16;
  message @1 :Text;
  # How long to wait before retrying (`Throttled`); 0: no advice.
  retryAfterMs @2 :UInt32;
}

struct AuthenticateRequest {
  token @0 :Text;
}

struct AuthenticateResponse {
  # Who the connection acts as from now on.
  principal @0 :Text;
}

# One allow rule, in the text forms of docs/SECURITY.md:
# principal `alice` or `*`; operation `read | write | create | delete |
# alter | describe`; resource `log:NAME`, `log:PREFIX*`, `group:NAME`,
# `group:PREFIX*` or `cluster`.
struct Acl {
  principal @0 :Text;
  operation @1 :Text;
  resource @2 :Text;
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
  # The node leading the metadata quorum (0xFFFFFFFF: none known).
  controllerId @2 :UInt32;
  clusterId @3 :Text;
}

struct Broker {
  nodeId @0 :UInt32;
  address @1 :Text;
  # The controller lost this node's heartbeats: it leads nothing.
  fenced @2 :Bool;
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
  cleanupPolicy @9 :CleanupPolicy;
  # How long a compacted log keeps a tombstone (0: one day).
  deleteRetentionMs @10 :Int64;
}

enum CleanupPolicy {
  delete @0;
  compact @1;
  compactDelete @2;
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
  # Replicas whose node could not open them (a full or failing disk): a
  # partition without a leader and with offline replicas is unavailable
  # until an operator mends the node, not for a moment.
  offlineReplicas @7 :List(UInt32);
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
  # One record batch (docs/FORMAT.md), server-assigned fields zero: here, or
  # (what the client sends) empty with the batch as the stream's payload.
  batch @2 :Data;
  # Wait this long at most for durability before answering `timeout`.
  timeoutMs @3 :UInt32;
  # Length of the batch sent as the payload after this message (0: the batch
  # is in `batch`). docs/PROTOCOL.md, "Payload".
  batchBytes @4 :UInt32;
  # When to answer: once every in-sync replica holds the batch (the default),
  # once the leader does (durable per the log's flush policy), or once the
  # leader wrote it.
  acks @5 :Acks;
}

enum Acks {
  all @0;
  leader @1;
  none @2;
}

struct ProduceResponse {
  baseOffset @0 :UInt64;
  leaderEpoch @1 :UInt64;
  # The server's append time (ms since the Unix epoch).
  appendTimeMs @2 :Int64;
  logStartOffset @3 :UInt64;
  # True when the batch was a retry of one already written: the offsets are
  # the original ones and nothing was written again.
  duplicate @4 :Bool;
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
  # Whole record batches, concatenated as stored: here, or (what the server
  # sends) empty with the batches in the response's payload.
  records @6 :Data;
  # Length of this partition's batches in the payload after the message;
  # the partitions' payloads follow one another in list order.
  recordsBytes @7 :UInt32;
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

# --- Idempotent producers (VLSN) ---------------------------------------------

struct InitProducerRequest {
  # 2^64-1: allocate a new producer id (epoch 0). Otherwise resume this id:
  # the server bumps its epoch, and batches of any older epoch are fenced.
  producerId @0 :UInt64;
  # With a resumed id: the epoch the caller last held.
  producerEpoch @1 :UInt16;
}

struct InitProducerResponse {
  producerId @0 :UInt64;
  producerEpoch @1 :UInt16;
}

# --- Consumer groups ------------------------------------------------------------

struct GroupName {
  name @0 :Text;
}

struct LogPartitions {
  log @0 :Text;
  partitions @1 :List(UInt32);
}

# What a member asks for and holds, sent with JoinGroup for one assignor.
struct MemberSubscription {
  logs @0 :List(Text);
  # Partitions the member owns now (cooperative rebalancing keeps them).
  owned @1 :List(LogPartitions);
}

struct GroupProtocol {
  # Assignor name: "range", "roundrobin", "cooperative-sticky".
  name @0 :Text;
  subscription @1 :MemberSubscription;
}

struct JoinGroupRequest {
  group @0 :Text;
  # Empty on the first join: the coordinator assigns one.
  memberId @1 :Text;
  # Static membership: a stable id that keeps its member id across restarts.
  groupInstanceId @2 :Text;
  sessionTimeoutMs @3 :UInt32;
  rebalanceTimeoutMs @4 :UInt32;
  # In preference order; the group uses the first every member supports.
  protocols @5 :List(GroupProtocol);
}

struct JoinedMember {
  memberId @0 :Text;
  groupInstanceId @1 :Text;
  subscription @2 :MemberSubscription;
}

struct JoinGroupResponse {
  generation @0 :Int32;
  protocol @1 :Text;
  leaderId @2 :Text;
  memberId @3 :Text;
  # Every member with its subscription; only the leader receives it.
  members @4 :List(JoinedMember);
}

struct MemberAssignment {
  memberId @0 :Text;
  partitions @1 :List(LogPartitions);
}

struct SyncGroupRequest {
  group @0 :Text;
  generation @1 :Int32;
  memberId @2 :Text;
  # From the leader only: every member's assignment.
  assignments @3 :List(MemberAssignment);
}

struct SyncGroupResponse {
  partitions @0 :List(LogPartitions);
}

struct HeartbeatRequest {
  group @0 :Text;
  generation @1 :Int32;
  memberId @2 :Text;
}

struct LeaveGroupRequest {
  group @0 :Text;
  memberId @1 :Text;
}

struct PartitionOffset {
  log @0 :Text;
  partition @1 :UInt32;
  offset @2 :UInt64;
  metadata @3 :Text;
}

struct OffsetCommitRequest {
  group @0 :Text;
  # -1 with an empty member id: an administrative commit, allowed only while
  # the group has no members (offset resets).
  generation @1 :Int32;
  memberId @2 :Text;
  offsets @3 :List(PartitionOffset);
}

struct OffsetCommitResponse {
  # The committed offsets, as stored.
  offsets @0 :List(PartitionOffset);
}

struct OffsetFetchRequest {
  group @0 :Text;
  # Empty: every committed offset of the group.
  partitions @1 :List(LogPartitions);
}

struct OffsetFetchResponse {
  # Partitions without a commit are left out.
  offsets @0 :List(PartitionOffset);
}

enum GroupState {
  empty @0;
  preparingRebalance @1;
  completingRebalance @2;
  stable @3;
}

struct GroupSummary {
  name @0 :Text;
  state @1 :GroupState;
  memberCount @2 :UInt32;
  protocol @3 :Text;
  generation @4 :Int32;
}

struct MemberDescription {
  memberId @0 :Text;
  groupInstanceId @1 :Text;
  partitions @2 :List(LogPartitions);
}

struct GroupOffset {
  log @0 :Text;
  partition @1 :UInt32;
  committed @2 :UInt64;
  # The partition's high watermark minus the committed offset.
  lag @3 :UInt64;
}

struct GroupDescription {
  summary @0 :GroupSummary;
  members @1 :List(MemberDescription);
  offsets @2 :List(GroupOffset);
}

# --- Node to node (ALPN "pyralog-peer/1", mutual TLS under the cluster CA) ---
#
# One request and its response per bidirectional stream, as for clients. A
# node accepts a peer request only on a connection whose client certificate
# the cluster CA signed for `pyralog-node-<fromNode>`, and only when the
# sender's cluster id and voter list equal its own. Raft messages travel as
# the JSON of the Raft library's own types (docs/PROTOCOL.md, "Peers").

struct PeerRequest {
  clusterId @0 :Text;
  fromNode @1 :UInt32;
  # The voter list as configured, canonical: "1@host:port,2@host:port".
  voters @2 :Text;
  union {
    # Checks the two nodes agree on the cluster (sent at start).
    hello @3 :Void;
    raftAppendEntries @4 :Data;
    raftVote @5 :Data;
    # {vote, meta, data}: a whole metadata snapshot.
    raftSnapshot @6 :Data;
    # A metadata command (JSON), forwarded to the controller.
    propose @7 :Data;
    # Answers once the receiver applied metadata up to `index`.
    awaitApplied @8 :AwaitAppliedRequest;
    # A node tells the controller it is alive.
    heartbeat @9 :NodeHeartbeat;
    # A follower fetches a partition's batches from its leader (long-poll).
    replicaFetch @10 :ReplicaFetchRequest;
    # A follower asks where one of its epochs ends on the leader.
    epochEnd @11 :EpochEndRequest;
  }
}

struct PeerResponse {
  union {
    error @0 :Error;
    hello @1 :Void;
    # The Raft library's response (JSON).
    raft @2 :Data;
    proposed @3 :ProposeResponse;
    applied @4 :UInt64;
    heartbeat @5 :HeartbeatResponse;
    # The batches follow the message as its payload (`recordsBytes` long).
    replicaFetch @6 :ReplicaFetchResponse;
    epochEnd @7 :EpochEndResponse;
  }
}

struct HeartbeatResponse {
  # The controller fenced the sender: it must register again.
  fenced @0 :Bool;
}

struct ReplicaFetchRequest {
  log @0 :Text;
  partition @1 :UInt32;
  # The log's incarnation (a re-created log is another log).
  incarnation @2 :UInt64;
  # The leader epoch the follower follows; `fencedEpoch` unless the leader's.
  leaderEpoch @3 :UInt64;
  # The follower's log end: it holds every record below.
  fetchOffset @4 :UInt64;
  # Below this the follower's copy counts for acknowledgements (durable when
  # the log fsyncs before acknowledging).
  ackedOffset @5 :UInt64;
  maxBytes @6 :UInt32;
  maxWaitMs @7 :UInt32;
}

struct ReplicaFetchResponse {
  highWatermark @0 :UInt64;
  logStartOffset @1 :UInt64;
  logEndOffset @2 :UInt64;
  recordsBytes @3 :UInt32;
}

struct EpochEndRequest {
  log @0 :Text;
  partition @1 :UInt32;
  incarnation @2 :UInt64;
  # The leader epoch the follower follows (fencing, as in replicaFetch).
  leaderEpoch @3 :UInt64;
  # The follower's latest epoch.
  epoch @4 :UInt64;
}

struct EpochEndResponse {
  # The largest epoch at or below the one asked about that the leader holds
  # (0xFFFFFFFFFFFFFFFF: none), and where it ends on the leader.
  epoch @0 :UInt64;
  endOffset @1 :UInt64;
}

struct AwaitAppliedRequest {
  index @0 :UInt64;
  timeoutMs @1 :UInt32;
}

struct ProposeResponse {
  # Raft index of the committed command.
  index @0 :UInt64;
  # What applying it produced (JSON).
  outcome @1 :Data;
}

struct NodeHeartbeat {
  # Metadata applied by the sender so far.
  appliedIndex @0 :UInt64;
  # Changes every process start.
  incarnation @1 :UInt64;
}
