//! A group member's membership, as a state machine without I/O or clock:
//! the session drives it with the answers it gets and the current time, and
//! tests drive it with simulated time.
//!
//! What it decides: when to heartbeat, when the member must (re)join, and
//! when its partitions are *lost* (the coordinator no longer counts it as
//! their owner: another member may already hold them, so nothing may be
//! committed for them) rather than *revoked* (handed back during an orderly
//! rebalance, after a last commit).

use std::collections::BTreeSet;

use pyralog_protocol::ErrorCode;

use crate::record::LogPartition;

/// What the session must do after an answer or a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Nothing,
    /// Rejoin; the partitions stay owned until the rebalance revokes them.
    Rejoin,
    /// The partitions are lost; rejoin as a new member of the group.
    Lost(Vec<LogPartition>),
    /// The application stopped polling for longer than the poll interval:
    /// leave the group so the others take over; the partitions are lost.
    Leave(Vec<LogPartition>),
}

/// One member's view of its membership.
#[derive(Debug)]
pub(crate) struct Membership {
    pub member_id: String,
    pub generation: i32,
    pub assigned: BTreeSet<LogPartition>,
    /// A join is needed before the member may fetch again.
    pub needs_join: bool,
    session_ms: u64,
    heartbeat_interval_ms: u64,
    last_heartbeat_ok_ms: u64,
    next_heartbeat_ms: u64,
    max_poll_interval_ms: u64,
    last_poll_ms: u64,
}

impl Membership {
    pub fn new(session_ms: u64, heartbeat_interval_ms: u64, max_poll_interval_ms: u64) -> Self {
        Membership {
            member_id: String::new(),
            generation: -1,
            assigned: BTreeSet::new(),
            needs_join: true,
            session_ms,
            heartbeat_interval_ms,
            last_heartbeat_ok_ms: 0,
            next_heartbeat_ms: 0,
            max_poll_interval_ms,
            last_poll_ms: 0,
        }
    }

    /// The application polled.
    pub fn polled(&mut self, now_ms: u64) {
        self.last_poll_ms = now_ms;
    }

    /// Whether a heartbeat should be sent now.
    pub fn heartbeat_due(&self, now_ms: u64) -> bool {
        !self.needs_join && now_ms >= self.next_heartbeat_ms
    }

    /// How long the coordinator keeps this member without a heartbeat.
    pub fn session_left(&self, now_ms: u64) -> std::time::Duration {
        let end = self.last_heartbeat_ok_ms + self.session_ms;
        std::time::Duration::from_millis(end.saturating_sub(now_ms).max(1))
    }

    /// A join answered: the member belongs to `generation`.
    pub fn joined(&mut self, member_id: &str, generation: i32, now_ms: u64) {
        self.member_id = member_id.to_owned();
        self.generation = generation;
        self.last_heartbeat_ok_ms = now_ms;
        self.next_heartbeat_ms = now_ms + self.heartbeat_interval_ms;
    }

    /// The sync answered with the member's partitions: returns (revoked,
    /// newly assigned).
    pub fn synced(
        &mut self,
        partitions: BTreeSet<LogPartition>,
        now_ms: u64,
    ) -> (Vec<LogPartition>, Vec<LogPartition>) {
        let revoked = self.assigned.difference(&partitions).cloned().collect();
        let added = partitions.difference(&self.assigned).cloned().collect();
        self.assigned = partitions;
        self.needs_join = false;
        self.last_heartbeat_ok_ms = now_ms;
        self.next_heartbeat_ms = now_ms + self.heartbeat_interval_ms;
        (revoked, added)
    }

    /// A heartbeat, commit, join or sync answered with `result`.
    pub fn answered(&mut self, result: Result<(), ErrorCode>, now_ms: u64) -> Outcome {
        match result {
            Ok(()) => {
                self.last_heartbeat_ok_ms = now_ms;
                self.next_heartbeat_ms = now_ms + self.heartbeat_interval_ms;
                Outcome::Nothing
            }
            Err(ErrorCode::RebalanceInProgress) => {
                self.needs_join = true;
                Outcome::Rejoin
            }
            Err(ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration | ErrorCode::FencedInstanceId) => {
                self.lose(true)
            }
            Err(_) => {
                // The coordinator could not be reached: try again soon, and
                // give the partitions up once the session must have expired.
                self.next_heartbeat_ms = now_ms + self.heartbeat_interval_ms;
                self.tick(now_ms)
            }
        }
    }

    /// Time passed without an answer: past the session timeout the
    /// coordinator has expelled this member.
    pub fn tick(&mut self, now_ms: u64) -> Outcome {
        if !self.needs_join && now_ms.saturating_sub(self.last_poll_ms) > self.max_poll_interval_ms {
            return match self.lose(true) {
                Outcome::Lost(parts) => Outcome::Leave(parts),
                other => other,
            };
        }
        let silent = now_ms.saturating_sub(self.last_heartbeat_ok_ms);
        if !self.needs_join && silent > self.session_ms {
            return self.lose(true);
        }
        Outcome::Nothing
    }

    fn lose(&mut self, forget_id: bool) -> Outcome {
        if forget_id {
            self.member_id.clear();
        }
        self.generation = -1;
        self.needs_join = true;
        Outcome::Lost(std::mem::take(&mut self.assigned).into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION_MS: u64 = 10_000;
    const HEARTBEAT_MS: u64 = 3_000;
    const MAX_POLL_MS: u64 = 60_000;

    fn parts(ps: &[u32]) -> BTreeSet<LogPartition> {
        ps.iter().map(|p| LogPartition::new("l", *p)).collect()
    }

    fn stable(now: u64) -> Membership {
        let mut m = Membership::new(SESSION_MS, HEARTBEAT_MS, MAX_POLL_MS);
        m.polled(now);
        m.joined("m-1", 1, now);
        m.synced(parts(&[0, 1]), now);
        m
    }

    #[test]
    fn given_unreachable_coordinator_when_session_times_out_partitions_are_lost() {
        let mut m = stable(0);
        assert!(!m.heartbeat_due(2_999) && m.heartbeat_due(3_000));
        for t in [3_000, 6_000, 9_000] {
            assert_eq!(m.answered(Err(ErrorCode::ConnectionFailed), t), Outcome::Nothing, "still within the session");
        }
        assert_eq!(m.tick(10_000), Outcome::Nothing);
        assert_eq!(m.tick(10_001), Outcome::Lost(parts(&[0, 1]).into_iter().collect()));
        assert!(m.needs_join && m.member_id.is_empty() && m.assigned.is_empty());
    }

    #[test]
    fn given_a_heartbeat_in_flight_its_answer_is_awaited_only_until_the_session_ends() {
        let mut m = stable(0);
        assert_eq!(m.session_left(4_000), std::time::Duration::from_millis(6_000));
        assert_eq!(m.answered(Ok(()), 3_000), Outcome::Nothing, "counted from when it was sent");
        assert_eq!(m.session_left(12_000), std::time::Duration::from_millis(1_000));
        assert_eq!(m.session_left(20_000), std::time::Duration::from_millis(1), "never zero: one more try");
    }

    #[test]
    fn given_rebalance_during_commit_member_rejoins_keeping_partitions_then_revokes_the_moved_ones() {
        let mut m = stable(0);
        assert_eq!(m.answered(Err(ErrorCode::RebalanceInProgress), 1_000), Outcome::Rejoin);
        assert_eq!(m.assigned, parts(&[0, 1]), "kept until the rebalance says otherwise");
        assert!(!m.heartbeat_due(50_000), "no heartbeats while a join is pending");
        m.joined("m-1", 2, 1_500);
        let (revoked, added) = m.synced(parts(&[1, 2]), 1_600);
        assert_eq!((revoked, added), (vec![LogPartition::new("l", 0)], vec![LogPartition::new("l", 2)]));
        assert_eq!(m.generation, 2);
        assert_eq!(m.tick(1_600 + SESSION_MS), Outcome::Nothing);
    }

    #[test]
    fn given_stale_generation_when_fenced_partitions_are_lost_and_member_rejoins_fresh() {
        let mut m = stable(0);
        let out = m.answered(Err(ErrorCode::IllegalGeneration), 500);
        assert_eq!(out, Outcome::Lost(parts(&[0, 1]).into_iter().collect()));
        assert_eq!((m.generation, m.member_id.as_str(), m.needs_join), (-1, "", true));
        assert_eq!(m.answered(Err(ErrorCode::UnknownMemberId), 600), Outcome::Lost(vec![]));
    }

    #[test]
    fn given_application_stops_polling_when_poll_interval_passes_member_leaves_and_loses_partitions() {
        let mut m = stable(0);
        for t in (3_000..=60_000).step_by(3_000) {
            assert_eq!(m.answered(Ok(()), t), Outcome::Nothing, "heartbeats alone keep it a member");
        }
        assert_eq!(m.tick(60_000), Outcome::Nothing);
        assert_eq!(m.tick(60_001), Outcome::Leave(parts(&[0, 1]).into_iter().collect()));
        assert!(m.needs_join && m.assigned.is_empty());
        m.polled(70_000);
        assert_eq!(m.tick(70_001), Outcome::Nothing, "a member waiting to rejoin does not leave again");
    }
}
