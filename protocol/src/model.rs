//! Plain Rust types for the metadata messages, and their conversions to and
//! from Cap'n Proto, shared by the server and the client.

use crate::error::ProtocolError;
use crate::frame::{malformed, text};
use crate::pyralog_capnp as pc;

/// Lifecycle state of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LogState {
    #[default]
    Active,
    Paused,
    Deleting,
}

/// How partitions are added: fixed, or on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PartitioningMode {
    #[default]
    Static,
    Dynamic,
}

/// When appended data is fsynced relative to the acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FlushPolicy {
    /// Use the server's default.
    #[default]
    ServerDefault,
    /// fsync before acknowledging, with group commit.
    Always,
    /// fsync every `flush_interval_ms`; acknowledge after the write.
    Interval,
    /// Never fsync explicitly.
    Never,
}

/// Whose clock stamps records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TimestampType {
    /// The producer's timestamp.
    #[default]
    CreateTime,
    /// The server's clock at append.
    LogAppendTime,
}

/// What happens to old records: deleted by retention, compacted to the
/// latest per key, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CleanupPolicy {
    /// Whole segments past retention are deleted (the default).
    #[default]
    Delete,
    /// Sealed segments keep only the newest record of each key; tombstones
    /// (empty values) go after `delete_retention_ms`. Retention does not delete.
    Compact,
    /// Compacted, and deleted by retention too.
    CompactDelete,
}

impl CleanupPolicy {
    /// Whether the compactor cleans this log.
    pub fn compacts(self) -> bool {
        matches!(self, CleanupPolicy::Compact | CleanupPolicy::CompactDelete)
    }

    /// Whether retention deletes this log's old segments.
    pub fn deletes(self) -> bool {
        matches!(self, CleanupPolicy::Delete | CleanupPolicy::CompactDelete)
    }
}

impl std::fmt::Display for CleanupPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CleanupPolicy::Delete => "delete",
            CleanupPolicy::Compact => "compact",
            CleanupPolicy::CompactDelete => "compact,delete",
        })
    }
}

impl std::str::FromStr for CleanupPolicy {
    type Err = ProtocolError;

    /// `delete`, `compact`, or `compact,delete` (either order).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.replace(' ', "").as_str() {
            "delete" => Ok(CleanupPolicy::Delete),
            "compact" => Ok(CleanupPolicy::Compact),
            "compact,delete" | "delete,compact" => Ok(CleanupPolicy::CompactDelete),
            other => Err(ProtocolError::new(
                crate::ErrorCode::InvalidConfig,
                format!("cleanup_policy {other:?} is not delete, compact or compact,delete"),
            )),
        }
    }
}

/// Tombstones of a compacted log are kept this long when the log does not
/// say (`delete_retention_ms` 0): one day, as Kafka.
pub const DEFAULT_DELETE_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// Per-log settings. Zero means "not set": unlimited retention, or the
/// server default for segment settings and the flush interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(default))]
pub struct LogConfig {
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub min_in_sync_replicas: u32,
    pub flush_policy: FlushPolicy,
    pub flush_interval_ms: u32,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub timestamp_type: TimestampType,
    pub partitioning_mode: PartitioningMode,
    pub cleanup_policy: CleanupPolicy,
    /// How long a compacted log keeps a tombstone once it is the newest
    /// record of its key (0: [`DEFAULT_DELETE_RETENTION_MS`]).
    pub delete_retention_ms: i64,
}

/// `PartitionMetadata::leader` of a partition without a leader (offline:
/// no in-sync replica is alive).
pub const NO_LEADER: u32 = u32::MAX;

/// One partition's placement and bounds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartitionMetadata {
    pub partition: u32,
    pub leader: u32,
    pub replicas: Vec<u32>,
    pub isr: Vec<u32>,
    pub leader_epoch: u64,
    pub log_start_offset: u64,
    pub high_watermark: u64,
    /// Replicas their node could not open; with no leader, the partition
    /// is unavailable until the node is mended.
    pub offline_replicas: Vec<u32>,
}

impl PartitionMetadata {
    /// Whether nobody leads because the replicas could not be opened (an
    /// operator's matter, not a moment's election).
    pub fn is_offline(&self) -> bool {
        self.leader == NO_LEADER && !self.offline_replicas.is_empty()
    }
}

/// A log's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogMetadata {
    pub name: String,
    pub partition_count: u32,
    pub replication_factor: u32,
    pub config: LogConfig,
    pub created_at_ms: i64,
    pub state: LogState,
    pub partitions: Vec<PartitionMetadata>,
}

/// One partition's size and bounds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartitionStats {
    pub partition: u32,
    pub log_start_offset: u64,
    pub high_watermark: u64,
    pub size_bytes: u64,
    pub segment_count: u32,
}

/// A log's statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogStats {
    pub name: String,
    pub record_count: u64,
    pub size_bytes: u64,
    /// Records appended per second, averaged over the last minute.
    pub write_rate: f64,
    pub partitions: Vec<PartitionStats>,
}

macro_rules! enum_map {
    ($rust:ident, $wire:ident, $($r:ident <=> $w:ident),*) => {
        impl From<$rust> for pc::$wire {
            fn from(v: $rust) -> Self { match v { $($rust::$r => pc::$wire::$w,)* } }
        }
        impl From<pc::$wire> for $rust {
            fn from(v: pc::$wire) -> Self { match v { $(pc::$wire::$w => $rust::$r,)* } }
        }
    };
}
enum_map!(LogState, LogState, Active <=> Active, Paused <=> Paused, Deleting <=> Deleting);
enum_map!(PartitioningMode, PartitioningMode, Static <=> Static, Dynamic <=> Dynamic);
enum_map!(
    FlushPolicy,
    FlushPolicy,
    ServerDefault <=> ServerDefault,
    Always <=> Always,
    Interval <=> Interval,
    Never <=> Never
);
enum_map!(TimestampType, TimestampType, CreateTime <=> CreateTime, LogAppendTime <=> LogAppendTime);
enum_map!(CleanupPolicy, CleanupPolicy, Delete <=> Delete, Compact <=> Compact, CompactDelete <=> CompactDelete);

fn enum_value<T>(r: Result<T, capnp::NotInSchema>) -> Result<T, ProtocolError> {
    r.map_err(|e| malformed(e.into()))
}

impl LogConfig {
    pub fn write(&self, mut b: pc::log_config::Builder<'_>) {
        b.set_retention_ms(self.retention_ms);
        b.set_retention_bytes(self.retention_bytes);
        b.set_min_in_sync_replicas(self.min_in_sync_replicas);
        b.set_flush_policy(self.flush_policy.into());
        b.set_flush_interval_ms(self.flush_interval_ms);
        b.set_segment_bytes(self.segment_bytes);
        b.set_segment_ms(self.segment_ms);
        b.set_timestamp_type(self.timestamp_type.into());
        b.set_partitioning_mode(self.partitioning_mode.into());
        b.set_cleanup_policy(self.cleanup_policy.into());
        b.set_delete_retention_ms(self.delete_retention_ms);
    }

    pub fn read(r: pc::log_config::Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(LogConfig {
            retention_ms: r.get_retention_ms(),
            retention_bytes: r.get_retention_bytes(),
            min_in_sync_replicas: r.get_min_in_sync_replicas(),
            flush_policy: enum_value(r.get_flush_policy())?.into(),
            flush_interval_ms: r.get_flush_interval_ms(),
            segment_bytes: r.get_segment_bytes(),
            segment_ms: r.get_segment_ms(),
            timestamp_type: enum_value(r.get_timestamp_type())?.into(),
            partitioning_mode: enum_value(r.get_partitioning_mode())?.into(),
            cleanup_policy: enum_value(r.get_cleanup_policy())?.into(),
            delete_retention_ms: r.get_delete_retention_ms(),
        })
    }
}

fn write_u32_list(mut l: capnp::primitive_list::Builder<'_, u32>, v: &[u32]) {
    for (i, x) in v.iter().enumerate() {
        l.set(i as u32, *x);
    }
}

impl LogMetadata {
    pub fn write(&self, mut b: pc::log_metadata::Builder<'_>) {
        b.set_name(self.name.as_str());
        b.set_partition_count(self.partition_count);
        b.set_replication_factor(self.replication_factor);
        self.config.write(b.reborrow().init_config());
        b.set_created_at_ms(self.created_at_ms);
        b.set_state(self.state.into());
        let mut parts = b.init_partitions(self.partitions.len() as u32);
        for (i, p) in self.partitions.iter().enumerate() {
            let mut pb = parts.reborrow().get(i as u32);
            pb.set_partition(p.partition);
            pb.set_leader(p.leader);
            write_u32_list(pb.reborrow().init_replicas(p.replicas.len() as u32), &p.replicas);
            write_u32_list(pb.reborrow().init_isr(p.isr.len() as u32), &p.isr);
            pb.set_leader_epoch(p.leader_epoch);
            pb.set_log_start_offset(p.log_start_offset);
            pb.set_high_watermark(p.high_watermark);
            write_u32_list(pb.reborrow().init_offline_replicas(p.offline_replicas.len() as u32), &p.offline_replicas);
        }
    }

    pub fn read(r: pc::log_metadata::Reader<'_>) -> Result<Self, ProtocolError> {
        let mut partitions = Vec::new();
        for p in r.get_partitions().map_err(malformed)?.iter() {
            partitions.push(PartitionMetadata {
                partition: p.get_partition(),
                leader: p.get_leader(),
                replicas: p.get_replicas().map_err(malformed)?.iter().collect(),
                isr: p.get_isr().map_err(malformed)?.iter().collect(),
                leader_epoch: p.get_leader_epoch(),
                log_start_offset: p.get_log_start_offset(),
                high_watermark: p.get_high_watermark(),
                offline_replicas: p.get_offline_replicas().map_err(malformed)?.iter().collect(),
            });
        }
        Ok(LogMetadata {
            name: text(r.get_name(), "name")?.to_owned(),
            partition_count: r.get_partition_count(),
            replication_factor: r.get_replication_factor(),
            config: LogConfig::read(r.get_config().map_err(malformed)?)?,
            created_at_ms: r.get_created_at_ms(),
            state: enum_value(r.get_state())?.into(),
            partitions,
        })
    }
}

impl LogStats {
    pub fn write(&self, mut b: pc::log_stats::Builder<'_>) {
        b.set_name(self.name.as_str());
        b.set_record_count(self.record_count);
        b.set_size_bytes(self.size_bytes);
        b.set_write_rate(self.write_rate);
        let mut parts = b.init_partitions(self.partitions.len() as u32);
        for (i, p) in self.partitions.iter().enumerate() {
            let mut pb = parts.reborrow().get(i as u32);
            pb.set_partition(p.partition);
            pb.set_log_start_offset(p.log_start_offset);
            pb.set_high_watermark(p.high_watermark);
            pb.set_size_bytes(p.size_bytes);
            pb.set_segment_count(p.segment_count);
        }
    }

    pub fn read(r: pc::log_stats::Reader<'_>) -> Result<Self, ProtocolError> {
        let partitions = r
            .get_partitions()
            .map_err(malformed)?
            .iter()
            .map(|p| PartitionStats {
                partition: p.get_partition(),
                log_start_offset: p.get_log_start_offset(),
                high_watermark: p.get_high_watermark(),
                size_bytes: p.get_size_bytes(),
                segment_count: p.get_segment_count(),
            })
            .collect();
        Ok(LogStats {
            name: text(r.get_name(), "name")?.to_owned(),
            record_count: r.get_record_count(),
            size_bytes: r.get_size_bytes(),
            write_rate: r.get_write_rate(),
            partitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capnp::message::Builder;

    #[test]
    fn log_metadata_round_trips() {
        let md = LogMetadata {
            name: "events".into(),
            partition_count: 2,
            replication_factor: 1,
            config: LogConfig {
                retention_ms: 3_600_000,
                flush_policy: FlushPolicy::Never,
                timestamp_type: TimestampType::LogAppendTime,
                ..LogConfig::default()
            },
            created_at_ms: 17,
            state: LogState::Paused,
            partitions: vec![PartitionMetadata {
                partition: 1,
                replicas: vec![0],
                isr: vec![0],
                leader_epoch: 4,
                high_watermark: 9,
                ..Default::default()
            }],
        };
        let mut m = Builder::new_default();
        md.write(m.init_root());
        let bytes = crate::frame::encode(&m);
        let msg = crate::frame::decode(&bytes, 1 << 20).unwrap();
        let back = LogMetadata::read(msg.get_root().unwrap()).unwrap();
        assert_eq!(back, md);
    }
}
