// Code generated from pyralog::ErrorCode; TestErrorCodesMatchTheLibrary keeps it in step. DO NOT EDIT by hand.

package pyralog

// Stable error codes (the numbers of the wire protocol and the C ABI).
const (
	// CodeUnknown: An error the server could not classify; the message says more.
	CodeUnknown Code = 100
	// CodeInvalidRequest: The request was not a well-formed message of this protocol.
	CodeInvalidRequest Code = 101
	// CodeRequestTooLarge: The request exceeded `MAX_REQUEST_BYTES` or a nesting/traversal limit.
	CodeRequestTooLarge Code = 102
	// CodeTimeout: A wait ran out of time (durability, long-poll, connect).
	CodeTimeout Code = 103
	// CodeBusy: A connection or waiting-room limit of the server was reached; retry later.
	CodeBusy Code = 104
	// CodeShuttingDown: The server is shutting down.
	CodeShuttingDown Code = 105
	// CodeStorageError: An I/O error in the server's storage; nothing was acknowledged.
	CodeStorageError Code = 106
	// CodeStorageFull: The server's disk is full: nothing was written. Writes resume once space is freed; reads go on.
	CodeStorageFull Code = 107
	// CodeNodeStarting: The node is starting (recovering its replicas, joining the cluster): it serves requests within seconds; retry shortly.
	CodeNodeStarting Code = 108
	// CodeLogNotFound: No log of that name exists.
	CodeLogNotFound Code = 200
	// CodeLogAlreadyExists: A log of that name already exists.
	CodeLogAlreadyExists Code = 201
	// CodeInvalidLogId: The log name breaks the naming rules (the message names the bad character).
	CodeInvalidLogId Code = 202
	// CodeLogPaused: The log is paused: writes are rejected, reads are served.
	CodeLogPaused Code = 203
	// CodeInvalidConfig: A log setting is out of range.
	CodeInvalidConfig Code = 204
	// CodeInvalidPartitions: A partition count is out of range or would shrink the log.
	CodeInvalidPartitions Code = 205
	// CodePartitionNotFound: The log has no partition with that number.
	CodePartitionNotFound Code = 206
	// CodeReservedLogName: Names starting with `__` belong to internal logs.
	CodeReservedLogName Code = 207
	// CodeLogDeleting: The log is being deleted.
	CodeLogDeleting Code = 208
	// CodeRecordTooLarge: A record exceeds `MAX_RECORD_BYTES`.
	CodeRecordTooLarge Code = 300
	// CodeBatchTooLarge: A batch exceeds `MAX_BATCH_BYTES` or `MAX_BATCH_RECORDS`.
	CodeBatchTooLarge Code = 301
	// CodeCorruptBatch: A batch's checksum does not match its bytes.
	CodeCorruptBatch Code = 302
	// CodeInvalidBatch: A batch is malformed (bad lengths, counts or fields).
	CodeInvalidBatch Code = 303
	// CodeOffsetOutOfRange: The offset is below the log start or past the end.
	CodeOffsetOutOfRange Code = 304
	// CodeCorruptData: Stored data failed its checksum inside a sealed segment.
	CodeCorruptData Code = 305
	// CodeOutOfOrderSequence: A batch's sequence leaves a gap after the last one written.
	CodeOutOfOrderSequence Code = 400
	// CodeProducerFenced: A newer producer with the same id exists.
	CodeProducerFenced Code = 401
	// CodeUnknownProducer: The server has no state for this producer id.
	CodeUnknownProducer Code = 402
	// CodeUnknownMemberId: The member id is not (or no longer) a member of the group; rejoin.
	CodeUnknownMemberId Code = 500
	// CodeIllegalGeneration: The request carried another generation than the group's; rejoin.
	CodeIllegalGeneration Code = 501
	// CodeRebalanceInProgress: The group is rebalancing; rejoin to get the new assignment.
	CodeRebalanceInProgress Code = 502
	// CodeInconsistentGroupProtocol: No assignor is supported by every member.
	CodeInconsistentGroupProtocol Code = 503
	// CodeGroupMaxSizeReached: The group has `MAX_GROUP_MEMBERS` members already.
	CodeGroupMaxSizeReached Code = 504
	// CodeInvalidGroupId: The group name breaks the naming rules of log names.
	CodeInvalidGroupId Code = 505
	// CodeInvalidSessionTimeout: A session or rebalance timeout is outside the server's bounds.
	CodeInvalidSessionTimeout Code = 506
	// CodeGroupNotEmpty: The operation needs a group without members (offset reset).
	CodeGroupNotEmpty Code = 507
	// CodeFencedInstanceId: Another process joined with the same static instance id.
	CodeFencedInstanceId Code = 508
	// CodeGroupNotFound: No group of that name exists.
	CodeGroupNotFound Code = 509
	// CodeNotCoordinator: This server does not coordinate the group (it moved); find the coordinator again and retry.
	CodeNotCoordinator Code = 510
	// CodeFencedEpoch: The request carried a stale leader epoch.
	CodeFencedEpoch Code = 600
	// CodeNotLeader: This server does not lead the partition.
	CodeNotLeader Code = 601
	// CodeNotEnoughReplicas: Fewer in-sync replicas than the log's `min_in_sync_replicas`, or fewer live nodes than the replication factor; nothing was acknowledged.
	CodeNotEnoughReplicas Code = 602
	// CodeQuorumUnavailable: The metadata quorum is unreachable from this node; admin changes are refused until a majority of the voters can be reached.
	CodeQuorumUnavailable Code = 603
	// CodeAuthenticationFailed: The connection has no accepted identity: no credentials, a wrong or revoked token, or a client certificate the server does not accept.
	CodeAuthenticationFailed Code = 700
	// CodeNotAuthorized: The principal has no ACL allowing the operation on the resource (the message names both); nothing changed.
	CodeNotAuthorized Code = 701
	// CodeThrottled: The principal is over a quota (connections or requests per second); retry after the error's `retry_after_ms`.
	CodeThrottled Code = 702
	// CodeConnectionFailed: Could not connect, or the connection was lost.
	CodeConnectionFailed Code = 900
	// CodeTlsError: TLS setup or certificate verification failed.
	CodeTlsError Code = 901
	// CodeClosed: The client, producer or consumer was closed.
	CodeClosed Code = 902
	// CodeInvalidArgument: An argument was invalid before anything was sent.
	CodeInvalidArgument Code = 903
	// CodeBufferFull: A local buffer limit was reached.
	CodeBufferFull Code = 904
	// CodeCancelled: The caller cancelled the wait (a Go context, a cancel token, a consumer's `wakeup`); the operation itself may still complete.
	CodeCancelled Code = 905
	// CodeConcurrentCall: The consumer is running another call (an unawaited poll, or a rebalance callback calling its own consumer): it serves one caller at a time.
	CodeConcurrentCall Code = 906
)

// Sentinels, one per code, for errors.Is(err, pyralog.ErrLogNotFound).
var (
	ErrUnknown                   = &Error{Code: CodeUnknown}
	ErrInvalidRequest            = &Error{Code: CodeInvalidRequest}
	ErrRequestTooLarge           = &Error{Code: CodeRequestTooLarge}
	ErrTimeout                   = &Error{Code: CodeTimeout}
	ErrBusy                      = &Error{Code: CodeBusy}
	ErrShuttingDown              = &Error{Code: CodeShuttingDown}
	ErrStorageError              = &Error{Code: CodeStorageError}
	ErrStorageFull               = &Error{Code: CodeStorageFull}
	ErrNodeStarting              = &Error{Code: CodeNodeStarting}
	ErrLogNotFound               = &Error{Code: CodeLogNotFound}
	ErrLogAlreadyExists          = &Error{Code: CodeLogAlreadyExists}
	ErrInvalidLogId              = &Error{Code: CodeInvalidLogId}
	ErrLogPaused                 = &Error{Code: CodeLogPaused}
	ErrInvalidConfig             = &Error{Code: CodeInvalidConfig}
	ErrInvalidPartitions         = &Error{Code: CodeInvalidPartitions}
	ErrPartitionNotFound         = &Error{Code: CodePartitionNotFound}
	ErrReservedLogName           = &Error{Code: CodeReservedLogName}
	ErrLogDeleting               = &Error{Code: CodeLogDeleting}
	ErrRecordTooLarge            = &Error{Code: CodeRecordTooLarge}
	ErrBatchTooLarge             = &Error{Code: CodeBatchTooLarge}
	ErrCorruptBatch              = &Error{Code: CodeCorruptBatch}
	ErrInvalidBatch              = &Error{Code: CodeInvalidBatch}
	ErrOffsetOutOfRange          = &Error{Code: CodeOffsetOutOfRange}
	ErrCorruptData               = &Error{Code: CodeCorruptData}
	ErrOutOfOrderSequence        = &Error{Code: CodeOutOfOrderSequence}
	ErrProducerFenced            = &Error{Code: CodeProducerFenced}
	ErrUnknownProducer           = &Error{Code: CodeUnknownProducer}
	ErrUnknownMemberId           = &Error{Code: CodeUnknownMemberId}
	ErrIllegalGeneration         = &Error{Code: CodeIllegalGeneration}
	ErrRebalanceInProgress       = &Error{Code: CodeRebalanceInProgress}
	ErrInconsistentGroupProtocol = &Error{Code: CodeInconsistentGroupProtocol}
	ErrGroupMaxSizeReached       = &Error{Code: CodeGroupMaxSizeReached}
	ErrInvalidGroupId            = &Error{Code: CodeInvalidGroupId}
	ErrInvalidSessionTimeout     = &Error{Code: CodeInvalidSessionTimeout}
	ErrGroupNotEmpty             = &Error{Code: CodeGroupNotEmpty}
	ErrFencedInstanceId          = &Error{Code: CodeFencedInstanceId}
	ErrGroupNotFound             = &Error{Code: CodeGroupNotFound}
	ErrNotCoordinator            = &Error{Code: CodeNotCoordinator}
	ErrFencedEpoch               = &Error{Code: CodeFencedEpoch}
	ErrNotLeader                 = &Error{Code: CodeNotLeader}
	ErrNotEnoughReplicas         = &Error{Code: CodeNotEnoughReplicas}
	ErrQuorumUnavailable         = &Error{Code: CodeQuorumUnavailable}
	ErrAuthenticationFailed      = &Error{Code: CodeAuthenticationFailed}
	ErrNotAuthorized             = &Error{Code: CodeNotAuthorized}
	ErrThrottled                 = &Error{Code: CodeThrottled}
	ErrConnectionFailed          = &Error{Code: CodeConnectionFailed}
	ErrTlsError                  = &Error{Code: CodeTlsError}
	ErrClosed                    = &Error{Code: CodeClosed}
	ErrInvalidArgument           = &Error{Code: CodeInvalidArgument}
	ErrBufferFull                = &Error{Code: CodeBufferFull}
	ErrCancelled                 = &Error{Code: CodeCancelled}
	ErrConcurrentCall            = &Error{Code: CodeConcurrentCall}
)

var codeNames = map[Code]string{
	CodeUnknown:                   "Unknown",
	CodeInvalidRequest:            "InvalidRequest",
	CodeRequestTooLarge:           "RequestTooLarge",
	CodeTimeout:                   "Timeout",
	CodeBusy:                      "Busy",
	CodeShuttingDown:              "ShuttingDown",
	CodeStorageError:              "StorageError",
	CodeStorageFull:               "StorageFull",
	CodeNodeStarting:              "NodeStarting",
	CodeLogNotFound:               "LogNotFound",
	CodeLogAlreadyExists:          "LogAlreadyExists",
	CodeInvalidLogId:              "InvalidLogId",
	CodeLogPaused:                 "LogPaused",
	CodeInvalidConfig:             "InvalidConfig",
	CodeInvalidPartitions:         "InvalidPartitions",
	CodePartitionNotFound:         "PartitionNotFound",
	CodeReservedLogName:           "ReservedLogName",
	CodeLogDeleting:               "LogDeleting",
	CodeRecordTooLarge:            "RecordTooLarge",
	CodeBatchTooLarge:             "BatchTooLarge",
	CodeCorruptBatch:              "CorruptBatch",
	CodeInvalidBatch:              "InvalidBatch",
	CodeOffsetOutOfRange:          "OffsetOutOfRange",
	CodeCorruptData:               "CorruptData",
	CodeOutOfOrderSequence:        "OutOfOrderSequence",
	CodeProducerFenced:            "ProducerFenced",
	CodeUnknownProducer:           "UnknownProducer",
	CodeUnknownMemberId:           "UnknownMemberId",
	CodeIllegalGeneration:         "IllegalGeneration",
	CodeRebalanceInProgress:       "RebalanceInProgress",
	CodeInconsistentGroupProtocol: "InconsistentGroupProtocol",
	CodeGroupMaxSizeReached:       "GroupMaxSizeReached",
	CodeInvalidGroupId:            "InvalidGroupId",
	CodeInvalidSessionTimeout:     "InvalidSessionTimeout",
	CodeGroupNotEmpty:             "GroupNotEmpty",
	CodeFencedInstanceId:          "FencedInstanceId",
	CodeGroupNotFound:             "GroupNotFound",
	CodeNotCoordinator:            "NotCoordinator",
	CodeFencedEpoch:               "FencedEpoch",
	CodeNotLeader:                 "NotLeader",
	CodeNotEnoughReplicas:         "NotEnoughReplicas",
	CodeQuorumUnavailable:         "QuorumUnavailable",
	CodeAuthenticationFailed:      "AuthenticationFailed",
	CodeNotAuthorized:             "NotAuthorized",
	CodeThrottled:                 "Throttled",
	CodeConnectionFailed:          "ConnectionFailed",
	CodeTlsError:                  "TlsError",
	CodeClosed:                    "Closed",
	CodeInvalidArgument:           "InvalidArgument",
	CodeBufferFull:                "BufferFull",
	CodeCancelled:                 "Cancelled",
	CodeConcurrentCall:            "ConcurrentCall",
}
