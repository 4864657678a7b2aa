//! One partition's records on their way to its worker, the way Kafka's
//! record accumulator holds them: `send` encodes a record straight into the
//! partition's open batch (on the caller's thread, under the partition's
//! lock), and the worker takes whole batches. A record costs no channel
//! message, no copy of its `Record`, and no cross-thread wake-up: the worker
//! is woken once per batch (when it opens, for the linger timer, and when it
//! fills) and per flush.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use pyralog_protocol::batch::BatchBuilder;
use pyralog_protocol::limits::MAX_BATCH_RECORDS;
use tokio::sync::{oneshot, Notify, Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::delivery::{BatchOutcome, Completion, Delivered, DeliveryFuture, DeliveryReport, DeliverySink};
use crate::error::{Error, Result};
use crate::record::{now_ms, Record};

/// Largest buffer reserved up front for a batch (a bigger `batch_size`
/// grows the buffer as records arrive).
const BATCH_PREALLOCATION_BYTES_MAX: usize = 1 << 20;

/// A record of a batch whose outcome goes to the producer's sink.
struct Reported {
    token: u64,
    index: usize,
    /// The record's place in its batch.
    batch_index: u32,
    /// The record's timestamp as batched.
    timestamp_ms: i64,
}

/// The records of a batch waiting for their outcome. Dropped with records
/// still waiting (its task cancelled at runtime shutdown, or its queue
/// orphaned), it fails them `Closed`, so no batched record is left without an
/// outcome.
pub(super) struct Waiting {
    sink: Option<Arc<dyn DeliverySink>>,
    /// Shared by the futures of the batch's records (made with the first).
    outcome: Option<Arc<BatchOutcome>>,
    reported: Vec<Reported>,
    /// The producer's `buffer_memory`, and the records' share of it: given
    /// back in one release per batch, with the outcomes.
    buffer: Arc<Semaphore>,
    reserved_bytes: usize,
}

impl Waiting {
    fn new(sink: Option<Arc<dyn DeliverySink>>, buffer: Arc<Semaphore>) -> Self {
        Waiting { sink, outcome: None, reported: Vec::new(), buffer, reserved_bytes: 0 }
    }

    /// Adds the batch's record number `batch_index`, taking over its buffer
    /// room; a future completion gets its future here.
    fn push(
        &mut self,
        done: Completion,
        batch_index: u32,
        timestamp_ms: i64,
        room: SemaphorePermit<'_>,
    ) -> Option<DeliveryFuture> {
        self.reserved_bytes += room.num_permits();
        room.forget();
        match done {
            Completion::Future => {
                let outcome = self.outcome.get_or_insert_with(|| Arc::new(BatchOutcome::new()));
                Some(DeliveryFuture::new(Arc::clone(outcome), batch_index, timestamp_ms))
            }
            Completion::Report { token, index } => {
                self.reported.push(Reported { token, index, batch_index, timestamp_ms });
                None
            }
        }
    }

    /// Tells every waiting record the batch's outcome: the futures through
    /// their shared outcome, the reports in one call to the sink.
    /// The buffer room is given back first: a caller told of its record
    /// finds the room free.
    pub(super) fn complete(&mut self, result: Result<Delivered>) {
        self.buffer.add_permits(std::mem::take(&mut self.reserved_bytes));
        let reports: Vec<DeliveryReport> = self
            .reported
            .drain(..)
            .map(|r| DeliveryReport {
                token: r.token,
                index: r.index,
                result: result.as_ref().map(|d| d.metadata(r.batch_index, r.timestamp_ms)).map_err(Clone::clone),
            })
            .collect();
        if let Some(outcome) = self.outcome.take() {
            outcome.set(result);
        }
        if let (Some(sink), false) = (self.sink.as_ref(), reports.is_empty()) {
            sink.deliver(reports);
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.outcome.is_some() || !self.reported.is_empty() {
            self.complete(Err(Error::closed("producer")));
        }
        self.buffer.add_permits(self.reserved_bytes);
    }
}

/// One partition's batch: its encoded records and their completions.
pub(super) struct Building {
    pub(super) builder: BatchBuilder,
    pub(super) waiting: Waiting,
    /// When the batch opened: linger and the delivery timeout count from here.
    pub(super) started: Instant,
    /// Timestamp of its records sent without one (read once per batch).
    now_ms: i64,
}

impl Building {
    fn new(batch_size: usize, sink: Option<Arc<dyn DeliverySink>>, buffer: Arc<Semaphore>) -> Self {
        Building {
            builder: BatchBuilder::new(batch_size.min(BATCH_PREALLOCATION_BYTES_MAX) + 1024),
            waiting: Waiting::new(sink, buffer),
            started: Instant::now(),
            now_ms: now_ms(),
        }
    }

    fn is_empty(&self) -> bool {
        self.builder.record_count() == 0
    }

    /// Whether the batch is full: at `batch_size` or at the format's record
    /// count limit.
    fn is_full(&self, batch_size: usize) -> bool {
        self.builder.size_bytes() >= batch_size || self.builder.record_count() >= MAX_BATCH_RECORDS
    }

    /// Whether a record of `size` bytes must start the next batch.
    fn must_close_for(&self, size: usize, batch_size: usize) -> bool {
        !self.is_empty() && (self.builder.size_bytes() + size > batch_size || self.is_full(batch_size))
    }
}

/// What the worker takes next, in send order.
pub(super) enum Ready {
    Batch(Building),
    /// Everything before it is to be acknowledged, then this told.
    Flush(oneshot::Sender<()>),
}

/// What the worker does next.
pub(super) enum Next {
    Take(Ready),
    /// Nothing to send: wait for a wake-up, or until the open batch lingered
    /// out.
    Wait(Option<Instant>),
    /// Closed and empty: the worker ends.
    Stop,
}

#[derive(Default)]
struct State {
    /// The batch `send` appends to.
    open: Option<Building>,
    /// Closed batches and flush markers, oldest first.
    ready: VecDeque<Ready>,
    /// No more sends; the worker ends once everything is taken.
    closed: bool,
}

/// One partition's queue between `send` and its worker. The buffer memory
/// each record holds (`buffer_memory`) bounds it.
pub(super) struct PartitionQueue {
    state: Mutex<State>,
    wake: Notify,
    batch_size: usize,
    sink: Option<Arc<dyn DeliverySink>>,
    buffer: Arc<Semaphore>,
    /// The worker task is gone (its runtime shut down): nothing would send
    /// what is queued here. Read per record without the lock.
    orphaned: AtomicBool,
}

impl PartitionQueue {
    pub(super) fn new(batch_size: usize, sink: Option<Arc<dyn DeliverySink>>, buffer: Arc<Semaphore>) -> Self {
        PartitionQueue {
            state: Mutex::default(),
            wake: Notify::new(),
            batch_size,
            sink,
            buffer,
            orphaned: AtomicBool::new(false),
        }
    }

    fn is_orphaned(&self) -> bool {
        self.orphaned.load(Ordering::Acquire)
    }

    /// Encodes `record` into the open batch (closing it first when the
    /// record does not fit); the record's outcome goes to `done`, and its
    /// buffer `room` stays taken until then. A future completion gets its
    /// future back.
    ///
    /// # Errors
    /// `Closed`, and the record's own limits (then nothing is queued and the
    /// room is given back).
    pub(super) fn push(
        &self,
        record: &Record,
        done: Completion,
        room: SemaphorePermit<'_>,
    ) -> Result<Option<DeliveryFuture>> {
        let size = room.num_permits();
        let mut st = self.state.lock();
        if st.closed || self.is_orphaned() {
            return Err(Error::closed("producer"));
        }
        // The worker is woken when a batch opens (to start its linger timer)
        // and when one is ready; never for a record joining an open batch.
        let mut wake = false;
        if st.open.as_ref().is_some_and(|b| b.must_close_for(size, self.batch_size)) {
            let full = st.open.take().expect("checked above");
            st.ready.push_back(Ready::Batch(full));
            wake = true;
        }
        let batch_size = self.batch_size;
        let b = st.open.get_or_insert_with(|| Building::new(batch_size, self.sink.clone(), Arc::clone(&self.buffer)));
        let opens = b.is_empty();
        let ts = record.timestamp.unwrap_or(b.now_ms);
        let batch_index = b.builder.record_count();
        let pushed = b.builder.push(ts, record.key.as_deref(), &record.value, &record.header_refs());
        let mut future = None;
        if pushed.is_ok() {
            future = b.waiting.push(done, batch_index, ts, room);
            wake |= opens;
            if b.is_full(batch_size) {
                let full = st.open.take().expect("pushed above");
                st.ready.push_back(Ready::Batch(full));
                wake = true;
            }
        }
        drop(st);
        if wake {
            self.wake.notify_one();
        }
        pushed?;
        Ok(future)
    }

    /// Closes the open batch and queues a flush marker behind it.
    ///
    /// # Errors
    /// `Closed` when no worker remains to answer it.
    pub(super) fn flush(&self, done: oneshot::Sender<()>) -> Result<()> {
        let mut st = self.state.lock();
        if self.is_orphaned() {
            return Err(Error::closed("producer"));
        }
        if let Some(b) = st.open.take().filter(|b| !b.is_empty()) {
            st.ready.push_back(Ready::Batch(b));
        }
        st.ready.push_back(Ready::Flush(done));
        drop(st);
        self.wake.notify_one();
        Ok(())
    }

    /// Stops new sends; the worker sends what is queued, then ends.
    pub(super) fn close(&self) {
        self.state.lock().closed = true;
        self.wake.notify_one();
    }

    /// Whether a worker still serves this queue.
    pub(super) fn is_served(&self) -> bool {
        !self.is_orphaned()
    }

    /// What the worker does next: the oldest ready item, else the open batch
    /// once it lingered `linger` (at once when the queue is closed).
    pub(super) fn next(&self, linger: std::time::Duration) -> Next {
        let mut st = self.state.lock();
        if let Some(r) = st.ready.pop_front() {
            return Next::Take(r);
        }
        match &st.open {
            Some(b) if !b.is_empty() => {
                let due = b.started + linger;
                if !st.closed && Instant::now() < due {
                    return Next::Wait(Some(due));
                }
                Next::Take(Ready::Batch(st.open.take().expect("matched above")))
            }
            _ if st.closed => Next::Stop,
            _ => Next::Wait(None),
        }
    }

    /// Waits for a push, flush or close, or until `due`.
    pub(super) async fn wait(&self, due: Option<Instant>) {
        match due {
            Some(due) => {
                let _ = tokio::time::timeout_at(due, self.wake.notified()).await;
            }
            None => self.wake.notified().await,
        }
    }

    /// Marks the queue unserved (its worker is gone) and fails what it holds
    /// `Closed`.
    pub(super) fn orphan(&self) {
        let held = {
            let mut st = self.state.lock();
            self.orphaned.store(true, Ordering::Release);
            (st.open.take(), std::mem::take(&mut st.ready))
        };
        drop(held); // outside the lock: dropping fails the records `Closed`
    }
}
