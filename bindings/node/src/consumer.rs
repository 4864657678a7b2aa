//! `NativeConsumer`: the core consumer behind a mutex. A consumer serves one
//! caller at a time, as in every Kafka client: a call made while another is
//! running (an unawaited `poll`, or a rebalance callback calling back into
//! its consumer) fails with `Busy` at once instead of waiting.
//!
//! Rebalance callbacks are JavaScript functions the core calls inside
//! `poll` (on a runtime thread): each call is queued to the JavaScript
//! thread, which is free because `poll` is a pending promise, and the
//! runtime thread waits for it to return (bounded), so partitions change
//! exactly when the core says. An exception thrown there rejects the `poll`.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{Function, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use pyralog::{Consumer, Error, ErrorCode, LogPartition};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::convert::{self, to_js_partitions, Flat, Js, JsLogPartition, RecordColumns};
use crate::errors::{promise, rejected, same, sync, Failure};
use crate::runtime;

/// How long `close` waits for a running call (a poll ends within its
/// timeout) before giving up with `Busy`.
const CLOSE_WAIT: Duration = Duration::from_secs(30);
/// Longest a rebalance callback may take before the poll goes on without it.
const CALLBACK_WAIT: Duration = Duration::from_secs(60);

type Guard = OwnedMutexGuard<Consumer>;
/// A rebalance callback: weak (it never keeps the process alive), called
/// with the partitions, its exceptions captured rather than fatal.
type Callback = ThreadsafeFunction<Vec<JsLogPartition>, Unknown<'static>, Vec<JsLogPartition>, Status, false, true>;

fn busy() -> Error {
    Error::new(
        ErrorCode::ConcurrentCall,
        "the consumer is running another call (an unawaited poll, or a rebalance callback calling its consumer); \
         a consumer serves one caller at a time",
    )
}

/// A committed or to-be-committed offset of one partition.
#[napi(object)]
pub struct JsPartitionOffset {
    pub log: String,
    pub partition: u32,
    pub offset: f64,
}

/// The native half of `Consumer`.
#[napi]
pub struct NativeConsumer {
    inner: Arc<AsyncMutex<Consumer>>,
    listener: Arc<Listener>,
}

impl NativeConsumer {
    pub fn new(inner: Consumer) -> Self {
        NativeConsumer { inner: Arc::new(AsyncMutex::new(inner)), listener: Arc::default() }
    }

    fn lock(&self) -> pyralog::Result<Guard> {
        Arc::clone(&self.inner).try_lock_owned().map_err(|_| busy())
    }

    /// Runs `op` on the locked consumer now, on this thread (inside the
    /// runtime: some calls start tasks); errors are thrown.
    fn now<T>(&self, env: &Env, op: impl FnOnce(&mut Consumer) -> pyralog::Result<T>) -> napi::Result<T> {
        let _runtime = runtime::handle().enter();
        let mut guard = sync(env, self.lock())?;
        sync(env, op(&mut guard))
    }

    /// Runs `op` on the locked consumer on the runtime; a rebalance
    /// callback's exception rejects the promise.
    fn spawn<'env, T, V, F, Fut, C>(&self, env: &'env Env, op: F, convert: C) -> napi::Result<PromiseRaw<'env, V>>
    where
        T: Send + 'static,
        V: napi::bindgen_prelude::ToNapiValue + 'static,
        F: FnOnce(Guard) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = pyralog::Result<T>> + Send + 'static,
        C: FnOnce(&Env, T) -> napi::Result<V> + 'static,
    {
        let guard = match self.lock() {
            Ok(g) => g,
            Err(e) => return rejected(env, e),
        };
        let listener = Arc::clone(&self.listener);
        promise(
            env,
            async move {
                let out = op(guard).await;
                listener.raise()?;
                out.map_err(Failure::Core)
            },
            convert,
        )
    }
}

fn js(u: &Option<Unknown<'_>>) -> Option<Js> {
    u.as_ref().map(Js::of).filter(|j| !j.is_nullish())
}

/// The given partitions, or the whole assignment when left out.
fn or_assignment(c: &Consumer, lps: Option<Vec<LogPartition>>) -> Vec<LogPartition> {
    lps.unwrap_or_else(|| c.assignment())
}

type JsCallback<'a> = Function<'a, Vec<JsLogPartition>, Unknown<'static>>;

fn callback(f: Option<JsCallback<'_>>) -> napi::Result<Option<Callback>> {
    f.map(|f| f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()).transpose()
}

#[napi]
impl NativeConsumer {
    /// Joins the consumer's group for `logs`; the callbacks get arrays of
    /// `{log, partition}` inside `poll`.
    #[napi]
    pub fn subscribe(
        &mut self,
        env: &Env,
        logs: Vec<String>,
        on_assign: Option<JsCallback<'_>>,
        on_revoke: Option<JsCallback<'_>>,
        on_lost: Option<JsCallback<'_>>,
    ) -> napi::Result<()> {
        let listener = Arc::new(Listener {
            on_assign: callback(on_assign)?,
            on_revoke: callback(on_revoke)?,
            on_lost: callback(on_lost)?,
            error: Mutex::default(),
        });
        let names: Vec<&str> = logs.iter().map(String::as_str).collect();
        let core: Arc<dyn pyralog::RebalanceListener> = listener.clone();
        self.now(env, |c| c.subscribe(&names, Some(core)))?;
        self.listener = listener;
        Ok(())
    }

    #[napi]
    pub fn unsubscribe<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        self.spawn(env, |mut c| async move { c.unsubscribe().await }, same)
    }

    #[napi]
    pub fn assign(&self, env: &Env, partitions: Unknown<'_>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(Some(Js::of(&partitions))))?.unwrap_or_default();
        self.now(env, |c| c.assign(lps))
    }

    #[napi]
    pub fn assign_log<'env>(&self, env: &'env Env, log: String) -> napi::Result<PromiseRaw<'env, ()>> {
        self.spawn(env, |mut c| async move { c.assign_log(&log).await }, same)
    }

    #[napi]
    pub fn assignment(&self, env: &Env) -> napi::Result<Vec<JsLogPartition>> {
        self.now(env, |c| Ok(to_js_partitions(&c.assignment())))
    }

    #[napi]
    pub fn seek(&self, env: &Env, partition: Unknown<'_>, offset: Unknown<'_>) -> napi::Result<()> {
        let lp = sync(env, convert::log_partition(Js::of(&partition)))?;
        let offset = sync(env, convert::offset(Some(Js::of(&offset))))?;
        self.now(env, |c| c.seek(&lp, offset))
    }

    #[napi]
    pub fn seek_to_beginning(&self, env: &Env, partitions: Option<Unknown<'_>>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(js(&partitions)))?;
        self.now(env, |c| c.seek_to_beginning(&or_assignment(c, lps)))
    }

    #[napi]
    pub fn seek_to_end(&self, env: &Env, partitions: Option<Unknown<'_>>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(js(&partitions)))?;
        self.now(env, |c| c.seek_to_end(&or_assignment(c, lps)))
    }

    #[napi]
    pub fn seek_to_timestamp(&self, env: &Env, timestamp_ms: f64, partitions: Option<Unknown<'_>>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(js(&partitions)))?;
        self.now(env, |c| c.seek_to_timestamp(&or_assignment(c, lps), timestamp_ms as i64))
    }

    #[napi]
    pub fn pause(&self, env: &Env, partitions: Unknown<'_>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(Some(Js::of(&partitions))))?.unwrap_or_default();
        self.now(env, |c| c.pause(&lps))
    }

    #[napi]
    pub fn resume(&self, env: &Env, partitions: Unknown<'_>) -> napi::Result<()> {
        let lps = sync(env, convert::log_partitions(Some(Js::of(&partitions))))?.unwrap_or_default();
        self.now(env, |c| c.resume(&lps))
    }

    #[napi]
    pub fn paused(&self, env: &Env) -> napi::Result<Vec<JsLogPartition>> {
        self.now(env, |c| Ok(to_js_partitions(&c.paused())))
    }

    /// Resolves with the offset of the next record `poll` returns.
    #[napi]
    pub fn position<'env>(&self, env: &'env Env, partition: Unknown<'_>) -> napi::Result<PromiseRaw<'env, f64>> {
        let lp = match convert::log_partition(Js::of(&partition)) {
            Ok(lp) => lp,
            Err(e) => return rejected(env, e),
        };
        self.spawn(env, move |mut c| async move { c.position(&lp).await }, |_, o| Ok(o as f64))
    }

    /// Resolves with the next records, or none after `timeoutMs`.
    #[napi]
    pub fn poll<'env>(&self, env: &'env Env, timeout_ms: u32) -> napi::Result<PromiseRaw<'env, RecordColumns>> {
        let t = Duration::from_millis(u64::from(timeout_ms));
        self.spawn(env, move |mut c| async move { c.poll(t).await.map(|v| Flat::of(&v)) }, |_, f| Ok(f.into_js()))
    }

    /// Commits the positions, or the given `[{log, partition, offset}]`
    /// (offset = the next one to read).
    #[napi]
    pub fn commit<'env>(&self, env: &'env Env, offsets: Option<Unknown<'_>>) -> napi::Result<PromiseRaw<'env, ()>> {
        let Some(offsets) = js(&offsets) else {
            return self.spawn(env, |mut c| async move { c.commit().await }, same);
        };
        let list = match partition_offsets(offsets) {
            Ok(l) => l,
            Err(e) => return rejected(env, e),
        };
        self.spawn(env, move |mut c| async move { c.commit_offsets(&list).await }, same)
    }

    /// Starts committing the positions now; the promise tells how it went.
    #[napi]
    pub fn commit_async<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let task = match self.lock().and_then(|mut c| {
            let _runtime = runtime::handle().enter();
            c.commit_async()
        }) {
            Ok(t) => t,
            Err(e) => return rejected(env, e),
        };
        promise(
            env,
            async move {
                task.await.unwrap_or_else(|e| Err(Error::new(ErrorCode::Unknown, format!("commit task ended: {e}"))))
            },
            same,
        )
    }

    /// Resolves with the group's committed offsets of `partitions` (default:
    /// the assignment); partitions without a commit are left out.
    #[napi]
    pub fn committed<'env>(
        &self,
        env: &'env Env,
        partitions: Option<Unknown<'_>>,
    ) -> napi::Result<PromiseRaw<'env, Vec<JsPartitionOffset>>> {
        let lps = match convert::log_partitions(js(&partitions)) {
            Ok(l) => l,
            Err(e) => return rejected(env, e),
        };
        self.spawn(
            env,
            move |c| async move {
                let lps = or_assignment(&c, lps);
                c.committed(&lps).await
            },
            |_, m| {
                Ok(m.into_iter()
                    .map(|(lp, o)| JsPartitionOffset {
                        log: lp.log.to_string(),
                        partition: lp.partition,
                        offset: o as f64,
                    })
                    .collect())
            },
        )
    }

    /// Leaves the group (committing first with auto-commit) and stops.
    /// Idempotent; waits for a running call to end first.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let (inner, listener) = (Arc::clone(&self.inner), Arc::clone(&self.listener));
        promise(
            env,
            async move {
                let Ok(mut c) = tokio::time::timeout(CLOSE_WAIT, inner.lock_owned()).await else {
                    return Err(Failure::Core(busy()));
                };
                c.close().await;
                listener.raise()
            },
            same,
        )
    }
}

fn partition_offsets(v: Js) -> pyralog::Result<Vec<(LogPartition, u64)>> {
    let lps = convert::log_partitions(Some(v))?.unwrap_or_default();
    let offsets = convert::offsets_of(v)?;
    Ok(lps.into_iter().zip(offsets).map(|(lp, o)| (lp, o.0)).collect())
}

/// Rebalance callbacks into JavaScript (see the module doc).
#[derive(Default)]
struct Listener {
    on_assign: Option<Callback>,
    on_revoke: Option<Callback>,
    on_lost: Option<Callback>,
    error: Mutex<Option<napi::Error>>,
}

impl Listener {
    fn call(&self, cb: Option<&Callback>, partitions: &[LogPartition]) {
        let Some(cb) = cb else { return };
        let (tx, rx) = mpsc::sync_channel::<Option<napi::Error>>(1);
        let status = cb.call_with_return_value(
            to_js_partitions(partitions),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |ret: napi::Result<Unknown<'_>>, _| {
                let _ = tx.send(ret.err());
                Ok(())
            },
        );
        if status != Status::Ok {
            return; // the JavaScript environment is shutting down: no one to tell
        }
        let outcome = tokio::task::block_in_place(|| rx.recv_timeout(CALLBACK_WAIT));
        let error = match outcome {
            Ok(e) => e,
            Err(mpsc::RecvTimeoutError::Timeout) => Some(napi::Error::from_reason(format!(
                "a rebalance callback did not return within {CALLBACK_WAIT:?}; the JavaScript thread is blocked"
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
        };
        if let Some(e) = error {
            self.error.lock().expect("listener lock").get_or_insert(e);
        }
    }

    /// The first exception a callback threw since the last call, if any.
    fn raise(&self) -> Result<(), Failure> {
        match self.error.lock().expect("listener lock").take() {
            Some(e) => Err(Failure::Js(e)),
            None => Ok(()),
        }
    }
}

impl pyralog::RebalanceListener for Listener {
    fn on_partitions_assigned(&self, partitions: &[LogPartition]) {
        self.call(self.on_assign.as_ref(), partitions);
    }
    fn on_partitions_revoked(&self, partitions: &[LogPartition]) {
        self.call(self.on_revoke.as_ref(), partitions);
    }
    fn on_partitions_lost(&self, partitions: &[LogPartition]) {
        self.call(self.on_lost.as_ref().or(self.on_revoke.as_ref()), partitions);
    }
}
