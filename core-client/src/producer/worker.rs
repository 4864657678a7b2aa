//! One partition's sender: takes batches from its queue (see `queue.rs`),
//! stamps each with the producer identity and VLSN, and keeps up to
//! `max_in_flight` batches in flight.
//!
//! Batches of one partition can reach the server out of order (each request
//! is its own QUIC stream and is served concurrently). The server answers a
//! batch that arrives before its predecessor with `OutOfOrderSequence`; the
//! sender then waits for the earlier batches to resolve and sends it again,
//! so the log holds them in send order. A retried batch that was in fact
//! written is answered with its original offsets and written only once.
//!
//! When a batch fails for good (its delivery timeout, or an error no retry
//! fixes) the partition's sequence may have a hole the server will never
//! accept: the batches after it fail too, and once nothing is in flight the
//! sender continues under a fresh producer id starting again at VLSN 0.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::batch::BatchBuilder;
use pyralog_protocol::compression::Compression;
use pyralog_protocol::ErrorCode;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::delivery::Delivered;
use super::queue::{Building, Next, PartitionQueue, Ready};
use super::Shared;
use crate::client::Ack;
use crate::error::{Error, Result};
use crate::record::ProducerIdentity;

/// Where a partition's VLSN sequence stands.
#[derive(Clone, Copy)]
struct Sequence {
    identity: ProducerIdentity,
    next_vlsn: u64,
}

/// The batches of one partition in flight.
///
/// A slot is freed only when every earlier batch has resolved too, so the
/// batches sent since the oldest unresolved one never exceed
/// `max_in_flight`: the server still remembers that oldest batch when its
/// retry arrives, however many later batches were acknowledged meanwhile.
struct Pipeline {
    slots: Arc<Semaphore>,
    max_in_flight: u32,
    window: Mutex<Window>,
    resolved: Notify,
    /// A batch failed for good: the sequence needs a fresh producer id.
    broken: AtomicBool,
}

#[derive(Default)]
struct Window {
    /// Base VLSNs of batches sent and not yet resolved.
    unresolved: BTreeSet<u64>,
    /// Slots of resolved batches that wait for an earlier one to resolve.
    parked: BTreeMap<u64, OwnedSemaphorePermit>,
}

impl Pipeline {
    fn has_earlier(&self, vlsn: u64) -> bool {
        self.window.lock().unresolved.first().is_some_and(|first| *first < vlsn)
    }

    fn sent(&self, vlsn: u64) {
        self.window.lock().unresolved.insert(vlsn);
    }

    /// Marks a batch resolved and frees every slot no earlier batch holds back.
    fn resolve(&self, vlsn: u64, slot: OwnedSemaphorePermit) {
        let freed = {
            let mut w = self.window.lock();
            w.unresolved.remove(&vlsn);
            w.parked.insert(vlsn, slot);
            match w.unresolved.first().copied() {
                Some(oldest) => {
                    let held = w.parked.split_off(&oldest);
                    std::mem::replace(&mut w.parked, held)
                }
                None => std::mem::take(&mut w.parked),
            }
        };
        drop(freed);
        self.resolved.notify_waiters();
    }

    /// Waits until no batch before `vlsn` is unresolved, or `deadline`.
    async fn wait_for_earlier(&self, vlsn: u64, deadline: Instant) {
        loop {
            let notified = self.resolved.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.has_earlier(vlsn) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// Waits until nothing is in flight.
    async fn drain(&self) {
        if let Ok(all) = self.slots.acquire_many(self.max_in_flight).await {
            drop(all);
        }
    }
}

/// One partition's sender task.
pub(super) struct Worker {
    shared: Arc<Shared>,
    log: Arc<str>,
    partition: u32,
    queue: Arc<PartitionQueue>,
    pipeline: Arc<Pipeline>,
    sequence: Option<Sequence>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.queue.orphan();
    }
}

impl Worker {
    /// A worker for `queue`; `fresh_sequence` starts it under a fresh
    /// producer id rather than the producer's own.
    pub(super) fn new(
        shared: Arc<Shared>,
        log: Arc<str>,
        partition: u32,
        queue: Arc<PartitionQueue>,
        fresh_sequence: bool,
    ) -> Self {
        let max_in_flight = shared.cfg.max_in_flight as u32;
        let pipeline = Arc::new(Pipeline {
            slots: Arc::new(Semaphore::new(max_in_flight as usize)),
            max_in_flight,
            window: Mutex::new(Window::default()),
            resolved: Notify::new(),
            broken: AtomicBool::new(fresh_sequence && shared.cfg.idempotence),
        });
        Worker { shared, log, partition, queue, pipeline, sequence: None }
    }

    pub(super) async fn run(mut self) {
        let linger = self.shared.cfg.linger;
        loop {
            match self.queue.next(linger) {
                Next::Take(Ready::Batch(b)) => self.dispatch(b).await,
                Next::Take(Ready::Flush(done)) => {
                    self.pipeline.drain().await;
                    let _ = done.send(());
                }
                Next::Wait(due) => self.queue.wait(due).await,
                Next::Stop => return,
            }
        }
    }

    /// Stamps the batch, waits for an in-flight slot, and hands the batch to
    /// its own send task.
    async fn dispatch(&mut self, mut b: Building) {
        // Before taking a slot: a reset waits for every slot to be free.
        let deadline = b.started + self.shared.cfg.delivery_timeout;
        match self.prepare_sequence(deadline).await {
            Ok(()) => {
                let slot = Arc::clone(&self.pipeline.slots).acquire_owned().await.expect("never closed");
                let vlsn = self.stamp(&mut b);
                let send = Send {
                    shared: Arc::clone(&self.shared),
                    pipeline: Arc::clone(&self.pipeline),
                    log: Arc::clone(&self.log),
                    partition: self.partition,
                    vlsn,
                };
                tokio::spawn(send.run(b, slot));
            }
            Err(e) => b.waiting.complete(Err(e)),
        }
    }

    /// `prepare_sequence_once`, retried with backoff on retriable errors
    /// (server unreachable) until the batch's delivery deadline.
    async fn prepare_sequence(&mut self, deadline: Instant) -> Result<()> {
        let backoff = self.shared.cfg.retry_backoff.min(Duration::from_secs(1));
        let timed_out = || Error::new(ErrorCode::Timeout, "no producer id within delivery_timeout");
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.prepare_sequence_once()).await;
            match attempt.unwrap_or_else(|_| Err(timed_out())) {
                Err(e) if e.is_retriable() && Instant::now() + backoff < deadline => {
                    tracing::debug!(log = %self.log, partition = self.partition, error = %e, "retrying producer id");
                    tokio::time::sleep(backoff).await;
                }
                done => return done,
            }
        }
    }

    /// The producer identity for the first batch; after a batch failed for
    /// good, once nothing is in flight, a fresh producer id (the old sequence
    /// may have a hole the server never accepts).
    async fn prepare_sequence_once(&mut self) -> Result<()> {
        if !self.shared.cfg.idempotence {
            return Ok(());
        }
        if !self.pipeline.broken.load(Ordering::Acquire) {
            if self.sequence.is_none() {
                self.sequence = Some(Sequence { identity: self.shared.identity().await?, next_vlsn: 0 });
            }
            return Ok(());
        }
        self.pipeline.drain().await;
        let fresh = self.shared.client.init_producer(None).await?;
        self.pipeline.broken.store(false, Ordering::Release);
        tracing::debug!(log = %self.log, partition = self.partition, producer = fresh.id, "continuing under a fresh producer id");
        self.sequence = Some(Sequence { identity: fresh, next_vlsn: 0 });
        Ok(())
    }

    /// Sets the batch's producer fields; returns its base VLSN (`None`
    /// without idempotence).
    fn stamp(&mut self, b: &mut Building) -> Option<u64> {
        let seq = self.sequence.as_mut().filter(|_| self.shared.cfg.idempotence)?;
        let vlsn = seq.next_vlsn;
        b.builder.set_producer(seq.identity.id, seq.identity.epoch, vlsn);
        seq.next_vlsn += u64::from(b.builder.record_count());
        self.pipeline.sent(vlsn);
        Some(vlsn)
    }
}

/// One batch's delivery.
struct Send {
    shared: Arc<Shared>,
    pipeline: Arc<Pipeline>,
    log: Arc<str>,
    partition: u32,
    vlsn: Option<u64>,
}

impl Send {
    async fn run(self, mut b: Building, slot: OwnedSemaphorePermit) {
        let deadline = b.started + self.shared.cfg.delivery_timeout;
        let builder = std::mem::replace(&mut b.builder, BatchBuilder::new(0));
        let encoded = match self.shared.cfg.compression {
            Compression::None => Ok(bytes::Bytes::from(builder.finish())),
            // Compressing up to a whole batch takes milliseconds: off the
            // runtime's workers, which serve every other request meanwhile.
            c => tokio::task::spawn_blocking(move || bytes::Bytes::from(builder.finish_compressed(c)))
                .await
                .map_err(|e| Error::new(ErrorCode::Unknown, format!("compressing the batch failed: {e}"))),
        };
        let result = match encoded {
            Ok(batch) => self.deliver(&batch, deadline).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            if e.code() == ErrorCode::ProducerFenced {
                self.shared.fence(e);
            }
            if self.vlsn.is_some() {
                self.pipeline.broken.store(true, Ordering::Release);
            }
        }
        // Only an acknowledgement needs the log's config (its timestamp type);
        // a failure is told at once, without asking an unreachable server.
        let config = match &result {
            Ok(_) => self.shared.client.cached_metadata(&self.log).await.map(|m| m.config).unwrap_or_default(),
            Err(_) => Default::default(),
        };
        b.waiting.complete(result.map(|ack| Delivered {
            log: Arc::clone(&self.log),
            partition: self.partition,
            base_offset: ack.base_offset,
            epoch: ack.epoch,
            append_time_ms: ack.append_time_for(&config),
        }));
        // After the outcomes: a flush (which waits for the slots) returns
        // only once every record before it has been told.
        match self.vlsn {
            Some(vlsn) => self.pipeline.resolve(vlsn, slot),
            None => drop(slot),
        }
    }

    async fn deliver(&self, batch: &bytes::Bytes, deadline: Instant) -> Result<Ack> {
        let (shared, log, partition) = (&self.shared, &*self.log, self.partition);
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
            // An earlier batch may land (and resolve) while this one is being
            // refused for overtaking it: what counts is the state at sending.
            let earlier_at_send = self.earlier_in_flight();
            match self.send_once(batch, timeout).await {
                Sent::LeaderMoved(e) => tracing::debug!(log, partition, error = %e, "resending to the new leader"),
                Sent::Answer(Ok(ack)) => return Ok(ack),
                Sent::Answer(Err(e)) if overtook(&e) && (earlier_at_send || self.earlier_in_flight()) => {
                    // Overtook its predecessor: send again once that one resolved.
                    self.pipeline.wait_for_earlier(self.vlsn.unwrap_or(0), deadline).await;
                }
                Sent::Answer(Err(e)) if e.is_retriable() && remaining > retry_wait(&e, shared.cfg.retry_backoff) => {
                    tracing::debug!(log, partition, error = %e, "retrying batch");
                    tokio::time::sleep(retry_wait(&e, shared.cfg.retry_backoff)).await;
                }
                Sent::Answer(Err(e)) => return Err(e),
            }
        }
    }

    /// One attempt, given up as soon as another node names a new leader;
    /// the batch then goes there at once. With idempotence its sequence
    /// number lets the new leader answer a copy the old one replicated with
    /// the original offsets; without, like any retry, it may be stored twice.
    async fn send_once(&self, batch: &bytes::Bytes, timeout: Duration) -> Sent {
        let (client, log, partition) = (&self.shared.client, &*self.log, self.partition);
        let send = client.produce_batch(log, partition, batch, timeout, self.shared.cfg.acks);
        match client.leader_of(log, partition).await {
            Ok(leader) => tokio::select! {
                r = send => Sent::Answer(r),
                e = client.leader_moved(log, partition, leader) => Sent::LeaderMoved(e),
            },
            Err(_) => Sent::Answer(send.await),
        }
    }

    fn earlier_in_flight(&self) -> bool {
        self.vlsn.is_some_and(|v| self.pipeline.has_earlier(v))
    }
}

/// How one attempt to deliver a batch ended.
enum Sent {
    Answer(Result<Ack>),
    /// Another node names a new leader while the request still waited.
    LeaderMoved(Error),
}

/// What the server answers a batch that arrived before its predecessor
/// (`UnknownProducer` when even the producer's first batch has not landed).
fn overtook(e: &Error) -> bool {
    matches!(e.code(), ErrorCode::OutOfOrderSequence | ErrorCode::UnknownProducer)
}

/// The wait before resending a batch: the backoff (at most a second), or
/// longer when the server asked for it (a `Throttled` answer).
pub(super) fn retry_wait(e: &Error, backoff: Duration) -> Duration {
    backoff.min(Duration::from_secs(1)).max(e.retry_after().unwrap_or_default())
}
