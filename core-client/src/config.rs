//! Client, producer and consumer settings, with Kafka-like defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::partitioner::Partitioner;
use crate::Compression;

/// Default wait for a connection (handshake included).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default wait for one request's response.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Cached metadata older than this is refreshed.
pub const DEFAULT_METADATA_MAX_AGE: Duration = Duration::from_secs(30);

/// Connection settings.
#[derive(Clone)]
pub struct ClientConfig {
    /// PEM file of the CA that signed the server certificate. Required: there
    /// is no insecure mode.
    pub ca_file: Option<PathBuf>,
    /// TLS server name; defaults to the host part of the address.
    pub server_name: Option<String>,
    /// Client certificate (PEM) and its private key: the connection's
    /// identity on a server that authenticates clients by mTLS (the
    /// principal is the certificate's subject CN, or a SAN). Both or neither.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Bearer token (`pyralog-server token create NAME`): every connection
    /// authenticates with it before its first request.
    pub token: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub metadata_max_age: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            ca_file: None,
            server_name: None,
            cert_file: None,
            key_file: None,
            token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            metadata_max_age: DEFAULT_METADATA_MAX_AGE,
        }
    }
}

/// Every field but the token, which shows as `<redacted>`.
impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("ca_file", &self.ca_file)
            .field("server_name", &self.server_name)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("metadata_max_age", &self.metadata_max_age)
            .finish()
    }
}

impl ClientConfig {
    /// Checks what can be checked before connecting.
    ///
    /// # Errors
    /// `InvalidArgument`: an empty token or one over `MAX_TOKEN_BYTES`.
    pub fn validate(&self) -> crate::Result<()> {
        use pyralog_protocol::limits::MAX_TOKEN_BYTES;
        match &self.token {
            Some(t) if t.is_empty() || t.len() > MAX_TOKEN_BYTES => Err(crate::Error::invalid_argument(format!(
                "token must be 1..={MAX_TOKEN_BYTES} bytes (MAX_TOKEN_BYTES); leave it unset for none"
            ))),
            _ => Ok(()),
        }
    }

    /// Settings trusting the CA in `path`.
    pub fn with_ca_file(path: impl Into<PathBuf>) -> Self {
        ClientConfig { ca_file: Some(path.into()), ..ClientConfig::default() }
    }
}

/// When the server acknowledges a produced batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acks {
    /// Once every in-sync replica holds it (and, under the log's flush
    /// policy, has it durable): survives the loss of any node but the last
    /// in-sync one. The default.
    #[default]
    All,
    /// Once the partition leader holds it (durable per the flush policy):
    /// lost if the leader dies before the followers copy it.
    Leader,
    /// Once the leader wrote it, durable or not.
    None,
}

impl std::str::FromStr for Acks {
    type Err = crate::error::Error;

    /// `all`, `leader` or `none` (also Kafka's `-1`, `1` and `0`), as the
    /// bindings and the CLI spell them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "all" | "-1" => Ok(Acks::All),
            "leader" | "1" => Ok(Acks::Leader),
            "none" | "0" => Ok(Acks::None),
            other => Err(crate::error::Error::invalid_argument(format!(
                "acks must be \"all\", \"leader\" or \"none\", not {other:?}"
            ))),
        }
    }
}

impl std::fmt::Display for Acks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Acks::All => "all",
            Acks::Leader => "leader",
            Acks::None => "none",
        })
    }
}

impl From<Acks> for pyralog_protocol::pyralog_capnp::Acks {
    fn from(a: Acks) -> Self {
        match a {
            Acks::All => pyralog_protocol::pyralog_capnp::Acks::All,
            Acks::Leader => pyralog_protocol::pyralog_capnp::Acks::Leader,
            Acks::None => pyralog_protocol::pyralog_capnp::Acks::None,
        }
    }
}

/// Producer settings.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// A partition's batch is sent when it reaches this many bytes.
    pub batch_size: usize,
    /// ...or when its oldest record has waited this long.
    pub linger: Duration,
    /// Records waiting to be sent may hold at most this many bytes; `send`
    /// waits for room, up to `max_block`.
    pub buffer_memory: usize,
    pub max_block: Duration,
    /// A record not acknowledged within this time fails with `Timeout`.
    pub delivery_timeout: Duration,
    /// Wait between retries of a failed batch.
    pub retry_backoff: Duration,
    pub partitioner: Partitioner,
    /// Stamp batches with a producer id and VLSN so the server writes each
    /// exactly once, in order, across retries. Without it a retried batch may
    /// be written twice, and with `max_in_flight > 1` out of order.
    pub idempotence: bool,
    /// Batches of one partition sent and not yet acknowledged, at most
    /// (1..=`MAX_IN_FLIGHT_BATCHES_PER_PARTITION`).
    pub max_in_flight: usize,
    /// Continue as this earlier producer identity (from
    /// [`crate::Producer::identity`]): the server bumps its epoch, and the
    /// earlier incarnation's writes fail with `ProducerFenced` from then on.
    pub resume: Option<crate::record::ProducerIdentity>,
    /// When the server acknowledges a batch (default: every in-sync replica).
    pub acks: Acks,
    /// How batches are compressed before they are sent (default: not at
    /// all). The server stores them compressed; consumers decompress.
    /// `batch_size` counts the uncompressed records.
    pub compression: Compression,
}

/// Default producer batch size.
pub const DEFAULT_BATCH_SIZE: usize = 256 * 1024;
/// Default batches in flight per partition.
pub const DEFAULT_MAX_IN_FLIGHT: usize = pyralog_protocol::limits::MAX_IN_FLIGHT_BATCHES_PER_PARTITION;
/// Default producer buffer.
pub const DEFAULT_BUFFER_MEMORY: usize = 64 * 1024 * 1024;

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            batch_size: DEFAULT_BATCH_SIZE,
            linger: Duration::from_millis(5),
            buffer_memory: DEFAULT_BUFFER_MEMORY,
            max_block: Duration::from_secs(60),
            delivery_timeout: Duration::from_secs(120),
            retry_backoff: Duration::from_millis(100),
            partitioner: Partitioner::Default,
            idempotence: true,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            resume: None,
            acks: Acks::All,
            compression: Compression::None,
        }
    }
}

/// What a consumer does when its position is out of range or unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// Start at the log start offset.
    #[default]
    Earliest,
    /// Start at the end.
    Latest,
    /// Fail the poll with `OffsetOutOfRange`.
    Error,
}

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub auto_offset_reset: OffsetReset,
    /// Most records one `poll` returns.
    pub max_poll_records: usize,
    /// Most bytes one fetch returns over all partitions.
    pub fetch_max_bytes: u32,
    /// Most bytes one fetch returns per partition.
    pub max_partition_fetch_bytes: u32,
    /// Longest the server holds a fetch waiting for data.
    pub fetch_max_wait: Duration,
    /// The consumer group `subscribe` joins; `None` for `assign` only.
    pub group_id: Option<String>,
    /// Static membership: a stable id that keeps the member's partitions
    /// across a restart within the session timeout.
    pub group_instance_id: Option<String>,
    /// The coordinator expels a member silent for this long.
    pub session_timeout: Duration,
    /// How often the member heartbeats (well below the session timeout).
    pub heartbeat_interval: Duration,
    /// Longest a rebalance waits for every member to rejoin.
    pub rebalance_timeout: Duration,
    /// A member whose application does not poll for this long leaves the
    /// group (its partitions go to the others) and rejoins on its next poll.
    pub max_poll_interval: Duration,
    /// Assignors offered, in preference order (`cooperative-sticky`,
    /// `range`, `roundrobin`).
    pub assignors: Vec<String>,
    /// Commit positions every `auto_commit_interval`, before partitions are
    /// revoked, and on close.
    pub enable_auto_commit: bool,
    pub auto_commit_interval: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            auto_offset_reset: OffsetReset::Earliest,
            max_poll_records: 10_000,
            fetch_max_bytes: 16 * 1024 * 1024,
            max_partition_fetch_bytes: 4 * 1024 * 1024,
            fetch_max_wait: Duration::from_millis(500),
            group_id: None,
            group_instance_id: None,
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            rebalance_timeout: Duration::from_secs(30),
            max_poll_interval: Duration::from_secs(300),
            assignors: crate::group::assignor::ALL.iter().map(|s| (*s).to_owned()).collect(),
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Acks;
    use crate::ErrorCode;

    #[test]
    fn acks_parse_by_name_and_by_kafka_number_and_print_by_name() {
        for (text, acks) in [("all", Acks::All), ("-1", Acks::All), ("Leader", Acks::Leader), ("1", Acks::Leader)] {
            assert_eq!(text.parse::<Acks>().unwrap(), acks);
        }
        assert_eq!("0".parse::<Acks>().unwrap().to_string(), "none");
        assert_eq!("2".parse::<Acks>().unwrap_err().code(), ErrorCode::InvalidArgument);
    }

    #[test]
    fn tokens_are_checked_and_never_printed() {
        let with = |t: &str| super::ClientConfig { token: Some(t.into()), ..super::ClientConfig::default() };
        assert!(!format!("{:?}", with("pyt_a_secret")).contains("secret"));
        assert!(with("pyt_a_secret").validate().is_ok());
        assert_eq!(with("").validate().unwrap_err().code(), ErrorCode::InvalidArgument);
        let long = "x".repeat(pyralog_protocol::limits::MAX_TOKEN_BYTES + 1);
        assert_eq!(with(&long).validate().unwrap_err().code(), ErrorCode::InvalidArgument);
    }
}
