//! Consumer groups: the coordinator state machine driven by requests and a
//! clock tick, and committed offsets stored durably in the internal log
//! `__consumer_offsets` (one record per committed partition, replayed on
//! start; the last record of a key wins).
//!
//! Offset record: key `group \0 log \0 partition \0 incarnation` (decimal;
//! records written before incarnations were kept have no incarnation: 0),
//! value `offset u64 LE` followed by the commit metadata (UTF-8).
//!
//! An offset belongs to the incarnation of the log it was committed for:
//! once a log is deleted and created again, its old offsets are no longer
//! answered (a group reads the new log from its reset policy, as Kafka
//! drops a deleted topic's offsets).
//!
//! The log does not grow without bound: every `snapshot_every` committed
//! offsets the whole table is snapshotted (`snapshot.rs`) and the log's
//! segments below the snapshot are deleted; start-up loads the snapshot and
//! replays the log from there.

pub mod coordinator;
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyralog_protocol::batch::{BatchBuilder, BatchIter, BatchView};
use pyralog_protocol::limits::{MAX_COMMIT_METADATA_BYTES, MAX_OFFSET_COMMIT_PARTITIONS, MAX_REBALANCE_TIMEOUT_MS};
use pyralog_protocol::{ErrorCode, ProtocolError};

use self::coordinator::{Coordinator, Join, Joined, LogPartitions, Pending};
use crate::partition::{now_ms, Partition};
use crate::storage::producers::BatchProducer;

/// The internal log holding committed offsets.
pub const OFFSETS_LOG: &str = "__consumer_offsets";
/// How often sessions and rebalance deadlines are checked.
pub const TICK_MS: u64 = 100;
/// Extra wait past a rebalance timeout before a join or sync gives up.
const WAIT_GRACE_MS: u64 = 5_000;
/// Bytes read per step when replaying the offsets log.
const REPLAY_READ_BYTES: usize = 4 * 1024 * 1024;
/// Durability wait for an offset commit.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

pub use pyralog_protocol::group::PartitionOffset as Committed;

type OffsetKey = (String, String, u32);
use self::snapshot::{Offsets, Stored};

/// Every group's membership and committed offsets.
pub struct Groups {
    coordinator: Mutex<Coordinator>,
    offsets: Mutex<Offsets>,
    offsets_log: Arc<Partition>,
    snapshot_dir: PathBuf,
    snapshot_every: u64,
    since_snapshot: AtomicU64,
    /// Commits are written to the offsets log one at a time, in the order
    /// they are applied.
    commit_order: tokio::sync::Mutex<()>,
    started: Instant,
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(code, msg)
}

fn offset_key(group: &str, log: &str, partition: u32, incarnation: u64) -> Vec<u8> {
    format!("{group}\0{log}\0{partition}\0{incarnation}").into_bytes()
}

fn parse_offset_record(key: &[u8], value: &[u8]) -> Option<(OffsetKey, Stored)> {
    let key = std::str::from_utf8(key).ok()?;
    let mut parts = key.split('\0');
    let (group, log, partition) = (parts.next()?, parts.next()?, parts.next()?.parse().ok()?);
    let incarnation = match parts.next() {
        Some(i) => i.parse().ok()?,
        None => 0,
    };
    let offset = u64::from_le_bytes(value.get(..8)?.try_into().ok()?);
    let metadata = String::from_utf8(value[8..].to_vec()).ok()?;
    Some(((group.to_owned(), log.to_owned(), partition), Stored { offset, metadata, incarnation }))
}

/// The current incarnation of a log, `None` when it does not exist.
pub type Incarnations<'a> = &'a (dyn Fn(&str) -> Option<u64> + Sync);

async fn waited<T>(rx: Pending<T>, limit_ms: u64) -> Result<T, ProtocolError> {
    match tokio::time::timeout(Duration::from_millis(limit_ms), rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err(err(ErrorCode::RebalanceInProgress, "the group changed while waiting; rejoin")),
        Err(_) => Err(err(ErrorCode::Timeout, format!("the group did not settle within {limit_ms} ms"))),
    }
}

impl Groups {
    /// Replays the committed offsets from the offsets log's partition 0.
    ///
    /// # Errors
    /// A damaged offsets log.
    pub fn open(
        offsets_log: Arc<Partition>,
        snapshot_dir: &Path,
        snapshot_every: u64,
    ) -> Result<Arc<Groups>, ProtocolError> {
        let (covered, mut offsets) = snapshot::load(snapshot_dir)?.unwrap_or_default();
        let mut at = offsets_log.log_start_offset().max(covered);
        // Up to the log end, not the high watermark: a new leader's log is
        // the log from now on, and its high watermark may still lag.
        while at < offsets_log.log_end_offset() {
            let slice = offsets_log.read_for_replica(at, REPLAY_READ_BYTES)?;
            if slice.bytes().is_empty() {
                break;
            }
            for batch in BatchIter::new(slice.bytes()) {
                let batch = batch?;
                let records = batch.plain_records()?;
                for r in batch.records_in(&records) {
                    let r = r?;
                    if let Some((k, v)) = r.key.and_then(|k| parse_offset_record(k, r.value)) {
                        offsets.insert(k, v);
                    }
                }
                at = batch.next_offset();
            }
        }
        tracing::debug!(committed = offsets.len(), "replayed committed offsets");
        Ok(Arc::new(Groups {
            coordinator: Mutex::new(Coordinator::default()),
            offsets: Mutex::new(offsets),
            offsets_log,
            snapshot_dir: snapshot_dir.to_owned(),
            snapshot_every,
            since_snapshot: AtomicU64::new(0),
            commit_order: tokio::sync::Mutex::new(()),
            started: Instant::now(),
        }))
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn coordinator(&self) -> parking_lot::MutexGuard<'_, Coordinator> {
        self.coordinator.lock()
    }

    pub fn tick(&self) {
        let now = self.now_ms();
        self.coordinator.lock().tick(now);
    }

    /// # Errors
    /// As [`Coordinator::join`], or `Timeout`.
    pub async fn join(&self, j: Join) -> Result<Joined, ProtocolError> {
        let limit = u64::from(j.rebalance_timeout_ms.max(j.session_timeout_ms)) + WAIT_GRACE_MS;
        let rx = self.coordinator.lock().join(j, self.now_ms())?;
        waited(rx, limit).await
    }

    /// # Errors
    /// As [`Coordinator::sync`], or `Timeout`.
    pub async fn sync(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        assignments: Vec<(String, Vec<LogPartitions>)>,
    ) -> Result<Vec<LogPartitions>, ProtocolError> {
        let rx = self.coordinator.lock().sync(group, generation, member_id, assignments, self.now_ms())?;
        waited(rx, u64::from(MAX_REBALANCE_TIMEOUT_MS) + WAIT_GRACE_MS).await
    }

    /// # Errors
    /// As [`Coordinator::heartbeat`].
    pub fn heartbeat(&self, group: &str, generation: i32, member_id: &str) -> Result<(), ProtocolError> {
        let now = self.now_ms();
        self.coordinator.lock().heartbeat(group, generation, member_id, now)
    }

    /// # Errors
    /// As [`Coordinator::leave`].
    pub fn leave(&self, group: &str, member_id: &str) -> Result<(), ProtocolError> {
        let now = self.now_ms();
        self.coordinator.lock().leave(group, member_id, now)
    }

    /// Stores offsets durably, each for the log's current incarnation,
    /// then makes them visible to `fetch`.
    ///
    /// # Errors
    /// As [`Coordinator::check_commit`]; `InvalidRequest` (too many
    /// partitions, metadata too long); `StorageError`, `Timeout`.
    pub async fn commit(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        offsets: Vec<Committed>,
        incarnations: Incarnations<'_>,
    ) -> Result<Vec<Committed>, ProtocolError> {
        if offsets.len() > MAX_OFFSET_COMMIT_PARTITIONS {
            return Err(err(
                ErrorCode::InvalidRequest,
                format!(
                    "commit names {} partitions; MAX_OFFSET_COMMIT_PARTITIONS is {MAX_OFFSET_COMMIT_PARTITIONS}",
                    offsets.len()
                ),
            ));
        }
        if let Some(c) = offsets.iter().find(|c| c.metadata.len() > MAX_COMMIT_METADATA_BYTES) {
            return Err(err(
                ErrorCode::InvalidRequest,
                format!(
                    "commit metadata of {}/{} exceeds MAX_COMMIT_METADATA_BYTES ({MAX_COMMIT_METADATA_BYTES})",
                    c.log, c.partition
                ),
            ));
        }
        self.coordinator.lock().check_commit(group, generation, member_id)?;
        if offsets.is_empty() {
            return Ok(offsets);
        }
        let mut builder = BatchBuilder::new(offsets.len() * 64);
        let ts = now_ms();
        let incarnation_of: Vec<u64> = offsets.iter().map(|c| incarnations(&c.log).unwrap_or(0)).collect();
        for (c, incarnation) in offsets.iter().zip(&incarnation_of) {
            let mut value = c.offset.to_le_bytes().to_vec();
            value.extend_from_slice(c.metadata.as_bytes());
            builder.push(ts, Some(&offset_key(group, &c.log, c.partition, *incarnation)), &value, &[])?;
        }
        let mut batch = builder.finish();
        let who = BatchProducer::of(&BatchView::new(&batch)?);
        let _in_order = self.commit_order.lock().await;
        self.offsets_log.append(&mut batch, who, 0, COMMIT_TIMEOUT, crate::partition::Acks::All).await?;
        {
            let mut stored = self.offsets.lock();
            for (c, incarnation) in offsets.iter().zip(incarnation_of) {
                let s = Stored { offset: c.offset, metadata: c.metadata.clone(), incarnation };
                stored.insert((group.to_owned(), c.log.clone(), c.partition), s);
            }
        }
        let since = self.since_snapshot.fetch_add(offsets.len() as u64, Ordering::Relaxed) + offsets.len() as u64;
        if since >= self.snapshot_every {
            // Still in commit order: the table holds exactly the log below its end.
            self.snapshot_and_trim().await?;
        }
        Ok(offsets)
    }

    /// Snapshots the table and deletes the offsets log's segments below it.
    async fn snapshot_and_trim(&self) -> Result<(), ProtocolError> {
        let covered = self.offsets_log.high_watermark();
        let table = self.offsets.lock().clone();
        let dir = self.snapshot_dir.clone();
        tokio::task::spawn_blocking(move || snapshot::write(&dir, covered, &table))
            .await
            .map_err(|e| err(ErrorCode::StorageError, format!("snapshot task failed: {e}")))??;
        self.since_snapshot.store(0, Ordering::Relaxed);
        let deleted = self.offsets_log.delete_segments_below(covered)?;
        tracing::debug!(covered, deleted, "snapshotted group offsets");
        Ok(())
    }

    /// Committed offsets of a group: of the named partitions, or all; only
    /// those committed for the logs' current incarnations (or before
    /// incarnations were kept).
    pub fn fetch(&self, group: &str, partitions: &[LogPartitions], incarnations: Incarnations<'_>) -> Vec<Committed> {
        let stored = self.offsets.lock();
        let from = (group.to_owned(), String::new(), 0);
        stored
            .range(from..)
            .take_while(|((g, _, _), _)| g == group)
            .filter(|((_, log, p), _)| {
                partitions.is_empty() || partitions.iter().any(|lp| lp.log == *log && lp.partitions.contains(p))
            })
            .filter(|((_, log, _), s)| s.incarnation == 0 || incarnations(log) == Some(s.incarnation))
            .map(|((_, log, p), s)| Committed {
                log: log.clone(),
                partition: *p,
                offset: s.offset,
                metadata: s.metadata.clone(),
            })
            .collect()
    }

    /// Names of every group with members or committed offsets.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.coordinator.lock().groups().map(|(n, _)| n.clone()).collect();
        names.extend(self.offsets.lock().keys().map(|(g, _, _)| g.clone()));
        names.sort();
        names.dedup();
        names
    }
}
