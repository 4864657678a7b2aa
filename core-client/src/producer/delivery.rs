//! How a queued record learns its outcome: a [`DeliveryFuture`] shares its
//! batch's one [`BatchOutcome`] (a record costs an `Arc` clone, not a channel
//! of its own), or a [`DeliveryReport`] goes to the producer's
//! [`DeliverySink`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::error::Result;
use crate::record::RecordMetadata;

/// The outcome of one record sent with [`crate::Producer::send_reported`].
#[derive(Debug)]
pub struct DeliveryReport {
    /// The token the record was sent under.
    pub token: u64,
    /// The index it was sent with (its place in the caller's batch).
    pub index: usize,
    pub result: Result<RecordMetadata>,
}

/// Where a producer made by [`crate::Client::producer_with_sink`] hands the
/// outcomes of records sent with [`crate::Producer::send_reported`]: every
/// ready outcome of a batch in one call, so a binding pays no task, channel
/// or wake-up per record (the librdkafka model of delivery reports).
pub trait DeliverySink: Send + Sync + 'static {
    /// Some records' outcomes; within a partition in send order. Runs on a
    /// runtime thread: store them and return, never block.
    fn deliver(&self, reports: Vec<DeliveryReport>);
}

/// How a queued record's outcome is told.
pub(super) enum Completion {
    /// To a [`DeliveryFuture`] (made when the record is queued).
    Future,
    /// To the producer's [`DeliverySink`].
    Report { token: u64, index: usize },
}

/// Where a batch landed: what every record of it reads its metadata from.
#[derive(Debug, Clone)]
pub(super) struct Delivered {
    pub(super) log: Arc<str>,
    pub(super) partition: u32,
    pub(super) base_offset: u64,
    pub(super) epoch: u64,
    /// The server's append time, on a log whose records carry it; `None`
    /// where records keep their producer timestamps.
    pub(super) append_time_ms: Option<i64>,
}

impl Delivered {
    /// The metadata of the batch's record number `index`, sent with
    /// `timestamp_ms`.
    pub(super) fn metadata(&self, index: u32, timestamp_ms: i64) -> RecordMetadata {
        RecordMetadata {
            log: Arc::clone(&self.log),
            partition: self.partition,
            offset: self.base_offset + u64::from(index),
            epoch: self.epoch,
            timestamp: self.append_time_ms.unwrap_or(timestamp_ms),
        }
    }
}

/// One batch's outcome, set once and read by the futures of its records.
pub(super) struct BatchOutcome {
    result: OnceLock<Result<Delivered>>,
    /// Tasks waiting on futures of this batch; drained when `result` is set.
    wakers: Mutex<Vec<Waker>>,
}

impl BatchOutcome {
    pub(super) fn new() -> Self {
        BatchOutcome { result: OnceLock::new(), wakers: Mutex::new(Vec::new()) }
    }

    /// Sets the outcome (the first one set stays) and wakes every waiting task.
    pub(super) fn set(&self, result: Result<Delivered>) {
        let _ = self.result.set(result);
        let wakers = std::mem::take(&mut *self.wakers.lock());
        for w in wakers {
            w.wake();
        }
    }
}

/// Resolves to the metadata of one sent record once it is acknowledged.
#[must_use = "a delivery future reports whether the record was written"]
pub struct DeliveryFuture {
    outcome: Arc<BatchOutcome>,
    /// The record's place in its batch.
    index: u32,
    timestamp_ms: i64,
    /// Where this future's waker sits in `outcome.wakers`, once polled.
    registered: Option<usize>,
}

impl DeliveryFuture {
    pub(super) fn new(outcome: Arc<BatchOutcome>, index: u32, timestamp_ms: i64) -> Self {
        DeliveryFuture { outcome, index, timestamp_ms, registered: None }
    }

    fn read(&self, result: &Result<Delivered>) -> Result<RecordMetadata> {
        result.as_ref().map(|d| d.metadata(self.index, self.timestamp_ms)).map_err(Clone::clone)
    }
}

impl std::fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryFuture").field("index", &self.index).finish_non_exhaustive()
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(r) = this.outcome.result.get() {
            return Poll::Ready(this.read(r));
        }
        let mut wakers = this.outcome.wakers.lock();
        // `set` stores the result before it drains the wakers: checked again
        // under their lock, no wake-up is lost.
        if let Some(r) = this.outcome.result.get() {
            drop(wakers);
            return Poll::Ready(this.read(r));
        }
        match this.registered {
            Some(i) if i < wakers.len() => {
                if !wakers[i].will_wake(cx.waker()) {
                    wakers[i] = cx.waker().clone();
                }
            }
            _ => {
                this.registered = Some(wakers.len());
                wakers.push(cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use pyralog_protocol::ErrorCode;

    use super::*;
    use crate::error::Error;

    fn delivered(base_offset: u64, append_time_ms: Option<i64>) -> Delivered {
        Delivered { log: Arc::from("events"), partition: 3, base_offset, epoch: 2, append_time_ms }
    }

    fn poll_once(f: &mut DeliveryFuture) -> Poll<Result<RecordMetadata>> {
        Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test]
    async fn futures_of_one_batch_resolve_with_their_own_offsets_and_timestamps() {
        let outcome = Arc::new(BatchOutcome::new());
        let first = tokio::spawn(DeliveryFuture::new(Arc::clone(&outcome), 0, 1_000));
        let second = tokio::spawn(DeliveryFuture::new(Arc::clone(&outcome), 1, 1_001));
        tokio::task::yield_now().await;
        outcome.set(Ok(delivered(40, None)));
        let (a, b) = (first.await.unwrap().unwrap(), second.await.unwrap().unwrap());
        assert_eq!((&*a.log, a.partition, a.offset, a.epoch, a.timestamp), ("events", 3, 40, 2, 1_000));
        assert_eq!((b.offset, b.timestamp), (41, 1_001));
    }

    #[test]
    fn an_append_time_log_gives_every_record_the_servers_time() {
        let outcome = Arc::new(BatchOutcome::new());
        outcome.set(Ok(delivered(7, Some(5_000))));
        let mut f = DeliveryFuture::new(outcome, 2, 1_000);
        let Poll::Ready(Ok(md)) = poll_once(&mut f) else { panic!("resolved") };
        assert_eq!((md.offset, md.timestamp), (9, 5_000));
    }

    #[test]
    fn a_failed_batch_fails_every_record_and_the_first_outcome_stays() {
        let outcome = Arc::new(BatchOutcome::new());
        let mut futures: Vec<_> = (0..3).map(|i| DeliveryFuture::new(Arc::clone(&outcome), i, 0)).collect();
        outcome.set(Err(Error::new(ErrorCode::LogNotFound, "log events was deleted")));
        outcome.set(Ok(delivered(0, None)));
        for f in &mut futures {
            let Poll::Ready(Err(e)) = poll_once(f) else { panic!("failed") };
            assert_eq!(e.code(), ErrorCode::LogNotFound);
        }
    }

    #[test]
    fn a_future_polled_again_and_again_keeps_one_waker() {
        let outcome = Arc::new(BatchOutcome::new());
        let mut f = DeliveryFuture::new(Arc::clone(&outcome), 0, 0);
        for _ in 0..5 {
            assert!(poll_once(&mut f).is_pending());
        }
        assert_eq!(outcome.wakers.lock().len(), 1);
        outcome.set(Ok(delivered(0, None)));
        assert!(outcome.wakers.lock().is_empty());
        assert!(matches!(poll_once(&mut f), Poll::Ready(Ok(_))));
    }
}
