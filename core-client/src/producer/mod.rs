//! The batching, idempotent producer.
//!
//! `send` picks the partition, reserves buffer memory and encodes the record
//! into that partition's open batch (see `queue.rs`). The batch closes when
//! it reaches `batch_size` or has lingered `linger`; the partition's worker
//! task stamps it with the producer id and the VLSN of its first record, and
//! sends it with up to `max_in_flight` batches of the
//! partition outstanding, retrying with backoff until `delivery_timeout`. The
//! server writes each stamped batch once and in VLSN order, so retries neither
//! duplicate nor reorder records (see `worker.rs`); partitions proceed in
//! parallel.

mod delivery;
mod queue;
mod worker;

pub use self::delivery::{DeliveryFuture, DeliveryReport, DeliverySink};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::batch::check_record;
use pyralog_protocol::limits::MAX_IN_FLIGHT_BATCHES_PER_PARTITION;
use pyralog_protocol::model::LogMetadata;
use pyralog_protocol::ErrorCode;
use tokio::sync::{oneshot, OnceCell, Semaphore, SemaphorePermit};
use tokio::time::Instant;

use self::delivery::Completion;
use self::queue::PartitionQueue;
use self::worker::Worker;
use crate::client::Client;
use crate::config::ProducerConfig;
use crate::error::{Error, Result};
use crate::partitioner::{partition_for_key, Partitioner, Sticky};
use crate::record::{ProducerIdentity, Record};

/// What `route_and_push` did with a record.
enum Routed<'a> {
    /// Queued (with its future, for a future completion).
    Queued(Option<DeliveryFuture>),
    /// The log's route is missing or stale: the completion and room back.
    Unrouted(Completion, SemaphorePermit<'a>),
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
    workers: Vec<Option<Arc<PartitionQueue>>>,
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
    /// The producer id and epoch, obtained with the first batch.
    identity: OnceCell<ProducerIdentity>,
    /// Set once a newer incarnation fenced this producer: every send fails.
    fenced: Mutex<Option<Error>>,
    /// `fenced` is set (read per record without taking its lock).
    is_fenced: AtomicBool,
    /// Where outcomes of `send_reported` go.
    sink: Option<Arc<dyn DeliverySink>>,
}

impl Shared {
    async fn identity(&self) -> Result<ProducerIdentity> {
        self.identity.get_or_try_init(|| self.client.init_producer(self.cfg.resume)).await.copied()
    }

    fn fence(&self, e: &Error) {
        self.fenced.lock().get_or_insert_with(|| e.clone());
        self.is_fenced.store(true, Ordering::Release);
    }
}

/// A batching, retrying producer. Cheap to clone; clones share batches.
/// Dropping the last clone without [`Producer::close`] still sends what is
/// queued (without waiting for it), then the workers end.
#[derive(Clone)]
pub struct Producer {
    shared: Arc<Shared>,
    /// Shared by the clones only (the workers hold `shared`): its drop is
    /// the last clone's.
    _owner: Arc<Owner>,
}

/// Stops the workers once the last clone of a producer is dropped (they
/// hold the producer's state, so they would otherwise never end).
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        let queues: Vec<_> = self.0.routes.lock().drain().flat_map(|(_, r)| r.workers.into_iter().flatten()).collect();
        for q in queues {
            q.close();
        }
    }
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
    pub(crate) fn new(client: Client, cfg: ProducerConfig, sink: Option<Arc<dyn DeliverySink>>) -> Result<Self> {
        if !(1..=MAX_IN_FLIGHT_BATCHES_PER_PARTITION).contains(&cfg.max_in_flight) {
            return Err(Error::invalid_argument(format!(
                "max_in_flight is {}; it must be 1..={MAX_IN_FLIGHT_BATCHES_PER_PARTITION} \
                 (MAX_IN_FLIGHT_BATCHES_PER_PARTITION, what a partition remembers for deduplication)",
                cfg.max_in_flight
            )));
        }
        cfg.compression.validated()?;
        if cfg.resume.is_some() && !cfg.idempotence {
            return Err(Error::invalid_argument("resume needs idempotence = true"));
        }
        let buffer = Arc::new(Semaphore::new(cfg.buffer_memory.min(Semaphore::MAX_PERMITS)));
        let shared = Arc::new(Shared {
            client,
            cfg,
            routes: Mutex::new(HashMap::new()),
            buffer,
            closed: AtomicBool::new(false),
            identity: OnceCell::new(),
            fenced: Mutex::new(None),
            is_fenced: AtomicBool::new(false),
            sink,
        });
        Ok(Producer { _owner: Arc::new(Owner(Arc::clone(&shared))), shared })
    }

    /// The producer id and epoch this producer writes under (`None` without
    /// idempotence), obtained from the server on first use. Keep it to
    /// [`ProducerConfig::resume`] a later incarnation, which fences this one.
    ///
    /// # Errors
    /// `ConnectionFailed`, `ProducerFenced`, `UnknownProducer` (a bad `resume`).
    pub async fn identity(&self) -> Result<Option<ProducerIdentity>> {
        if !self.shared.cfg.idempotence {
            return Ok(None);
        }
        self.shared.identity().await.map(Some)
    }

    /// Queues a record for `log`; the returned future resolves when it is
    /// acknowledged. Waits for buffer room up to `max_block`. A record
    /// without a timestamp gets the time its batch is built.
    ///
    /// # Errors
    /// `Closed`, `RecordTooLarge`, `LogNotFound`, `PartitionNotFound`,
    /// `BufferFull` (no room within `max_block`).
    pub async fn send(&self, log: &str, record: Record) -> Result<DeliveryFuture> {
        self.enqueue(log, record, Completion::Future)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::Unknown, "a queued record got no delivery future"))
    }

    /// Queues a record like [`Producer::send`], its outcome going to the
    /// producer's [`DeliverySink`] as a [`DeliveryReport`] under `token` and
    /// `index`. No report follows a record this call did not queue (an error).
    ///
    /// # Errors
    /// As [`Producer::send`]; `InvalidArgument` for a producer without a sink.
    pub async fn send_reported(&self, log: &str, record: Record, token: u64, index: usize) -> Result<()> {
        if self.shared.sink.is_none() {
            return Err(Error::invalid_argument("send_reported needs a producer made by Client::producer_with_sink"));
        }
        self.enqueue(log, record, Completion::Report { token, index }).await.map(drop)
    }

    /// Checks records against the limits `send` enforces (size, headers),
    /// so a caller can refuse a whole batch before queueing any of it.
    ///
    /// # Errors
    /// `RecordTooLarge`, `InvalidArgument` (too many or too long headers).
    pub fn check(records: &[Record]) -> Result<()> {
        for r in records {
            check_record(r.key.as_deref(), &r.value, &r.header_refs())?;
        }
        Ok(())
    }

    /// Queues the record; a future completion gets its future back.
    async fn enqueue(&self, log: &str, record: Record, done: Completion) -> Result<Option<DeliveryFuture>> {
        let s = &self.shared;
        if s.closed.load(Ordering::Acquire) {
            return Err(Error::closed("producer"));
        }
        if s.is_fenced.load(Ordering::Acquire) {
            if let Some(e) = s.fenced.lock().as_ref() {
                return Err(e.clone());
            }
        }
        let size = check_record(record.key.as_deref(), &record.value, &record.header_refs())?;
        let mut room = self.reserve(size).await?;
        let mut done = done;
        loop {
            (done, room) = match self.route_and_push(log, &record, done, room)? {
                Routed::Queued(future) => return Ok(future),
                Routed::Unrouted(done, room) => (done, room),
            };
            let md = self.metadata(log).await?;
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

    /// The log's metadata, retried on retriable errors (server unreachable)
    /// for up to `max_block`, as `send` waits for buffer room.
    async fn metadata(&self, log: &str) -> Result<LogMetadata> {
        let s = &self.shared;
        let deadline = Instant::now() + s.cfg.max_block;
        loop {
            match s.client.get_log_metadata(log).await {
                Err(e)
                    if e.is_retriable() && Instant::now() + worker::retry_wait(&e, s.cfg.retry_backoff) < deadline =>
                {
                    tokio::time::sleep(worker::retry_wait(&e, s.cfg.retry_backoff)).await;
                }
                done => return done,
            }
        }
    }

    /// Encodes the record into its partition's open batch (under the routes
    /// lock: no queue handle is cloned per record); gives the completion and
    /// buffer room back when the log's metadata must be fetched first.
    ///
    /// # Errors
    /// `Closed` once `close` began (checked under the routes lock, which
    /// `close` takes after setting `closed`: a record is either refused or
    /// in a queue that `close` flushes), and those of the record.
    fn route_and_push<'a>(
        &'a self,
        log: &str,
        record: &Record,
        done: Completion,
        room: SemaphorePermit<'a>,
    ) -> Result<Routed<'a>> {
        let s = &self.shared;
        let size = room.num_permits();
        let mut routes = s.routes.lock();
        if s.closed.load(Ordering::Acquire) {
            return Err(Error::closed("producer"));
        }
        let Some(route) = routes.get_mut(log) else { return Ok(Routed::Unrouted(done, room)) };
        if !route.fresh(s.client.inner.config.metadata_max_age) {
            return Ok(Routed::Unrouted(done, room));
        }
        let count = route.md.partition_count;
        let sticky = &mut route.sticky;
        let partition =
            choose_partition(record, log, count, &s.cfg.partitioner, || sticky.next(count, size, s.cfg.batch_size))?;
        if route.workers.len() < count as usize {
            route.workers.resize(count as usize, None);
        }
        let slot = &mut route.workers[partition as usize];
        if !slot.as_ref().is_some_and(|q| q.is_served()) {
            // A worker replacing one that is gone (its runtime shut down) cannot
            // know where the partition's sequence stood: it starts under a fresh
            // producer id, so no batch of it can pass for a retry of an old one.
            let replaces = slot.is_some();
            let queue = Arc::new(PartitionQueue::new(s.cfg.batch_size, s.sink.clone(), Arc::clone(&s.buffer)));
            let worker = Worker::new(Arc::clone(&self.shared), Arc::from(log), partition, Arc::clone(&queue), replaces);
            tokio::spawn(worker.run());
            *slot = Some(queue);
        }
        slot.as_ref().expect("set above").push(record, done, room).map(Routed::Queued)
    }

    /// Queues many records; one future per record, in order. Every record
    /// is checked first, so a bad one queues none of them.
    ///
    /// # Errors
    /// As [`Producer::send`]; after a failure that is not the records' own
    /// (`BufferFull`, `Closed`), records before it stay queued.
    pub async fn send_batch(
        &self,
        log: &str,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<Vec<DeliveryFuture>> {
        let records: Vec<Record> = records.into_iter().collect();
        Self::check(&records)?;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(self.send(log, r).await?);
        }
        Ok(out)
    }

    async fn reserve(&self, size: usize) -> Result<SemaphorePermit<'_>> {
        let s = &self.shared;
        if size > s.cfg.buffer_memory {
            return Err(Error::new(
                ErrorCode::RecordTooLarge,
                format!("record of {size} bytes exceeds buffer_memory ({})", s.cfg.buffer_memory),
            ));
        }
        // Room now costs no timer (a clock read and a timer entry per record).
        if let Ok(room) = s.buffer.try_acquire_many(size as u32) {
            return Ok(room);
        }
        let acquire = s.buffer.acquire_many(size as u32);
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

    fn queues(&self) -> Vec<Arc<PartitionQueue>> {
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
        for queue in self.queues() {
            let (done, rx) = oneshot::channel();
            if queue.flush(done).is_ok() {
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
        for queue in self.queues() {
            queue.close();
        }
        self.shared.routes.lock().clear();
        self.shared.buffer.close();
        r
    }
}
