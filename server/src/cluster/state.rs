//! The cluster metadata as a deterministic state machine: logs, partitions
//! (replicas, leader, leader epoch, ISR), nodes, producer ids. Changed only
//! by [`Command`]s, applied in the same order on every node (the Raft log),
//! so every node holds the same state for the same applied index. No I/O and
//! no clock here: times arrive inside commands.

use std::collections::{BTreeMap, BTreeSet};

use pyralog_protocol::acl::Acl;
use pyralog_protocol::limits::{MAX_ACLS, MAX_LOGS};
use pyralog_protocol::model::{LogConfig, LogState};
use pyralog_protocol::{ErrorCode, ProtocolError};
use serde::{Deserialize, Serialize};

/// A node's id in the cluster (`node_id` in the config).
pub type NodeId = u32;

/// Version of the serialized state.
pub const STATE_VERSION: u32 = 2;

/// Producer ids whose epoch was bumped are remembered up to this many; the
/// lowest (oldest) ids are forgotten first, and their zombies are then only
/// fenced by the partitions they wrote to.
pub const MAX_TRACKED_PRODUCER_EPOCHS: usize = 100_000;
/// Blocks of producer ids remembered with the principal they were handed
/// to; the oldest are forgotten first (their ids are then refused, and
/// their producers take new ones).
pub const MAX_PRODUCER_ID_BLOCKS: usize = 100_000;

/// A block of producer ids, `start..end`, handed to one principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerBlock {
    pub end: u64,
    pub owner: String,
}

/// Where one partition lives and who leads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionAssignment {
    /// Every node holding a replica, the preferred leader first.
    pub replicas: Vec<NodeId>,
    /// `None` while no in-sync replica is alive (the partition is offline).
    pub leader: Option<NodeId>,
    /// Bumped every time leadership is (re)established.
    pub leader_epoch: u64,
    /// In-sync replicas; never empty (the last member stays while offline).
    pub isr: Vec<NodeId>,
    /// Replicas their node could not open (a full or failing disk), and why:
    /// they neither lead nor count as in sync until the node opens them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offline: BTreeMap<NodeId, String>,
}

impl PartitionAssignment {
    /// A new partition on `replicas`, led by the first.
    pub fn new(replicas: Vec<NodeId>) -> Self {
        PartitionAssignment {
            leader: replicas.first().copied(),
            leader_epoch: 1,
            isr: replicas.clone(),
            replicas,
            offline: BTreeMap::new(),
        }
    }

    /// `node`'s replica could not be opened: it leaves the ISR (unless it
    /// is the last member) and leadership passes to another live in-sync
    /// replica, or to none.
    fn mark_offline(&mut self, node: NodeId, reason: String, live: &[NodeId]) {
        self.offline.insert(node, reason);
        if self.isr.len() > 1 {
            self.isr.retain(|n| *n != node);
        }
        if self.leader == Some(node) {
            self.leader = self.isr.iter().copied().find(|n| *n != node && live.contains(n));
            self.leader_epoch += 1;
        }
    }

    /// `node` opened its replica again; it leads if it is the partition's
    /// last in-sync replica and nobody does.
    fn mark_online(&mut self, node: NodeId) {
        if self.offline.remove(&node).is_some() && self.leader.is_none() && self.isr == [node] {
            self.leader = Some(node);
            self.leader_epoch += 1;
        }
    }
}

/// A log as the metadata knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLog {
    pub name: String,
    /// Distinguishes a re-created log's data directory from the deleted one's.
    pub incarnation: u64,
    pub replication_factor: u32,
    pub config: LogConfig,
    pub created_at_ms: i64,
    pub state: LogState,
    /// One per partition; the length is the partition count.
    pub partitions: Vec<PartitionAssignment>,
}

impl StoredLog {
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// Directory name of this incarnation's data: `<name>.<incarnation>`,
    /// or — when that would pass the filesystem's `NAME_MAX` (a long name
    /// with a large incarnation) — the name's first `LONG_NAME_PREFIX_BYTES`,
    /// `~`, a hash of the whole name, `.<incarnation>` (`~` is no log-name
    /// character, so the two forms never meet).
    pub fn dir_name(&self) -> String {
        let plain = format!("{}.{}", self.name, self.incarnation);
        if plain.len() <= NAME_MAX_BYTES {
            return plain;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, self.name.as_bytes());
        let hash: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        // Log names are ASCII: any byte is a character boundary.
        let prefix = &self.name[..LONG_NAME_PREFIX_BYTES.min(self.name.len())];
        format!("{prefix}~{hash}.{}", self.incarnation)
    }
}

/// Longest file name the filesystems we run on take (Linux `NAME_MAX`).
pub const NAME_MAX_BYTES: usize = 255;
/// Bytes of a long log name kept in its directory's name.
const LONG_NAME_PREFIX_BYTES: usize = 200;
const _: () = assert!(LONG_NAME_PREFIX_BYTES + 1 + 16 + 1 + 20 <= NAME_MAX_BYTES);

/// A node as the metadata knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Where clients and peers reach it.
    pub addr: String,
    /// Bumped by every registration (each process start).
    pub incarnation: u64,
    /// Set when the controller lost its heartbeats; leads nothing then.
    pub fenced: bool,
}

/// A change to the metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// `assignments` holds the replicas of each partition (placed by the controller).
    CreateLog {
        name: String,
        replication_factor: u32,
        config: LogConfig,
        created_at_ms: i64,
        assignments: Vec<Vec<NodeId>>,
    },
    UpdateConfig {
        name: String,
        config: LogConfig,
    },
    SetState {
        name: String,
        state: LogState,
    },
    /// Removes the log from the namespace (each replica removes its data).
    DeleteLog {
        name: String,
    },
    /// Partitions appended to the log, one replica list each.
    AddPartitions {
        name: String,
        assignments: Vec<Vec<NodeId>>,
    },
    /// A node (re)started: it is unfenced, and every partition it leads or
    /// may lead again starts a new leader epoch under it. With `unclean`,
    /// it also takes leaderless partitions it holds outside the ISR.
    RegisterNode {
        node_id: NodeId,
        addr: String,
        #[serde(default)]
        unclean: bool,
    },
    /// A node stopped heartbeating: its leaderships move to live in-sync
    /// replicas and it leaves every ISR (the last member stays). With
    /// `unclean`, a live replica outside the ISR leads when no in-sync one
    /// is left (losing what only the ISR held).
    FenceNode {
        node_id: NodeId,
        #[serde(default)]
        unclean: bool,
    },
    /// The partition leader changes the ISR, under its current epoch.
    AlterIsr {
        log: String,
        partition: u32,
        leader_epoch: u64,
        isr: Vec<NodeId>,
    },
    /// Reserves the next `count` producer ids for principal `owner`.
    AllocateProducerIds {
        count: u64,
        #[serde(default)]
        owner: String,
    },
    /// Starts the next epoch of a producer id, fencing the older ones;
    /// refused unless the id is at epoch `from` (two resumes of one epoch
    /// cannot both win). The id belongs to `owner` from then on.
    BumpProducerEpoch {
        producer_id: u64,
        from: u16,
        #[serde(default)]
        owner: Option<String>,
    },
    /// A node could not open its replica of a partition (of the log's
    /// `incarnation`): `PartitionAssignment::mark_offline`.
    MarkReplicaOffline {
        log: String,
        incarnation: u64,
        partition: u32,
        node: NodeId,
        reason: String,
    },
    /// The node opened that replica after all.
    MarkReplicaOnline {
        log: String,
        incarnation: u64,
        partition: u32,
        node: NodeId,
    },
    /// Adds an allow rule (a rule that exists changes nothing).
    AddAcl {
        acl: Acl,
    },
    /// Removes an allow rule.
    RemoveAcl {
        acl: Acl,
    },
}

/// What applying a command produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The log the command created or changed.
    pub log: Option<StoredLog>,
    /// `AllocateProducerIds`: the first id of the block.
    pub producer_ids_from: Option<u64>,
    /// `BumpProducerEpoch`: the new epoch.
    pub producer_epoch: Option<u16>,
    /// `RemoveAcl`: whether the rule existed.
    #[serde(default)]
    pub acl_existed: Option<bool>,
    /// A command the state refused; nothing changed.
    pub error: Option<(u16, String)>,
}

impl Outcome {
    fn refused(code: ErrorCode, msg: String) -> Self {
        Outcome { error: Some((code.as_u16(), msg)), ..Outcome::default() }
    }

    fn log(log: &StoredLog) -> Self {
        Outcome { log: Some(log.clone()), ..Outcome::default() }
    }

    /// The refusal as an error, or the outcome.
    ///
    /// # Errors
    /// The error the state machine answered.
    pub fn into_result(self) -> Result<Outcome, ProtocolError> {
        match self.error {
            Some((code, msg)) => Err(ProtocolError::new(ErrorCode::from_u16(code), msg)),
            None => Ok(self),
        }
    }
}

/// The whole metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub next_incarnation: u64,
    pub logs: BTreeMap<String, StoredLog>,
    pub nodes: BTreeMap<NodeId, NodeRecord>,
    /// Producer ids below this were handed out.
    pub next_producer_id: u64,
    /// Producers whose epoch is above 0.
    pub producer_epochs: BTreeMap<u64, u16>,
    /// Blocks of producer ids by first id, with their owner.
    #[serde(default)]
    pub producer_id_blocks: BTreeMap<u64, ProducerBlock>,
    /// Owners of producer ids resumed since their block was handed out.
    #[serde(default)]
    pub producer_owners: BTreeMap<u64, String>,
    /// Allow rules (enforced while authentication is on).
    #[serde(default)]
    pub acls: BTreeSet<Acl>,
}

/// `node`, a replica outside the ISR, leads: whatever only the ISR held is
/// lost, and the old in-sync replicas truncate it when they return.
fn unclean_election(p: &mut PartitionAssignment, node: NodeId) {
    tracing::warn!(node, epoch = p.leader_epoch + 1, "unclean leader election: records only the ISR held are lost");
    p.leader = Some(node);
    p.leader_epoch += 1;
    p.isr = vec![node];
}

fn not_found(name: &str) -> Outcome {
    Outcome::refused(ErrorCode::LogNotFound, format!("log {name:?} does not exist"))
}

impl State {
    pub fn new() -> Self {
        State { version: STATE_VERSION, ..State::default() }
    }

    /// The current epoch of a producer id (0 unless bumped).
    pub fn producer_epoch(&self, producer_id: u64) -> u16 {
        self.producer_epochs.get(&producer_id).copied().unwrap_or(0)
    }

    /// The principal a producer id belongs to (`None`: handed out before
    /// ids had owners, or its block was forgotten).
    pub fn producer_owner(&self, producer_id: u64) -> Option<&str> {
        if let Some(owner) = self.producer_owners.get(&producer_id) {
            return Some(owner);
        }
        let (_, block) = self.producer_id_blocks.range(..=producer_id).next_back()?;
        (producer_id < block.end).then_some(block.owner.as_str())
    }

    /// Nodes that are registered and not fenced.
    pub fn live_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.iter().filter(|(_, n)| !n.fenced).map(|(id, _)| *id)
    }

    /// Applies one command. Deterministic: the same state and command give
    /// the same result on every node.
    pub fn apply(&mut self, cmd: Command) -> Outcome {
        match cmd {
            Command::CreateLog { name, replication_factor, config, created_at_ms, assignments } => {
                if self.logs.contains_key(&name) {
                    return Outcome::refused(ErrorCode::LogAlreadyExists, format!("log {name:?} already exists"));
                }
                if self.logs.len() >= MAX_LOGS {
                    return Outcome::refused(
                        ErrorCode::InvalidConfig,
                        format!("the cluster holds MAX_LOGS ({MAX_LOGS}) logs; delete some first"),
                    );
                }
                self.next_incarnation += 1;
                let log = StoredLog {
                    name: name.clone(),
                    incarnation: self.next_incarnation,
                    replication_factor,
                    config,
                    created_at_ms,
                    state: LogState::Active,
                    partitions: assignments.into_iter().map(PartitionAssignment::new).collect(),
                };
                let out = Outcome::log(&log);
                self.logs.insert(name, log);
                out
            }
            Command::UpdateConfig { name, config } => self.change_log(&name, |log| log.config = config),
            Command::SetState { name, state } => self.change_log(&name, |log| log.state = state),
            Command::DeleteLog { name } => match self.logs.remove(&name) {
                Some(log) => Outcome::log(&log),
                None => not_found(&name),
            },
            Command::AddPartitions { name, assignments } => self.change_log(&name, |log| {
                log.partitions.extend(assignments.into_iter().map(PartitionAssignment::new));
            }),
            Command::RegisterNode { node_id, addr, unclean } => {
                self.register(node_id, addr, unclean);
                Outcome::default()
            }
            Command::FenceNode { node_id, unclean } => {
                self.fence(node_id, unclean);
                Outcome::default()
            }
            Command::AlterIsr { log, partition, leader_epoch, isr } => {
                self.alter_isr(&log, partition, leader_epoch, isr)
            }
            Command::MarkReplicaOffline { log, incarnation, partition, node, reason } => {
                let live: Vec<NodeId> = self.live_nodes().collect();
                self.change_replica(&log, incarnation, partition, |p| p.mark_offline(node, reason, &live))
            }
            Command::MarkReplicaOnline { log, incarnation, partition, node } => {
                self.change_replica(&log, incarnation, partition, |p| p.mark_online(node))
            }
            Command::AllocateProducerIds { count, owner } => {
                let from = self.next_producer_id;
                self.next_producer_id = from.saturating_add(count);
                self.producer_id_blocks.insert(from, ProducerBlock { end: self.next_producer_id, owner });
                while self.producer_id_blocks.len() > MAX_PRODUCER_ID_BLOCKS {
                    self.producer_id_blocks.pop_first();
                }
                Outcome { producer_ids_from: Some(from), ..Outcome::default() }
            }
            Command::BumpProducerEpoch { producer_id, from, owner } => {
                let current = self.producer_epoch(producer_id);
                if current != from || current == u16::MAX {
                    return Outcome::refused(
                        ErrorCode::ProducerFenced,
                        format!("producer {producer_id} epoch {from} is fenced: the id is at epoch {current}"),
                    );
                }
                self.producer_epochs.insert(producer_id, current + 1);
                while self.producer_epochs.len() > MAX_TRACKED_PRODUCER_EPOCHS {
                    self.producer_epochs.pop_first();
                }
                if let Some(owner) = owner {
                    self.producer_owners.insert(producer_id, owner);
                    while self.producer_owners.len() > MAX_TRACKED_PRODUCER_EPOCHS {
                        self.producer_owners.pop_first();
                    }
                }
                Outcome { producer_epoch: Some(current + 1), ..Outcome::default() }
            }
            Command::AddAcl { acl } => {
                if self.acls.len() >= MAX_ACLS && !self.acls.contains(&acl) {
                    return Outcome::refused(
                        ErrorCode::InvalidRequest,
                        format!("the cluster holds MAX_ACLS ({MAX_ACLS}) ACLs; remove some first"),
                    );
                }
                self.acls.insert(acl);
                Outcome::default()
            }
            Command::RemoveAcl { acl } => Outcome { acl_existed: Some(self.acls.remove(&acl)), ..Outcome::default() },
        }
    }

    fn change_log(&mut self, name: &str, change: impl FnOnce(&mut StoredLog)) -> Outcome {
        match self.logs.get_mut(name) {
            Some(log) => {
                change(log);
                Outcome::log(log)
            }
            None => not_found(name),
        }
    }

    /// Changes partition `partition` of `log` if the log is still the
    /// same incarnation (else nothing: the log was deleted and re-created).
    fn change_replica(
        &mut self,
        log: &str,
        incarnation: u64,
        partition: u32,
        change: impl FnOnce(&mut PartitionAssignment),
    ) -> Outcome {
        match self.logs.get_mut(log).filter(|l| l.incarnation == incarnation) {
            Some(l) => match l.partitions.get_mut(partition as usize) {
                Some(p) => {
                    change(p);
                    Outcome::log(l)
                }
                None => {
                    Outcome::refused(ErrorCode::PartitionNotFound, format!("log {log} has no partition {partition}"))
                }
            },
            None => not_found(log),
        }
    }

    fn register(&mut self, node_id: NodeId, addr: String, unclean: bool) {
        let incarnation = self.nodes.get(&node_id).map_or(1, |n| n.incarnation + 1);
        self.nodes.insert(node_id, NodeRecord { addr, incarnation, fenced: false });
        for p in self.logs.values_mut().flat_map(|l| l.partitions.iter_mut()) {
            if p.offline.contains_key(&node_id) {
                continue;
            }
            let leads = p.leader == Some(node_id);
            let may_lead = p.leader.is_none() && p.isr.contains(&node_id);
            if leads || may_lead {
                p.leader = Some(node_id);
                p.leader_epoch += 1;
            } else if unclean && p.leader.is_none() && p.replicas.contains(&node_id) {
                unclean_election(p, node_id);
            }
        }
    }

    fn fence(&mut self, node_id: NodeId, unclean: bool) {
        let Some(node) = self.nodes.get_mut(&node_id) else { return };
        node.fenced = true;
        let live: Vec<NodeId> = self.live_nodes().collect();
        for p in self.logs.values_mut().flat_map(|l| l.partitions.iter_mut()) {
            if p.isr.len() > 1 {
                p.isr.retain(|n| *n != node_id);
            }
            if p.leader == Some(node_id) {
                let in_sync = p.isr.iter().copied().find(|n| *n != node_id && live.contains(n));
                let outside = p.replicas.iter().copied().find(|n| *n != node_id && live.contains(n));
                match (in_sync, outside) {
                    (None, Some(r)) if unclean => unclean_election(p, r),
                    _ => {
                        p.leader = in_sync;
                        p.leader_epoch += 1;
                    }
                }
            }
        }
    }

    fn alter_isr(&mut self, log: &str, partition: u32, leader_epoch: u64, isr: Vec<NodeId>) -> Outcome {
        let Some(l) = self.logs.get_mut(log) else { return not_found(log) };
        let Some(p) = l.partitions.get_mut(partition as usize) else {
            return Outcome::refused(ErrorCode::PartitionNotFound, format!("log {log} has no partition {partition}"));
        };
        if leader_epoch != p.leader_epoch {
            return Outcome::refused(
                ErrorCode::FencedEpoch,
                format!("{log}/{partition}: ISR change under epoch {leader_epoch}, current {}", p.leader_epoch),
            );
        }
        let valid =
            !isr.is_empty() && p.leader.is_some_and(|l| isr.contains(&l)) && isr.iter().all(|n| p.replicas.contains(n));
        if !valid {
            return Outcome::refused(
                ErrorCode::InvalidRequest,
                format!("{log}/{partition}: ISR {isr:?} must hold the leader and only replicas {:?}", p.replicas),
            );
        }
        p.isr = isr;
        Outcome::log(l)
    }
}

/// Replica placement for new partitions: round-robin over the live nodes,
/// starting one further for each partition (leaders spread across nodes),
/// continuing where the log's existing partitions left off.
///
/// # Errors
/// `InvalidConfig` when fewer live nodes than `replication_factor`.
pub fn place(
    live: &[NodeId],
    first_partition: u32,
    count: u32,
    replication_factor: u32,
) -> Result<Vec<Vec<NodeId>>, ProtocolError> {
    let rf = replication_factor.max(1) as usize;
    if live.len() < rf {
        return Err(ProtocolError::new(
            ErrorCode::InvalidConfig,
            format!("replication_factor {rf} exceeds the {} live node(s) of this cluster", live.len()),
        ));
    }
    Ok((first_partition..first_partition + count)
        .map(|p| (0..rf).map(|r| live[(p as usize + r) % live.len()]).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(name: &str, assignments: Vec<Vec<NodeId>>) -> Command {
        Command::CreateLog {
            name: name.into(),
            replication_factor: assignments[0].len() as u32,
            config: LogConfig::default(),
            created_at_ms: 5,
            assignments,
        }
    }

    fn registered(nodes: &[NodeId]) -> State {
        let mut s = State::new();
        for n in nodes {
            s.apply(Command::RegisterNode { node_id: *n, addr: format!("127.0.0.1:{}", 9000 + n), unclean: false });
        }
        s
    }

    #[test]
    fn placement_spreads_leaders_and_replicas() {
        let p = place(&[1, 2, 3], 0, 4, 3).unwrap();
        assert_eq!(p, vec![vec![1, 2, 3], vec![2, 3, 1], vec![3, 1, 2], vec![1, 2, 3]]);
        assert_eq!(place(&[1, 2], 0, 1, 3).unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(place(&[7], 5, 2, 1).unwrap(), vec![vec![7], vec![7]]);
    }

    #[test]
    fn a_restarted_node_starts_a_new_epoch_on_what_it_leads() {
        let mut s = registered(&[1]);
        s.apply(create("a", vec![vec![1], vec![1]]));
        assert_eq!(s.logs["a"].partitions[0].leader_epoch, 1);
        s.apply(Command::RegisterNode { node_id: 1, addr: "x".into(), unclean: false });
        assert!(s.logs["a"].partitions.iter().all(|p| p.leader_epoch == 2 && p.leader == Some(1)));
        assert_eq!(s.nodes[&1].incarnation, 2);
    }

    #[test]
    fn fencing_moves_leadership_to_a_live_isr_member_and_back_on_return() {
        let mut s = registered(&[1, 2, 3]);
        s.apply(create("a", vec![vec![1, 2, 3]]));
        s.apply(Command::FenceNode { node_id: 1, unclean: false });
        let p = &s.logs["a"].partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.isr.clone()), (Some(2), 2, vec![2, 3]));
        s.apply(Command::FenceNode { node_id: 2, unclean: false });
        s.apply(Command::FenceNode { node_id: 3, unclean: false });
        let p = &s.logs["a"].partitions[0];
        assert_eq!((p.leader, p.isr.clone()), (None, vec![3]), "the last in-sync replica stays in the ISR");
        s.apply(Command::RegisterNode { node_id: 1, addr: "x".into(), unclean: false });
        assert_eq!(s.logs["a"].partitions[0].leader, None, "1 is not in sync: no unclean election");
        s.apply(Command::RegisterNode { node_id: 3, addr: "x".into(), unclean: false });
        assert_eq!(s.logs["a"].partitions[0].leader, Some(3));
    }

    #[test]
    fn unclean_election_lets_a_replica_outside_the_isr_lead_when_no_in_sync_one_lives() {
        let mut s = registered(&[1, 2, 3]);
        s.apply(create("a", vec![vec![1, 2, 3]]));
        s.apply(Command::FenceNode { node_id: 2, unclean: true });
        s.apply(Command::FenceNode { node_id: 3, unclean: true });
        let p = &s.logs["a"].partitions[0];
        assert_eq!((p.leader, p.isr.clone()), (Some(1), vec![1]), "an in-sync leader is kept");
        s.apply(Command::RegisterNode { node_id: 2, addr: "x".into(), unclean: true });
        // 2 is live but out of sync when 1, the last in-sync replica, dies.
        s.apply(Command::FenceNode { node_id: 1, unclean: true });
        let p = &s.logs["a"].partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.isr.clone()), (Some(2), 2, vec![2]));

        // Or it comes back while the partition has no leader.
        let mut s = registered(&[1, 2]);
        s.apply(create("b", vec![vec![1, 2]]));
        s.apply(Command::FenceNode { node_id: 2, unclean: false });
        s.apply(Command::FenceNode { node_id: 1, unclean: false });
        assert_eq!(s.logs["b"].partitions[0].leader, None);
        s.apply(Command::RegisterNode { node_id: 2, addr: "x".into(), unclean: true });
        let p = &s.logs["b"].partitions[0];
        assert_eq!((p.leader, p.isr.clone()), (Some(2), vec![2]));
    }

    #[test]
    fn isr_changes_need_the_current_epoch_and_the_leader_inside() {
        let mut s = registered(&[1, 2, 3]);
        s.apply(create("a", vec![vec![1, 2, 3]]));
        let alter =
            |epoch, isr: Vec<NodeId>| Command::AlterIsr { log: "a".into(), partition: 0, leader_epoch: epoch, isr };
        let code = |o: Outcome| o.error.map(|e| ErrorCode::from_u16(e.0));
        assert_eq!(code(s.apply(alter(9, vec![1]))), Some(ErrorCode::FencedEpoch));
        assert_eq!(code(s.apply(alter(1, vec![2, 3]))), Some(ErrorCode::InvalidRequest));
        assert_eq!(code(s.apply(alter(1, vec![1, 4]))), Some(ErrorCode::InvalidRequest));
        assert_eq!(code(s.apply(alter(1, vec![1, 3]))), None);
        assert_eq!(s.logs["a"].partitions[0].isr, vec![1, 3]);
    }

    #[test]
    fn refused_commands_change_nothing() {
        let mut s = registered(&[1]);
        s.apply(create("a", vec![vec![1]]));
        let before = s.clone();
        assert!(s.apply(create("a", vec![vec![1]])).error.is_some());
        assert!(s.apply(Command::DeleteLog { name: "b".into() }).error.is_some());
        assert_eq!(s, before);
        let first = s.apply(Command::DeleteLog { name: "a".into() }).log.unwrap();
        let second = s.apply(create("a", vec![vec![1]])).log.unwrap();
        assert_ne!(first.dir_name(), second.dir_name());
    }

    #[test]
    fn the_metadata_holds_at_most_max_logs_logs_and_max_acls_acls() {
        let mut s = State::new();
        for i in 0..MAX_LOGS {
            assert!(s.apply(create(&format!("l{i}"), vec![vec![1]])).error.is_none());
        }
        let over = s.apply(create("one-more", vec![vec![1]])).error.unwrap();
        assert!(over.0 == ErrorCode::InvalidConfig.as_u16() && over.1.contains("MAX_LOGS"), "{over:?}");
        assert_eq!(s.logs.len(), MAX_LOGS);
        for i in 0..MAX_ACLS {
            let acl = Acl::parse(&format!("p{i}"), "read", "log:x").unwrap();
            assert!(s.apply(Command::AddAcl { acl }).error.is_none());
        }
        let acl = Acl::parse("one-more", "read", "log:x").unwrap();
        let over = s.apply(Command::AddAcl { acl }).error.unwrap();
        assert!(over.1.contains("MAX_ACLS"), "{over:?}");
        assert_eq!(s.acls.len(), MAX_ACLS);
    }

    #[test]
    fn log_directories_stay_within_name_max_for_every_valid_name() {
        let mut s = State::new();
        let longest = "a".repeat(pyralog_protocol::limits::MAX_LOG_ID_BYTES);
        let other = format!("{}b", &longest[..longest.len() - 1]);
        s.next_incarnation = u64::MAX - 10;
        for name in [&longest, &other] {
            s.apply(create(name, vec![vec![1]]));
        }
        s.apply(create("short", vec![vec![1]]));
        let dir = |n: &str| s.logs[n].dir_name();
        assert!(dir(&longest).len() <= NAME_MAX_BYTES && dir(&other).len() <= NAME_MAX_BYTES);
        assert_ne!(dir(&longest), dir(&other), "names that share the kept prefix differ by their hash");
        assert!(dir(&longest).ends_with(&format!(".{}", u64::MAX - 9)));
        assert_eq!(dir("short"), format!("short.{}", u64::MAX - 7), "names that fit keep the plain form");
    }

    #[test]
    fn producer_id_blocks_do_not_overlap() {
        let mut s = State::new();
        let alice = || "alice".to_owned();
        assert_eq!(s.apply(Command::AllocateProducerIds { count: 10, owner: alice() }).producer_ids_from, Some(0));
        let bob = Command::AllocateProducerIds { count: 10, owner: "bob".into() };
        assert_eq!(s.apply(bob).producer_ids_from, Some(10));
        assert_eq!(
            (s.producer_owner(9), s.producer_owner(10), s.producer_owner(20)),
            (Some("alice"), Some("bob"), None)
        );
        let bump = |from, owner: Option<String>| Command::BumpProducerEpoch { producer_id: 3, from, owner };
        assert_eq!(s.apply(bump(0, None)).producer_epoch, Some(1));
        assert_eq!(s.producer_owner(3), Some("alice"), "a resume without a new owner keeps the old");
        assert_eq!(s.apply(bump(1, Some("bob".into()))).producer_epoch, Some(2));
        assert_eq!(s.producer_owner(3), Some("bob"));
        let stale = s.apply(bump(0, None));
        assert_eq!(stale.error.map(|e| ErrorCode::from_u16(e.0)), Some(ErrorCode::ProducerFenced));
        assert_eq!(s.producer_epoch(3), 2);
    }
}
