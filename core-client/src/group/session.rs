//! The group session of a subscribed consumer. A background task sends
//! heartbeats; everything that changes the assignment — joins, syncs, the
//! rebalance listener's callbacks, commits before revocation — happens
//! inside `poll`, on the caller's task, as in Kafka's consumer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::group::{LogPartitions, PartitionOffset, Subscription};
use pyralog_protocol::log_id::validate_log_id;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::assignor::{self, COOPERATIVE_STICKY};
use super::calls::{to_wire_offsets, JoinRequest};
use super::member::{Membership, Outcome};
use crate::client::Client;
use crate::consumer::Consumer;
use crate::error::{Error, ErrorCode, Result};
use crate::record::{LogOffset, LogPartition};

/// Join/sync rounds one `poll` may run before giving the caller control back.
const MAX_REBALANCE_ROUNDS: usize = 8;
/// Most logs one subscription may name.
pub const MAX_SUBSCRIBED_LOGS: usize = 1_000;

/// Told when the consumer's partitions change. Runs inside `poll`, `close`
/// and `unsubscribe`, on the caller's task.
pub trait RebalanceListener: Send + Sync {
    /// Partitions newly assigned; their positions are already set.
    fn on_partitions_assigned(&self, _partitions: &[LogPartition]) {}
    /// Partitions handed back in an orderly rebalance, after the last commit.
    fn on_partitions_revoked(&self, _partitions: &[LogPartition]) {}
    /// Partitions taken away without a rebalance (session expired, fenced):
    /// another member may already own them, so do not commit for them.
    fn on_partitions_lost(&self, partitions: &[LogPartition]) {
        self.on_partitions_revoked(partitions);
    }
}

/// A subscribed consumer's membership.
pub(crate) struct GroupSession {
    group: Arc<str>,
    logs: Vec<String>,
    listener: Option<Arc<dyn RebalanceListener>>,
    membership: Arc<Mutex<Membership>>,
    /// Partitions the heartbeat task found lost.
    lost: Arc<Mutex<Vec<LogPartition>>>,
    /// The assignor of the current generation.
    protocol: String,
    heartbeats: JoinHandle<()>,
    clock: Instant,
    last_commit: Instant,
}

impl GroupSession {
    /// Stops heartbeating without telling the coordinator (drop).
    pub(crate) fn abandon(self) {
        self.heartbeats.abort();
    }

    fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }
}

fn clock_ms(clock: Instant) -> u64 {
    clock.elapsed().as_millis() as u64
}

async fn heartbeats(
    client: Client,
    group: Arc<str>,
    membership: Arc<Mutex<Membership>>,
    lost: Arc<Mutex<Vec<LogPartition>>>,
    clock: Instant,
    interval: Duration,
) {
    let step = (interval / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
    loop {
        tokio::time::sleep(step).await;
        let now = clock_ms(clock);
        let (due, generation, member_id) = {
            let m = membership.lock();
            (m.heartbeat_due(now), m.generation, m.member_id.clone())
        };
        let outcome = if due {
            // The session counts from when the heartbeat left (the coordinator
            // saw it later), and no answer is awaited past the session's end.
            let left = membership.lock().session_left(now);
            let answer = tokio::time::timeout(left, client.heartbeat(&group, generation, &member_id)).await;
            let answer = answer.map_or(Err(ErrorCode::Timeout), |r| r.map_err(|e| e.code()));
            let mut m = membership.lock();
            if m.generation != generation {
                continue; // rejoined meanwhile: the answer is about an old generation
            }
            let at = if answer.is_ok() { now } else { clock_ms(clock) };
            m.answered(answer, at)
        } else {
            membership.lock().tick(now)
        };
        match outcome {
            Outcome::Lost(parts) => lost.lock().extend(parts),
            Outcome::Leave(parts) => {
                tracing::warn!(%group, "no poll within max_poll_interval; leaving the group");
                if let Err(e) = client.leave_group(&group, &member_id).await {
                    tracing::debug!(error = %e, "leave failed; the session timeout expels the member");
                }
                lost.lock().extend(parts);
            }
            _ => {}
        }
    }
}

fn to_wire(parts: &BTreeSet<LogPartition>) -> Vec<LogPartitions> {
    let set: BTreeSet<(String, u32)> = parts.iter().map(|lp| (lp.log.to_string(), lp.partition)).collect();
    assignor::to_log_partitions(&set)
}

fn from_wire(parts: &[LogPartitions]) -> BTreeSet<LogPartition> {
    parts.iter().flat_map(|lp| lp.partitions.iter().map(|p| LogPartition::new(&lp.log, *p))).collect()
}

impl Consumer {
    /// Joins the configured `group_id` for `logs`; `poll` then reads the
    /// partitions the group assigns, starting at the group's committed
    /// offsets. `listener` hears about assignments and revocations.
    ///
    /// # Errors
    /// `InvalidArgument` (no `group_id`, no logs, a bad log name), `Closed`.
    pub fn subscribe(&mut self, logs: &[&str], listener: Option<Arc<dyn RebalanceListener>>) -> Result<()> {
        self.check_open()?;
        let group = self.cfg.group_id.clone().ok_or_else(|| {
            Error::invalid_argument("subscribe needs ConsumerConfig::group_id; use assign without a group")
        })?;
        if logs.is_empty() || logs.len() > MAX_SUBSCRIBED_LOGS {
            return Err(Error::invalid_argument(format!("subscribe to 1..={MAX_SUBSCRIBED_LOGS} logs")));
        }
        for log in logs {
            validate_log_id(log)?;
        }
        let logs = logs.iter().map(|l| (*l).to_owned()).collect();
        if let Some(g) = self.group.as_mut() {
            g.logs = logs;
            g.listener = listener;
            g.membership.lock().needs_join = true;
            return Ok(());
        }
        let cfg = &self.cfg;
        let membership = Arc::new(Mutex::new(Membership::new(
            cfg.session_timeout.as_millis() as u64,
            cfg.heartbeat_interval.as_millis() as u64,
            cfg.max_poll_interval.as_millis() as u64,
        )));
        let lost = Arc::new(Mutex::new(Vec::new()));
        let clock = Instant::now();
        let group: Arc<str> = Arc::from(group);
        let heartbeats = tokio::spawn(heartbeats(
            self.client.clone(),
            Arc::clone(&group),
            Arc::clone(&membership),
            Arc::clone(&lost),
            clock,
            cfg.heartbeat_interval,
        ));
        self.group = Some(GroupSession {
            group,
            logs,
            listener,
            membership,
            lost,
            protocol: cfg.assignors.first().cloned().unwrap_or_else(|| assignor::RANGE.to_owned()),
            heartbeats,
            clock,
            last_commit: Instant::now(),
        });
        self.set_assignment([]);
        Ok(())
    }

    /// Leaves the group (committing first with auto-commit) and drops the
    /// assignment.
    ///
    /// # Errors
    /// `Closed`.
    pub async fn unsubscribe(&mut self) -> Result<()> {
        self.check_open()?;
        self.leave_group().await;
        Ok(())
    }

    fn session(&self) -> Result<&GroupSession> {
        self.group.as_ref().ok_or_else(|| Error::invalid_argument("this consumer is not subscribed to a group"))
    }

    /// Applies lost partitions, auto-commits, and rebalances when needed.
    pub(crate) async fn drive_group(&mut self) -> Result<()> {
        let g = self.session()?;
        let now = g.now_ms();
        g.membership.lock().polled(now);
        let lost: Vec<LogPartition> = std::mem::take(&mut *self.session()?.lost.lock());
        if !lost.is_empty() {
            let g = self.session()?;
            if let Some(l) = &g.listener {
                l.on_partitions_lost(&lost);
            }
            let keep: Vec<_> = g.membership.lock().assigned.iter().cloned().collect();
            self.set_assignment(keep);
        }
        let g = self.session()?;
        let due = self.cfg.enable_auto_commit && g.last_commit.elapsed() >= self.cfg.auto_commit_interval;
        if due && !g.membership.lock().needs_join {
            if let Err(e) = self.commit().await {
                tracing::debug!(error = %e, "auto-commit failed");
            }
        }
        for _ in 0..MAX_REBALANCE_ROUNDS {
            if !self.session()?.membership.lock().needs_join {
                return Ok(());
            }
            self.rebalance_round().await?;
        }
        Ok(())
    }

    fn listener(&self) -> Option<Arc<dyn RebalanceListener>> {
        self.group.as_ref().and_then(|g| g.listener.clone())
    }

    /// Hands partitions back: commits them (auto-commit) and tells the listener.
    async fn revoke(&mut self, parts: &[LogPartition]) {
        if parts.is_empty() {
            return;
        }
        if self.cfg.enable_auto_commit {
            if let Err(e) = self.commit().await {
                tracing::debug!(error = %e, "commit before revocation failed");
            }
        }
        if let Some(l) = self.listener() {
            l.on_partitions_revoked(parts);
        }
    }

    /// One join + sync. Membership errors leave `needs_join` set for the next round.
    async fn rebalance_round(&mut self) -> Result<()> {
        let eager = self.session()?.protocol != COOPERATIVE_STICKY;
        if eager {
            let all: Vec<_> = self.session()?.membership.lock().assigned.iter().cloned().collect();
            self.revoke(&all).await;
            self.session()?.membership.lock().assigned.clear();
            self.set_assignment([]);
        }
        let g = self.session()?;
        let (member_id, owned) = {
            let m = g.membership.lock();
            (m.member_id.clone(), to_wire(&m.assigned))
        };
        let subscription = Subscription { logs: g.logs.clone(), owned };
        let protocols = self.cfg.assignors.iter().map(|a| (a.clone(), subscription.clone())).collect();
        let join = JoinRequest {
            group: &g.group,
            member_id: &member_id,
            instance_id: self.cfg.group_instance_id.as_deref(),
            session_timeout: self.cfg.session_timeout,
            rebalance_timeout: self.cfg.rebalance_timeout,
            protocols,
        };
        let answer = match self.client.join_group(join).await {
            Ok(a) => a,
            Err(e) => return self.membership_error(e),
        };
        let now = g.now_ms();
        g.membership.lock().joined(&answer.member_id, answer.generation, now);
        let assignments = if answer.leader_id == answer.member_id {
            self.leader_assign(&answer.protocol, &answer.members).await?
        } else {
            Vec::new()
        };
        let g = self.session()?;
        let synced = self
            .client
            .sync_group(&g.group, answer.generation, &answer.member_id, &assignments, self.cfg.rebalance_timeout)
            .await;
        let parts = match synced {
            Ok(p) => from_wire(&p),
            Err(e) => return self.membership_error(e),
        };
        let g = self.group.as_mut().expect("subscribed");
        g.protocol = answer.protocol.clone();
        let now = g.now_ms();
        let (revoked, added) = g.membership.lock().synced(parts.clone(), now);
        self.revoke(&revoked).await;
        self.set_assignment(parts);
        self.position_from_committed(&added).await?;
        if let Some(l) = self.listener() {
            l.on_partitions_assigned(&added);
        }
        if !eager && !revoked.is_empty() {
            // Cooperative: the revoked partitions go to their new owners in a second round.
            self.session()?.membership.lock().needs_join = true;
        }
        Ok(())
    }

    /// Maps a join/sync/commit error onto the membership; connection and
    /// other errors go to the caller.
    fn membership_error(&mut self, e: Error) -> Result<()> {
        let g = self.session()?;
        let now = g.now_ms();
        let outcome = g.membership.lock().answered(Err(e.code()), now);
        match (outcome, e.code()) {
            (Outcome::Lost(parts), _) => {
                if let Some(l) = self.listener() {
                    l.on_partitions_lost(&parts);
                }
                self.set_assignment([]);
                Ok(())
            }
            (_, ErrorCode::RebalanceInProgress) => Ok(()),
            _ => Err(e),
        }
    }

    /// The leader's assignment of every member.
    async fn leader_assign(
        &self,
        protocol: &str,
        members: &[(String, Subscription)],
    ) -> Result<Vec<(String, Vec<LogPartitions>)>> {
        let logs: BTreeSet<&String> = members.iter().flat_map(|(_, s)| s.logs.iter()).collect();
        let mut counts = HashMap::new();
        for log in logs {
            match self.client.get_log_metadata(log).await {
                Ok(md) => {
                    counts.insert(log.clone(), md.partition_count);
                }
                Err(e) if e.code() == ErrorCode::LogNotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut assignment = assignor::assign(protocol, members, &counts);
        if protocol == COOPERATIVE_STICKY {
            // A partition moving between members is first only revoked by its
            // owner; it is assigned in the next round, so no two members of
            // one generation ever own it.
            for (owner, sub) in members {
                for lp in &sub.owned {
                    for p in &lp.partitions {
                        for (id, parts) in assignment.iter_mut() {
                            if id != owner {
                                parts.remove(&(lp.log.clone(), *p));
                            }
                        }
                    }
                }
            }
        }
        Ok(assignment.iter().map(|(id, parts)| (id.clone(), assignor::to_log_partitions(parts))).collect())
    }

    /// Starts newly assigned partitions at the group's committed offsets
    /// (the reset policy applies to the rest).
    async fn position_from_committed(&mut self, added: &[LogPartition]) -> Result<()> {
        if added.is_empty() {
            return Ok(());
        }
        let set: BTreeSet<LogPartition> = added.iter().cloned().collect();
        let group = self.session()?.group.clone();
        for c in self.client.offset_fetch(&group, &to_wire(&set)).await? {
            self.seek(&LogPartition::new(&c.log, c.partition), LogOffset(c.offset))?;
        }
        Ok(())
    }

    fn commit_request(&self, offsets: &[(LogPartition, u64)]) -> Result<(Arc<str>, i32, String, Vec<PartitionOffset>)> {
        let g = self.session()?;
        let m = g.membership.lock();
        Ok((Arc::clone(&g.group), m.generation, m.member_id.clone(), to_wire_offsets(offsets)))
    }

    /// Commits the position of every assigned partition and waits until it
    /// is durable.
    ///
    /// # Errors
    /// `InvalidArgument` (no group), `RebalanceInProgress` (rejoin on the
    /// next poll, then commit again), `IllegalGeneration`/`UnknownMemberId`
    /// (the partitions were lost), connection errors.
    pub async fn commit(&mut self) -> Result<()> {
        let positions = self.known_positions();
        self.commit_offsets(&positions).await
    }

    /// Commits the given next-offsets-to-read.
    ///
    /// # Errors
    /// As [`Consumer::commit`].
    pub async fn commit_offsets(&mut self, offsets: &[(LogPartition, u64)]) -> Result<()> {
        self.check_open()?;
        let (group, generation, member_id, wire) = self.commit_request(offsets)?;
        if wire.is_empty() {
            return Ok(());
        }
        match self.client.offset_commit(&group, generation, &member_id, &wire).await {
            Ok(()) => {
                if let Some(g) = self.group.as_mut() {
                    g.last_commit = Instant::now();
                }
                Ok(())
            }
            Err(e) => {
                self.membership_error(e.clone())?;
                Err(e)
            }
        }
    }

    /// Starts committing the current positions and returns at once; the
    /// handle resolves when the commit is durable or failed.
    ///
    /// # Errors
    /// `Closed`, `InvalidArgument` (no group).
    pub fn commit_async(&mut self) -> Result<JoinHandle<Result<()>>> {
        self.check_open()?;
        let (group, generation, member_id, wire) = self.commit_request(&self.known_positions())?;
        let client = self.client.clone();
        if let Some(g) = self.group.as_mut() {
            g.last_commit = Instant::now();
        }
        Ok(tokio::spawn(async move { client.offset_commit(&group, generation, &member_id, &wire).await }))
    }

    /// The committed offsets of `partitions` (next offset to read) in the
    /// configured group, subscribed or not; partitions without a commit are
    /// left out.
    ///
    /// # Errors
    /// `InvalidArgument` (no `group_id`), connection errors.
    pub async fn committed(&self, partitions: &[LogPartition]) -> Result<BTreeMap<LogPartition, u64>> {
        let group = self
            .cfg
            .group_id
            .clone()
            .ok_or_else(|| Error::invalid_argument("committed needs ConsumerConfig::group_id"))?;
        let set: BTreeSet<LogPartition> = partitions.iter().cloned().collect();
        let got = self.client.offset_fetch(&group, &to_wire(&set)).await?;
        Ok(got.into_iter().map(|c| (LogPartition::new(&c.log, c.partition), c.offset)).collect())
    }

    /// Commits (auto-commit), revokes, and leaves the group.
    pub(crate) async fn leave_group(&mut self) {
        let assigned: Vec<LogPartition> = match &self.group {
            Some(g) if !g.membership.lock().needs_join => g.membership.lock().assigned.iter().cloned().collect(),
            _ => Vec::new(),
        };
        self.revoke(&assigned).await;
        let Some(g) = self.group.take() else { return };
        g.heartbeats.abort();
        let member_id = g.membership.lock().member_id.clone();
        if self.cfg.group_instance_id.is_none() && !member_id.is_empty() {
            if let Err(e) = self.client.leave_group(&g.group, &member_id).await {
                tracing::debug!(error = %e, "leave group failed; the session timeout will expire the member");
            }
        }
        self.set_assignment([]);
    }
}
