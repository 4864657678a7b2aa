//! The producer: `send` queues a batch of records under a caller's token and
//! returns; each record's outcome comes back later as a report from
//! `pyralog_producer_poll_reports` (the librdkafka model: one thread of the
//! binding polls reports in bulk, so a record costs no call of its own).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use pyralog::{Error, ErrorCode};
use tokio::sync::Semaphore;

use crate::cancel::{pyralog_cancel_t, Cancel};
use crate::client::{ms_or, pyralog_client_t};
use crate::error::{block, error_ptr, guard, invalid, put, pyralog_error_t, runtime};
use crate::types::*;

/// Records sent whose reports the caller has not taken yet, at most: `send`
/// waits (up to `max_block`) beyond this, so an idle report poller cannot
/// make reports pile up without bound.
pub const MAX_UNREPORTED_RECORDS: usize = 1 << 20;

/// A record's outcome: `error` is NULL on success (then `metadata` is set),
/// else an error the taker frees with `pyralog_error_free`.
#[repr(C)]
pub struct pyralog_report_t {
    /// The token given to `pyralog_producer_send`.
    pub token: u64,
    /// The record's index in that send's batch.
    pub index: usize,
    pub metadata: pyralog_record_metadata_t,
    pub error: *mut pyralog_error_t,
}

// SAFETY: the error pointer is owned by the report and handed over whole.
unsafe impl Send for pyralog_report_t {}

struct Reports {
    queue: Mutex<VecDeque<pyralog_report_t>>,
    ready: Condvar,
    /// Records sent whose report is not in the queue yet.
    outstanding: AtomicUsize,
    closed: AtomicBool,
    room: Arc<Semaphore>,
}

/// A batching, retrying, idempotent producer. Thread-safe. Close with
/// `pyralog_producer_close`, take the last reports, then free it.
pub struct pyralog_producer_t {
    inner: pyralog::Producer,
    reports: Arc<Reports>,
    max_block: Duration,
}

/// Producer settings; zero takes the default of each (`idempotence`:
/// 0 default (on), 1 on, 2 off).
#[repr(C)]
pub struct pyralog_producer_config_t {
    pub batch_size: usize,
    pub linger_ms: u64,
    pub buffer_memory: usize,
    pub max_block_ms: u64,
    pub delivery_timeout_ms: u64,
    pub retry_backoff_ms: u64,
    pub max_in_flight: usize,
    pub idempotence: i32,
}

fn producer_config(c: Option<&pyralog_producer_config_t>) -> pyralog::Result<pyralog::ProducerConfig> {
    let mut p = pyralog::ProducerConfig::default();
    let Some(c) = c else { return Ok(p) };
    let or = |v: usize, d: usize| if v == 0 { d } else { v };
    p.batch_size = or(c.batch_size, p.batch_size);
    p.linger = if c.linger_ms == 0 { p.linger } else { Duration::from_millis(c.linger_ms) };
    p.buffer_memory = or(c.buffer_memory, p.buffer_memory);
    p.max_block = ms_or(c.max_block_ms, p.max_block);
    p.delivery_timeout = ms_or(c.delivery_timeout_ms, p.delivery_timeout);
    p.retry_backoff = ms_or(c.retry_backoff_ms, p.retry_backoff);
    p.max_in_flight = or(c.max_in_flight, p.max_in_flight);
    p.idempotence = match c.idempotence {
        0 | 1 => true,
        2 => false,
        n => return Err(invalid(format!("idempotence {n} is not 0, 1 or 2"))),
    };
    Ok(p)
}

/// A producer on client `c` (`config` NULL for the defaults).
///
/// # Safety
/// `c` live; `config` NULL or valid; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_new(
    c: *const pyralog_client_t,
    config: *const pyralog_producer_config_t,
    out: *mut *mut pyralog_producer_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, cfg) = unsafe { (c.as_ref().ok_or_else(|| invalid("the client is NULL"))?, config.as_ref()) };
        let cfg = producer_config(cfg)?;
        let max_block = cfg.max_block;
        let _rt = runtime().enter();
        let inner = c.inner.producer(cfg)?;
        let reports = Arc::new(Reports {
            queue: Mutex::default(),
            ready: Condvar::new(),
            outstanding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            room: Arc::new(Semaphore::new(MAX_UNREPORTED_RECORDS)),
        });
        put(out, Box::into_raw(Box::new(pyralog_producer_t { inner, reports, max_block })))
    })
}

/// # Safety
/// `p` is NULL or live.
unsafe fn producer<'a>(p: *const pyralog_producer_t) -> pyralog::Result<&'a pyralog_producer_t> {
    // SAFETY: per the contract.
    unsafe { p.as_ref() }.ok_or_else(|| invalid("the producer is NULL"))
}

/// Queues every record of `batch` for `log` under `token`; returns once
/// they are queued (waiting, up to `max_block`, while the buffer is full).
/// One report per record follows, with this token and the record's index.
/// On an error no report follows for the records not queued.
///
/// # Safety
/// `p` live; `log` and `batch` valid; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_send(
    p: *const pyralog_producer_t,
    log: pyralog_str_t,
    batch: *const pyralog_batch_in_t,
    token: u64,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (p, log, records, cancel) = unsafe {
            let b = batch.as_ref().ok_or_else(|| invalid("batch is NULL"))?;
            (producer(p)?, log.to_str()?.to_owned(), b.to_records()?, Cancel::from_ptr(cancel))
        };
        let n = records.len();
        let permits = u32::try_from(n).ok().filter(|n| (*n as usize) <= MAX_UNREPORTED_RECORDS);
        let permits =
            permits.ok_or_else(|| invalid(format!("a batch holds at most {MAX_UNREPORTED_RECORDS} records")))?;
        let (inner, reports, max_block) = (p.inner.clone(), Arc::clone(&p.reports), p.max_block);
        let room = Arc::clone(&reports.room);
        let acks = block(cancel.run(async move {
            let permit = tokio::time::timeout(max_block, room.acquire_many_owned(permits)).await;
            let permit = permit
                .map_err(|_| Error::new(ErrorCode::BufferFull, "reports not taken within max_block"))?
                .map_err(|_| Error::closed("producer"))?;
            let acks = inner.send_batch(&log, records).await?;
            permit.forget(); // given back as the reports are taken
            Ok(acks)
        }))?;
        reports.outstanding.fetch_add(n, Ordering::AcqRel);
        runtime().spawn(async move {
            for (index, ack) in acks.into_iter().enumerate() {
                let (metadata, error) = match ack.await {
                    Ok(md) => (md.into(), std::ptr::null_mut()),
                    Err(e) => (pyralog_record_metadata_t::default(), error_ptr(e)),
                };
                reports.queue.lock().push_back(pyralog_report_t { token, index, metadata, error });
                reports.outstanding.fetch_sub(1, Ordering::AcqRel);
                reports.ready.notify_all();
            }
        });
        Ok(())
    })
}

/// Takes up to `max` reports into `out`, waiting up to `timeout_ms` for the
/// first; writes how many to `*count` (0 after the timeout). After
/// `pyralog_producer_close`, once every report is taken, fails `Closed`.
///
/// # Safety
/// `p` live; `out` writable for `max` reports; `count` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_poll_reports(
    p: *const pyralog_producer_t,
    out: *mut pyralog_report_t,
    max: usize,
    timeout_ms: u64,
    count: *mut usize,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { producer(p) }?;
        if out.is_null() && max > 0 {
            return Err(invalid("out is NULL"));
        }
        let r = &p.reports;
        let mut queue = r.queue.lock();
        if queue.is_empty() && !(r.closed.load(Ordering::Acquire) && r.outstanding.load(Ordering::Acquire) == 0) {
            r.ready.wait_for(&mut queue, Duration::from_millis(timeout_ms));
        }
        if queue.is_empty() && r.closed.load(Ordering::Acquire) && r.outstanding.load(Ordering::Acquire) == 0 {
            return Err(Error::closed("producer"));
        }
        let n = queue.len().min(max);
        for (i, report) in queue.drain(..n).enumerate() {
            // SAFETY: `out` is writable for `max` >= `n` reports.
            unsafe { out.add(i).write(report) };
        }
        drop(queue);
        r.room.add_permits(n);
        put(count, n)
    })
}

/// Waits until every record sent before it is acknowledged or failed (its
/// report is then on its way).
///
/// # Safety
/// `p` live; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_flush(
    p: *const pyralog_producer_t,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (p, cancel) = unsafe { (producer(p)?.inner.clone(), Cancel::from_ptr(cancel)) };
        block(cancel.run(async move { p.flush().await }))
    })
}

/// Flushes, then stops: later sends fail `Closed`. Idempotent.
///
/// # Safety
/// `p` live; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_close(
    p: *const pyralog_producer_t,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (p, cancel) = unsafe { (producer(p)?, Cancel::from_ptr(cancel)) };
        let inner = p.inner.clone();
        let r = block(cancel.run(async move { inner.close().await }));
        p.reports.closed.store(true, Ordering::Release);
        p.reports.room.close();
        p.reports.ready.notify_all();
        r
    })
}

/// The producer id and epoch (`has_identity` false without idempotence).
///
/// # Safety
/// `p` live; `cancel` NULL or live; outputs writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_identity(
    p: *const pyralog_producer_t,
    cancel: *const pyralog_cancel_t,
    has_identity: *mut bool,
    id: *mut u64,
    epoch: *mut u16,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (p, cancel) = unsafe { (producer(p)?.inner.clone(), Cancel::from_ptr(cancel)) };
        let ident = block(cancel.run(async move { p.identity().await }))?;
        put(has_identity, ident.is_some())?;
        put(id, ident.map_or(0, |i| i.id))?;
        put(epoch, ident.map_or(0, |i| i.epoch))
    })
}

/// Frees a producer; reports not taken are dropped with it. NULL is ignored.
///
/// # Safety
/// `p` is NULL or a live producer no other call is using.
#[no_mangle]
pub unsafe extern "C" fn pyralog_producer_free(p: *mut pyralog_producer_t) {
    if p.is_null() {
        return;
    }
    // SAFETY: per the contract, from `pyralog_producer_new`.
    let p = unsafe { Box::from_raw(p) };
    for r in p.reports.queue.lock().drain(..) {
        // SAFETY: each report owns its error.
        unsafe { crate::error::pyralog_error_free(r.error) };
    }
}
