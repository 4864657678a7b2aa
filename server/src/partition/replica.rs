//! A partition's part in replication: leading (ISR, followers' progress,
//! the high watermark, waiting for `acks = all`) and following (appending
//! the leader's batches, cutting a divergent tail).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::{ErrorCode, ProtocolError};

use super::{now_ms, storage_error, FlushMode, Partition};
use crate::cluster::state::NodeId;
use crate::storage::{ReadSlice, StorageError};

/// What the metadata says about this replica.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub me: NodeId,
    pub leader: Option<NodeId>,
    pub leader_epoch: u64,
    pub replicas: Vec<NodeId>,
    pub isr: Vec<NodeId>,
    pub min_isr: u32,
}

/// The fetcher task of a follower, and whom it follows.
pub struct Fetcher {
    pub leader: NodeId,
    pub epoch: u64,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn not_leader(p: &Partition) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::NotLeader,
        format!("this node does not lead {}/{} now; refresh the metadata", p.log, p.id),
    )
}

impl Partition {
    /// # Errors
    /// `NotLeader` unless this node leads the partition now.
    pub fn check_leader(&self) -> Result<(), ProtocolError> {
        if self.is_leader() {
            Ok(())
        } else {
            Err(not_leader(self))
        }
    }

    /// Applies the metadata's assignment: leads under its epoch (which
    /// starts at the log end when it is new, every follower then getting a
    /// grace period), or stops leading (appends get `NotLeader`, waiting
    /// producers are woken to be told).
    ///
    /// # Errors
    /// Writing the epoch table failed.
    pub fn follow_assignment(&self, a: &Assignment) -> Result<(), StorageError> {
        self.min_isr.store(a.min_isr.max(1), Ordering::Release);
        let leads = a.leader == Some(a.me);
        let mut rs = self.replica_set.lock();
        rs.assign(&a.replicas, &a.isr);
        if leads && (!self.is_leader() || self.leader_epoch() != a.leader_epoch) {
            let mut s = self.storage.lock();
            if a.leader_epoch > s.leader_epoch() {
                s.begin_epoch(a.leader_epoch)?;
            } else if a.leader_epoch < s.leader_epoch() {
                tracing::warn!(log = %self.log, partition = self.id, epoch = a.leader_epoch, stored = s.leader_epoch(), "the metadata's leader epoch is behind the stored one; keeping the stored one");
            }
            self.epoch.store(s.leader_epoch(), Ordering::Release);
            rs.lead(a.me, s.log_end_offset(), now_ms());
            let mut acked = self.durable.borrow().offset;
            if *self.mode.lock() != FlushMode::Always {
                acked = acked.max(s.log_end_offset());
            }
            rs.ack_locally(acked);
            tracing::info!(log = %self.log, partition = self.id, epoch = s.leader_epoch(), end = s.log_end_offset(), "leading");
        }
        self.leading.store(leads, Ordering::Release);
        let hw = rs.high_watermark();
        drop(rs);
        if leads {
            self.visible.send_modify(|v| *v = (*v).max(hw));
        } else {
            self.visible.send_modify(|_| {});
        }
        Ok(())
    }

    /// The leader's own copy counts up to `offset`; the high watermark moves.
    pub(super) fn ack_locally(&self, offset: u64) {
        let mut rs = self.replica_set.lock();
        rs.ack_locally(offset);
        if self.is_leader() {
            let hw = rs.high_watermark();
            self.visible.send_modify(|v| *v = (*v).max(hw));
        }
    }

    /// # Errors
    /// `NotEnoughReplicas` when the ISR is smaller than `min_in_sync_replicas`.
    pub(super) fn check_min_isr(&self) -> Result<(), ProtocolError> {
        let isr = self.replica_set.lock().isr().len();
        let min = self.min_isr.load(Ordering::Acquire) as usize;
        if isr < min {
            return Err(ProtocolError::new(
                ErrorCode::NotEnoughReplicas,
                format!("{}/{} has {isr} in-sync replica(s); min_in_sync_replicas is {min}", self.log, self.id),
            ));
        }
        Ok(())
    }

    /// Waits until every in-sync replica holds everything below `target`.
    pub(super) async fn wait_replicated(&self, target: u64, timeout: Duration) -> Result<(), ProtocolError> {
        let mut rx = self.visible.subscribe();
        let wait = async move {
            rx.wait_for(|hw| *hw >= target || !self.is_leader() || self.durable.borrow().failed).await.map(|hw| *hw)
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(hw)) if hw >= target => Ok(()),
            Ok(_) if self.durable.borrow().failed => {
                Err(ProtocolError::new(ErrorCode::StorageError, "fsync failed; the batch is not durable"))
            }
            Ok(_) => Err(not_leader(self)),
            Err(_) => Err(ProtocolError::new(
                ErrorCode::Timeout,
                format!(
                    "{}/{}: not on every in-sync replica within the produce timeout of {} ms",
                    self.log,
                    self.id,
                    timeout.as_millis()
                ),
            )),
        }
    }

    /// As leader: a follower fetched from `fetch_offset`, its copy counting
    /// up to `acked`. Returns the log end offset.
    pub fn replica_fetched(&self, node: NodeId, fetch_offset: u64, acked: u64) -> u64 {
        let end = self.log_end_offset();
        let mut rs = self.replica_set.lock();
        rs.fetched(node, fetch_offset, acked.min(end), end, now_ms());
        let hw = rs.high_watermark();
        drop(rs);
        self.visible.send_modify(|v| *v = (*v).max(hw));
        end
    }

    /// The ISR the leader should ask for now, with its epoch; `None` when
    /// it stays or this node does not lead.
    pub fn wanted_isr(&self, lag_max_ms: i64) -> Option<(u64, Vec<NodeId>)> {
        if !self.is_leader() {
            return None;
        }
        let wanted = self.replica_set.lock().wanted_isr(now_ms(), lag_max_ms, self.high_watermark())?;
        Some((self.leader_epoch(), wanted))
    }

    pub fn log_end_offset(&self) -> u64 {
        *self.log_end.borrow()
    }

    /// A receiver woken when the log end moves (followers' long-polls).
    pub fn watch_log_end(&self) -> tokio::sync::watch::Receiver<u64> {
        self.log_end.subscribe()
    }

    /// Whole batches from `offset` up to the log end, for a follower.
    ///
    /// # Errors
    /// `OffsetOutOfRange`, `CorruptData`, `StorageError`.
    pub fn read_for_replica(&self, offset: u64, max_bytes: usize) -> Result<ReadSlice, ProtocolError> {
        let s = self.storage.lock();
        s.read(offset, max_bytes, s.log_end_offset()).map_err(storage_error)
    }

    /// The largest epoch at or below `epoch` held here, and where it ends.
    pub fn epoch_end(&self, epoch: u64) -> Option<(u64, u64)> {
        self.storage.lock().epoch_end_at_or_below(epoch)
    }

    /// The latest epoch in this replica's epoch table.
    pub fn latest_epoch(&self) -> u64 {
        self.storage.lock().leader_epoch()
    }

    /// As follower: appends the leader's batches (`bytes`, whole batches
    /// back to back) as they are; returns the new log end.
    ///
    /// # Errors
    /// `NotLeader` if this replica leads now; `CorruptData` for a batch
    /// that does not continue the log; `StorageError`.
    pub fn append_replicated(&self, bytes: &[u8]) -> Result<u64, ProtocolError> {
        let mut s = self.storage.lock();
        if self.is_leader() || self.closed.load(Ordering::Acquire) {
            return Err(ProtocolError::new(
                ErrorCode::NotLeader,
                format!("{}/{} no longer follows", self.log, self.id),
            ));
        }
        for batch in pyralog_protocol::batch::BatchIter::new(bytes) {
            let batch = batch.map_err(|e| ProtocolError::new(ErrorCode::CorruptData, e.message))?;
            s.append_replicated(batch.bytes()).map_err(storage_error)?;
        }
        let end = s.log_end_offset();
        self.epoch.store(s.leader_epoch(), Ordering::Release);
        drop(s);
        self.log_end.send_replace(end);
        if *self.mode.lock() != FlushMode::Always {
            self.replica_set.lock().ack_locally(end);
        }
        Ok(end)
    }

    /// As follower: what the copy counts for (durable under `always`).
    pub fn acked_offset(&self) -> u64 {
        match *self.mode.lock() {
            FlushMode::Always => self.durable.borrow().offset.min(self.log_end_offset()),
            _ => self.log_end_offset(),
        }
    }

    /// As follower: makes everything appended durable (under `always`).
    ///
    /// # Errors
    /// `Timeout` or `StorageError`.
    pub async fn sync_replicated(self: &Arc<Self>, timeout: Duration) -> Result<(), ProtocolError> {
        if *self.mode.lock() == FlushMode::Always {
            self.wait_durable(self.log_end_offset(), timeout).await?;
        }
        Ok(())
    }

    /// As follower: the leader's high watermark, capped by what is here.
    pub fn set_follower_high_watermark(&self, hw: u64) {
        let hw = hw.min(self.log_end_offset());
        self.visible.send_modify(|v| *v = (*v).max(hw));
    }

    /// As follower: removes everything at or past `offset` (a divergent
    /// tail) and the epochs that start there; returns the new log end.
    ///
    /// # Errors
    /// `NotLeader` if this replica leads now; `StorageError`.
    pub fn truncate_to(&self, offset: u64) -> Result<u64, ProtocolError> {
        let mut s = self.storage.lock();
        if self.is_leader() {
            return Err(not_leader(self));
        }
        let before = s.log_end_offset();
        let end = s.truncate_in_place(offset).map_err(storage_error)?;
        self.epoch.store(s.leader_epoch(), Ordering::Release);
        drop(s);
        if end == before {
            return Ok(end);
        }
        tracing::warn!(log = %self.log, partition = self.id, end, cut = before - end, "truncated a divergent tail");
        self.log_end.send_replace(end);
        self.durable.send_modify(|d| d.offset = d.offset.min(end));
        self.visible.send_modify(|v| *v = (*v).min(end));
        Ok(end)
    }

    /// Replaces the fetcher (following `leader` at `epoch`); `None` stops it.
    pub fn set_fetcher(&self, fetcher: Option<Fetcher>) {
        *self.fetcher.lock() = fetcher;
    }

    /// Whom the running fetcher follows.
    pub fn fetching_from(&self) -> Option<(NodeId, u64)> {
        self.fetcher.lock().as_ref().filter(|f| !f.task.is_finished()).map(|f| (f.leader, f.epoch))
    }

    pub(super) fn stop_fetcher(&self) {
        self.fetcher.lock().take();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
