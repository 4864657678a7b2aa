//! The synchronous `Client`.

use std::time::Duration;

use pyo3::prelude::*;

use crate::bridge::wait;
use crate::types::{bytes_like, LogMetadata, Record, RecordMetadata};

/// A connection to a Pyralog server.
#[pyclass(module = "pyralog")]
pub struct Client {
    inner: pyralog::Client,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (addr, ca_file=None, connect_timeout=5.0, request_timeout=30.0))]
    fn new(
        py: Python<'_>,
        addr: String,
        ca_file: Option<String>,
        connect_timeout: f64,
        request_timeout: f64,
    ) -> PyResult<Self> {
        let config = pyralog::ClientConfig {
            ca_file: ca_file.map(Into::into),
            connect_timeout: seconds(connect_timeout)?,
            request_timeout: seconds(request_timeout)?,
            ..pyralog::ClientConfig::default()
        };
        let inner = wait(py, async move { pyralog::Client::connect(&addr, config).await })?;
        Ok(Client { inner })
    }

    #[pyo3(signature = (name, partitions=1))]
    fn create_log(&self, py: Python<'_>, name: String, partitions: u32) -> PyResult<LogMetadata> {
        let c = self.inner.clone();
        wait(py, async move { c.create_log(&name, partitions).await }).map(Into::into)
    }

    fn list_logs(&self, py: Python<'_>) -> PyResult<Vec<LogMetadata>> {
        let c = self.inner.clone();
        Ok(wait(py, async move { c.list_logs().await })?.into_iter().map(Into::into).collect())
    }

    fn log_exists(&self, py: Python<'_>, name: String) -> PyResult<bool> {
        let c = self.inner.clone();
        wait(py, async move { c.log_exists(&name).await })
    }

    fn get_log_metadata(&self, py: Python<'_>, name: String) -> PyResult<LogMetadata> {
        let c = self.inner.clone();
        wait(py, async move { c.get_log_metadata(&name).await }).map(Into::into)
    }

    fn delete_log(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let c = self.inner.clone();
        wait(py, async move { c.delete_log(&name).await })
    }

    #[pyo3(signature = (log, value, key=None, headers=None, partition=None))]
    fn produce(
        &self,
        py: Python<'_>,
        log: String,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<Vec<(String, Bound<'_, PyAny>)>>,
        partition: Option<u32>,
    ) -> PyResult<RecordMetadata> {
        let mut record = pyralog::Record::new(bytes_like(value, "value")?);
        if let Some(k) = key {
            record = record.key(bytes_like(k, "key")?);
        }
        for (name, v) in headers.unwrap_or_default() {
            record = record.header(name, bytes_like(&v, "header value")?);
        }
        record.partition = partition;
        let c = self.inner.clone();
        wait(py, async move { c.produce(&log, record).await }).map(Into::into)
    }

    #[pyo3(signature = (log, partition, offset=0, max_records=1000))]
    fn consume_from_partition(
        &self,
        py: Python<'_>,
        log: String,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> PyResult<Vec<Record>> {
        let c = self.inner.clone();
        let records = wait(py, async move {
            c.consume_from_partition(&log, partition, pyralog::LogOffset(offset), max_records).await
        })?;
        Ok(records.into_iter().map(Into::into).collect())
    }

    #[pyo3(signature = (log, offset=0, max_records=1000))]
    fn consume(&self, py: Python<'_>, log: String, offset: u64, max_records: usize) -> PyResult<Vec<Record>> {
        let c = self.inner.clone();
        let records = wait(py, async move { c.consume(&log, pyralog::LogOffset(offset), max_records).await })?;
        Ok(records.into_iter().map(Into::into).collect())
    }

    /// Closes the connection; idempotent. Later calls raise `Closed`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let c = self.inner.clone();
        wait(py, async move {
            c.close().await;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_t=None, _v=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

fn seconds(s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| pyo3::exceptions::PyValueError::new_err(format!("{s} is not a valid number of seconds")))
}
