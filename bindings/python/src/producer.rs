//! `_Producer`: `send` and `send_batch` queue records and return a
//! `Delivery` of the acknowledgement. Queueing is tried at once on the
//! caller's thread (no thread hop when there is buffer room); only when it
//! must wait (buffer full, metadata not known yet) does it move to the
//! runtime, and the caller then waits for that (backpressure).

use std::future::Future;

use futures_util::FutureExt;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bridge::shared;
use crate::delivery::{convert, seconds, Delivery};
use crate::types::{batch_item, record, RecordMetadata};

/// The native half of `pyralog.Producer` and `pyralog.AsyncProducer`.
#[pyclass(name = "_Producer", module = "pyralog._pyralog")]
pub struct Producer {
    inner: pyralog::Producer,
}

impl Producer {
    pub fn new(inner: pyralog::Producer) -> Self {
        Producer { inner }
    }
}

/// Polls `fut` once here; if it is not finished, finishes it on the
/// runtime. Resolves to the `Delivery` that `acked` makes of its output.
fn queue<T, F, A>(fut: F, acked: A) -> PyResult<Delivery>
where
    T: Send + 'static,
    F: Future<Output = pyralog::Result<T>> + Send + 'static,
    A: FnOnce(T) -> Delivery + Send + 'static,
{
    let mut fut = Box::pin(fut);
    let first = {
        let _runtime = shared()?.runtime.enter();
        (&mut fut).now_or_never()
    };
    match first {
        Some(r) => Ok(Delivery::ready(convert(r.map(acked)))),
        None => Delivery::spawn(async move { convert(fut.await.map(acked)) }),
    }
}

#[pymethods]
impl Producer {
    /// Queues one record; resolves (once queued) to a `Delivery` of its
    /// `RecordMetadata`.
    #[pyo3(signature = (log, value, key, headers, partition, timestamp))]
    fn send(
        &self,
        log: String,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        partition: Option<u32>,
        timestamp: Option<i64>,
    ) -> PyResult<Delivery> {
        let (p, r) = (self.inner.clone(), record(value, key, headers, partition, timestamp)?);
        queue(async move { p.send(&log, r).await }, |ack| {
            Delivery::observe(async move { convert(ack.await.map(RecordMetadata::from)) })
        })
    }

    /// Queues many records (values, `(key, value)` or `(key, value,
    /// headers)` tuples); resolves (once all are queued) to one `Delivery`
    /// of the list of their `RecordMetadata`, in order.
    #[pyo3(signature = (log, records, partition))]
    fn send_batch(&self, log: String, records: &Bound<'_, PyAny>, partition: Option<u32>) -> PyResult<Delivery> {
        let batch: Vec<pyralog::Record> =
            records.try_iter()?.map(|item| batch_item(&item?, partition)).collect::<PyResult<_>>()?;
        let p = self.inner.clone();
        queue(async move { p.send_batch(&log, batch).await }, |acks| {
            Delivery::observe(async move {
                let mut out = Vec::with_capacity(acks.len());
                for ack in acks {
                    match ack.await {
                        Ok(md) => out.push(RecordMetadata::from(md)),
                        Err(e) => return convert::<()>(Err(e)),
                    }
                }
                convert(Ok(out))
            })
        })
    }

    fn flush(&self) -> PyResult<Delivery> {
        let p = self.inner.clone();
        Delivery::spawn(async move { convert(p.flush().await) })
    }

    fn close(&self) -> PyResult<Delivery> {
        let p = self.inner.clone();
        Delivery::spawn(async move { convert(p.close().await) })
    }

    /// Resolves to `(producer_id, epoch)`, or None without idempotence.
    fn identity(&self) -> PyResult<Delivery> {
        let p = self.inner.clone();
        Delivery::spawn(async move { convert(p.identity().await.map(|i| i.map(|i| (i.id, i.epoch)))) })
    }
}

/// Producer settings from keyword arguments; durations in seconds.
pub fn producer_config(settings: Option<&Bound<'_, PyDict>>) -> PyResult<pyralog::ProducerConfig> {
    let mut c = pyralog::ProducerConfig::default();
    let (mut compression, mut compression_level) = (None::<String>, None::<i32>);
    for (k, v) in settings.into_iter().flat_map(|d| d.iter()) {
        match k.extract::<String>()?.as_str() {
            "batch_size" => c.batch_size = v.extract()?,
            "linger" => c.linger = seconds(v.extract()?)?,
            "buffer_memory" => c.buffer_memory = v.extract()?,
            "max_block" => c.max_block = seconds(v.extract()?)?,
            "delivery_timeout" => c.delivery_timeout = seconds(v.extract()?)?,
            "retry_backoff" => c.retry_backoff = seconds(v.extract()?)?,
            "idempotence" => c.idempotence = v.extract()?,
            "max_in_flight" => c.max_in_flight = v.extract()?,
            "acks" => c.acks = v.extract::<String>()?.parse().map_err(crate::bridge::to_py_err)?,
            "compression" => compression = v.extract()?,
            "compression_level" => compression_level = v.extract()?,
            "resume" if v.is_none() => c.resume = None,
            "resume" => {
                let (id, epoch): (u64, u16) = v.extract()?;
                c.resume = Some(pyralog::ProducerIdentity { id, epoch });
            }
            other => return Err(PyTypeError::new_err(format!("unknown producer setting {other:?}"))),
        }
    }
    if compression.is_some() || compression_level.is_some() {
        let name = compression.as_deref().unwrap_or("none");
        c.compression = pyralog::Compression::with_level(name, compression_level)
            .map_err(|e| crate::bridge::to_py_err(e.into()))?;
    }
    Ok(c)
}
