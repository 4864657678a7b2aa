//! The Pyralog core client: every piece of client logic, once, for every
//! language. Connect with [`Client::connect`], administer logs, produce with
//! [`Client::produce`] or a batching [`Producer`], read with
//! [`Client::consume`] or a [`Consumer`].
//!
//! ```no_run
//! # async fn demo() -> pyralog::Result<()> {
//! use pyralog::{Client, ClientConfig, LogOffset, Record};
//! let client = Client::connect("127.0.0.1:9092", ClientConfig::with_ca_file("pyralog-data/tls/ca.pem")).await?;
//! client.create_log("user_events", 4).await?;
//! let md = client.produce("user_events", Record::new("event-1").key("user-1")).await?;
//! let records = client.consume_from_partition("user_events", md.partition, LogOffset::ZERO, 10).await?;
//! # Ok(()) }
//! ```

pub mod acl;
mod client;
mod cluster;
mod config;
mod consumer;
mod error;
pub mod group;
mod nodes;
pub mod partitioner;
mod producer;
mod record;
mod stats;
mod transport;
mod wire;

pub use acl::Acl;
pub use client::{Client, LogSpec};
pub use cluster::{ClusterDescription, NodeDescription};
pub use config::{Acks, ClientConfig, ConsumerConfig, OffsetReset, ProducerConfig};
pub use consumer::{Consumer, Wakeup};
pub use error::{CorruptBatch, Error, ErrorCode, Result};
pub use group::{GroupDescription, GroupMember, GroupOffset, GroupSummary, RebalanceListener};
pub use nodes::{parse_servers, MAX_BOOTSTRAP_SERVERS};
pub use partitioner::Partitioner;
pub use producer::{DeliveryFuture, DeliveryReport, DeliverySink, Producer};
/// How a producer compresses its batches (`none`, `snappy`, `lz4`, `zstd` with a level).
pub use pyralog_protocol::compression::Compression;
/// The protocol's limits (record, batch and name sizes, ...), one named constant each.
pub use pyralog_protocol::limits;
pub use pyralog_protocol::model::{
    CleanupPolicy, FlushPolicy, LogConfig, LogMetadata, LogState, LogStats, PartitionMetadata, PartitionStats,
    PartitioningMode, TimestampType, NO_LEADER,
};
pub use record::{ConsumerRecord, LogOffset, LogPartition, ProducerIdentity, Record, RecordMetadata};
pub use transport::NetworkStats;
