//! A leader's view of its partition's replicas: the ISR the metadata gives,
//! each follower's progress, and the high watermark they allow. No I/O and
//! no clock: times are passed in.

use std::collections::BTreeMap;

use crate::cluster::state::NodeId;

/// What a leader knows of one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The follower holds every record below this.
    pub fetch_offset: u64,
    /// Below this the follower's copy counts for acknowledgements.
    pub acked: u64,
    /// Last time the follower had everything the leader had.
    pub caught_up_ms: i64,
    /// It fetched under this leadership: only then may it join the ISR (a
    /// dead replica's stale progress, on an empty log, looks caught up).
    pub fetched: bool,
}

/// The replicas of one partition, as its leader tracks them.
#[derive(Debug, Clone, Default)]
pub struct ReplicaSet {
    me: NodeId,
    replicas: Vec<NodeId>,
    isr: Vec<NodeId>,
    /// Below this the leader's own copy counts (durable under `always`).
    local_acked: u64,
    followers: BTreeMap<NodeId, Progress>,
    /// Where the current leader epoch began.
    epoch_start: u64,
}

impl ReplicaSet {
    /// Starts leading at `epoch_start`: every follower gets a grace period
    /// of one lag window from `now_ms` to catch up.
    pub fn lead(&mut self, me: NodeId, epoch_start: u64, now_ms: i64) {
        self.me = me;
        self.epoch_start = epoch_start;
        self.followers = self
            .replicas
            .iter()
            .filter(|n| **n != me)
            .map(|n| (*n, Progress { fetch_offset: 0, acked: 0, caught_up_ms: now_ms, fetched: false }))
            .collect();
    }

    /// The placement the metadata gives now.
    pub fn assign(&mut self, replicas: &[NodeId], isr: &[NodeId]) {
        self.replicas = replicas.to_vec();
        self.isr = isr.to_vec();
    }

    pub fn isr(&self) -> &[NodeId] {
        &self.isr
    }

    /// The leader's own copy now counts up to `offset`.
    pub fn ack_locally(&mut self, offset: u64) {
        self.local_acked = self.local_acked.max(offset);
    }

    /// A follower fetched from `fetch_offset` with its copy counting up to
    /// `acked`, while the leader's log ended at `leader_end`.
    pub fn fetched(&mut self, node: NodeId, fetch_offset: u64, acked: u64, leader_end: u64, now_ms: i64) {
        let p = self.followers.entry(node).or_insert(Progress {
            fetch_offset,
            acked,
            caught_up_ms: i64::MIN,
            fetched: true,
        });
        p.fetched = true;
        p.fetch_offset = fetch_offset;
        p.acked = acked.min(fetch_offset);
        if fetch_offset >= leader_end {
            p.caught_up_ms = now_ms;
        }
    }

    /// The smallest offset every in-sync replica counts up to.
    pub fn high_watermark(&self) -> u64 {
        self.isr
            .iter()
            .map(|n| if *n == self.me { self.local_acked } else { self.followers.get(n).map_or(0, |p| p.acked) })
            .min()
            .unwrap_or(self.local_acked)
    }

    /// The ISR the leader should ask for: without the followers that were
    /// not caught up for `lag_max_ms`, with the replicas that reached the
    /// high watermark and this epoch's data. `None` when it stays.
    pub fn wanted_isr(&self, now_ms: i64, lag_max_ms: i64, high_watermark: u64) -> Option<Vec<NodeId>> {
        let keep = |n: &NodeId| {
            *n == self.me || self.followers.get(n).is_some_and(|p| now_ms.saturating_sub(p.caught_up_ms) <= lag_max_ms)
        };
        let join = |n: &NodeId| {
            self.followers.get(n).is_some_and(|p| {
                p.fetched
                    && p.fetch_offset >= high_watermark
                    && p.fetch_offset >= self.epoch_start
                    && now_ms.saturating_sub(p.caught_up_ms) <= lag_max_ms
            })
        };
        let wanted: Vec<NodeId> =
            self.replicas.iter().copied().filter(|n| if self.isr.contains(n) { keep(n) } else { join(n) }).collect();
        let mut sorted_now = self.isr.clone();
        sorted_now.sort_unstable();
        let mut sorted_wanted = wanted.clone();
        sorted_wanted.sort_unstable();
        (sorted_now != sorted_wanted).then_some(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn led(isr: &[NodeId]) -> ReplicaSet {
        let mut r = ReplicaSet::default();
        r.assign(&[1, 2, 3], isr);
        r.lead(1, 10, 0);
        r
    }

    #[test]
    fn the_high_watermark_is_the_slowest_in_sync_copy() {
        let mut r = led(&[1, 2, 3]);
        r.ack_locally(20);
        assert_eq!(r.high_watermark(), 0, "followers have reported nothing yet");
        r.fetched(2, 20, 20, 20, 5);
        r.fetched(3, 15, 12, 20, 5);
        assert_eq!(r.high_watermark(), 12);
        r.assign(&[1, 2, 3], &[1, 2]);
        assert_eq!(r.high_watermark(), 20, "3 left the ISR");
        r.fetched(2, 25, 30, 25, 6);
        assert_eq!(r.high_watermark(), 20, "a follower's ack never exceeds what it fetched, nor the leader's");
    }

    #[test]
    fn laggards_leave_and_caught_up_replicas_rejoin_the_isr() {
        let mut r = led(&[1, 2, 3]);
        r.ack_locally(20);
        r.fetched(2, 20, 20, 20, 100);
        r.fetched(3, 5, 5, 20, 100);
        assert_eq!(r.wanted_isr(500, 1_000, 5), None, "within the lag window");
        r.fetched(2, 20, 20, 20, 1_400);
        assert_eq!(r.wanted_isr(1_500, 1_000, 5), Some(vec![1, 2]), "3 not caught up for 1.4 s");
        r.assign(&[1, 2, 3], &[1, 2]);
        r.fetched(3, 20, 20, 20, 1_600);
        assert_eq!(r.wanted_isr(1_600, 1_000, 20), Some(vec![1, 2, 3]));
        let mut fresh = led(&[1, 2]);
        fresh.fetched(3, 5, 5, 20, 0);
        assert_eq!(fresh.wanted_isr(0, 1_000, 0), None, "3 lacks this epoch's data (starts at 10)");
    }

    #[test]
    fn a_replica_outside_the_isr_joins_only_after_fetching_under_this_leadership() {
        let mut r = ReplicaSet::default();
        r.assign(&[1, 2, 3], &[1, 2]);
        r.lead(1, 0, 0); // an empty log: a dead 3's progress (0) equals the high watermark
        assert_eq!(r.wanted_isr(100, 1_000, 0), None, "3 has not fetched: it may be dead");
        r.fetched(3, 0, 0, 0, 200);
        assert_eq!(r.wanted_isr(200, 1_000, 0), Some(vec![1, 2, 3]));
    }
}
