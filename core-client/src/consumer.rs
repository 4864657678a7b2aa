//! The consumer: assigned partitions, positions, long-poll fetches with one
//! prefetch in flight (sent before the previous fetch's records are
//! decoded), seek, pause and resume.
//!
//! Two offsets per partition: the *position* (the next record `poll` returns)
//! and the *fetch offset* (the next record to ask the server for). Records
//! fetched but not yet returned sit in a buffer between the two. A seek or a
//! pause drops that partition's buffered records and discards any fetch
//! result that was asked for at an older fetch offset.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::pyralog_capnp::OffsetSpec;
use pyralog_protocol::ErrorCode;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::client::{Client, FetchSpec, Fetched};
use crate::config::{ConsumerConfig, OffsetReset};
use crate::error::{Error, Result};
use crate::group::GroupSession;
use crate::record::{ConsumerRecord, LogOffset, LogPartition};
use crate::wire;

/// Where a partition's position comes from when it is not known yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reset {
    Earliest,
    Latest,
    Timestamp(i64),
    Fail,
}

#[derive(Debug)]
struct PartState {
    position: u64,
    fetch_offset: u64,
    pending_reset: Option<Reset>,
    paused: bool,
}

type Prefetch = (Vec<FetchSpec>, JoinHandle<Result<Vec<Fetched>>>);

/// Ends a consumer's poll from another thread or task: the poll waiting for
/// records returns `Cancelled` at once (or, when none runs, the next poll
/// does, like Kafka's `wakeup`). A poll in the middle of a rebalance step
/// returns when that step ends. Cheap to clone; every binding keeps one
/// beside its consumer, so waking never waits for the consumer itself.
#[derive(Clone, Default)]
pub struct Wakeup {
    inner: Arc<WakeupState>,
}

#[derive(Default)]
struct WakeupState {
    pending: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Wakeup {
    /// Wakes the running poll, or the next one.
    pub fn wake(&self) {
        self.inner.pending.store(true, std::sync::atomic::Ordering::Release);
        self.inner.notify.notify_waiters();
    }

    /// Takes a pending wakeup.
    fn take(&self) -> Result<()> {
        match self.inner.pending.swap(false, std::sync::atomic::Ordering::AcqRel) {
            true => Err(Error::new(ErrorCode::Cancelled, "the poll was woken by wakeup")),
            false => Ok(()),
        }
    }

    /// Runs `wait`, or ends with `Cancelled` once woken.
    async fn or_woken<T>(&self, wait: impl std::future::Future<Output = T>) -> Result<T> {
        let woken = self.inner.notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        self.take()?;
        tokio::select! {
            r = wait => Ok(r),
            () = woken => {
                self.take()?;
                Err(Error::new(ErrorCode::Cancelled, "the poll was woken by wakeup"))
            }
        }
    }
}

/// Reads assigned partitions. Not shared between tasks: wrap it in a mutex
/// to do so ([`Consumer::wakeup_handle`] wakes it without the mutex).
pub struct Consumer {
    pub(crate) client: Client,
    pub(crate) cfg: ConsumerConfig,
    parts: BTreeMap<LogPartition, PartState>,
    buffer: VecDeque<ConsumerRecord>,
    prefetch: Option<Prefetch>,
    closed: bool,
    /// Set by `subscribe`: the group membership that decides the assignment.
    pub(crate) group: Option<GroupSession>,
    wakeup: Wakeup,
}

impl Consumer {
    pub(crate) fn new(client: Client, cfg: ConsumerConfig) -> Self {
        Consumer {
            client,
            cfg,
            parts: BTreeMap::new(),
            buffer: VecDeque::new(),
            prefetch: None,
            closed: false,
            group: None,
            wakeup: Wakeup::default(),
        }
    }

    /// A handle that wakes this consumer's poll from anywhere ([`Wakeup`]).
    pub fn wakeup_handle(&self) -> Wakeup {
        self.wakeup.clone()
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::closed("consumer"));
        }
        Ok(())
    }

    fn default_reset(&self) -> Reset {
        match self.cfg.auto_offset_reset {
            OffsetReset::Earliest => Reset::Earliest,
            OffsetReset::Latest => Reset::Latest,
            OffsetReset::Error => Reset::Fail,
        }
    }

    /// Replaces the assignment. Partitions kept keep their positions; new
    /// ones start per `auto_offset_reset`.
    ///
    /// # Errors
    /// `Closed`.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = LogPartition>) -> Result<()> {
        self.check_open()?;
        if self.group.is_some() {
            return Err(Error::invalid_argument("this consumer subscribed to a group; unsubscribe before assign"));
        }
        self.set_assignment(partitions);
        Ok(())
    }

    /// Replaces the assignment (the group session's way in).
    pub(crate) fn set_assignment(&mut self, partitions: impl IntoIterator<Item = LogPartition>) {
        let reset = self.default_reset();
        let mut next = BTreeMap::new();
        for lp in partitions {
            let st = self.parts.remove(&lp).unwrap_or(PartState {
                position: 0,
                fetch_offset: 0,
                pending_reset: Some(reset),
                paused: false,
            });
            next.insert(lp, st);
        }
        self.parts = next;
        let parts = &self.parts;
        self.buffer.retain(|r| parts.contains_key(&LogPartition { log: Arc::clone(&r.log), partition: r.partition }));
        self.prefetch = None;
    }

    /// Assigns every partition of `log`.
    ///
    /// # Errors
    /// `LogNotFound`, `Closed`.
    pub async fn assign_log(&mut self, log: &str) -> Result<()> {
        let md = self.client.get_log_metadata(log).await?;
        let mut all: Vec<LogPartition> = self.parts.keys().filter(|lp| &*lp.log != log).cloned().collect();
        all.extend((0..md.partition_count).map(|p| LogPartition::new(log, p)));
        self.assign(all)
    }

    /// Positions known without asking the server (no pending reset).
    pub(crate) fn known_positions(&self) -> Vec<(LogPartition, u64)> {
        self.parts.iter().filter(|(_, s)| s.pending_reset.is_none()).map(|(lp, s)| (lp.clone(), s.position)).collect()
    }

    /// The assigned partitions.
    pub fn assignment(&self) -> Vec<LogPartition> {
        self.parts.keys().cloned().collect()
    }

    fn state(&mut self, lp: &LogPartition) -> Result<&mut PartState> {
        self.parts.get_mut(lp).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("{}/{} is not assigned to this consumer", lp.log, lp.partition),
            )
        })
    }

    fn drop_buffered(&mut self, lp: &LogPartition) {
        self.buffer.retain(|r| !(r.log == lp.log && r.partition == lp.partition));
    }

    fn set_reset(&mut self, lp: &LogPartition, reset: Reset) -> Result<()> {
        self.state(lp)?.pending_reset = Some(reset);
        self.drop_buffered(lp);
        Ok(())
    }

    /// The next `poll` of this partition starts at `offset`
    /// (`LogOffset::MAX` = the end).
    ///
    /// # Errors
    /// `InvalidArgument` if the partition is not assigned.
    pub fn seek(&mut self, lp: &LogPartition, offset: LogOffset) -> Result<()> {
        if offset == LogOffset::MAX {
            return self.set_reset(lp, Reset::Latest);
        }
        let st = self.state(lp)?;
        st.position = offset.0;
        st.fetch_offset = offset.0;
        st.pending_reset = None;
        self.drop_buffered(lp);
        Ok(())
    }

    /// Moves to the log start of each partition (all assigned if empty).
    ///
    /// # Errors
    /// `InvalidArgument` if a partition is not assigned.
    pub fn seek_to_beginning(&mut self, partitions: &[LogPartition]) -> Result<()> {
        self.reset_many(partitions, Reset::Earliest)
    }

    /// Moves to the end of each partition (all assigned if empty).
    ///
    /// # Errors
    /// `InvalidArgument` if a partition is not assigned.
    pub fn seek_to_end(&mut self, partitions: &[LogPartition]) -> Result<()> {
        self.reset_many(partitions, Reset::Latest)
    }

    /// Moves each partition (all assigned if empty) to its first record with
    /// timestamp >= `timestamp_ms`, or its end.
    ///
    /// # Errors
    /// `InvalidArgument` if a partition is not assigned.
    pub fn seek_to_timestamp(&mut self, partitions: &[LogPartition], timestamp_ms: i64) -> Result<()> {
        self.reset_many(partitions, Reset::Timestamp(timestamp_ms))
    }

    fn reset_many(&mut self, partitions: &[LogPartition], reset: Reset) -> Result<()> {
        let targets = if partitions.is_empty() { self.assignment() } else { partitions.to_vec() };
        for lp in &targets {
            self.set_reset(lp, reset)?;
        }
        Ok(())
    }

    /// Stops fetching these partitions until resumed.
    ///
    /// # Errors
    /// `InvalidArgument` if a partition is not assigned.
    pub fn pause(&mut self, partitions: &[LogPartition]) -> Result<()> {
        for lp in partitions {
            let st = self.state(lp)?;
            st.paused = true;
            st.fetch_offset = st.position;
            self.drop_buffered(lp);
        }
        Ok(())
    }

    /// Fetches these partitions again.
    ///
    /// # Errors
    /// `InvalidArgument` if a partition is not assigned.
    pub fn resume(&mut self, partitions: &[LogPartition]) -> Result<()> {
        for lp in partitions {
            self.state(lp)?.paused = false;
        }
        Ok(())
    }

    /// The paused partitions.
    pub fn paused(&self) -> Vec<LogPartition> {
        self.parts.iter().filter(|(_, s)| s.paused).map(|(lp, _)| lp.clone()).collect()
    }

    /// The offset of the next record `poll` returns for this partition.
    ///
    /// # Errors
    /// `InvalidArgument` if not assigned; errors resolving a pending reset.
    pub async fn position(&mut self, lp: &LogPartition) -> Result<u64> {
        self.check_open()?;
        self.state(lp)?;
        self.resolve_resets().await?;
        Ok(self.state(lp)?.position)
    }

    async fn resolve_resets(&mut self) -> Result<()> {
        let pending: Vec<(LogPartition, Reset)> =
            self.parts.iter().filter_map(|(lp, s)| s.pending_reset.map(|r| (lp.clone(), r))).collect();
        for (lp, reset) in pending {
            let (spec, ts) = match reset {
                Reset::Earliest => (OffsetSpec::Earliest, 0),
                Reset::Latest => (OffsetSpec::Latest, 0),
                Reset::Timestamp(t) => (OffsetSpec::Timestamp, t),
                Reset::Fail => {
                    return Err(Error::new(
                        ErrorCode::OffsetOutOfRange,
                        format!(
                            "{}/{} has no valid position and auto_offset_reset is Error; seek first",
                            lp.log, lp.partition
                        ),
                    ))
                }
            };
            let (offset, _) = self.client.list_offset(&lp.log, lp.partition, spec, ts).await?;
            let st = self.state(&lp)?;
            st.position = offset;
            st.fetch_offset = offset;
            st.pending_reset = None;
        }
        Ok(())
    }

    fn fetch_specs(&self) -> Vec<FetchSpec> {
        self.parts
            .iter()
            .filter(|(_, s)| !s.paused && s.pending_reset.is_none())
            .map(|(lp, s)| FetchSpec {
                log: Arc::clone(&lp.log),
                partition: lp.partition,
                offset: s.fetch_offset,
                max_bytes: self.cfg.max_partition_fetch_bytes,
            })
            .collect()
    }

    fn start_fetch(&mut self, max_wait: Duration) {
        let specs = self.fetch_specs();
        if specs.is_empty() {
            return;
        }
        let client = self.client.clone();
        let (max_bytes, s2) = (self.cfg.fetch_max_bytes, specs.clone());
        let handle = tokio::spawn(async move { client.fetch(&s2, max_wait, 1, max_bytes).await });
        self.prefetch = Some((specs, handle));
    }

    /// Returns the next records, waiting up to `timeout` for some to arrive.
    /// An empty result means none arrived in time.
    ///
    /// # Errors
    /// `Closed`; `Cancelled` when woken ([`Consumer::wakeup_handle`]);
    /// `OffsetOutOfRange` with `auto_offset_reset = Error`; `LogNotFound`
    /// if an assigned log was deleted; connection errors.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        self.check_open()?;
        self.wakeup.take()?;
        let deadline = Instant::now() + timeout;
        loop {
            if self.group.is_some() {
                self.drive_group().await?;
            }
            if !self.buffer.is_empty() {
                return Ok(self.take());
            }
            self.resolve_resets().await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if self.prefetch.is_none() {
                self.start_fetch(self.cfg.fetch_max_wait.min(remaining));
            }
            let wakeup = self.wakeup.clone();
            let Some((specs, mut handle)) = self.prefetch.take() else {
                wakeup.or_woken(tokio::time::sleep(remaining)).await?;
                return Ok(Vec::new());
            };
            let waited = wakeup.or_woken(tokio::time::timeout(remaining, &mut handle)).await;
            let waited = match waited {
                Ok(w) => w,
                Err(woken) => {
                    self.prefetch = Some((specs, handle));
                    return Err(woken);
                }
            };
            match waited {
                Ok(joined) => {
                    let fetched =
                        joined.map_err(|e| Error::new(ErrorCode::Unknown, format!("fetch task failed: {e}")))??;
                    self.absorb(&specs, fetched)?;
                }
                Err(_) => {
                    self.prefetch = Some((specs, handle));
                    return Ok(Vec::new());
                }
            }
            if self.buffer.is_empty() && Instant::now() >= deadline {
                return Ok(Vec::new());
            }
        }
    }

    /// Takes a fetch's records into the buffer. Every partition's batches
    /// are checked first and its fetch offset moved past them, so the next
    /// fetch is in flight while the records are decoded. A lasting fetch
    /// error stops the check there: the partitions before it are still
    /// taken, and the error is returned after them. A batch that cannot be
    /// decoded (or that the server refuses as corrupt) stops its partition
    /// just before it: the records before it are delivered, and the
    /// partition, fetched again from the bad batch, reports `CorruptData`
    /// (with the batch's range) on every poll until the caller seeks past it.
    fn absorb(&mut self, specs: &[FetchSpec], fetched: Vec<Fetched>) -> Result<()> {
        let mut accepted = Vec::with_capacity(specs.len());
        let mut failure = None;
        for (spec, f) in specs.iter().zip(fetched) {
            let lp = LogPartition { log: Arc::clone(&spec.log), partition: spec.partition };
            let reset = self.default_reset();
            let Some(st) = self.parts.get_mut(&lp) else { continue };
            if st.paused || st.pending_reset.is_some() || st.fetch_offset != spec.offset {
                continue; // stale: the partition moved since this fetch was sent
            }
            if let Some(e) = f.error {
                match e.code() {
                    ErrorCode::OffsetOutOfRange if reset != Reset::Fail => {
                        tracing::info!(log = %lp.log, partition = lp.partition, offset = spec.offset, "offset out of range; resetting");
                        st.pending_reset = Some(reset);
                        continue;
                    }
                    _ if e.is_retriable() => continue,
                    // A batch the server refuses as corrupt: reported (named
                    // at the fetch offset) like one that does not decode.
                    ErrorCode::CorruptData => {
                        failure = failure.or(Some(wire::locate_fetch_error(e, &lp.log, lp.partition, spec.offset)));
                        continue;
                    }
                    _ => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let scanned = wire::scan_batches(&lp.log, lp.partition, &f.records, spec.offset);
            match scanned.corrupt {
                Some(e) if scanned.next == spec.offset => failure = failure.or(Some(e)),
                _ => accepted.push((lp, spec.offset, scanned.next, f.records)),
            }
        }
        for (lp, _, next, _) in &accepted {
            if let Some(st) = self.parts.get_mut(lp) {
                st.fetch_offset = *next;
            }
        }
        self.start_fetch(self.cfg.fetch_max_wait);
        let mut refetch = false;
        for (lp, from, until, records) in accepted {
            let buffer = &mut self.buffer;
            let Err(e) = wire::decode_records(&lp.log, lp.partition, &records, (from, until), |r| buffer.push_back(r))
            else {
                continue;
            };
            // Fetched again from the batch that does not decode: reported
            // there, once the records before it are taken.
            let at = e.corrupt_batch().map_or(from, |c| c.first_offset);
            if let Some(st) = self.parts.get_mut(&lp) {
                st.fetch_offset = at;
            }
            refetch = true;
            if at == from {
                failure = failure.or(Some(e));
            }
        }
        if refetch {
            if let Some((_, h)) = self.prefetch.take() {
                h.abort();
            }
        }
        match failure {
            Some(e) if self.buffer.is_empty() => Err(e),
            _ => Ok(()),
        }
    }

    fn take(&mut self) -> Vec<ConsumerRecord> {
        let n = self.buffer.len().min(self.cfg.max_poll_records);
        let out: Vec<ConsumerRecord> = self.buffer.drain(..n).collect();
        // Records of a partition come in runs: one position update per run.
        for run in out.chunk_by(|a, b| a.partition == b.partition && Arc::ptr_eq(&a.log, &b.log)) {
            let last = &run[run.len() - 1];
            if let Some(st) =
                self.parts.get_mut(&LogPartition { log: Arc::clone(&last.log), partition: last.partition })
            {
                st.position = last.offset + 1;
            }
        }
        if self.buffer.is_empty() && self.prefetch.is_none() {
            self.start_fetch(self.cfg.fetch_max_wait);
        }
        out
    }

    /// Stops fetching; a group member commits (with auto-commit), hands its
    /// partitions back and leaves the group. Idempotent; later calls fail
    /// with `Closed`.
    pub async fn close(&mut self) {
        if self.closed {
            return;
        }
        if self.group.is_some() {
            self.leave_group().await;
        }
        self.closed = true;
        if let Some((_, h)) = self.prefetch.take() {
            h.abort();
        }
        self.buffer.clear();
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        if let Some((_, h)) = self.prefetch.take() {
            h.abort();
        }
        if let Some(g) = self.group.take() {
            g.abandon();
        }
    }
}
