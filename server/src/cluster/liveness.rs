//! Who is alive: every node heartbeats every voter; the controller fences
//! a node it has not heard from for the session timeout (its leaderships
//! move to live in-sync replicas, it leaves the ISRs), and a fenced node
//! that is heard from again registers anew. As every voter hears the
//! heartbeats, a new controller knows at once who went silent: a dead
//! controller is fenced a session after its death, not a session after
//! its successor took over.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::state::{Command, NodeId};
use super::wire::{PeerCall, PeerReply};
use super::Cluster;

/// Default interval of a node's heartbeats to the controller.
pub const DEFAULT_NODE_HEARTBEAT_MS: u64 = 150;
/// Default silence after which the controller fences a node.
pub const DEFAULT_NODE_SESSION_TIMEOUT_MS: u64 = 750;

/// The controller's record of heartbeats.
#[derive(Default)]
pub struct Liveness {
    seen: Mutex<HashMap<NodeId, Instant>>,
    /// Fence commands proposed and not yet applied.
    fencing: Mutex<HashSet<NodeId>>,
    /// When the controller last checked for silent nodes.
    last_check: Mutex<Option<Instant>>,
}

impl Liveness {
    pub fn saw(&self, node: NodeId) {
        self.seen.lock().insert(node, Instant::now());
    }

    pub fn forget(&self, node: NodeId) {
        self.seen.lock().remove(&node);
    }

    /// Silence counts only while the controller itself runs: when its check
    /// comes more than `interval` late (its process was starved or stopped,
    /// so heartbeats waiting for it were not read), every node's last
    /// heartbeat moves forward by the delay.
    fn discount_own_stall(&self, interval: Duration, now: Instant) {
        let last = self.last_check.lock().replace(now);
        let Some(stall) = last.map(|l| now.saturating_duration_since(l).saturating_sub(interval)) else { return };
        if stall.is_zero() {
            return;
        }
        for at in self.seen.lock().values_mut() {
            *at = (*at + stall).min(now);
        }
    }

    /// The live nodes silent for longer than `timeout` (a node first noticed
    /// now gets a whole timeout of grace).
    fn silent(&self, live: &[NodeId], timeout: Duration, now: Instant) -> Vec<NodeId> {
        let mut seen = self.seen.lock();
        live.iter()
            .copied()
            .filter(|n| now.saturating_duration_since(*seen.entry(*n).or_insert(now)) > timeout)
            .collect()
    }
}

impl Cluster {
    /// A voter's side of a heartbeat: every voter notes it, so that a new
    /// controller knows at once who was silent; the controller's answer
    /// tells the node whether it is fenced.
    pub fn heartbeat(&self, from: NodeId) -> PeerReply {
        self.liveness.saw(from);
        let fenced = self.applied().state.nodes.get(&from).is_some_and(|n| n.fenced);
        PeerReply::Heartbeat { fenced }
    }

    /// Heartbeats every voter and, as controller, fences silent nodes,
    /// until the cluster is dropped. `addr` is where clients reach this node
    /// (for registering again after being fenced).
    pub async fn run_liveness(self: Arc<Self>, addr: String) {
        let mut tick = tokio::time::interval(self.node_heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if Arc::strong_count(&self) == 1 {
                return;
            }
            self.liveness.discount_own_stall(self.node_heartbeat, Instant::now());
            let controller = self.controller();
            self.heartbeat_others(controller);
            let fenced_here = match controller {
                Some(c) if c == self.node_id => {
                    self.liveness.saw(self.node_id);
                    Cluster::fence_silent(&self);
                    self.applied().state.nodes.get(&self.node_id).is_some_and(|n| n.fenced)
                }
                Some(c) => {
                    let call = PeerCall::Heartbeat { applied_index: self.applied().index, incarnation: 0 };
                    matches!(
                        self.peers.call(c, &call, self.node_heartbeat * 2).await,
                        Ok(PeerReply::Heartbeat { fenced: true })
                    )
                }
                None => false,
            };
            if fenced_here {
                let me = Arc::clone(&self);
                let addr = addr.clone();
                tokio::spawn(async move {
                    let cmd = Command::RegisterNode { node_id: me.node_id, addr, unclean: me.unclean_leader_election };
                    match me.propose(cmd).await {
                        Ok(_) => tracing::warn!(node = me.node_id, "registered again after being fenced"),
                        Err(e) => tracing::debug!(error = %e, "registering again failed"),
                    }
                });
            }
        }
    }

    /// Heartbeats every voter but the controller (which gets its own,
    /// awaited), without waiting for answers.
    fn heartbeat_others(self: &Arc<Self>, controller: Option<NodeId>) {
        for id in self.peers.ids().filter(|id| Some(*id) != controller) {
            let me = Arc::clone(self);
            tokio::spawn(async move {
                let call = PeerCall::Heartbeat { applied_index: me.applied().index, incarnation: 0 };
                let _ = me.peers.call(id, &call, me.node_heartbeat * 2).await;
            });
        }
    }

    fn fence_silent(self: &Arc<Self>) {
        // When control changes hands silence is already known, as every
        // voter hears every heartbeat; a node never heard gets a whole
        // session of grace (`silent`).
        let now = Instant::now();
        let live: Vec<NodeId> = self.applied().state.live_nodes().filter(|n| *n != self.node_id).collect();
        for node in self.liveness.silent(&live, self.node_session_timeout, now) {
            if !self.liveness.fencing.lock().insert(node) {
                continue;
            }
            let me = Arc::clone(self);
            tokio::spawn(async move {
                tracing::warn!(node, "no heartbeat within the session timeout: fencing the node");
                match me.propose(Command::FenceNode { node_id: node, unclean: me.unclean_leader_election }).await {
                    Ok(_) => me.liveness.forget(node),
                    Err(e) => tracing::warn!(node, error = %e, "fencing failed"),
                }
                me.liveness.fencing.lock().remove(&node);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEAT: Duration = Duration::from_millis(150);
    const SESSION: Duration = Duration::from_millis(750);

    #[test]
    fn a_node_silent_for_the_session_is_fenced_and_a_fresh_one_is_not() {
        let l = Liveness::default();
        let t0 = Instant::now();
        assert!(l.silent(&[1, 2], SESSION, t0).is_empty(), "first noticed: a whole session of grace");
        l.seen.lock().insert(2, t0 + SESSION);
        assert_eq!(l.silent(&[1, 2], SESSION, t0 + SESSION + BEAT), vec![1]);
    }

    #[test]
    fn silence_during_the_controllers_own_stall_does_not_count() {
        let l = Liveness::default();
        let t0 = Instant::now();
        l.discount_own_stall(BEAT, t0);
        assert!(l.silent(&[1], SESSION, t0).is_empty());
        let after_stall = t0 + Duration::from_secs(2);
        l.discount_own_stall(BEAT, after_stall);
        assert!(l.silent(&[1], SESSION, after_stall).is_empty(), "2 s of the controller's stall forgiven");
        let later = after_stall + SESSION + BEAT;
        let mut ticks = after_stall;
        while ticks < later {
            ticks += BEAT;
            l.discount_own_stall(BEAT, ticks);
        }
        assert_eq!(l.silent(&[1], SESSION, later), vec![1], "silence while the controller runs counts");
    }
}
