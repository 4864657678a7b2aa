//! The group coordinator's state machine: membership, generations and
//! assignments of every consumer group. No I/O and no clock: every call
//! takes the current time in milliseconds, so tests drive it with simulated
//! time. Joins and syncs that must wait for other members get a
//! `oneshot::Receiver` that this machine completes later.
//!
//! ```text
//!            join (any)                 every member rejoined,        leader's sync
//! Empty / Stable ──────────▶ PreparingRebalance ─── or rebalance ──▶ CompletingRebalance ─────▶ Stable
//!      ▲                        ▲                  timeout                 │
//!      └── last member leaves   └─── join, leave, session expiry ──────────┘
//! ```

use std::collections::{BTreeMap, HashMap};

pub use pyralog_protocol::group::{LogPartitions, Subscription};
use pyralog_protocol::limits::{
    MAX_GROUPS, MAX_GROUP_MEMBERS, MAX_REBALANCE_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS,
};
use pyralog_protocol::log_id::validate_log_id;
use pyralog_protocol::{ErrorCode, ProtocolError};
use tokio::sync::oneshot;

/// A JoinGroup request.
#[derive(Debug, Clone)]
pub struct Join {
    pub group: String,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub session_timeout_ms: u32,
    pub rebalance_timeout_ms: u32,
    /// (assignor name, subscription), in preference order.
    pub protocols: Vec<(String, Subscription)>,
}

/// What a joined member learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub generation: i32,
    pub protocol: String,
    pub leader_id: String,
    pub member_id: String,
    /// (member id, instance id, subscription); for the leader only.
    pub members: Vec<(String, Option<String>, Subscription)>,
}

/// The group's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

type Reply<T> = oneshot::Sender<Result<T, ProtocolError>>;
/// A wait for the coordinator's answer.
pub type Pending<T> = oneshot::Receiver<Result<T, ProtocolError>>;

struct Member {
    instance_id: Option<String>,
    session_timeout_ms: u64,
    rebalance_timeout_ms: u64,
    protocols: Vec<(String, Subscription)>,
    last_seen_ms: u64,
    /// Rejoined during the current rebalance.
    joined: bool,
    join_reply: Option<Reply<Joined>>,
    sync_reply: Option<Reply<Vec<LogPartitions>>>,
    assignment: Vec<LogPartitions>,
}

/// One consumer group.
pub struct Group {
    pub state: GroupState,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    members: BTreeMap<String, Member>,
    /// When the current rebalance phase gives up on missing members.
    deadline_ms: u64,
}

/// A member as `DescribeGroup` shows it.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub assignment: Vec<LogPartitions>,
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(code, msg)
}

fn unknown_member(group: &str, member: &str) -> ProtocolError {
    err(ErrorCode::UnknownMemberId, format!("{member:?} is not a member of group {group:?}; rejoin"))
}

impl Group {
    fn new() -> Self {
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            deadline_ms: 0,
        }
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    pub fn members(&self) -> Vec<MemberView> {
        self.members
            .iter()
            .map(|(id, m)| MemberView {
                member_id: id.clone(),
                instance_id: m.instance_id.clone(),
                assignment: m.assignment.clone(),
            })
            .collect()
    }

    fn start_rebalance(&mut self, now_ms: u64) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        self.state = GroupState::PreparingRebalance;
        let longest = self.members.values().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0);
        self.deadline_ms = now_ms + longest;
        for m in self.members.values_mut() {
            m.joined = m.join_reply.is_some();
            if let Some(reply) = m.sync_reply.take() {
                let _ = reply.send(Err(err(ErrorCode::RebalanceInProgress, "the group is rebalancing; rejoin")));
            }
        }
    }

    /// Finishes the join phase once every member rejoined or time ran out.
    fn try_complete_join(&mut self, now_ms: u64) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = self.members.values().all(|m| m.joined);
        if !all_joined && now_ms < self.deadline_ms {
            return;
        }
        self.members.retain(|_, m| m.joined);
        self.generation += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        let leader = match &self.leader {
            Some(l) if self.members.contains_key(l) => l.clone(),
            _ => self.members.keys().next().expect("not empty").clone(),
        };
        let protocol = self.members[&leader]
            .protocols
            .iter()
            .map(|(name, _)| name)
            .find(|name| self.members.values().all(|m| m.protocols.iter().any(|(n, _)| n == *name)))
            .cloned()
            .unwrap_or_default();
        let everyone: Vec<_> = self
            .members
            .iter()
            .map(|(id, m)| {
                let sub = m.protocols.iter().find(|(n, _)| *n == protocol).map(|(_, s)| s.clone()).unwrap_or_default();
                (id.clone(), m.instance_id.clone(), sub)
            })
            .collect();
        self.state = GroupState::CompletingRebalance;
        let longest = self.members.values().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0);
        self.deadline_ms = now_ms + longest;
        for (id, m) in &mut self.members {
            m.last_seen_ms = now_ms;
            m.assignment.clear();
            let joined = Joined {
                generation: self.generation,
                protocol: protocol.clone(),
                leader_id: leader.clone(),
                member_id: id.clone(),
                members: if *id == leader { everyone.clone() } else { Vec::new() },
            };
            if let Some(reply) = m.join_reply.take() {
                let _ = reply.send(Ok(joined));
            }
        }
        self.protocol = Some(protocol);
        self.leader = Some(leader);
    }

    fn remove(&mut self, member_id: &str, now_ms: u64) {
        if let Some(m) = self.members.remove(member_id) {
            if let Some(r) = m.join_reply {
                let _ = r.send(Err(unknown_member("", member_id)));
            }
        }
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.generation += 1;
            self.protocol = None;
            self.leader = None;
        } else {
            self.start_rebalance(now_ms);
            self.try_complete_join(now_ms);
        }
    }

    /// Checks a member and generation for heartbeats and commits.
    fn check_member(&self, group: &str, member_id: &str, generation: i32) -> Result<(), ProtocolError> {
        if !self.members.contains_key(member_id) {
            return Err(unknown_member(group, member_id));
        }
        if generation != self.generation {
            return Err(err(
                ErrorCode::IllegalGeneration,
                format!("generation {generation} is not group {group:?}'s current generation {}", self.generation),
            ));
        }
        Ok(())
    }
}

/// Every group this server coordinates.
#[derive(Default)]
pub struct Coordinator {
    groups: HashMap<String, Group>,
    next_member: u64,
}

impl Coordinator {
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn groups(&self) -> impl Iterator<Item = (&String, &Group)> {
        self.groups.iter()
    }

    /// Adds or rejoins a member; the answer comes when the join phase ends.
    ///
    /// # Errors
    /// `InvalidGroupId`, `InvalidSessionTimeout`, `UnknownMemberId`,
    /// `InconsistentGroupProtocol`, `GroupMaxSizeReached`, `InvalidRequest`.
    pub fn join(&mut self, j: Join, now_ms: u64) -> Result<Pending<Joined>, ProtocolError> {
        validate_log_id(&j.group).map_err(|e| err(ErrorCode::InvalidGroupId, e.message))?;
        let timeout = |what: String| Err(err(ErrorCode::InvalidSessionTimeout, what));
        if j.session_timeout_ms < MIN_SESSION_TIMEOUT_MS {
            return timeout(format!(
                "session timeout {} ms is below MIN_SESSION_TIMEOUT_MS ({MIN_SESSION_TIMEOUT_MS})",
                j.session_timeout_ms
            ));
        }
        if j.session_timeout_ms > MAX_SESSION_TIMEOUT_MS {
            return timeout(format!(
                "session timeout {} ms is above MAX_SESSION_TIMEOUT_MS ({MAX_SESSION_TIMEOUT_MS})",
                j.session_timeout_ms
            ));
        }
        if j.rebalance_timeout_ms > MAX_REBALANCE_TIMEOUT_MS {
            return timeout(format!(
                "rebalance timeout {} ms is above MAX_REBALANCE_TIMEOUT_MS ({MAX_REBALANCE_TIMEOUT_MS})",
                j.rebalance_timeout_ms
            ));
        }
        if j.protocols.is_empty() {
            return Err(err(ErrorCode::InvalidRequest, "a join names at least one assignor"));
        }
        if !self.groups.contains_key(&j.group) && self.groups.len() >= MAX_GROUPS {
            return Err(err(ErrorCode::GroupMaxSizeReached, format!("server holds MAX_GROUPS ({MAX_GROUPS}) groups")));
        }
        let next_member = &mut self.next_member;
        let g = self.groups.entry(j.group.clone()).or_insert_with(Group::new);
        let static_id = j
            .instance_id
            .as_ref()
            .and_then(|i| g.members.iter().find(|(_, m)| m.instance_id.as_ref() == Some(i)).map(|(id, _)| id.clone()));
        let member_id = match (j.member_id.is_empty(), static_id) {
            (_, Some(id)) => id,
            (true, None) => {
                if g.members.len() >= MAX_GROUP_MEMBERS {
                    return Err(err(
                        ErrorCode::GroupMaxSizeReached,
                        format!("group {:?} has MAX_GROUP_MEMBERS ({MAX_GROUP_MEMBERS})", j.group),
                    ));
                }
                *next_member += 1;
                format!("{}-{}", j.instance_id.as_deref().unwrap_or("member"), next_member)
            }
            (false, None) if g.members.contains_key(&j.member_id) => j.member_id.clone(),
            (false, None) => return Err(unknown_member(&j.group, &j.member_id)),
        };
        let compatible = g
            .members
            .iter()
            .filter(|(id, _)| **id != member_id)
            .all(|(_, m)| j.protocols.iter().any(|(n, _)| m.protocols.iter().any(|(mn, _)| mn == n)));
        if !compatible {
            return Err(err(
                ErrorCode::InconsistentGroupProtocol,
                format!("no assignor of this member is supported by every member of group {:?}", j.group),
            ));
        }
        let (tx, rx) = oneshot::channel();
        let m = g.members.entry(member_id).or_insert_with(|| Member {
            instance_id: j.instance_id.clone(),
            session_timeout_ms: 0,
            rebalance_timeout_ms: 0,
            protocols: Vec::new(),
            last_seen_ms: now_ms,
            joined: false,
            join_reply: None,
            sync_reply: None,
            assignment: Vec::new(),
        });
        if let Some(old) = m.join_reply.replace(tx) {
            let _ = old.send(Err(err(ErrorCode::FencedInstanceId, "another join of this member replaced this one")));
        }
        m.session_timeout_ms = u64::from(j.session_timeout_ms);
        m.rebalance_timeout_ms = u64::from(j.rebalance_timeout_ms.max(j.session_timeout_ms));
        m.protocols = j.protocols;
        m.last_seen_ms = now_ms;
        m.joined = true;
        g.start_rebalance(now_ms);
        g.try_complete_join(now_ms);
        Ok(rx)
    }

    /// Hands out assignments: the leader's sync stores them and answers
    /// every member; a follower waits for the leader.
    ///
    /// # Errors
    /// `UnknownMemberId`, `IllegalGeneration`, `RebalanceInProgress`.
    pub fn sync(
        &mut self,
        group: &str,
        generation: i32,
        member_id: &str,
        assignments: Vec<(String, Vec<LogPartitions>)>,
        now_ms: u64,
    ) -> Result<Pending<Vec<LogPartitions>>, ProtocolError> {
        let g = self.groups.get_mut(group).ok_or_else(|| unknown_member(group, member_id))?;
        g.check_member(group, member_id, generation)?;
        let (tx, rx) = oneshot::channel();
        match g.state {
            GroupState::PreparingRebalance | GroupState::Empty => {
                return Err(err(ErrorCode::RebalanceInProgress, "the group is rebalancing; rejoin"))
            }
            GroupState::Stable => {
                let _ = tx.send(Ok(g.members[member_id].assignment.clone()));
                return Ok(rx);
            }
            GroupState::CompletingRebalance => {}
        }
        let m = g.members.get_mut(member_id).expect("checked");
        m.last_seen_ms = now_ms;
        m.sync_reply = Some(tx);
        if g.leader.as_deref() == Some(member_id) {
            for (id, parts) in assignments {
                if let Some(m) = g.members.get_mut(&id) {
                    m.assignment = parts;
                }
            }
            g.state = GroupState::Stable;
            for m in g.members.values_mut() {
                if let Some(reply) = m.sync_reply.take() {
                    let _ = reply.send(Ok(m.assignment.clone()));
                }
            }
        }
        Ok(rx)
    }

    /// Keeps a member alive.
    ///
    /// # Errors
    /// `UnknownMemberId`, `IllegalGeneration`, `RebalanceInProgress` (rejoin).
    pub fn heartbeat(
        &mut self,
        group: &str,
        generation: i32,
        member_id: &str,
        now_ms: u64,
    ) -> Result<(), ProtocolError> {
        let g = self.groups.get_mut(group).ok_or_else(|| unknown_member(group, member_id))?;
        g.check_member(group, member_id, generation)?;
        g.members.get_mut(member_id).expect("checked").last_seen_ms = now_ms;
        if g.state == GroupState::PreparingRebalance {
            return Err(err(ErrorCode::RebalanceInProgress, "the group is rebalancing; rejoin"));
        }
        Ok(())
    }

    /// Removes a member; the rest rebalance.
    ///
    /// # Errors
    /// `UnknownMemberId`.
    pub fn leave(&mut self, group: &str, member_id: &str, now_ms: u64) -> Result<(), ProtocolError> {
        let g = self.groups.get_mut(group).ok_or_else(|| unknown_member(group, member_id))?;
        if !g.members.contains_key(member_id) {
            return Err(unknown_member(group, member_id));
        }
        g.remove(member_id, now_ms);
        Ok(())
    }

    /// Whether a commit may be stored: by a member of the current
    /// generation, or administratively (generation -1, no member id) while
    /// the group has no members.
    ///
    /// # Errors
    /// `InvalidGroupId`, `GroupNotEmpty`, `UnknownMemberId`,
    /// `IllegalGeneration`, `RebalanceInProgress`.
    pub fn check_commit(&self, group: &str, generation: i32, member_id: &str) -> Result<(), ProtocolError> {
        validate_log_id(group).map_err(|e| err(ErrorCode::InvalidGroupId, e.message))?;
        let g = self.groups.get(group);
        if generation < 0 && member_id.is_empty() {
            return match g {
                Some(g) if !g.members.is_empty() => Err(err(
                    ErrorCode::GroupNotEmpty,
                    format!("group {group:?} has {} members; stop them to reset its offsets", g.members.len()),
                )),
                _ => Ok(()),
            };
        }
        let g = g.ok_or_else(|| unknown_member(group, member_id))?;
        g.check_member(group, member_id, generation)?;
        if g.state == GroupState::CompletingRebalance {
            return Err(err(ErrorCode::RebalanceInProgress, "the group is completing a rebalance; rejoin"));
        }
        Ok(())
    }

    /// Expires silent members and ends overdue rebalance phases.
    pub fn tick(&mut self, now_ms: u64) {
        for g in self.groups.values_mut() {
            let expired: Vec<String> = g
                .members
                .iter()
                .filter(|(_, m)| m.join_reply.is_none() && now_ms > m.last_seen_ms + m.session_timeout_ms)
                .map(|(id, _)| id.clone())
                .collect();
            for id in expired {
                tracing::info!(member = %id, "group member's session expired");
                g.remove(&id, now_ms);
            }
            match g.state {
                GroupState::PreparingRebalance => g.try_complete_join(now_ms),
                GroupState::CompletingRebalance if now_ms >= g.deadline_ms => {
                    // The leader never sent the assignment: start over.
                    g.start_rebalance(now_ms);
                    g.try_complete_join(now_ms);
                }
                _ => {}
            }
        }
        self.groups.retain(|_, g| g.state != GroupState::Empty || g.generation > 0 || !g.members.is_empty());
    }
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
