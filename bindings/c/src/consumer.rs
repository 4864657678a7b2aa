//! The consumer. It serves one caller at a time: a call made while another
//! runs (another thread, or the consumer's own rebalance callback) fails
//! with `Busy` (104) at once instead of waiting.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use pyralog::{Error, ErrorCode};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::cancel::{pyralog_cancel_t, Cancel};
use crate::client::{ms_or, pyralog_client_t};
use crate::error::{block, guard, invalid, put, pyralog_error_t, runtime};
use crate::types::*;

/// How long `close` waits for a running call (a poll ends within its
/// timeout) before failing with `Busy`.
pub const CLOSE_WAIT_MS: u64 = 30_000;

/// A consumer of assigned partitions or of a group's share of logs. Close
/// with `pyralog_consumer_close`, then free it.
pub struct pyralog_consumer_t {
    inner: Arc<AsyncMutex<pyralog::Consumer>>,
}

/// Consumer settings; zero takes each default. `auto_offset_reset`: 0
/// earliest, 1 latest, 2 error. `enable_auto_commit`: 0 default (on), 1 on,
/// 2 off. `assignors`: comma-separated names, empty for all.
#[repr(C)]
pub struct pyralog_consumer_config_t {
    pub group_id: pyralog_str_t,
    pub group_instance_id: pyralog_str_t,
    pub auto_offset_reset: i32,
    pub max_poll_records: usize,
    pub fetch_max_bytes: u32,
    pub max_partition_fetch_bytes: u32,
    pub fetch_max_wait_ms: u64,
    pub session_timeout_ms: u64,
    pub heartbeat_interval_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub max_poll_interval_ms: u64,
    pub assignors: pyralog_str_t,
    pub enable_auto_commit: i32,
    pub auto_commit_interval_ms: u64,
}

/// # Safety
/// The strings of `c` are valid.
unsafe fn consumer_config(c: Option<&pyralog_consumer_config_t>) -> pyralog::Result<pyralog::ConsumerConfig> {
    let mut k = pyralog::ConsumerConfig::default();
    let Some(c) = c else { return Ok(k) };
    // SAFETY: per the contract.
    let (group, instance, assignors) =
        unsafe { (c.group_id.to_str()?, c.group_instance_id.to_str()?, c.assignors.to_str()?) };
    k.group_id = (!group.is_empty()).then(|| group.to_owned());
    k.group_instance_id = (!instance.is_empty()).then(|| instance.to_owned());
    k.auto_offset_reset = match c.auto_offset_reset {
        0 => pyralog::OffsetReset::Earliest,
        1 => pyralog::OffsetReset::Latest,
        2 => pyralog::OffsetReset::Error,
        n => return Err(invalid(format!("auto_offset_reset {n} is not 0, 1 or 2"))),
    };
    if c.max_poll_records != 0 {
        k.max_poll_records = c.max_poll_records;
    }
    if c.fetch_max_bytes != 0 {
        k.fetch_max_bytes = c.fetch_max_bytes;
    }
    if c.max_partition_fetch_bytes != 0 {
        k.max_partition_fetch_bytes = c.max_partition_fetch_bytes;
    }
    k.fetch_max_wait = ms_or(c.fetch_max_wait_ms, k.fetch_max_wait);
    k.session_timeout = ms_or(c.session_timeout_ms, k.session_timeout);
    k.heartbeat_interval = ms_or(c.heartbeat_interval_ms, k.heartbeat_interval);
    k.rebalance_timeout = ms_or(c.rebalance_timeout_ms, k.rebalance_timeout);
    k.max_poll_interval = ms_or(c.max_poll_interval_ms, k.max_poll_interval);
    if !assignors.is_empty() {
        k.assignors = assignors.split(',').map(|s| s.trim().to_owned()).collect();
    }
    k.enable_auto_commit = match c.enable_auto_commit {
        0 | 1 => true,
        2 => false,
        n => return Err(invalid(format!("enable_auto_commit {n} is not 0, 1 or 2"))),
    };
    k.auto_commit_interval = ms_or(c.auto_commit_interval_ms, k.auto_commit_interval);
    Ok(k)
}

/// A consumer on client `c` (`config` NULL for the defaults).
///
/// # Safety
/// `c` live; `config` NULL or valid; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_new(
    c: *const pyralog_client_t,
    config: *const pyralog_consumer_config_t,
    out: *mut *mut pyralog_consumer_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, cfg) = unsafe { (c.as_ref().ok_or_else(|| invalid("the client is NULL"))?, config.as_ref()) };
        // SAFETY: per the contract.
        let cfg = unsafe { consumer_config(cfg) }?;
        let inner = Arc::new(AsyncMutex::new(c.inner.consumer(cfg)));
        put(out, Box::into_raw(Box::new(pyralog_consumer_t { inner })))
    })
}

type Guard = OwnedMutexGuard<pyralog::Consumer>;

/// # Safety
/// `c` is NULL or live.
unsafe fn lock(c: *const pyralog_consumer_t) -> pyralog::Result<Guard> {
    // SAFETY: per the contract.
    let c = unsafe { c.as_ref() }.ok_or_else(|| invalid("the consumer is NULL"))?;
    Arc::clone(&c.inner).try_lock_owned().map_err(|_| {
        Error::new(
            ErrorCode::ConcurrentCall,
            "the consumer is running another call (from another thread or a rebalance callback); \
             a consumer serves one caller at a time",
        )
    })
}

/// Runs `op` on the locked consumer here, inside the runtime.
///
/// # Safety
/// `c` is NULL or live.
unsafe fn now<T>(
    c: *const pyralog_consumer_t,
    op: impl FnOnce(&mut pyralog::Consumer) -> pyralog::Result<T>,
) -> pyralog::Result<T> {
    let _rt = runtime().enter();
    // SAFETY: per the contract.
    let mut guard = unsafe { lock(c) }?;
    op(&mut guard)
}

/// A rebalance callback: `kind` 0 assigned, 1 revoked, 2 lost; the
/// partitions are valid during the call. It runs inside `poll`, on the
/// polling thread, and must not call this consumer (that fails `Busy`).
pub type pyralog_rebalance_cb = Option<
    unsafe extern "C" fn(user_data: *mut c_void, kind: i32, partitions: *const pyralog_log_partition_t, len: usize),
>;

struct Listener {
    cb: unsafe extern "C" fn(*mut c_void, i32, *const pyralog_log_partition_t, usize),
    user_data: usize,
}

impl Listener {
    fn call(&self, kind: i32, lps: &[pyralog::LogPartition]) {
        let parts: Vec<pyralog_log_partition_t> = lps.iter().map(pyralog_log_partition_t::borrowed).collect();
        // SAFETY: the caller of `subscribe` promised a callable `cb` and a
        // `user_data` valid until the consumer is freed.
        unsafe { (self.cb)(self.user_data as *mut c_void, kind, parts.as_ptr(), parts.len()) };
    }
}

impl pyralog::RebalanceListener for Listener {
    fn on_partitions_assigned(&self, p: &[pyralog::LogPartition]) {
        self.call(0, p);
    }
    fn on_partitions_revoked(&self, p: &[pyralog::LogPartition]) {
        self.call(1, p);
    }
    fn on_partitions_lost(&self, p: &[pyralog::LogPartition]) {
        self.call(2, p);
    }
}

/// Joins the consumer's group for `logs`; `cb` (may be NULL) hears of
/// assignments inside `poll`, with `user_data`.
///
/// # Safety
/// `c` live; `logs` valid for `len`; `cb` NULL or callable from any thread;
/// `user_data` valid until the consumer is freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_subscribe(
    c: *const pyralog_consumer_t,
    logs: *const pyralog_str_t,
    len: usize,
    cb: pyralog_rebalance_cb,
    user_data: *mut c_void,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let names = unsafe { raw_slice(logs, len) }?
            .iter()
            .map(|s| unsafe { s.to_str() })
            .collect::<pyralog::Result<Vec<_>>>()?;
        let listener = cb
            .map(|cb| Arc::new(Listener { cb, user_data: user_data as usize }) as Arc<dyn pyralog::RebalanceListener>);
        // SAFETY: per the contract.
        unsafe { now(c, |k| k.subscribe(&names, listener)) }
    })
}

/// Reads exactly these partitions (no group).
///
/// # Safety
/// `c` live; `partitions` valid for `len`.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_assign(
    c: *const pyralog_consumer_t,
    partitions: *const pyralog_log_partition_t,
    len: usize,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lps = log_partitions(partitions, len)?;
        now(c, |k| k.assign(lps))
    })
}

/// The assigned partitions (offsets 0); free with `pyralog_offsets_free`.
///
/// # Safety
/// `c` live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_assignment(
    c: *const pyralog_consumer_t,
    out: *mut *mut pyralog_offsets_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lps = now(c, |k| Ok(k.assignment()))?;
        put(out, offsets_ptr(lps.into_iter().map(|lp| (lp, 0)).collect()))
    })
}

/// Which seek: 0 to `offset`, 1 beginning, 2 end, 3 first record at or after
/// `offset` as a timestamp in ms. An empty `partitions` means the assignment.
///
/// # Safety
/// `c` live; `partitions` valid for `len`.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_seek(
    c: *const pyralog_consumer_t,
    partitions: *const pyralog_log_partition_t,
    len: usize,
    whence: i32,
    offset: i64,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lps = log_partitions(partitions, len)?;
        now(c, |k| {
            let lps = if lps.is_empty() { k.assignment() } else { lps };
            match whence {
                0 => {
                    let o = u64::try_from(offset).map_err(|_| invalid("a negative offset"))?;
                    lps.iter().try_for_each(|lp| k.seek(lp, pyralog::LogOffset(o)))
                }
                1 => k.seek_to_beginning(&lps),
                2 => k.seek_to_end(&lps),
                3 => k.seek_to_timestamp(&lps, offset),
                n => Err(invalid(format!("whence {n} is not 0..=3"))),
            }
        })
    })
}

/// Pauses (`pause` true) or resumes fetching these partitions.
///
/// # Safety
/// `c` live; `partitions` valid for `len`.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_pause(
    c: *const pyralog_consumer_t,
    partitions: *const pyralog_log_partition_t,
    len: usize,
    pause: bool,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lps = log_partitions(partitions, len)?;
        now(c, |k| if pause { k.pause(&lps) } else { k.resume(&lps) })
    })
}

/// Runs an async operation on the locked consumer and waits for it.
///
/// # Safety
/// `c` is NULL or live; `cancel` NULL or live.
unsafe fn run<T: Send + 'static, F>(
    c: *const pyralog_consumer_t,
    cancel: *const pyralog_cancel_t,
    op: F,
) -> pyralog::Result<T>
where
    F: FnOnce(Guard) -> std::pin::Pin<Box<dyn std::future::Future<Output = pyralog::Result<T>> + Send>>
        + Send
        + 'static,
{
    // SAFETY: per the contract.
    let (guard, cancel) = unsafe { (lock(c)?, Cancel::from_ptr(cancel)) };
    block(cancel.run(op(guard)))
}

/// The next records (possibly none after `timeout_ms`); free with
/// `pyralog_records_free`.
///
/// # Safety
/// `c` live; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_poll(
    c: *const pyralog_consumer_t,
    timeout_ms: u64,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_records_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let t = Duration::from_millis(timeout_ms);
        let v = run(c, cancel, move |mut k| Box::pin(async move { k.poll(t).await }))?;
        put(out, records_ptr(v))
    })
}

/// The offset of the next record `poll` returns for `partition`.
///
/// # Safety
/// `c` live; `partition` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_position(
    c: *const pyralog_consumer_t,
    partition: pyralog_log_partition_t,
    cancel: *const pyralog_cancel_t,
    out: *mut u64,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lp = partition.to_core()?;
        let v = run(c, cancel, move |mut k| Box::pin(async move { k.position(&lp).await }))?;
        put(out, v)
    })
}

/// Commits the positions (`len` 0) or the given next offsets, and waits.
///
/// # Safety
/// `c` live; `offsets` valid for `len`; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_commit(
    c: *const pyralog_consumer_t,
    offsets: *const pyralog_partition_offset_t,
    len: usize,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let list: Vec<(pyralog::LogPartition, u64)> = raw_slice(offsets, len)?
            .iter()
            .map(|o| Ok((o.partition.to_core()?, o.offset)))
            .collect::<pyralog::Result<_>>()?;
        run(c, cancel, move |mut k| {
            Box::pin(async move {
                if list.is_empty() {
                    k.commit().await
                } else {
                    k.commit_offsets(&list).await
                }
            })
        })
    })
}

/// Starts committing the positions without waiting; a failure shows in the
/// next commit or `committed`.
///
/// # Safety
/// `c` live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_commit_async(c: *const pyralog_consumer_t) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe { now(c, |k| k.commit_async().map(drop)) })
}

/// The group's committed offsets for `partitions` (`len` 0: the
/// assignment); free with `pyralog_offsets_free`.
///
/// # Safety
/// `c` live; `partitions` valid for `len`; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_committed(
    c: *const pyralog_consumer_t,
    partitions: *const pyralog_log_partition_t,
    len: usize,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_offsets_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let lps = log_partitions(partitions, len)?;
        let m = run(c, cancel, move |k| {
            Box::pin(async move {
                let lps = if lps.is_empty() { k.assignment() } else { lps };
                k.committed(&lps).await
            })
        })?;
        put(out, offsets_ptr(m.into_iter().collect()))
    })
}

/// Leaves the group (committing first with auto-commit) and stops.
/// Idempotent. Waits up to `CLOSE_WAIT_MS` for a running call.
///
/// # Safety
/// `c` live; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_close(
    c: *const pyralog_consumer_t,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let c = c.as_ref().ok_or_else(|| invalid("the consumer is NULL"))?;
        let (inner, cancel) = (Arc::clone(&c.inner), Cancel::from_ptr(cancel));
        block(cancel.run(async move {
            let mut k = tokio::time::timeout(Duration::from_millis(CLOSE_WAIT_MS), inner.lock_owned())
                .await
                .map_err(|_| Error::new(ErrorCode::Timeout, "a running call did not end in time to close"))?;
            k.close().await;
            Ok(())
        }))
    })
}

/// Frees a consumer (closing it first if needed). NULL is ignored.
///
/// # Safety
/// `c` is NULL or a live consumer no other call is using.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consumer_free(c: *mut pyralog_consumer_t) {
    if c.is_null() {
        return;
    }
    // SAFETY: per the contract, from `pyralog_consumer_new`.
    let c = unsafe { Box::from_raw(c) };
    let inner = c.inner;
    let _ = block(async move {
        let wait = Duration::from_millis(CLOSE_WAIT_MS);
        if let Ok(mut k) = tokio::time::timeout(wait, inner.lock_owned()).await {
            k.close().await;
        }
        Ok(())
    });
}
