//! Records and metadata as immutable Python objects.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use pyralog::{CleanupPolicy, FlushPolicy, PartitioningMode, TimestampType};

/// Bytes from `bytes` or `str` (UTF-8).
pub fn bytes_like(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.downcast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.downcast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!("{what} must be bytes or str")))
}

/// Where a produced record was written.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct RecordMetadata {
    pub log: String,
    pub partition: u32,
    pub offset: u64,
    pub epoch: u64,
    pub timestamp: i64,
}

#[pymethods]
impl RecordMetadata {
    fn __repr__(&self) -> String {
        format!("RecordMetadata(log={:?}, partition={}, offset={})", self.log, self.partition, self.offset)
    }
}

impl From<pyralog::RecordMetadata> for RecordMetadata {
    fn from(m: pyralog::RecordMetadata) -> Self {
        RecordMetadata {
            log: m.log.to_string(),
            partition: m.partition,
            offset: m.offset,
            epoch: m.epoch,
            timestamp: m.timestamp,
        }
    }
}

/// A record read back.
#[pyclass(frozen, module = "pyralog")]
pub struct Record {
    inner: pyralog::ConsumerRecord,
}

#[pymethods]
impl Record {
    #[getter]
    fn log(&self) -> &str {
        &self.inner.log
    }
    #[getter]
    fn partition(&self) -> u32 {
        self.inner.partition
    }
    #[getter]
    fn offset(&self) -> u64 {
        self.inner.offset
    }
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.epoch
    }
    #[getter]
    fn timestamp(&self) -> i64 {
        self.inner.timestamp
    }
    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.key.as_ref().map(|k| PyBytes::new(py, k))
    }
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.value)
    }
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> Vec<(String, Bound<'py, PyBytes>)> {
        self.inner.headers.iter().map(|(k, v)| (k.clone(), PyBytes::new(py, v))).collect()
    }
    fn __repr__(&self) -> String {
        format!("Record(log={:?}, partition={}, offset={})", &*self.inner.log, self.inner.partition, self.inner.offset)
    }
}

impl From<pyralog::ConsumerRecord> for Record {
    fn from(inner: pyralog::ConsumerRecord) -> Self {
        Record { inner }
    }
}

/// One partition's placement, leader epoch and bounds.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct PartitionMetadata {
    pub partition: u32,
    /// The node leading it (`u32::MAX` while none does).
    pub leader: u32,
    /// The nodes holding a copy.
    pub replicas: Vec<u32>,
    /// The replicas in sync with the leader.
    pub isr: Vec<u32>,
    pub leader_epoch: u64,
    pub log_start_offset: u64,
    pub high_watermark: u64,
}

/// A log's metadata.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct LogMetadata {
    pub name: String,
    pub partition_count: u32,
    pub replication_factor: u32,
    pub created_at_ms: i64,
    /// "Active", "Paused" or "Deleting".
    pub state: String,
    pub config: LogConfig,
    pub partitions: Vec<PartitionMetadata>,
}

#[pymethods]
impl LogMetadata {
    fn __repr__(&self) -> String {
        format!("LogMetadata(name={:?}, partition_count={}, state={})", self.name, self.partition_count, self.state)
    }
}

impl From<pyralog::LogMetadata> for LogMetadata {
    fn from(m: pyralog::LogMetadata) -> Self {
        LogMetadata {
            name: m.name,
            partition_count: m.partition_count,
            replication_factor: m.replication_factor,
            created_at_ms: m.created_at_ms,
            state: format!("{:?}", m.state),
            config: m.config.into(),
            partitions: m
                .partitions
                .into_iter()
                .map(|p| PartitionMetadata {
                    partition: p.partition,
                    leader: p.leader,
                    replicas: p.replicas,
                    isr: p.isr,
                    leader_epoch: p.leader_epoch,
                    log_start_offset: p.log_start_offset,
                    high_watermark: p.high_watermark,
                })
                .collect(),
        }
    }
}

/// A log's settings. Zero means "not set" (unlimited retention, server
/// defaults). Enumerations are strings: `flush_policy` is "server_default",
/// "always", "interval" or "never"; `timestamp_type` "create_time" or
/// "log_append_time"; `partitioning_mode` "static" or "dynamic";
/// `cleanup_policy` "delete", "compact" or "compact,delete".
/// `delete_retention_ms`: how long a compacted log keeps tombstones.
#[pyclass(get_all, set_all, module = "pyralog")]
#[derive(Clone)]
pub struct LogConfig {
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub min_in_sync_replicas: u32,
    pub flush_policy: String,
    pub flush_interval_ms: u32,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub timestamp_type: String,
    pub partitioning_mode: String,
    pub cleanup_policy: String,
    pub delete_retention_ms: i64,
}

const FLUSH_POLICIES: [(&str, FlushPolicy); 4] = [
    ("server_default", FlushPolicy::ServerDefault),
    ("always", FlushPolicy::Always),
    ("interval", FlushPolicy::Interval),
    ("never", FlushPolicy::Never),
];
const TIMESTAMP_TYPES: [(&str, TimestampType); 2] =
    [("create_time", TimestampType::CreateTime), ("log_append_time", TimestampType::LogAppendTime)];
const PARTITIONING_MODES: [(&str, PartitioningMode); 2] =
    [("static", PartitioningMode::Static), ("dynamic", PartitioningMode::Dynamic)];
const CLEANUP_POLICIES: [(&str, CleanupPolicy); 3] = [
    ("delete", CleanupPolicy::Delete),
    ("compact", CleanupPolicy::Compact),
    ("compact,delete", CleanupPolicy::CompactDelete),
];

fn name_of<T: PartialEq + Copy>(table: &[(&'static str, T)], v: T) -> String {
    table.iter().find(|(_, t)| *t == v).map_or("unknown", |(n, _)| n).to_owned()
}

fn value_of<T: Copy>(table: &[(&'static str, T)], field: &str, name: &str) -> PyResult<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<_> = table.iter().map(|(n, _)| *n).collect();
        PyValueError::new_err(format!("{field} must be one of {names:?}, not {name:?}"))
    })
}

#[pymethods]
impl LogConfig {
    #[new]
    #[pyo3(signature = (*, retention_ms=0, retention_bytes=0, min_in_sync_replicas=0,
        flush_policy="server_default".to_owned(), flush_interval_ms=0, segment_bytes=0, segment_ms=0,
        timestamp_type="create_time".to_owned(), partitioning_mode="static".to_owned(),
        cleanup_policy="delete".to_owned(), delete_retention_ms=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        retention_ms: i64,
        retention_bytes: i64,
        min_in_sync_replicas: u32,
        flush_policy: String,
        flush_interval_ms: u32,
        segment_bytes: u64,
        segment_ms: i64,
        timestamp_type: String,
        partitioning_mode: String,
        cleanup_policy: String,
        delete_retention_ms: i64,
    ) -> PyResult<Self> {
        let c = LogConfig {
            retention_ms,
            retention_bytes,
            min_in_sync_replicas,
            flush_policy,
            flush_interval_ms,
            segment_bytes,
            segment_ms,
            timestamp_type,
            partitioning_mode,
            cleanup_policy,
            delete_retention_ms,
        };
        c.to_core()?;
        Ok(c)
    }

    fn __repr__(&self) -> String {
        format!(
            "LogConfig(retention_ms={}, retention_bytes={}, flush_policy={:?})",
            self.retention_ms, self.retention_bytes, self.flush_policy
        )
    }
}

impl LogConfig {
    /// The core config, or `ValueError` naming a bad enumeration.
    pub fn to_core(&self) -> PyResult<pyralog::LogConfig> {
        Ok(pyralog::LogConfig {
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            min_in_sync_replicas: self.min_in_sync_replicas,
            flush_policy: value_of(&FLUSH_POLICIES, "flush_policy", &self.flush_policy)?,
            flush_interval_ms: self.flush_interval_ms,
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            timestamp_type: value_of(&TIMESTAMP_TYPES, "timestamp_type", &self.timestamp_type)?,
            partitioning_mode: value_of(&PARTITIONING_MODES, "partitioning_mode", &self.partitioning_mode)?,
            cleanup_policy: value_of(&CLEANUP_POLICIES, "cleanup_policy", &self.cleanup_policy)?,
            delete_retention_ms: self.delete_retention_ms,
        })
    }
}

impl From<pyralog::LogConfig> for LogConfig {
    fn from(c: pyralog::LogConfig) -> Self {
        LogConfig {
            retention_ms: c.retention_ms,
            retention_bytes: c.retention_bytes,
            min_in_sync_replicas: c.min_in_sync_replicas,
            flush_policy: name_of(&FLUSH_POLICIES, c.flush_policy),
            flush_interval_ms: c.flush_interval_ms,
            segment_bytes: c.segment_bytes,
            segment_ms: c.segment_ms,
            timestamp_type: name_of(&TIMESTAMP_TYPES, c.timestamp_type),
            partitioning_mode: name_of(&PARTITIONING_MODES, c.partitioning_mode),
            cleanup_policy: name_of(&CLEANUP_POLICIES, c.cleanup_policy),
            delete_retention_ms: c.delete_retention_ms,
        }
    }
}

/// One partition's size and bounds.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct PartitionStats {
    pub partition: u32,
    pub log_start_offset: u64,
    pub high_watermark: u64,
    pub size_bytes: u64,
    pub segment_count: u32,
}

/// A log's statistics.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct LogStats {
    pub name: String,
    pub record_count: u64,
    pub size_bytes: u64,
    /// Records appended per second, averaged over the last minute.
    pub write_rate: f64,
    pub partitions: Vec<PartitionStats>,
}

#[pymethods]
impl LogStats {
    fn __repr__(&self) -> String {
        format!("LogStats(name={:?}, record_count={}, size_bytes={})", self.name, self.record_count, self.size_bytes)
    }
}

impl From<pyralog::LogStats> for LogStats {
    fn from(s: pyralog::LogStats) -> Self {
        LogStats {
            name: s.name,
            record_count: s.record_count,
            size_bytes: s.size_bytes,
            write_rate: s.write_rate,
            partitions: s
                .partitions
                .into_iter()
                .map(|p| PartitionStats {
                    partition: p.partition,
                    log_start_offset: p.log_start_offset,
                    high_watermark: p.high_watermark,
                    size_bytes: p.size_bytes,
                    segment_count: p.segment_count,
                })
                .collect(),
        }
    }
}

/// A log and one of its partitions; hashable, ordered, and accepted
/// wherever a `(log, partition)` tuple is.
#[pyclass(frozen, eq, ord, hash, get_all, module = "pyralog")]
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPartition {
    pub log: String,
    pub partition: u32,
}

#[pymethods]
impl LogPartition {
    #[new]
    fn new(log: String, partition: u32) -> Self {
        LogPartition { log, partition }
    }
    fn __repr__(&self) -> String {
        format!("LogPartition({:?}, {})", self.log, self.partition)
    }
    fn __iter__(&self, py: Python<'_>) -> PyResult<PyObject> {
        let t = (self.log.clone(), self.partition).into_pyobject(py)?;
        Ok(t.try_iter()?.into_any().unbind())
    }
}

impl From<&pyralog::LogPartition> for LogPartition {
    fn from(lp: &pyralog::LogPartition) -> Self {
        LogPartition { log: lp.log.to_string(), partition: lp.partition }
    }
}

/// A `LogPartition` or a `(log, partition)` tuple.
pub fn log_partition(obj: &Bound<'_, PyAny>) -> PyResult<pyralog::LogPartition> {
    if let Ok(lp) = obj.downcast::<LogPartition>() {
        let lp = lp.get();
        return Ok(pyralog::LogPartition::new(&lp.log, lp.partition));
    }
    let (log, partition): (String, u32) = obj
        .extract()
        .map_err(|_| pyo3::exceptions::PyTypeError::new_err("expected a LogPartition or a (log, partition) tuple"))?;
    Ok(pyralog::LogPartition::new(&log, partition))
}

/// Many of `log_partition`.
pub fn log_partitions(objs: &Bound<'_, PyAny>) -> PyResult<Vec<pyralog::LogPartition>> {
    objs.try_iter()?.map(|o| log_partition(&o?)).collect()
}

/// A record to produce, from the Python arguments.
pub fn record(
    value: &Bound<'_, PyAny>,
    key: Option<&Bound<'_, PyAny>>,
    headers: Option<&Bound<'_, PyAny>>,
    partition: Option<u32>,
    timestamp: Option<i64>,
) -> PyResult<pyralog::Record> {
    let mut r = pyralog::Record::new(bytes_like(value, "value")?);
    if let Some(k) = key.filter(|k| !k.is_none()) {
        r.key = Some(bytes_like(k, "key")?.into());
    }
    if let Some(hs) = headers.filter(|h| !h.is_none()) {
        for h in hs.try_iter()? {
            let (name, v): (String, Bound<'_, PyAny>) = h?.extract()?;
            r.headers.push((name, bytes_like(&v, "header value")?.into()));
        }
    }
    r.partition = partition;
    r.timestamp = timestamp;
    Ok(r)
}

/// A `send_batch` item: a value, or a `(key, value)` or `(key, value, headers)` tuple.
pub fn batch_item(item: &Bound<'_, PyAny>, partition: Option<u32>) -> PyResult<pyralog::Record> {
    if let Ok(t) = item.downcast::<PyTuple>() {
        return match t.len() {
            2 => record(&t.get_item(1)?, Some(&t.get_item(0)?), None, partition, None),
            3 => record(&t.get_item(1)?, Some(&t.get_item(0)?), Some(&t.get_item(2)?), partition, None),
            n => Err(PyValueError::new_err(format!(
                "a batch item is a value, (key, value) or (key, value, headers); got a tuple of {n}"
            ))),
        };
    }
    record(item, None, None, partition, None)
}
