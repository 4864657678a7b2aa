//! `_Client`: the core client's operations, each returning a `Delivery`
//! that the pure-Python `Client` waits for and `AsyncClient` awaits.

use pyo3::prelude::*;

use crate::consumer::{consumer_config, Consumer};
use crate::delivery::{convert, seconds, Delivery};
use crate::producer::{producer_config, Producer};
use crate::types::{record, LogConfig, LogMetadata, LogStats, Record, RecordMetadata};

/// The native half of `pyralog.Client` and `pyralog.AsyncClient`.
#[pyclass(module = "pyralog._pyralog")]
pub struct _Client {
    inner: pyralog::Client,
}

fn metadata(r: pyralog::Result<pyralog::LogMetadata>) -> PyResult<PyObject> {
    convert(r.map(LogMetadata::from))
}

fn records(r: pyralog::Result<Vec<pyralog::ConsumerRecord>>) -> PyResult<PyObject> {
    convert(r.map(|v| v.into_iter().map(Record::from).collect::<Vec<_>>()))
}

#[pymethods]
impl _Client {
    /// Connects; resolves to a `_Client`. `cert_file` + `key_file` (mTLS)
    /// and `token` (bearer) are the connection's identity, checked by the
    /// core client and the server.
    #[staticmethod]
    #[pyo3(signature = (addr, ca_file=None, server_name=None, connect_timeout=5.0, request_timeout=30.0,
        cert_file=None, key_file=None, token=None))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        addr: String,
        ca_file: Option<String>,
        server_name: Option<String>,
        connect_timeout: f64,
        request_timeout: f64,
        cert_file: Option<String>,
        key_file: Option<String>,
        token: Option<String>,
    ) -> PyResult<Delivery> {
        let config = pyralog::ClientConfig {
            ca_file: ca_file.map(Into::into),
            server_name,
            cert_file: cert_file.map(Into::into),
            key_file: key_file.map(Into::into),
            token,
            connect_timeout: seconds(connect_timeout)?,
            request_timeout: seconds(request_timeout)?,
            ..pyralog::ClientConfig::default()
        };
        Delivery::spawn(
            async move { convert(pyralog::Client::connect(&addr, config).await.map(|inner| _Client { inner })) },
        )
    }

    #[pyo3(signature = (name, partitions, replication_factor, config))]
    fn create_log(
        &self,
        name: String,
        partitions: u32,
        replication_factor: u32,
        config: Option<LogConfig>,
    ) -> PyResult<Delivery> {
        let spec = pyralog::LogSpec {
            partition_count: partitions,
            replication_factor,
            config: config.map(|c| c.to_core()).transpose()?.unwrap_or_default(),
        };
        let c = self.inner.clone();
        Delivery::spawn(async move { metadata(c.create_log_with_config(&name, spec).await) })
    }

    fn list_logs(&self) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move {
            convert(c.list_logs().await.map(|v| v.into_iter().map(LogMetadata::from).collect::<Vec<_>>()))
        })
    }

    fn log_exists(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { convert(c.log_exists(&name).await) })
    }

    fn get_log_metadata(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { metadata(c.get_log_metadata(&name).await) })
    }

    fn get_log_stats(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { convert(c.get_log_stats(&name).await.map(LogStats::from)) })
    }

    fn update_log_config(&self, name: String, config: LogConfig) -> PyResult<Delivery> {
        let (c, config) = (self.inner.clone(), config.to_core()?);
        Delivery::spawn(async move { metadata(c.update_log_config(&name, config).await) })
    }

    fn pause_log(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { metadata(c.pause_log(&name).await) })
    }

    fn resume_log(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { metadata(c.resume_log(&name).await) })
    }

    fn delete_log(&self, name: String) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { convert(c.delete_log(&name).await) })
    }

    fn add_partitions(&self, name: String, partitions: u32) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { metadata(c.add_partitions(&name, partitions).await) })
    }

    #[pyo3(signature = (log, value, key, headers, partition, timestamp))]
    fn produce(
        &self,
        log: String,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        partition: Option<u32>,
        timestamp: Option<i64>,
    ) -> PyResult<Delivery> {
        let (c, r) = (self.inner.clone(), record(value, key, headers, partition, timestamp)?);
        Delivery::spawn(async move { convert(c.produce(&log, r).await.map(RecordMetadata::from)) })
    }

    fn consume(&self, log: String, offset: u64, max_records: usize) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move { records(c.consume(&log, pyralog::LogOffset(offset), max_records).await) })
    }

    fn consume_from_partition(
        &self,
        log: String,
        partition: u32,
        offset: u64,
        max_records: usize,
    ) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move {
            records(c.consume_from_partition(&log, partition, pyralog::LogOffset(offset), max_records).await)
        })
    }

    /// A batching producer; settings as in `pyralog.Client.producer`.
    #[pyo3(signature = (**settings))]
    fn producer(&self, settings: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Producer> {
        let cfg = producer_config(settings)?;
        let inner = self.inner.producer(cfg).map_err(crate::bridge::to_py_err)?;
        Ok(Producer::new(inner))
    }

    /// A consumer; settings as in `pyralog.Client.consumer`.
    #[pyo3(signature = (**settings))]
    fn consumer(&self, settings: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Consumer> {
        let cfg = consumer_config(settings)?;
        Ok(Consumer::new(self.inner.consumer(cfg)))
    }

    fn close(&self) -> PyResult<Delivery> {
        let c = self.inner.clone();
        Delivery::spawn(async move {
            c.close().await;
            convert(Ok(()))
        })
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}
