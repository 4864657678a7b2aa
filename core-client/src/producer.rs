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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::batch::{check_record, BatchBuilder, Header};
use pyralog_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
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
    enqueued: Instant,
    done: oneshot::Sender<Result<RecordMetadata>>,
    _permit: OwnedSemaphorePermit,
}

enum Item {
    Record(Queued),
    Flush(oneshot::Sender<()>),
}

struct Shared {
    client: Client,
    cfg: ProducerConfig,
    workers: Mutex<HashMap<String, Vec<Option<mpsc::UnboundedSender<Item>>>>>,
    sticky: Mutex<HashMap<String, Sticky>>,
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

fn encoded_size(r: &Record) -> usize {
    let headers: Vec<Header<'_>> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_ref())).collect();
    BatchBuilder::encoded_record_size(r.key.as_deref(), &r.value, &headers)
}

impl Producer {
    pub(crate) fn new(client: Client, cfg: ProducerConfig) -> Self {
        let buffer = Arc::new(Semaphore::new(cfg.buffer_memory.min(Semaphore::MAX_PERMITS)));
        Producer {
            shared: Arc::new(Shared {
                client,
                cfg,
                workers: Mutex::new(HashMap::new()),
                sticky: Mutex::new(HashMap::new()),
                buffer,
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Queues a record for `log`; the returned future resolves when it is
    /// acknowledged. Waits for buffer room up to `max_block`.
    ///
    /// # Errors
    /// `Closed`, `RecordTooLarge`, `LogNotFound`, `PartitionNotFound`,
    /// `BufferFull` (no room within `max_block`).
    pub async fn send(&self, log: &str, mut record: Record) -> Result<DeliveryFuture> {
        let s = &self.shared;
        if s.closed.load(Ordering::Acquire) {
            return Err(Error::closed("producer"));
        }
        {
            let headers: Vec<Header<'_>> = record.headers.iter().map(|(k, v)| (k.as_str(), v.as_ref())).collect();
            check_record(record.key.as_deref(), &record.value, &headers)?;
        }
        record.timestamp.get_or_insert_with(now_ms);
        let md = s.client.cached_metadata(log).await?;
        let size = encoded_size(&record);
        let partition = choose_partition(&record, log, md.partition_count, &s.cfg.partitioner, || {
            let mut sticky = s.sticky.lock();
            let st = sticky.entry(log.to_owned()).or_default();
            st.next(md.partition_count, size, s.cfg.batch_size)
        })?;
        let permit = self.reserve(size).await?;
        let (done, rx) = oneshot::channel();
        let item = Item::Record(Queued { record, enqueued: Instant::now(), done, _permit: permit });
        self.worker(log, partition, md.partition_count).send(item).map_err(|_| Error::closed("producer"))?;
        Ok(DeliveryFuture { rx })
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

    fn worker(&self, log: &str, partition: u32, count: u32) -> mpsc::UnboundedSender<Item> {
        let mut workers = self.shared.workers.lock();
        let slots = workers.entry(log.to_owned()).or_default();
        if slots.len() < count as usize {
            slots.resize(count as usize, None);
        }
        let slot = &mut slots[partition as usize];
        if let Some(tx) = slot.as_ref().filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_worker(Arc::clone(&self.shared), Arc::from(log), partition, rx));
        *slot = Some(tx.clone());
        tx
    }

    fn senders(&self) -> Vec<mpsc::UnboundedSender<Item>> {
        self.shared.workers.lock().values().flatten().flatten().cloned().collect()
    }

    /// Sends everything queued and waits until every record sent before this
    /// call is acknowledged or failed (bounded by `delivery_timeout`).
    ///
    /// # Errors
    /// `Timeout` if workers did not finish within `delivery_timeout` plus the
    /// request timeout.
    pub async fn flush(&self) -> Result<()> {
        let mut waits = Vec::new();
        for tx in self.senders() {
            let (done, rx) = oneshot::channel();
            if tx.send(Item::Flush(done)).is_ok() {
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
        self.shared.workers.lock().clear();
        self.shared.buffer.close();
        r
    }
}

/// One partition's batch under construction.
struct Building {
    builder: BatchBuilder,
    waiting: Vec<(oneshot::Sender<Result<RecordMetadata>>, i64, OwnedSemaphorePermit)>,
    first_enqueued: Instant,
    flushes: Vec<oneshot::Sender<()>>,
}

async fn run_worker(shared: Arc<Shared>, log: Arc<str>, partition: u32, mut rx: mpsc::UnboundedReceiver<Item>) {
    let mut carry: Option<Item> = None;
    loop {
        let first = match carry.take() {
            Some(i) => i,
            None => match rx.recv().await {
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
            builder: BatchBuilder::new(shared.cfg.batch_size.min(1 << 20) + 1024),
            waiting: Vec::new(),
            first_enqueued: first.enqueued,
            flushes: Vec::new(),
        };
        add(&mut b, first);
        carry = fill(&shared.cfg, &mut rx, &mut b).await;
        send_batch(&shared, &log, partition, b).await;
    }
}

fn add(b: &mut Building, q: Queued) {
    let r = &q.record;
    let ts = r.timestamp.unwrap_or_else(now_ms);
    let headers: Vec<Header<'_>> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_ref())).collect();
    match b.builder.push(ts, r.key.as_deref(), &r.value, &headers) {
        Ok(()) => b.waiting.push((q.done, ts, q._permit)),
        Err(e) => {
            let _ = q.done.send(Err(e.into()));
        }
    }
}

/// Adds queued records until the batch is full, a flush arrives, or the
/// queue stays empty past the linger deadline. Returns a record that did not fit.
async fn fill(cfg: &ProducerConfig, rx: &mut mpsc::UnboundedReceiver<Item>, b: &mut Building) -> Option<Item> {
    let deadline = b.first_enqueued + cfg.linger;
    loop {
        if b.builder.size_bytes() >= cfg.batch_size || !b.flushes.is_empty() {
            return None;
        }
        let item = match rx.try_recv() {
            Ok(i) => i,
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if Instant::now() >= deadline {
                    return None;
                }
                tokio::select! {
                    i = rx.recv() => match i { Some(i) => i, None => return None },
                    _ = tokio::time::sleep_until(deadline) => return None,
                }
            }
        };
        match item {
            Item::Flush(done) => b.flushes.push(done),
            Item::Record(q) => {
                if b.builder.size_bytes() + encoded_size(&q.record) > cfg.batch_size && b.builder.record_count() > 0 {
                    return Some(Item::Record(q));
                }
                add(b, q);
            }
        }
    }
}

async fn send_batch(shared: &Shared, log: &Arc<str>, partition: u32, b: Building) {
    if b.builder.record_count() > 0 {
        let deadline = b.first_enqueued + shared.cfg.delivery_timeout;
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
