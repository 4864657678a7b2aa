//! The producer: `send` queues a batch of records under a caller's token and
//! returns; each record's outcome comes back later as a report from
//! `pyralog_producer_poll_reports` (the librdkafka model: one thread of the
//! binding polls reports in bulk, so a record costs no call of its own).

use std::sync::Arc;
use std::time::Duration;

use crate::cancel::{pyralog_cancel_t, Cancel};
use crate::client::{ms_or, pyralog_client_t};
use crate::error::{block, error_ptr, guard, invalid, put, pyralog_error_t, runtime};
use crate::reporting::{Report, ReportingProducer};
use crate::types::*;

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

impl From<Report> for pyralog_report_t {
    fn from(r: Report) -> Self {
        let (metadata, error) = match r.result {
            Ok(md) => (md.into(), std::ptr::null_mut()),
            Err(e) => (pyralog_record_metadata_t::default(), error_ptr(e)),
        };
        pyralog_report_t { token: r.token, index: r.index, metadata, error }
    }
}

/// A batching, retrying, idempotent producer. Thread-safe. Close with
/// `pyralog_producer_close`, take the last reports, then free it.
pub struct pyralog_producer_t {
    inner: Arc<ReportingProducer>,
}

/// Producer settings; zero takes the default of each (`idempotence`:
/// 0 default (on), 1 on, 2 off; `acks`: 0 default (all), 1 all, 2 leader,
/// 3 none; `compression`: 0 default (none), 1 none, 2 snappy, 3 lz4, 4 zstd;
/// `compression_level`: 0 the codec's default, else zstd's level, 1 to 22;
/// `pyralog_producer_new` fails with `InvalidArgument` for a level out of
/// range or with another codec).
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
    pub acks: i32,
    pub compression: i32,
    pub compression_level: i32,
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
    p.acks = match c.acks {
        0 | 1 => pyralog::Acks::All,
        2 => pyralog::Acks::Leader,
        3 => pyralog::Acks::None,
        n => return Err(invalid(format!("acks {n} is not 0, 1, 2 or 3"))),
    };
    let codec = match c.compression {
        0 | 1 => "none",
        2 => "snappy",
        3 => "lz4",
        4 => "zstd",
        n => return Err(invalid(format!("compression {n} is not 0, 1, 2, 3 or 4"))),
    };
    let level = (c.compression_level != 0).then_some(c.compression_level);
    p.compression = pyralog::Compression::with_level(codec, level)?;
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
        let _rt = runtime().enter();
        let inner = Arc::new(ReportingProducer::new(&c.inner, cfg)?);
        put(out, Box::into_raw(Box::new(pyralog_producer_t { inner })))
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
        let p = Arc::clone(&p.inner);
        block(cancel.run(async move { p.send(&log, records, token).await }))
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
        let reports = p.inner.take(max, Duration::from_millis(timeout_ms))?;
        let n = reports.len();
        for (i, report) in reports.into_iter().enumerate() {
            // SAFETY: `out` is writable for `max` >= `n` reports.
            unsafe { out.add(i).write(report.into()) };
        }
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
        let (p, cancel) = unsafe { (Arc::clone(&producer(p)?.inner), Cancel::from_ptr(cancel)) };
        block(cancel.run(async move { p.producer().flush().await }))
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
        let (p, cancel) = unsafe { (Arc::clone(&producer(p)?.inner), Cancel::from_ptr(cancel)) };
        block(cancel.run(async move { p.close().await }))
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
        let (p, cancel) = unsafe { (Arc::clone(&producer(p)?.inner), Cancel::from_ptr(cancel)) };
        let ident = block(cancel.run(async move { p.producer().identity().await }))?;
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
    // SAFETY: per the contract, from `pyralog_producer_new`; reports not
    // taken are dropped with it.
    drop(unsafe { Box::from_raw(p) });
}
