//! Records and metadata as immutable Python objects.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

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

/// One partition's leader epoch and bounds.
#[pyclass(frozen, get_all, module = "pyralog")]
#[derive(Clone)]
pub struct PartitionMetadata {
    pub partition: u32,
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
            partitions: m
                .partitions
                .into_iter()
                .map(|p| PartitionMetadata {
                    partition: p.partition,
                    leader_epoch: p.leader_epoch,
                    log_start_offset: p.log_start_offset,
                    high_watermark: p.high_watermark,
                })
                .collect(),
        }
    }
}
