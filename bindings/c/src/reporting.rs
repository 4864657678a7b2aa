//! A producer whose outcomes are collected as reports and taken in bulk by
//! the binding (the librdkafka model): a record costs no call of its own
//! into the host language. Shared by the C ABI and the JNI glue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use parking_lot::{Condvar, Mutex};
use pyralog::{DeliveryFuture, Error, ErrorCode, Producer, ProducerConfig, Record, RecordMetadata};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Records sent whose reports the caller has not taken yet, at most: `send`
/// waits (up to `max_block`) beyond this, so an idle report taker cannot
/// make reports pile up without bound.
pub const MAX_UNREPORTED_RECORDS: usize = 1 << 20;

/// One record's outcome, under the token of the send that queued it.
pub struct Report {
    pub token: u64,
    /// The record's index in that send's batch.
    pub index: usize,
    pub result: pyralog::Result<RecordMetadata>,
}

#[derive(Default)]
struct Reports {
    queue: Mutex<VecDeque<Report>>,
    ready: Condvar,
    /// Records sent whose report is not in the queue yet.
    outstanding: AtomicUsize,
    closed: AtomicBool,
}

/// A record waiting for its outcome.
type Watched = (u64, usize, DeliveryFuture);

/// A core producer plus its report queue. Cheap to share behind an `Arc`.
pub struct ReportingProducer {
    inner: Producer,
    reports: Arc<Reports>,
    room: Arc<Semaphore>,
    max_block: Duration,
    /// To the one task that turns outcomes into reports.
    collector: mpsc::UnboundedSender<Watched>,
}

impl ReportingProducer {
    /// A producer on `client`; call inside the runtime.
    ///
    /// # Errors
    /// As [`pyralog::Client::producer`].
    pub fn new(client: &pyralog::Client, cfg: ProducerConfig) -> pyralog::Result<Self> {
        let max_block = cfg.max_block;
        let reports = Arc::<Reports>::default();
        let (collector, rx) = mpsc::unbounded_channel();
        tokio::spawn(collect(rx, Arc::clone(&reports)));
        Ok(ReportingProducer {
            inner: client.producer(cfg)?,
            reports,
            room: Arc::new(Semaphore::new(MAX_UNREPORTED_RECORDS)),
            max_block,
            collector,
        })
    }

    /// Room for `n` more unreported records: at once if there is, else
    /// waiting up to `max_block`.
    async fn room(&self, n: u32) -> pyralog::Result<OwnedSemaphorePermit> {
        if let Ok(p) = Arc::clone(&self.room).try_acquire_many_owned(n) {
            return Ok(p);
        }
        tokio::time::timeout(self.max_block, Arc::clone(&self.room).acquire_many_owned(n))
            .await
            .map_err(|_| Error::new(ErrorCode::BufferFull, "reports not taken within max_block"))?
            .map_err(|_| Error::closed("producer"))
    }

    /// The core producer (flush, close, identity).
    pub fn producer(&self) -> &Producer {
        &self.inner
    }

    /// Queues `records` for `log` under `token`; resolves once they are
    /// queued. One report per record follows; none for records not queued.
    ///
    /// # Errors
    /// `InvalidArgument` (too many records), `BufferFull`, `Closed`, and
    /// those of [`Producer::send_batch`].
    pub async fn send(&self, log: &str, records: Vec<Record>, token: u64) -> pyralog::Result<()> {
        let n = records.len();
        let permits = u32::try_from(n).ok().filter(|p| (*p as usize) <= MAX_UNREPORTED_RECORDS).ok_or_else(|| {
            Error::new(ErrorCode::InvalidArgument, format!("a batch holds at most {MAX_UNREPORTED_RECORDS} records"))
        })?;
        let permit = self.room(permits).await?;
        let acks = self.inner.send_batch(log, records).await?;
        permit.forget(); // given back as the reports are taken
        self.reports.outstanding.fetch_add(n, Ordering::AcqRel);
        for (index, ack) in acks.into_iter().enumerate() {
            if self.collector.send((token, index, ack)).is_err() {
                return Err(Error::closed("producer"));
            }
        }
        Ok(())
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

/// Turns outcomes into reports as they come, queueing every ready one under
/// one lock and one wake-up. Ends when the producer is dropped and every
/// watched record has its report.
async fn collect(mut rx: mpsc::UnboundedReceiver<Watched>, reports: Arc<Reports>) {
    let mut watching = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            item = rx.recv(), if open => match item {
                Some(w) => watching.push(watch(w)),
                None => open = false,
            },
            Some(first) = watching.next(), if !watching.is_empty() => {
                let mut ready = vec![first];
                while let Some(Some(more)) = watching.next().now_or_never() {
                    ready.push(more);
                }
                let n = ready.len();
                reports.queue.lock().extend(ready);
                reports.outstanding.fetch_sub(n, Ordering::AcqRel);
                reports.ready.notify_all();
            },
            else => break,
        }
    }
}

async fn watch((token, index, ack): Watched) -> Report {
    Report { token, index, result: ack.await }
}
