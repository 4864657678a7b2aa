//! One partition at run time: the storage log behind a lock, the durability
//! pipeline (group commit), and the offsets readers may see.
//!
//! Appends are serialized by the partition lock and never wait for the disk
//! under it. With `Always`, an append asks the sync threads (`syncer.rs`) to
//! fsync whatever has been appended since the last fsync, so one fsync covers
//! every batch that arrived meanwhile (group commit); producers wait for the
//! durable offset to pass their batch, and readers only see durable data.
//! With `Interval`, a timer task asks for that sync every interval; with
//! `Interval` and `Never`, data is visible and acknowledged once written.

mod compaction;
mod replica;

pub use compaction::{CompactionReport, CompactionSettings};
pub use replica::{Assignment, Fetcher};

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::{ErrorCode, ProtocolError};
use tokio::sync::{watch, Notify};

use crate::replication::isr::ReplicaSet;
use crate::storage::producers::{BatchProducer, Sequencing, WrittenBatch};
use crate::storage::{PartitionLog, ReadSlice, StorageConfig, StorageError};
use crate::syncer::{SyncQueue, SyncSlot, Syncable};

/// How appended data becomes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushMode {
    Always,
    Interval(Duration),
    Never,
}

/// Where durability stands; `failed` is set when an fsync failed, after
/// which the partition refuses writes (what was acknowledged stays valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durable {
    pub offset: u64,
    pub failed: bool,
}

/// When a produce is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Once every in-sync replica holds the batch (the high watermark passed it).
    All,
    /// Once the leader holds it, durable per the flush mode.
    Leader,
    /// Once the leader wrote it.
    None,
}

/// Outcome of an append.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    pub base_offset: u64,
    pub next_offset: u64,
    pub epoch: u64,
    pub append_time_ms: i64,
    pub log_start_offset: u64,
    /// A retried batch already written: these are the original offsets.
    pub duplicate: bool,
}

/// Longest an idempotent batch that arrived ahead of its predecessor waits
/// for it before being refused `OutOfOrderSequence` (requests of one
/// producer travel on separate streams and may be served out of order).
const REORDER_WAIT: Duration = Duration::from_millis(50);

/// Seconds of history the write rate averages over.
const WRITE_RATE_WINDOW_SECS: usize = 60;

/// A partition being served.
pub struct Partition {
    pub log: String,
    pub id: u32,
    storage: Mutex<PartitionLog>,
    epoch: AtomicU64,
    /// Set while the metadata makes this node the partition's leader.
    leading: AtomicBool,
    /// As leader: the ISR, the followers' progress, the high watermark.
    replica_set: Mutex<ReplicaSet>,
    /// The log's `min_in_sync_replicas` (at least 1).
    min_isr: AtomicU32,
    /// The log end offset, for followers' long-polls.
    log_end: watch::Sender<u64>,
    /// The task fetching from the leader while this replica follows.
    fetcher: Mutex<Option<replica::Fetcher>>,
    mode: Mutex<FlushMode>,
    durable: watch::Sender<Durable>,
    visible: watch::Sender<u64>,
    /// Woken on a flush mode change (the interval timer task).
    flush_wakeup: Notify,
    syncs: SyncQueue,
    sync_slot: SyncSlot,
    /// Woken after every append (batches waiting for their predecessor).
    appended: Notify,
    closed: AtomicBool,
    rate: Mutex<WriteRate>,
    /// The high watermark checkpoint file, and what it holds.
    checkpoint_path: std::path::PathBuf,
    checkpointed: AtomicU64,
    /// Where the segments the last compaction round mapped ended.
    compacted_to: AtomicU64,
}

impl Partition {
    /// Wraps an opened storage log and starts its interval flusher task;
    /// fsyncs run on the threads behind `syncs`.
    pub fn start(
        log: String,
        id: u32,
        storage: PartitionLog,
        epoch: u64,
        mode: FlushMode,
        syncs: SyncQueue,
    ) -> Arc<Self> {
        let end = storage.log_end_offset();
        let checkpointed = crate::storage::checkpoint::read(storage.dir());
        let checkpoint_path = crate::storage::checkpoint::path(storage.dir());
        let p = Arc::new(Partition {
            log,
            id,
            storage: Mutex::new(storage),
            epoch: AtomicU64::new(epoch),
            leading: AtomicBool::new(false),
            replica_set: Mutex::new(ReplicaSet::default()),
            min_isr: AtomicU32::new(1),
            log_end: watch::Sender::new(end),
            fetcher: Mutex::new(None),
            mode: Mutex::new(mode),
            durable: watch::Sender::new(Durable { offset: end, failed: false }),
            // What was committed before a restart (the checkpoint); more once
            // the partition leads (an ISR of this node alone commits all it
            // holds) or hears its leader.
            visible: watch::Sender::new(checkpointed.min(end)),
            flush_wakeup: Notify::new(),
            syncs,
            sync_slot: SyncSlot::default(),
            appended: Notify::new(),
            closed: AtomicBool::new(false),
            rate: Mutex::new(WriteRate::default()),
            checkpoint_path,
            checkpointed: AtomicU64::new(checkpointed),
            compacted_to: AtomicU64::new(0),
        });
        tokio::spawn(flusher(Arc::clone(&p)));
        p
    }

    pub fn leader_epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Whether this node leads the partition now.
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::Acquire)
    }

    /// Offset below which readers may read (the high watermark).
    pub fn high_watermark(&self) -> u64 {
        *self.visible.borrow()
    }

    /// A receiver woken when the high watermark moves.
    pub fn watch_high_watermark(&self) -> watch::Receiver<u64> {
        self.visible.subscribe()
    }

    pub fn set_mode(&self, mode: FlushMode) {
        *self.mode.lock() = mode;
        self.flush_wakeup.notify_one();
    }

    pub fn set_storage_config(&self, cfg: StorageConfig) {
        self.storage.lock().set_config(cfg);
    }

    /// Appends a validated batch, or finds it already written when it is a
    /// retry of an idempotent producer's batch; returns once it is durable
    /// per the flush mode, or `Timeout` after `timeout` (the batch may still
    /// become durable).
    ///
    /// # Errors
    /// `StorageError`, `Timeout`, `LogNotFound` if the partition was closed,
    /// and the sequencing errors of `ProducerStates::check`.
    pub async fn append(
        self: &Arc<Self>,
        batch: &mut [u8],
        producer: BatchProducer,
        flags: u8,
        timeout: Duration,
        acks: Acks,
    ) -> Result<Appended, ProtocolError> {
        let mode = *self.mode.lock();
        if acks == Acks::All {
            self.check_min_isr()?;
        }
        let appended = self.write_in_sequence(batch, &producer, flags, mode).await?;
        if !appended.duplicate {
            self.rate.lock().add(producer.record_count);
        }
        match acks {
            Acks::None => {}
            Acks::Leader if mode == FlushMode::Always => self.wait_durable(appended.next_offset, timeout).await?,
            Acks::Leader => {}
            Acks::All => {
                if mode == FlushMode::Always {
                    self.syncs.request(self);
                }
                self.wait_replicated(appended.next_offset, timeout).await?;
            }
        }
        Ok(appended)
    }

    /// Writes, giving a batch that overtook its predecessor up to
    /// `REORDER_WAIT` for the predecessor to land.
    async fn write_in_sequence(
        &self,
        batch: &mut [u8],
        producer: &BatchProducer,
        flags: u8,
        mode: FlushMode,
    ) -> Result<Appended, ProtocolError> {
        let deadline = tokio::time::Instant::now() + REORDER_WAIT;
        loop {
            let appended = self.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            match self.write(batch, producer, flags, mode) {
                Err(e) if self.storage.lock().producers().is_ahead(producer) => {
                    if tokio::time::timeout_at(deadline, appended).await.is_err() {
                        return Err(e);
                    }
                }
                done => return done,
            }
        }
    }

    /// The locked part of an append: sequencing, stamping, writing.
    fn write(
        &self,
        batch: &mut [u8],
        producer: &BatchProducer,
        flags: u8,
        mode: FlushMode,
    ) -> Result<Appended, ProtocolError> {
        let mut s = self.storage.lock();
        if self.closed.load(Ordering::Acquire) {
            return Err(ProtocolError::new(ErrorCode::LogNotFound, format!("log {} was deleted", self.log)));
        }
        if !self.is_leader() {
            return Err(ProtocolError::new(
                ErrorCode::NotLeader,
                format!("this node does not lead {}/{} now; refresh the metadata", self.log, self.id),
            ));
        }
        if self.durable.borrow().failed {
            return Err(ProtocolError::new(
                ErrorCode::StorageError,
                format!("partition {}/{} refuses writes after a failed fsync", self.log, self.id),
            ));
        }
        if let Sequencing::Duplicate(w) = s.producers().check(producer)? {
            return Ok(Appended {
                base_offset: w.base_offset,
                next_offset: w.base_offset + u64::from(w.record_count),
                epoch: w.leader_epoch,
                append_time_ms: w.append_time_ms,
                log_start_offset: s.log_start_offset(),
                duplicate: true,
            });
        }
        let epoch = self.leader_epoch();
        let now = now_ms();
        let info = s.append(batch, epoch, now, flags).map_err(storage_error)?;
        let written = WrittenBatch {
            base_vlsn: producer.base_vlsn,
            record_count: producer.record_count,
            base_offset: info.base_offset,
            leader_epoch: epoch,
            append_time_ms: now,
        };
        s.producers_mut().record(producer, written);
        self.log_end.send_replace(info.next_offset);
        if mode != FlushMode::Always {
            self.ack_locally(info.next_offset);
        }
        self.appended.notify_waiters();
        Ok(Appended {
            base_offset: info.base_offset,
            next_offset: info.next_offset,
            epoch,
            append_time_ms: now,
            log_start_offset: s.log_start_offset(),
            duplicate: false,
        })
    }

    /// Waits until everything below `target` is durable (group commit).
    async fn wait_durable(self: &Arc<Self>, target: u64, timeout: Duration) -> Result<(), ProtocolError> {
        self.syncs.request(self);
        let mut rx = self.durable.subscribe();
        let wait = async move { rx.wait_for(|d| d.offset >= target || d.failed).await.map(|d| d.failed) };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(false)) => Ok(()),
            Ok(_) => Err(ProtocolError::new(ErrorCode::StorageError, "fsync failed; the batch is not durable")),
            Err(_) => Err(ProtocolError::new(
                ErrorCode::Timeout,
                format!("not durable within the produce timeout of {} ms", timeout.as_millis()),
            )),
        }
    }

    /// Reads whole batches from `offset`, up to the high watermark.
    ///
    /// # Errors
    /// `OffsetOutOfRange`, `CorruptData`, `StorageError`.
    pub fn read(&self, offset: u64, max_bytes: usize) -> Result<ReadSlice, ProtocolError> {
        self.check_leader()?;
        let upper = self.high_watermark();
        let s = self.storage.lock();
        if offset > upper && offset <= s.log_end_offset() {
            // Written but not yet durable: nothing to read yet.
            return Ok(ReadSlice::empty());
        }
        s.read(offset, max_bytes, upper).map_err(storage_error)
    }

    pub fn log_start_offset(&self) -> u64 {
        self.storage.lock().log_start_offset()
    }

    /// (log start, size in bytes, segment count, write rate).
    pub fn stats(&self) -> (u64, u64, usize, f64) {
        let s = self.storage.lock();
        let rate = self.rate.lock().per_second();
        (s.log_start_offset(), s.size_bytes(), s.segment_count(), rate)
    }

    /// First record with timestamp >= `ts` below the high watermark.
    ///
    /// # Errors
    /// `StorageError` or `CorruptData`.
    pub fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(u64, i64)>, ProtocolError> {
        let hw = self.high_watermark();
        let Some((candidates, path)) = self.storage.lock().timestamp_candidates(ts) else { return Ok(None) };
        let found = crate::storage::offset_for_timestamp_in(&candidates, &path, ts).map_err(storage_error)?;
        Ok(found.filter(|(o, _)| *o < hw))
    }

    /// Writes the high watermark checkpoint if the high watermark moved
    /// since the last one (blocking I/O: call off the async workers).
    pub fn checkpoint_high_watermark(&self) {
        let hw = self.high_watermark();
        if hw == self.checkpointed.load(Ordering::Acquire) || self.is_closed() {
            return;
        }
        match crate::storage::checkpoint::write(&self.checkpoint_path, hw) {
            Ok(()) => self.checkpointed.store(hw, Ordering::Release),
            Err(e) => {
                tracing::warn!(log = %self.log, partition = self.id, error = %e, "high watermark checkpoint failed")
            }
        }
    }

    /// Deletes whole segments below `offset`; returns how many.
    ///
    /// # Errors
    /// `StorageError`.
    pub fn delete_segments_below(&self, offset: u64) -> Result<usize, ProtocolError> {
        self.storage.lock().delete_segments_below(offset).map_err(storage_error)
    }

    /// Runs retention; returns the number of segments deleted.
    pub fn apply_retention(&self, now: i64) -> usize {
        match self.storage.lock().apply_retention(now) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(log = %self.log, partition = self.id, error = %e, "retention failed");
                0
            }
        }
    }

    /// Stops writes and the flusher and syncs what was written. Idempotent.
    pub async fn close(self: &Arc<Self>) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.stop_fetcher();
        self.flush_wakeup.notify_one();
        let me = Arc::clone(self);
        let _ = tokio::task::spawn_blocking(move || {
            let storage = me.storage.lock();
            let target = storage.sync_target();
            match target.sync() {
                // Produces still waiting for this partition are durable now.
                Ok(()) => me.publish_durable(target.end_offset),
                Err(e) => tracing::error!(log = %me.log, partition = me.id, error = %e, "final sync failed"),
            }
            if let Err(e) = crate::storage::checkpoint::write(&me.checkpoint_path, me.high_watermark()) {
                tracing::warn!(log = %me.log, partition = me.id, error = %e, "high watermark checkpoint failed");
            }
            if let Err(e) = storage.snapshot_producers() {
                tracing::warn!(log = %me.log, partition = me.id, error = %e, "producer snapshot failed");
            }
        })
        .await;
    }
}

/// Asks for a sync every interval while the partition is in `Interval`
/// mode; sleeps until a mode change otherwise.
async fn flusher(p: Arc<Partition>) {
    loop {
        if p.closed.load(Ordering::Acquire) {
            return;
        }
        let mode = *p.mode.lock();
        match mode {
            FlushMode::Interval(every) => {
                let _ = tokio::time::timeout(every, p.flush_wakeup.notified()).await;
                if !p.closed.load(Ordering::Acquire) && matches!(*p.mode.lock(), FlushMode::Interval(_)) {
                    p.syncs.request(&p);
                }
            }
            FlushMode::Always | FlushMode::Never => p.flush_wakeup.notified().await,
        }
    }
}

impl Syncable for Partition {
    fn sync_slot(&self) -> &SyncSlot {
        &self.sync_slot
    }

    /// One group-commit cycle, on a sync thread: everything appended before
    /// it started is durable after it.
    fn sync_now(&self) -> bool {
        if self.closed.load(Ordering::Acquire) || self.durable.borrow().failed {
            return !self.durable.borrow().failed; // close syncs by itself
        }
        let target = self.storage.lock().sync_target();
        if target.end_offset <= self.durable.borrow().offset {
            return true;
        }
        let end = target.end_offset;
        let began = std::time::Instant::now();
        let synced = target.sync();
        self.syncs.observe_fsync(began.elapsed());
        if let Err(e) = synced {
            tracing::error!(log = %self.log, partition = self.id, error = %e, "fsync failed; partition stops accepting writes");
            self.durable.send_modify(|d| d.failed = true);
            return false;
        }
        self.publish_durable(end);
        true
    }
}

impl Partition {
    /// Everything below `end` is on disk: readers may see it (in every mode:
    /// a batch appended under `always` stays acknowledged-and-visible after
    /// a switch to another mode), then its producers are told.
    fn publish_durable(&self, end: u64) {
        self.ack_locally(end);
        self.durable.send_modify(|d| d.offset = d.offset.max(end));
    }
}

/// Maps a storage error to the wire error a client sees.
pub fn storage_error(e: StorageError) -> ProtocolError {
    match &e {
        StorageError::OffsetOutOfRange { .. } => ProtocolError::new(ErrorCode::OffsetOutOfRange, e.to_string()),
        StorageError::Corruption { .. } => ProtocolError::new(ErrorCode::CorruptData, e.to_string()),
        StorageError::BatchTooLarge { .. } => ProtocolError::new(ErrorCode::BatchTooLarge, e.to_string()),
        StorageError::Io { source, .. } if matches!(source.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) => {
            ProtocolError::new(ErrorCode::StorageFull, format!("{e}; nothing was written, retry once space is freed"))
        }
        _ => ProtocolError::new(ErrorCode::StorageError, e.to_string()),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Records appended per second over the last minute, in one-second buckets.
struct WriteRate {
    buckets: [(u64, u64); WRITE_RATE_WINDOW_SECS],
}

impl Default for WriteRate {
    fn default() -> Self {
        WriteRate { buckets: [(0, 0); WRITE_RATE_WINDOW_SECS] }
    }
}

impl WriteRate {
    fn add(&mut self, records: u32) {
        let sec = (now_ms() / 1000) as u64;
        let b = &mut self.buckets[sec as usize % WRITE_RATE_WINDOW_SECS];
        if b.0 != sec {
            *b = (sec, 0);
        }
        b.1 += u64::from(records);
    }

    fn per_second(&self) -> f64 {
        let sec = (now_ms() / 1000) as u64;
        let total: u64 = self
            .buckets
            .iter()
            .filter(|(s, _)| sec.saturating_sub(*s) < WRITE_RATE_WINDOW_SECS as u64)
            .map(|(_, n)| n)
            .sum();
        total as f64 / WRITE_RATE_WINDOW_SECS as f64
    }
}
