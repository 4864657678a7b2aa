//! `_Consumer`: the core consumer behind a mutex. A consumer serves one
//! caller at a time, as in every Kafka client: a call made while another
//! is running (from another thread, task, or a rebalance callback) fails
//! with `Busy` at once instead of waiting for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::bridge::{shared, to_py_err};
use crate::delivery::{convert, seconds, Delivery};
use crate::types::{log_partition, log_partitions, LogPartition, Record};

/// How long `close` waits for a running call (a poll ends within its
/// timeout) before giving up with `Busy`.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

type Shared = Arc<AsyncMutex<pyralog::Consumer>>;
type Guard = OwnedMutexGuard<pyralog::Consumer>;

/// The native half of `pyralog.Consumer` and `pyralog.AsyncConsumer`.
#[pyclass(name = "_Consumer", module = "pyralog._pyralog")]
pub struct Consumer {
    inner: Shared,
    listener: Arc<Listener>,
}

impl Consumer {
    pub fn new(inner: pyralog::Consumer) -> Self {
        Consumer { inner: Arc::new(AsyncMutex::new(inner)), listener: Arc::default() }
    }

    fn lock(&self) -> PyResult<OwnedMutexGuard<pyralog::Consumer>> {
        Arc::clone(&self.inner).try_lock_owned().map_err(|_| busy())
    }

    /// Runs `op` on the locked consumer here, inside the runtime (some
    /// calls start tasks).
    fn now<T>(&self, op: impl FnOnce(&mut pyralog::Consumer) -> pyralog::Result<T>) -> PyResult<T> {
        let _runtime = shared()?.runtime.enter();
        let mut guard = self.lock()?;
        op(&mut guard).map_err(to_py_err)
    }

    /// Runs `op` on the locked consumer on the runtime.
    fn spawn<T, F>(&self, op: F) -> PyResult<Delivery>
    where
        T: for<'py> IntoPyObject<'py> + Send + 'static,
        F: AsyncFnOnce<T>,
    {
        let guard = self.lock()?;
        let listener = Arc::clone(&self.listener);
        Delivery::spawn(async move {
            let r = op.call(guard).await;
            listener.raise()?;
            convert(r)
        })
    }
}

/// An async operation on the locked consumer (stable Rust has no async
/// closures taking a guard by value yet).
pub trait AsyncFnOnce<T>: Send + 'static {
    fn call(
        self,
        c: OwnedMutexGuard<pyralog::Consumer>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = pyralog::Result<T>> + Send>>;
}

impl<T, F, Fut> AsyncFnOnce<T> for F
where
    F: FnOnce(OwnedMutexGuard<pyralog::Consumer>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = pyralog::Result<T>> + Send + 'static,
{
    fn call(
        self,
        c: OwnedMutexGuard<pyralog::Consumer>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = pyralog::Result<T>> + Send>> {
        Box::pin(self(c))
    }
}

fn busy() -> PyErr {
    to_py_err(pyralog::Error::new(
        pyralog::ErrorCode::ConcurrentCall,
        "the consumer is running another call (from another thread, task or a rebalance callback); \
         a consumer serves one caller at a time",
    ))
}

fn to_py(lps: &[pyralog::LogPartition]) -> Vec<LogPartition> {
    lps.iter().map(LogPartition::from).collect()
}

#[pymethods]
impl Consumer {
    /// Joins `group_id` for `logs`; callbacks get a list of `LogPartition`.
    #[pyo3(signature = (logs, on_assign=None, on_revoke=None, on_lost=None))]
    fn subscribe(
        &mut self,
        logs: Vec<String>,
        on_assign: Option<PyObject>,
        on_revoke: Option<PyObject>,
        on_lost: Option<PyObject>,
    ) -> PyResult<()> {
        let listener = Arc::new(Listener { on_assign, on_revoke, on_lost, error: Mutex::default() });
        let names: Vec<&str> = logs.iter().map(String::as_str).collect();
        let core_listener: Arc<dyn pyralog::RebalanceListener> = listener.clone();
        self.now(|c| c.subscribe(&names, Some(core_listener)))?;
        self.listener = listener;
        Ok(())
    }

    fn unsubscribe(&self) -> PyResult<Delivery> {
        self.spawn(move |mut c: Guard| async move { c.unsubscribe().await })
    }

    fn assign(&self, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let lps = log_partitions(partitions)?;
        self.now(|c| c.assign(lps))
    }

    /// Assigns every partition of `log`.
    fn assign_log(&self, log: String) -> PyResult<Delivery> {
        self.spawn(move |mut c: Guard| async move { c.assign_log(&log).await })
    }

    fn assignment(&self) -> PyResult<Vec<LogPartition>> {
        self.now(|c| Ok(to_py(&c.assignment())))
    }

    fn seek(&self, partition: &Bound<'_, PyAny>, offset: u64) -> PyResult<()> {
        let lp = log_partition(partition)?;
        self.now(|c| c.seek(&lp, pyralog::LogOffset(offset)))
    }

    #[pyo3(signature = (partitions=None))]
    fn seek_to_beginning(&self, partitions: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let lps = partitions.map(log_partitions).transpose()?;
        self.now(|c| {
            let lps = lps.unwrap_or_else(|| c.assignment());
            c.seek_to_beginning(&lps)
        })
    }

    #[pyo3(signature = (partitions=None))]
    fn seek_to_end(&self, partitions: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let lps = partitions.map(log_partitions).transpose()?;
        self.now(|c| {
            let lps = lps.unwrap_or_else(|| c.assignment());
            c.seek_to_end(&lps)
        })
    }

    #[pyo3(signature = (timestamp_ms, partitions=None))]
    fn seek_to_timestamp(&self, timestamp_ms: i64, partitions: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let lps = partitions.map(log_partitions).transpose()?;
        self.now(|c| {
            let lps = lps.unwrap_or_else(|| c.assignment());
            c.seek_to_timestamp(&lps, timestamp_ms)
        })
    }

    fn pause(&self, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let lps = log_partitions(partitions)?;
        self.now(|c| c.pause(&lps))
    }

    fn resume(&self, partitions: &Bound<'_, PyAny>) -> PyResult<()> {
        let lps = log_partitions(partitions)?;
        self.now(|c| c.resume(&lps))
    }

    fn paused(&self) -> PyResult<Vec<LogPartition>> {
        self.now(|c| Ok(to_py(&c.paused())))
    }

    fn position(&self, partition: &Bound<'_, PyAny>) -> PyResult<Delivery> {
        let lp = log_partition(partition)?;
        self.spawn(move |mut c: Guard| async move { c.position(&lp).await })
    }

    /// Resolves to the next records (possibly none after `timeout` seconds).
    fn poll(&self, timeout: f64) -> PyResult<Delivery> {
        let t = seconds(timeout)?;
        self.spawn(move |mut c: Guard| async move {
            c.poll(t).await.map(|v| v.into_iter().map(Record::from).collect::<Vec<_>>())
        })
    }

    /// Commits the positions (no `offsets`) or the given
    /// `{LogPartition or (log, partition): next offset}`.
    #[pyo3(signature = (offsets=None))]
    fn commit(&self, offsets: Option<&Bound<'_, PyDict>>) -> PyResult<Delivery> {
        let Some(offsets) = offsets else {
            return self.spawn(move |mut c: Guard| async move { c.commit().await });
        };
        let list: Vec<(pyralog::LogPartition, u64)> =
            offsets.iter().map(|(k, v)| Ok((log_partition(&k)?, v.extract()?))).collect::<PyResult<_>>()?;
        self.spawn(move |mut c: Guard| async move { c.commit_offsets(&list).await })
    }

    /// Starts committing the positions; the `Delivery` tells how it went.
    fn commit_async(&self) -> PyResult<Delivery> {
        let task = self.now(|c| c.commit_async())?;
        Delivery::spawn(async move {
            convert(task.await.unwrap_or_else(|e| {
                Err(pyralog::Error::new(pyralog::ErrorCode::Unknown, format!("commit task ended: {e}")))
            }))
        })
    }

    /// Resolves to `{LogPartition: committed offset}` for `partitions`
    /// (default: the assignment).
    #[pyo3(signature = (partitions=None))]
    fn committed(&self, partitions: Option<&Bound<'_, PyAny>>) -> PyResult<Delivery> {
        let lps = partitions.map(log_partitions).transpose()?;
        self.spawn(move |c: Guard| async move {
            let lps = lps.unwrap_or_else(|| c.assignment());
            let m = c.committed(&lps).await?;
            Ok(m.iter().map(|(lp, o)| (LogPartition::from(lp), *o)).collect::<std::collections::BTreeMap<_, _>>())
        })
    }

    /// Leaves the group (committing first with auto-commit) and stops.
    /// Idempotent.
    fn close(&self) -> PyResult<Delivery> {
        let inner = Arc::clone(&self.inner);
        Delivery::spawn(async move {
            let Ok(mut c) = tokio::time::timeout(CLOSE_WAIT, inner.lock_owned()).await else {
                return Err(busy());
            };
            c.close().await;
            convert(Ok(()))
        })
    }
}

/// Rebalance callbacks into Python. An exception in a callback is kept and
/// raised from the call that ran it (`poll`).
#[derive(Default)]
struct Listener {
    on_assign: Option<PyObject>,
    on_revoke: Option<PyObject>,
    on_lost: Option<PyObject>,
    error: Mutex<Option<PyErr>>,
}

impl Listener {
    fn call(&self, cb: Option<&PyObject>, partitions: &[pyralog::LogPartition]) {
        let Some(cb) = cb else { return };
        Python::with_gil(|py| {
            if let Err(e) = cb.call1(py, (to_py(partitions),)) {
                self.error.lock().expect("listener lock").get_or_insert(e);
            }
        });
    }

    fn raise(&self) -> PyResult<()> {
        match self.error.lock().expect("listener lock").take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl pyralog::RebalanceListener for Listener {
    fn on_partitions_assigned(&self, partitions: &[pyralog::LogPartition]) {
        self.call(self.on_assign.as_ref(), partitions);
    }
    fn on_partitions_revoked(&self, partitions: &[pyralog::LogPartition]) {
        self.call(self.on_revoke.as_ref(), partitions);
    }
    fn on_partitions_lost(&self, partitions: &[pyralog::LogPartition]) {
        self.call(self.on_lost.as_ref().or(self.on_revoke.as_ref()), partitions);
    }
}

/// Consumer settings from keyword arguments; durations in seconds.
pub fn consumer_config(settings: Option<&Bound<'_, PyDict>>) -> PyResult<pyralog::ConsumerConfig> {
    let mut c = pyralog::ConsumerConfig::default();
    for (k, v) in settings.into_iter().flat_map(|d| d.iter()) {
        match k.extract::<String>()?.as_str() {
            "group_id" => c.group_id = v.extract()?,
            "group_instance_id" => c.group_instance_id = v.extract()?,
            "auto_offset_reset" => c.auto_offset_reset = offset_reset(&v.extract::<String>()?)?,
            "max_poll_records" => c.max_poll_records = v.extract()?,
            "fetch_max_bytes" => c.fetch_max_bytes = v.extract()?,
            "max_partition_fetch_bytes" => c.max_partition_fetch_bytes = v.extract()?,
            "fetch_max_wait" => c.fetch_max_wait = seconds(v.extract()?)?,
            "session_timeout" => c.session_timeout = seconds(v.extract()?)?,
            "heartbeat_interval" => c.heartbeat_interval = seconds(v.extract()?)?,
            "rebalance_timeout" => c.rebalance_timeout = seconds(v.extract()?)?,
            "max_poll_interval" => c.max_poll_interval = seconds(v.extract()?)?,
            "assignors" => c.assignors = v.extract()?,
            "enable_auto_commit" => c.enable_auto_commit = v.extract()?,
            "auto_commit_interval" => c.auto_commit_interval = seconds(v.extract()?)?,
            other => return Err(PyTypeError::new_err(format!("unknown consumer setting {other:?}"))),
        }
    }
    Ok(c)
}

fn offset_reset(s: &str) -> PyResult<pyralog::OffsetReset> {
    match s {
        "earliest" => Ok(pyralog::OffsetReset::Earliest),
        "latest" => Ok(pyralog::OffsetReset::Latest),
        "error" => Ok(pyralog::OffsetReset::Error),
        _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "auto_offset_reset must be \"earliest\", \"latest\" or \"error\", not {s:?}"
        ))),
    }
}
