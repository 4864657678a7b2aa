//! The batching producer.
//!
//! `send` picks the partition, reserves buffer memory and hands the record to
//! that partition's worker task. A worker builds one batch at a time: it takes
//! every record already queued (up to `batch_size`), waits up to `linger` for
//! more when the queue runs dry, sends the batch, and retries it with backoff
//! on retriable errors until `delivery_timeout`. One batch per partition is in
//! flight at a time, so records of a partition are written in send order even
//! across retries; partitions proceed in parallel.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::batch::{check_record, BatchBuilder};
use pyralog_protocol::model::LogMetadata;
use pyralog_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::client::{Ack, Client};
use crate::config::ProducerConfig;
use crate::error::{Error, Result};
use crate::partitioner::{partition_for_key, Partitioner, Sticky};
use crate::record::{now_ms, Record, RecordMetadata};

/// Resolves to the metadata of one sent record once it is acknowledged.
#[must_use = "a delivery future reports whether the record was written"]
pub struct DeliveryFuture {
    rx: oneshot::Receiver<Result<RecordMetadata>>,
}

impl std::fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryFuture").finish_non_exhaustive()
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or_else(|_| Err(Error::closed("producer"))))
    }
}

struct Queued {
    record: Record,
    size: usize,
    done: oneshot::Sender<Result<RecordMetadata>>,
    _permit: OwnedSemaphorePermit,
}

enum Item {
    Record(Queued),
    Flush(oneshot::Sender<()>),
}

/// A partition worker's queue. Records are queued without waking the
/// worker; it is woken when a batch's worth is queued (or by its linger
/// timer), so a busy producer costs no cross-thread wake-up per record.
#[derive(Clone)]
struct WorkerQueue {
    tx: mpsc::UnboundedSender<Item>,
    signal: Arc<Signal>,
}

#[derive(Default)]
struct Signal {
    queued_bytes: AtomicUsize,
    full: Notify,
}

impl WorkerQueue {
    fn push(&self, item: Item, size: usize, batch_size: usize) -> Result<()> {
        // Count before queueing: the worker subtracts as soon as it takes the item.
        let after = self.signal.queued_bytes.fetch_add(size, Ordering::AcqRel) + size;
        if self.tx.send(item).is_err() {
            self.signal.queued_bytes.fetch_sub(size, Ordering::AcqRel);
            return Err(Error::closed("producer"));
        }
        if after >= batch_size && after - size < batch_size {
            self.signal.full.notify_one();
        }
        Ok(())
    }

    fn flush(&self, item: Item) -> bool {
        let ok = self.tx.send(item).is_ok();
        self.signal.full.notify_one();
        ok
    }
}

/// Sends between two checks of a route's metadata age (a clock read per
/// record would cost more than the rest of `send`).
const SENDS_PER_AGE_CHECK: u32 = 1024;

/// What `send` needs to route records of one log, behind one lock and one
/// hash lookup per record.
struct Route {
    md: Arc<LogMetadata>,
    fetched: Instant,
    sends_since_check: u32,
    sticky: Sticky,
    workers: Vec<Option<WorkerQueue>>,
}

impl Route {
    fn fresh(&mut self, max_age: Duration) -> bool {
        self.sends_since_check += 1;
        if self.sends_since_check < SENDS_PER_AGE_CHECK {
            return true;
        }
        self.sends_since_check = 0;
        self.fetched.elapsed() < max_age
    }
}

struct Shared {
    client: Client,
    cfg: ProducerConfig,
    routes: Mutex<HashMap<String, Route>>,
    buffer: Arc<Semaphore>,
    closed: AtomicBool,
}

/// A batching, retrying producer. Cheap to clone; clones share batches.
#[derive(Clone)]
pub struct Producer {
    shared: Arc<Shared>,
}

/// Picks the partition of a record.
pub(crate) fn choose_partition(
    record: &Record,
    log: &str,
    count: u32,
    partitioner: &Partitioner,
    keyless: impl FnOnce() -> u32,
) -> Result<u32> {
    let p = match (record.partition, partitioner, &record.key) {
        (Some(p), _, _) => p,
        (None, Partitioner::Custom(f), key) => f(log, key.as_deref(), count),
        (None, Partitioner::Default, Some(key)) => partition_for_key(key, count),
        (None, Partitioner::Default, None) => keyless(),
    };
    if p >= count {
        return Err(Error::new(
            ErrorCode::PartitionNotFound,
            format!("log {log} has {count} partitions; no partition {p}"),
        ));
    }
    Ok(p)
}

impl Producer {
    pub(crate) fn new(client: Client, cfg: ProducerConfig) -> Self {
        let buffer = Arc::new(Semaphore::new(cfg.buffer_memory.min(Semaphore::MAX_PERMITS)));
        Producer {
            shared: Arc::new(Shared {
                client,
                cfg,
                routes: Mutex::new(HashMap::new()),
                buffer,
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Queues a record for `log`; the returned future resolves when it is
    /// acknowledged. Waits for buffer room up to `max_block`. A record
    /// without a timestamp gets the time its batch is built.
    ///
    /// # Errors
    /// `Closed`, `RecordTooLarge`, `LogNotFound`, `PartitionNotFound`,
    /// `BufferFull` (no room within `max_block`).
    pub async fn send(&self, log: &str, record: Record) -> Result<DeliveryFuture> {
        let s = &self.shared;
        if s.closed.load(Ordering::Acquire) {
            return Err(Error::closed("producer"));
        }
        let size = { check_record(record.key.as_deref(), &record.value, &record.header_refs())? };
        let permit = self.reserve(size).await?;
        loop {
            if let Some(queue) = self.route(log, &record, size)? {
                let (done, rx) = oneshot::channel();
                let item = Item::Record(Queued { record, size, done, _permit: permit });
                queue.push(item, size, s.cfg.batch_size)?;
                return Ok(DeliveryFuture { rx });
            }
            let md = s.client.get_log_metadata(log).await?;
            let mut routes = s.routes.lock();
            let route = routes.entry(log.to_owned()).or_insert_with(|| Route {
                md: Arc::new(md.clone()),
                fetched: Instant::now(),
                sends_since_check: 0,
                sticky: Sticky::default(),
                workers: Vec::new(),
            });
            route.md = Arc::new(md);
            route.fetched = Instant::now();
        }
    }

    /// The worker queue for this record, or `None` when the log's metadata
    /// must be fetched first.
    fn route(&self, log: &str, record: &Record, size: usize) -> Result<Option<WorkerQueue>> {
        let s = &self.shared;
        let mut routes = s.routes.lock();
        let Some(route) = routes.get_mut(log) else { return Ok(None) };
        if !route.fresh(s.client.inner.config.metadata_max_age) {
            return Ok(None);
        }
        let count = route.md.partition_count;
        let sticky = &mut route.sticky;
        let partition =
            choose_partition(record, log, count, &s.cfg.partitioner, || sticky.next(count, size, s.cfg.batch_size))?;
        if route.workers.len() < count as usize {
            route.workers.resize(count as usize, None);
        }
        let slot = &mut route.workers[partition as usize];
        if let Some(q) = slot.as_ref().filter(|q| !q.tx.is_closed()) {
            return Ok(Some(q.clone()));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = WorkerQueue { tx, signal: Arc::default() };
        let worker = Worker {
            shared: Arc::clone(&self.shared),
            log: Arc::from(log),
            partition,
            rx,
            signal: Arc::clone(&queue.signal),
        };
        tokio::spawn(worker.run());
        *slot = Some(queue.clone());
        Ok(Some(queue))
    }

    /// Queues many records; one future per record, in order.
    ///
    /// # Errors
    /// As [`Producer::send`]; records before the failing one stay queued.
    pub async fn send_batch(
        &self,
        log: &str,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<Vec<DeliveryFuture>> {
        let mut out = Vec::new();
        for r in records {
            out.push(self.send(log, r).await?);
        }
        Ok(out)
    }

    async fn reserve(&self, size: usize) -> Result<OwnedSemaphorePermit> {
        let s = &self.shared;
        if size > s.cfg.buffer_memory {
            return Err(Error::new(
                ErrorCode::RecordTooLarge,
                format!("record of {size} bytes exceeds buffer_memory ({})", s.cfg.buffer_memory),
            ));
        }
        let acquire = Arc::clone(&s.buffer).acquire_many_owned(size as u32);
        match tokio::time::timeout(s.cfg.max_block, acquire).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(Error::closed("producer")),
            Err(_) => Err(Error::new(
                ErrorCode::BufferFull,
                format!(
                    "no room in buffer_memory ({} bytes) within max_block ({:?})",
                    s.cfg.buffer_memory, s.cfg.max_block
                ),
            )),
        }
    }

    fn senders(&self) -> Vec<WorkerQueue> {
        self.shared.routes.lock().values().flat_map(|r| r.workers.iter().flatten().cloned()).collect()
    }

    /// Sends everything queued and waits until every record sent before this
    /// call is acknowledged or failed (bounded by `delivery_timeout`).
    ///
    /// # Errors
    /// `Timeout` if workers did not finish within `delivery_timeout` plus the
    /// request timeout.
    pub async fn flush(&self) -> Result<()> {
        let mut waits = Vec::new();
        for queue in self.senders() {
            let (done, rx) = oneshot::channel();
            if queue.flush(Item::Flush(done)) {
                waits.push(rx);
            }
        }
        let limit = self.shared.cfg.delivery_timeout + self.shared.client.inner.config.request_timeout;
        let all = async {
            for rx in waits {
                let _ = rx.await;
            }
        };
        tokio::time::timeout(limit, all)
            .await
            .map_err(|_| Error::new(ErrorCode::Timeout, format!("flush did not finish within {limit:?}")))
    }

    /// Flushes, then stops the workers. Idempotent; `send` afterwards fails
    /// with `Closed`.
    ///
    /// # Errors
    /// As [`Producer::flush`].
    pub async fn close(&self) -> Result<()> {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let r = self.flush().await;
        self.shared.routes.lock().clear();
        self.shared.buffer.close();
        r
    }
}

/// One partition's batch under construction.
struct Building {
    builder: BatchBuilder,
    waiting: Vec<(oneshot::Sender<Result<RecordMetadata>>, i64, OwnedSemaphorePermit)>,
    /// When the batch started: linger and the delivery timeout count from here.
    started: Instant,
    /// Timestamp for records without one (read once per batch and per wait).
    now_ms: i64,
    flushes: Vec<oneshot::Sender<()>>,
}

/// One partition's sender task.
struct Worker {
    shared: Arc<Shared>,
    log: Arc<str>,
    partition: u32,
    rx: mpsc::UnboundedReceiver<Item>,
    signal: Arc<Signal>,
}

impl Worker {
    async fn run(mut self) {
        let mut carry: Option<Item> = None;
        loop {
            let first = match carry.take() {
                Some(i) => i,
                None => match self.recv().await {
                    Some(i) => i,
                    None => return,
                },
            };
            let first = match first {
                Item::Flush(done) => {
                    let _ = done.send(());
                    continue;
                }
                Item::Record(q) => q,
            };
            let mut b = Building {
                builder: BatchBuilder::new(self.shared.cfg.batch_size.min(1 << 20) + 1024),
                waiting: Vec::new(),
                started: Instant::now(),
                now_ms: now_ms(),
                flushes: Vec::new(),
            };
            add(&mut b, first);
            carry = self.fill(&mut b).await;
            send_batch(&self.shared, &self.log, self.partition, b).await;
        }
    }

    fn took(&self, item: &Item) {
        if let Item::Record(q) = item {
            self.signal.queued_bytes.fetch_sub(q.size, Ordering::AcqRel);
        }
    }

    async fn recv(&mut self) -> Option<Item> {
        let item = self.rx.recv().await?;
        self.took(&item);
        Some(item)
    }

    fn try_recv(&mut self) -> std::result::Result<Item, mpsc::error::TryRecvError> {
        let item = self.rx.try_recv()?;
        self.took(&item);
        Ok(item)
    }

    /// Adds queued records until the batch is full, a flush arrives, or the
    /// linger deadline passes with the queue empty. Returns a record that did
    /// not fit.
    async fn fill(&mut self, b: &mut Building) -> Option<Item> {
        let (batch_size, linger) = (self.shared.cfg.batch_size, self.shared.cfg.linger);
        let deadline = b.started + linger;
        loop {
            if b.builder.size_bytes() >= batch_size || !b.flushes.is_empty() {
                return None;
            }
            let item = match self.try_recv() {
                Ok(i) => i,
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    // Sleep through the linger unless a batch's worth arrives first.
                    tokio::select! {
                        _ = self.signal.full.notified() => {}
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                    b.now_ms = now_ms();
                    continue;
                }
            };
            match item {
                Item::Flush(done) => b.flushes.push(done),
                Item::Record(q) => {
                    if b.builder.size_bytes() + q.size > batch_size && b.builder.record_count() > 0 {
                        return Some(Item::Record(q));
                    }
                    add(b, q);
                }
            }
        }
    }
}

fn add(b: &mut Building, q: Queued) {
    let r = &q.record;
    let ts = r.timestamp.unwrap_or(b.now_ms);
    match b.builder.push(ts, r.key.as_deref(), &r.value, &r.header_refs()) {
        Ok(()) => b.waiting.push((q.done, ts, q._permit)),
        Err(e) => {
            let _ = q.done.send(Err(e.into()));
        }
    }
}

async fn send_batch(shared: &Shared, log: &Arc<str>, partition: u32, b: Building) {
    if b.builder.record_count() > 0 {
        let deadline = b.started + shared.cfg.delivery_timeout;
        let encoded = b.builder.finish();
        let result = deliver(shared, log, partition, &encoded, deadline).await;
        let config = shared.client.cached_metadata(log).await.map(|m| m.config).unwrap_or_default();
        for (i, (done, ts, _permit)) in b.waiting.into_iter().enumerate() {
            let r = match &result {
                Ok(ack) => Ok(RecordMetadata {
                    log: Arc::clone(log),
                    partition,
                    offset: ack.base_offset + i as u64,
                    epoch: ack.epoch,
                    timestamp: ack.timestamp_for(ts, &config),
                }),
                Err(e) => Err(e.clone()),
            };
            let _ = done.send(r);
        }
    }
    for f in b.flushes {
        let _ = f.send(());
    }
}

async fn deliver(shared: &Shared, log: &str, partition: u32, batch: &[u8], deadline: Instant) -> Result<Ack> {
    let request_timeout = shared.client.inner.config.request_timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("not acknowledged within delivery_timeout ({:?})", shared.cfg.delivery_timeout),
            ));
        }
        let timeout = request_timeout.min(remaining);
        match shared.client.produce_batch(log, partition, batch, timeout).await {
            Ok(ack) => return Ok(ack),
            Err(e) if e.is_retriable() && remaining > shared.cfg.retry_backoff => {
                tracing::debug!(log, partition, error = %e, "retrying batch");
                tokio::time::sleep(shared.cfg.retry_backoff.min(Duration::from_secs(1))).await;
            }
            Err(e) => return Err(e),
        }
    }
}
