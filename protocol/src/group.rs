//! Consumer-group values shared by the coordinator and the client, with
//! their Cap'n Proto conversions.

use crate::frame::{malformed, text};
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
            partitions: r.get_partitions().map_err(malformed)?.iter().collect(),
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
        r.map_err(malformed)?.iter().map(LogPartitions::read).collect()
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
        r.map_err(malformed)?.iter().map(PartitionOffset::read).collect()
    }
}
