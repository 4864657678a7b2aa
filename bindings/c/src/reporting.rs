//! A producer whose outcomes are collected as reports and taken in bulk by
//! the binding (the librdkafka model): a record costs no call of its own
//! into the host language. Shared by the C ABI and the JNI glue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use pyralog::{DeliveryReport, DeliverySink, Error, ErrorCode, Producer, ProducerConfig, Record};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Records sent whose reports the caller has not taken yet, at most: `send`
/// waits (up to `max_block`) beyond this, so an idle report taker cannot
/// make reports pile up without bound.
pub const MAX_UNREPORTED_RECORDS: usize = 1 << 20;

/// One record's outcome, under the token of the send that queued it and
/// its index in that send's batch.
pub type Report = DeliveryReport;

/// The report queue: the core producer delivers into it a batch at a time.
#[derive(Default)]
struct Reports {
    queue: Mutex<VecDeque<Report>>,
    ready: Condvar,
    /// Records queued whose report is not in the queue yet.
    outstanding: AtomicUsize,
    closed: AtomicBool,
}

impl DeliverySink for Reports {
    fn deliver(&self, reports: Vec<DeliveryReport>) {
        let n = reports.len();
        self.queue.lock().extend(reports);
        self.outstanding.fetch_sub(n, Ordering::AcqRel);
        self.ready.notify_all();
    }
}

/// A core producer plus its report queue. Cheap to share behind an `Arc`.
pub struct ReportingProducer {
    inner: Producer,
    reports: Arc<Reports>,
    room: Arc<Semaphore>,
    max_block: Duration,
}

impl ReportingProducer {
    /// A producer on `client`; call inside the runtime.
    ///
    /// # Errors
    /// As [`pyralog::Client::producer`].
    pub fn new(client: &pyralog::Client, cfg: ProducerConfig) -> pyralog::Result<Self> {
        let max_block = cfg.max_block;
        let reports = Arc::<Reports>::default();
        Ok(ReportingProducer {
            inner: client.producer_with_sink(cfg, Arc::clone(&reports) as Arc<dyn DeliverySink>)?,
            reports,
            room: Arc::new(Semaphore::new(MAX_UNREPORTED_RECORDS)),
            max_block,
        })
    }

    /// Room for `n` more unreported records: at once if there is, else
    /// waiting up to `max_block`.
    async fn room(&self, n: u32) -> pyralog::Result<SemaphorePermit<'_>> {
        if let Ok(p) = self.room.try_acquire_many(n) {
            return Ok(p);
        }
        tokio::time::timeout(self.max_block, self.room.acquire_many(n))
            .await
            .map_err(|_| Error::new(ErrorCode::BufferFull, "reports not taken within max_block"))?
            .map_err(|_| Error::closed("producer"))
    }

    /// The core producer (flush, close, identity).
    pub fn producer(&self) -> &Producer {
        &self.inner
    }

    /// Queues `records` for `log` under `token`; resolves once they are
    /// queued. Every record is checked first, so a bad one queues none. One
    /// report per record follows; none for records not queued (after a
    /// `BufferFull` or `Closed`, the records before it stay queued).
    ///
    /// # Errors
    /// `InvalidArgument` (too many records), `BufferFull`, `Closed`, and
    /// those of [`Producer::send`].
    pub async fn send(&self, log: &str, records: Vec<Record>, token: u64) -> pyralog::Result<()> {
        let n = records.len();
        let permits = u32::try_from(n).ok().filter(|p| (*p as usize) <= MAX_UNREPORTED_RECORDS).ok_or_else(|| {
            Error::new(ErrorCode::InvalidArgument, format!("a batch holds at most {MAX_UNREPORTED_RECORDS} records"))
        })?;
        if n > 1 {
            Producer::check(&records)?; // a bad record queues none (`send_reported` checks one)
        }
        let permit = self.room(permits).await?;
        permit.forget(); // given back as the reports are taken
        for (index, record) in records.into_iter().enumerate() {
            if let Err(e) = self.queue(log, record, token, index).await {
                self.room.add_permits(n - index - 1); // the room of the records after it
                return Err(e);
            }
        }
        Ok(())
    }

    /// Queues one record for `log` under `token` (index 0), like [`send`]
    /// without a batch to allocate.
    ///
    /// # Errors
    /// As [`ReportingProducer::send`].
    ///
    /// [`send`]: ReportingProducer::send
    pub async fn send_one(&self, log: &str, record: Record, token: u64) -> pyralog::Result<()> {
        self.room(1).await?.forget(); // given back as the report is taken
        self.queue(log, record, token, 0).await
    }

    /// Queues a record whose report room is taken; gives the room back if
    /// it is not queued.
    async fn queue(&self, log: &str, record: Record, token: u64, index: usize) -> pyralog::Result<()> {
        // Counted before queueing: its report may come at once.
        self.reports.outstanding.fetch_add(1, Ordering::AcqRel);
        let queued = self.inner.send_reported(log, record, token, index).await;
        if queued.is_err() {
            self.reports.outstanding.fetch_sub(1, Ordering::AcqRel);
            self.room.add_permits(1);
        }
        queued
    }

    /// Takes up to `max` reports, waiting up to `timeout` for the first
    /// (none after it). Blocks the calling thread: call it off the runtime.
    ///
    /// # Errors
    /// `Closed` once closed and every report is taken.
    pub fn take(&self, max: usize, timeout: Duration) -> pyralog::Result<Vec<Report>> {
        let r = &self.reports;
        let finished = || r.closed.load(Ordering::Acquire) && r.outstanding.load(Ordering::Acquire) == 0;
        let mut queue = r.queue.lock();
        if queue.is_empty() && !finished() {
            r.ready.wait_for(&mut queue, timeout);
        }
        if queue.is_empty() && finished() {
            return Err(Error::closed("producer"));
        }
        let n = queue.len().min(max);
        let out: Vec<Report> = queue.drain(..n).collect();
        drop(queue);
        self.room.add_permits(n);
        Ok(out)
    }

    /// Flushes and stops the core producer; reports then run out.
    ///
    /// # Errors
    /// As [`Producer::close`].
    pub async fn close(&self) -> pyralog::Result<()> {
        let r = self.inner.close().await;
        self.reports.closed.store(true, Ordering::Release);
        self.room.close();
        self.reports.ready.notify_all();
        r
    }
}
