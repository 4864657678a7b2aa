//! Consumer-group values shared by the coordinator and the client, with
//! their Cap'n Proto conversions.

use crate::frame::{bounded_len, malformed, text};
use crate::limits::{MAX_LOGS, MAX_OFFSET_COMMIT_PARTITIONS, MAX_PARTITIONS_PER_LOG};
use crate::pyralog_capnp as pc;
use crate::ProtocolError;

/// Partitions of one log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub struct LogPartitions {
    pub log: String,
    pub partitions: Vec<u32>,
}

/// What a member subscribes to and owns, sent with a join for one assignor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription {
    pub logs: Vec<String>,
    /// Partitions the member owns now (cooperative rebalancing keeps them).
    pub owned: Vec<LogPartitions>,
}

/// A committed offset of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    pub log: String,
    pub partition: u32,
    pub offset: u64,
    pub metadata: String,
}

impl LogPartitions {
    pub fn write(&self, mut b: pc::log_partitions::Builder<'_>) {
        b.set_log(self.log.as_str());
        let mut l = b.init_partitions(self.partitions.len() as u32);
        for (i, p) in self.partitions.iter().enumerate() {
            l.set(i as u32, *p);
        }
    }

    /// # Errors
    /// `InvalidRequest` for a malformed message.
    pub fn read(r: pc::log_partitions::Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(LogPartitions {
            log: text(r.get_log(), "log")?.to_owned(),
            partitions: {
                let list = r.get_partitions().map_err(malformed)?;
                bounded_len(
                    list.len(),
                    MAX_PARTITIONS_PER_LOG as usize,
                    "MAX_PARTITIONS_PER_LOG",
                    "a log's partition list",
                )?;
                list.iter().collect()
            },
        })
    }

    /// Writes a list of these.
    pub fn write_list(items: &[LogPartitions], mut l: capnp::struct_list::Builder<'_, pc::log_partitions::Owned>) {
        for (i, lp) in items.iter().enumerate() {
            lp.write(l.reborrow().get(i as u32));
        }
    }

    /// # Errors
    /// `InvalidRequest` for a malformed message.
    pub fn read_list(
        r: capnp::Result<capnp::struct_list::Reader<'_, pc::log_partitions::Owned>>,
    ) -> Result<Vec<Self>, ProtocolError> {
        let list = r.map_err(malformed)?;
        bounded_len(
            list.len(),
            MAX_OFFSET_COMMIT_PARTITIONS,
            "MAX_OFFSET_COMMIT_PARTITIONS",
            "a list of logs' partitions",
        )?;
        list.iter().map(LogPartitions::read).collect()
    }
}

impl Subscription {
    pub fn write(&self, mut b: pc::member_subscription::Builder<'_>) {
        let mut logs = b.reborrow().init_logs(self.logs.len() as u32);
        for (i, l) in self.logs.iter().enumerate() {
            logs.set(i as u32, l.as_str());
        }
        LogPartitions::write_list(&self.owned, b.init_owned(self.owned.len() as u32));
    }

    /// # Errors
    /// `InvalidRequest` for a malformed message.
    pub fn read(r: pc::member_subscription::Reader<'_>) -> Result<Self, ProtocolError> {
        let logs = r.get_logs().map_err(malformed)?;
        bounded_len(logs.len(), MAX_LOGS, "MAX_LOGS", "a subscription's logs")?;
        Ok(Subscription {
            logs: logs.iter().map(|t| text(t, "logs").map(str::to_owned)).collect::<Result<_, _>>()?,
            owned: LogPartitions::read_list(r.get_owned())?,
        })
    }
}

impl PartitionOffset {
    pub fn write(&self, mut b: pc::partition_offset::Builder<'_>) {
        b.set_log(self.log.as_str());
        b.set_partition(self.partition);
        b.set_offset(self.offset);
        b.set_metadata(self.metadata.as_str());
    }

    /// # Errors
    /// `InvalidRequest` for a malformed message.
    pub fn read(r: pc::partition_offset::Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(PartitionOffset {
            log: text(r.get_log(), "log")?.to_owned(),
            partition: r.get_partition(),
            offset: r.get_offset(),
            metadata: text(r.get_metadata(), "metadata")?.to_owned(),
        })
    }

    /// Writes a list of these.
    pub fn write_list(items: &[PartitionOffset], mut l: capnp::struct_list::Builder<'_, pc::partition_offset::Owned>) {
        for (i, o) in items.iter().enumerate() {
            o.write(l.reborrow().get(i as u32));
        }
    }

    /// # Errors
    /// `InvalidRequest` for a malformed message.
    pub fn read_list(
        r: capnp::Result<capnp::struct_list::Reader<'_, pc::partition_offset::Owned>>,
    ) -> Result<Vec<Self>, ProtocolError> {
        let list = r.map_err(malformed)?;
        bounded_len(list.len(), MAX_OFFSET_COMMIT_PARTITIONS, "MAX_OFFSET_COMMIT_PARTITIONS", "an offset list")?;
        list.iter().map(PartitionOffset::read).collect()
    }
}
