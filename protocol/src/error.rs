//! Stable numeric error codes, grouped by area. A code is never reused or
//! renumbered; new codes take the next free number in their area.

use std::fmt;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $num:literal, )*) => {
        /// A wire error code. Every language binding maps each code to one typed error.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name = $num, )*
        }

        impl ErrorCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code for a number received on the wire; unknown numbers map to
            /// [`ErrorCode::Unknown`] so an older client still reports something typed.
            pub fn from_u16(n: u16) -> ErrorCode {
                match n {
                    $( $num => ErrorCode::$name, )*
                    _ => ErrorCode::Unknown,
                }
            }

            /// The name used in every language (`LogNotFound`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $( ErrorCode::$name => stringify!($name), )*
                }
            }
        }
    };
}

error_codes! {
    // 1xx: request and server
    /// An error the server could not classify; the message says more.
    Unknown = 100,
    /// The request was not a well-formed message of this protocol.
    InvalidRequest = 101,
    /// The request exceeded `MAX_REQUEST_BYTES` or a nesting/traversal limit.
    RequestTooLarge = 102,
    /// A wait ran out of time (durability, long-poll, connect).
    Timeout = 103,
    /// A connection or waiting-room limit of the server was reached; retry later.
    Busy = 104,
    /// The server is shutting down.
    ShuttingDown = 105,
    /// An I/O error in the server's storage; nothing was acknowledged.
    StorageError = 106,
    /// The server's disk is full: nothing was written. Writes resume once
    /// space is freed; reads go on.
    StorageFull = 107,
    /// The node is starting (recovering its replicas, joining the cluster):
    /// it serves requests within seconds; retry shortly.
    NodeStarting = 108,

    // 2xx: logs and partitions
    /// No log of that name exists.
    LogNotFound = 200,
    /// A log of that name already exists.
    LogAlreadyExists = 201,
    /// The log name breaks the naming rules (the message names the bad character).
    InvalidLogId = 202,
    /// The log is paused: writes are rejected, reads are served.
    LogPaused = 203,
    /// A log setting is out of range.
    InvalidConfig = 204,
    /// A partition count is out of range or would shrink the log.
    InvalidPartitions = 205,
    /// The log has no partition with that number.
    PartitionNotFound = 206,
    /// Names starting with `__` belong to internal logs.
    ReservedLogName = 207,
    /// The log is being deleted.
    LogDeleting = 208,

    // 3xx: records and offsets
    /// A record exceeds `MAX_RECORD_BYTES`.
    RecordTooLarge = 300,
    /// A batch exceeds `MAX_BATCH_BYTES` or `MAX_BATCH_RECORDS`.
    BatchTooLarge = 301,
    /// A batch's checksum does not match its bytes.
    CorruptBatch = 302,
    /// A batch is malformed (bad lengths, counts or fields).
    InvalidBatch = 303,
    /// The offset is below the log start or past the end.
    OffsetOutOfRange = 304,
    /// Stored data failed its checksum inside a sealed segment.
    CorruptData = 305,

    // 4xx: producers
    /// A batch's sequence leaves a gap after the last one written.
    OutOfOrderSequence = 400,
    /// A newer producer with the same id exists.
    ProducerFenced = 401,
    /// The server has no state for this producer id.
    UnknownProducer = 402,

    // 5xx: consumer groups
    /// The member id is not (or no longer) a member of the group; rejoin.
    UnknownMemberId = 500,
    /// The request carried another generation than the group's; rejoin.
    IllegalGeneration = 501,
    /// The group is rebalancing; rejoin to get the new assignment.
    RebalanceInProgress = 502,
    /// No assignor is supported by every member.
    InconsistentGroupProtocol = 503,
    /// The group has `MAX_GROUP_MEMBERS` members already.
    GroupMaxSizeReached = 504,
    /// The group name breaks the naming rules of log names.
    InvalidGroupId = 505,
    /// A session or rebalance timeout is outside the server's bounds.
    InvalidSessionTimeout = 506,
    /// The operation needs a group without members (offset reset).
    GroupNotEmpty = 507,
    /// Another process joined with the same static instance id.
    FencedInstanceId = 508,
    /// No group of that name exists.
    GroupNotFound = 509,
    /// This server does not coordinate the group (it moved); find the
    /// coordinator again and retry.
    NotCoordinator = 510,

    // 6xx: leadership
    /// The request carried a stale leader epoch.
    FencedEpoch = 600,
    /// This server does not lead the partition.
    NotLeader = 601,
    /// Fewer in-sync replicas than the log's `min_in_sync_replicas`, or fewer
    /// live nodes than the replication factor; nothing was acknowledged.
    NotEnoughReplicas = 602,
    /// The metadata quorum is unreachable from this node; admin changes are
    /// refused until a majority of the voters can be reached.
    QuorumUnavailable = 603,

    // 7xx: access and quotas
    /// The connection has no accepted identity: no credentials, a wrong or
    /// revoked token, or a client certificate the server does not accept.
    AuthenticationFailed = 700,
    /// The principal has no ACL allowing the operation on the resource
    /// (the message names both); nothing changed.
    NotAuthorized = 701,
    /// The principal is over a quota (connections or requests per second);
    /// retry after the error's `retry_after_ms`.
    Throttled = 702,

    // 9xx: raised by the client, never sent by a server
    /// Could not connect, or the connection was lost.
    ConnectionFailed = 900,
    /// TLS setup or certificate verification failed.
    TlsError = 901,
    /// The client, producer or consumer was closed.
    Closed = 902,
    /// An argument was invalid before anything was sent.
    InvalidArgument = 903,
    /// A local buffer limit was reached.
    BufferFull = 904,
    /// The caller cancelled the wait (a Go context, a cancel token, a
    /// consumer's `wakeup`); the operation itself may still complete.
    Cancelled = 905,
    /// The consumer is running another call (an unawaited poll, or a
    /// rebalance callback calling its own consumer): it serves one caller
    /// at a time.
    ConcurrentCall = 906,
}

impl ErrorCode {
    /// The numeric value sent on the wire.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// Whether a client may retry the same request unchanged.
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorCode::Timeout
                | ErrorCode::Busy
                | ErrorCode::NodeStarting
                | ErrorCode::ShuttingDown
                | ErrorCode::NotLeader
                | ErrorCode::FencedEpoch
                | ErrorCode::NotEnoughReplicas
                | ErrorCode::NotCoordinator
                | ErrorCode::ConnectionFailed
                | ErrorCode::StorageFull
                | ErrorCode::Throttled
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.as_u16())
    }
}

/// An error with its code and a message naming the limit or setting involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
    /// How long to wait before retrying (a `Throttled` answer); 0: no advice.
    pub retry_after_ms: u32,
}

impl ProtocolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError { code, message: message.into(), retry_after_ms: 0 }
    }

    /// A `Throttled` error: retry after `retry_after_ms` (at least 1).
    pub fn throttled(message: impl Into<String>, retry_after_ms: u32) -> Self {
        ProtocolError { code: ErrorCode::Throttled, message: message.into(), retry_after_ms: retry_after_ms.max(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_u16()), "duplicate {code}");
            assert_eq!(ErrorCode::from_u16(code.as_u16()), code);
        }
        assert_eq!(ErrorCode::from_u16(65000), ErrorCode::Unknown);
    }
}
