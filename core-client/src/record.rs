//! Records as sent and as read back, and offsets.

use std::sync::Arc;

use bytes::Bytes;

/// An offset in a partition: [`LogOffset::ZERO`] (the beginning),
/// [`LogOffset::MAX`] (the end: the next offset to be written), or any value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogOffset(pub u64);

impl LogOffset {
    /// Offset 0; reading starts at the log start offset if retention moved it.
    pub const ZERO: LogOffset = LogOffset(0);
    /// The end of the partition at the time of the read.
    pub const MAX: LogOffset = LogOffset(u64::MAX);
}

impl From<u64> for LogOffset {
    fn from(v: u64) -> Self {
        LogOffset(v)
    }
}

/// A record to produce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub key: Option<Bytes>,
    pub value: Bytes,
    /// Ordered; duplicate names allowed.
    pub headers: Vec<(String, Bytes)>,
    /// Explicit partition; `None` lets the partitioner choose.
    pub partition: Option<u32>,
    /// Producer timestamp in ms since the Unix epoch; `None` means now.
    pub timestamp: Option<i64>,
}

impl Record {
    /// A record with this value and nothing else.
    pub fn new(value: impl Into<Bytes>) -> Self {
        Record { value: value.into(), ..Record::default() }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Appends a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends to this partition.
    pub fn partition(mut self, partition: u32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the producer timestamp.
    pub fn timestamp(mut self, ms: i64) -> Self {
        self.timestamp = Some(ms);
        self
    }
}

impl Record {
    /// The headers as the batch codec takes them.
    pub(crate) fn header_refs(&self) -> Vec<pyralog_protocol::batch::Header<'_>> {
        self.headers.iter().map(|(k, v)| (k.as_str(), v.as_ref())).collect()
    }
}

/// Where a produced record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    pub log: Arc<str>,
    pub partition: u32,
    pub offset: u64,
    pub epoch: u64,
    /// The record's timestamp (the server's append time on append-time logs).
    pub timestamp: i64,
}

/// A record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    pub log: Arc<str>,
    pub partition: u32,
    pub offset: u64,
    pub epoch: u64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Bytes,
    pub headers: Vec<(String, Bytes)>,
}

/// A log and one of its partitions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPartition {
    pub log: Arc<str>,
    pub partition: u32,
}

impl LogPartition {
    pub fn new(log: &str, partition: u32) -> Self {
        LogPartition { log: Arc::from(log), partition }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The identity an idempotent producer writes under: a server-assigned id
/// and the epoch of this incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdentity {
    pub id: u64,
    pub epoch: u16,
}
