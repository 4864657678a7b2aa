"""Typed errors: `PyralogError` and one subclass per stable error code.

Every error carries `code` (the number on the wire), `message` and `retry_after_ms`;
`CorruptData` also names the batch that cannot be decoded (`log`, `partition`,
`first_offset`, `last_offset`).
"""

from __future__ import annotations

from . import _pyralog


class PyralogError(Exception):
    """Base of every error raised by pyralog.

    `code`: the stable error code; `message`: what happened; `retry_after_ms`: how long
    the server asked to wait before retrying, in milliseconds (set on `Throttled`), or
    None when it gave no advice."""

    code: int = 0
    message: str = ""
    retry_after_ms: int | None = None

    def __init__(self, code: int, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(f"{type(self).__name__}({code}): {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms


class Unknown(PyralogError):
    """An error the server could not classify; the message says more. (code 100)"""

    code = 100


class InvalidRequest(PyralogError):
    """The request was not a well-formed message of this protocol. (code 101)"""

    code = 101


class RequestTooLarge(PyralogError):
    """The request exceeded `MAX_REQUEST_BYTES` or a nesting/traversal limit. (code 102)"""

    code = 102


class Timeout(PyralogError):
    """A wait ran out of time (durability, long-poll, connect). (code 103)"""

    code = 103


class Busy(PyralogError):
    """A connection or waiting-room limit of the server was reached; retry later. (code 104)"""

    code = 104


class ShuttingDown(PyralogError):
    """The server is shutting down. (code 105)"""

    code = 105


class StorageError(PyralogError):
    """An I/O error in the server's storage; nothing was acknowledged. (code 106)"""

    code = 106


class StorageFull(PyralogError):
    """The server's disk is full: nothing was written. Writes resume once space is freed; reads
    go on. (code 107)"""

    code = 107


class NodeStarting(PyralogError):
    """The node is starting (recovering its replicas, joining the cluster): it serves requests
    within seconds; retry shortly. (code 108)"""

    code = 108


class LogNotFound(PyralogError):
    """No log of that name exists. (code 200)"""

    code = 200


class LogAlreadyExists(PyralogError):
    """A log of that name already exists. (code 201)"""

    code = 201


class InvalidLogId(PyralogError):
    """The log name breaks the naming rules (the message names the bad character). (code 202)"""

    code = 202


class LogPaused(PyralogError):
    """The log is paused: writes are rejected, reads are served. (code 203)"""

    code = 203


class InvalidConfig(PyralogError):
    """A log setting is out of range. (code 204)"""

    code = 204


class InvalidPartitions(PyralogError):
    """A partition count is out of range or would shrink the log. (code 205)"""

    code = 205


class PartitionNotFound(PyralogError):
    """The log has no partition with that number. (code 206)"""

    code = 206


class ReservedLogName(PyralogError):
    """Names starting with `__` belong to internal logs. (code 207)"""

    code = 207


class LogDeleting(PyralogError):
    """The log is being deleted. (code 208)"""

    code = 208


class RecordTooLarge(PyralogError):
    """A record exceeds `MAX_RECORD_BYTES`. (code 300)"""

    code = 300


class BatchTooLarge(PyralogError):
    """A batch exceeds `MAX_BATCH_BYTES` or `MAX_BATCH_RECORDS`. (code 301)"""

    code = 301


class CorruptBatch(PyralogError):
    """A batch's checksum does not match its bytes. (code 302)"""

    code = 302


class InvalidBatch(PyralogError):
    """A batch is malformed (bad lengths, counts or fields). (code 303)"""

    code = 303


class OffsetOutOfRange(PyralogError):
    """The offset is below the log start or past the end. (code 304)"""

    code = 304


class CorruptData(PyralogError):
    """Stored data failed its checksum inside a sealed segment. (code 305)

    Raised for fetched data, it names the batch that cannot be decoded in `log`, `partition`,
    `first_offset` and `last_offset`, None when it names none. Every record before that batch was
    delivered; to skip the batch (after deciding its records are lost: a replica may still hold
    them intact), seek the partition to `last_offset + 1`."""

    code = 305

    #: The log of the batch that cannot be decoded.
    log: str | None = None
    #: Its partition.
    partition: int | None = None
    #: Its first offset (the first record not delivered).
    first_offset: int | None = None
    #: Its last offset: seek to `last_offset + 1` to skip it.
    last_offset: int | None = None

    def __init__(
        self,
        code: int,
        message: str,
        retry_after_ms: int | None = None,
        *,
        log: str | None = None,
        partition: int | None = None,
        first_offset: int | None = None,
        last_offset: int | None = None,
    ) -> None:
        super().__init__(code, message, retry_after_ms)
        self.log = log
        self.partition = partition
        self.first_offset = first_offset
        self.last_offset = last_offset


class OutOfOrderSequence(PyralogError):
    """A batch's sequence leaves a gap after the last one written. (code 400)"""

    code = 400


class ProducerFenced(PyralogError):
    """A newer producer with the same id exists. (code 401)"""

    code = 401


class UnknownProducer(PyralogError):
    """The server has no state for this producer id. (code 402)"""

    code = 402


class UnknownMemberId(PyralogError):
    """The member id is not (or no longer) a member of the group; rejoin. (code 500)"""

    code = 500


class IllegalGeneration(PyralogError):
    """The request carried another generation than the group's; rejoin. (code 501)"""

    code = 501


class RebalanceInProgress(PyralogError):
    """The group is rebalancing; rejoin to get the new assignment. (code 502)"""

    code = 502


class InconsistentGroupProtocol(PyralogError):
    """No assignor is supported by every member. (code 503)"""

    code = 503


class GroupMaxSizeReached(PyralogError):
    """The group has `MAX_GROUP_MEMBERS` members already. (code 504)"""

    code = 504


class InvalidGroupId(PyralogError):
    """The group name breaks the naming rules of log names. (code 505)"""

    code = 505


class InvalidSessionTimeout(PyralogError):
    """A session or rebalance timeout is outside the server's bounds. (code 506)"""

    code = 506


class GroupNotEmpty(PyralogError):
    """The operation needs a group without members (offset reset). (code 507)"""

    code = 507


class FencedInstanceId(PyralogError):
    """Another process joined with the same static instance id. (code 508)"""

    code = 508


class GroupNotFound(PyralogError):
    """No group of that name exists. (code 509)"""

    code = 509


class NotCoordinator(PyralogError):
    """This server does not coordinate the group (it moved); find the coordinator again and
    retry. (code 510)"""

    code = 510


class FencedEpoch(PyralogError):
    """The request carried a stale leader epoch. (code 600)"""

    code = 600


class NotLeader(PyralogError):
    """This server does not lead the partition. (code 601)"""

    code = 601


class NotEnoughReplicas(PyralogError):
    """Fewer in-sync replicas than the log's `min_in_sync_replicas`, or fewer live nodes than the
    replication factor; nothing was acknowledged. (code 602)"""

    code = 602


class QuorumUnavailable(PyralogError):
    """The metadata quorum is unreachable from this node; admin changes are refused until a
    majority of the voters can be reached. (code 603)"""

    code = 603


class AuthenticationFailed(PyralogError):
    """The connection has no accepted identity: no credentials, a wrong or revoked token, or a
    client certificate the server does not accept. (code 700)"""

    code = 700


class NotAuthorized(PyralogError):
    """The principal has no ACL allowing the operation on the resource (the message names both);
    nothing changed. (code 701)"""

    code = 701


class Throttled(PyralogError):
    """The principal is over a quota (connections or requests per second); retry after the
    error's `retry_after_ms`. (code 702)"""

    code = 702


class ConnectionFailed(PyralogError):
    """Could not connect, or the connection was lost. (code 900)"""

    code = 900


class TlsError(PyralogError):
    """TLS setup or certificate verification failed. (code 901)"""

    code = 901


class Closed(PyralogError):
    """The client, producer or consumer was closed. (code 902)"""

    code = 902


class InvalidArgument(PyralogError):
    """An argument was invalid before anything was sent. (code 903)"""

    code = 903


class BufferFull(PyralogError):
    """A local buffer limit was reached. (code 904)"""

    code = 904


class Cancelled(PyralogError):
    """The caller cancelled the wait (a Go context, a cancel token, a consumer's `wakeup`); the
    operation itself may still complete. (code 905)"""

    code = 905


class ConcurrentCall(PyralogError):
    """The consumer is running another call (an unawaited poll, or a rebalance callback calling
    its own consumer): it serves one caller at a time. (code 906)"""

    code = 906


#: Error class per code.
BY_CODE: dict[int, type[PyralogError]] = {
    100: Unknown,
    101: InvalidRequest,
    102: RequestTooLarge,
    103: Timeout,
    104: Busy,
    105: ShuttingDown,
    106: StorageError,
    107: StorageFull,
    108: NodeStarting,
    200: LogNotFound,
    201: LogAlreadyExists,
    202: InvalidLogId,
    203: LogPaused,
    204: InvalidConfig,
    205: InvalidPartitions,
    206: PartitionNotFound,
    207: ReservedLogName,
    208: LogDeleting,
    300: RecordTooLarge,
    301: BatchTooLarge,
    302: CorruptBatch,
    303: InvalidBatch,
    304: OffsetOutOfRange,
    305: CorruptData,
    400: OutOfOrderSequence,
    401: ProducerFenced,
    402: UnknownProducer,
    500: UnknownMemberId,
    501: IllegalGeneration,
    502: RebalanceInProgress,
    503: InconsistentGroupProtocol,
    504: GroupMaxSizeReached,
    505: InvalidGroupId,
    506: InvalidSessionTimeout,
    507: GroupNotEmpty,
    508: FencedInstanceId,
    509: GroupNotFound,
    510: NotCoordinator,
    600: FencedEpoch,
    601: NotLeader,
    602: NotEnoughReplicas,
    603: QuorumUnavailable,
    700: AuthenticationFailed,
    701: NotAuthorized,
    702: Throttled,
    900: ConnectionFailed,
    901: TlsError,
    902: Closed,
    903: InvalidArgument,
    904: BufferFull,
    905: Cancelled,
    906: ConcurrentCall,
}


class UsedAfterFork(Closed):
    """A client, producer or consumer created before `os.fork()` was used in the
    child: its native threads did not survive the fork. Create them in the child."""


def _check_codes() -> None:
    native = dict(_pyralog.error_codes())
    missing = {c: n for c, n in native.items() if c not in BY_CODE or BY_CODE[c].__name__ != n}
    if missing:
        raise ImportError(f"pyralog.errors is out of date with the native module: {missing}")


_check_codes()
_pyralog._register_errors(BY_CODE, UsedAfterFork)

__all__ = [
    "BY_CODE",
    "AuthenticationFailed",
    "BatchTooLarge",
    "BufferFull",
    "Busy",
    "Cancelled",
    "Closed",
    "ConcurrentCall",
    "ConnectionFailed",
    "CorruptBatch",
    "CorruptData",
    "FencedEpoch",
    "FencedInstanceId",
    "GroupMaxSizeReached",
    "GroupNotEmpty",
    "GroupNotFound",
    "IllegalGeneration",
    "InconsistentGroupProtocol",
    "InvalidArgument",
    "InvalidBatch",
    "InvalidConfig",
    "InvalidGroupId",
    "InvalidLogId",
    "InvalidPartitions",
    "InvalidRequest",
    "InvalidSessionTimeout",
    "LogAlreadyExists",
    "LogDeleting",
    "LogNotFound",
    "LogPaused",
    "NodeStarting",
    "NotAuthorized",
    "NotCoordinator",
    "NotEnoughReplicas",
    "NotLeader",
    "OffsetOutOfRange",
    "OutOfOrderSequence",
    "PartitionNotFound",
    "ProducerFenced",
    "PyralogError",
    "QuorumUnavailable",
    "RebalanceInProgress",
    "RecordTooLarge",
    "RequestTooLarge",
    "ReservedLogName",
    "ShuttingDown",
    "StorageError",
    "StorageFull",
    "Throttled",
    "Timeout",
    "TlsError",
    "Unknown",
    "UnknownMemberId",
    "UnknownProducer",
    "UsedAfterFork",
]
