//! The cluster: this node's seat in the metadata quorum (Raft, via
//! `openraft`), the calls to its peers, and the controller's duties.
//!
//! Every metadata change is a [`Command`] proposed to the Raft leader (the
//! controller): a node that is not the controller forwards it. The
//! controller answers once the command is applied on itself and on every
//! voter that already holds the entry, so a client reading metadata from any
//! live node right after a change sees it. A single server is a one-voter
//! cluster of the same code.

pub mod liveness;
pub mod log_store;
pub mod network;
pub mod state;
pub mod state_machine;
pub mod types;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Config, SnapshotPolicy};
use pyralog_protocol::{ErrorCode, ProtocolError};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use self::network::{NetworkFactory, Peers, SnapshotMessage};
use self::state::{Command, NodeId, Outcome};
use self::state_machine::{Applied, StateMachine};
use self::types::{Raft, RaftNodeId, Snapshot};
use self::wire::{PeerCall, PeerHeader, PeerReply};
use crate::config::{canonical_voters, ServerConfig};

/// Longest a voter that holds a committed entry is waited for to apply it
/// before the change is answered anyway.
const AWAIT_APPLIED_MS: u32 = 2_000;
/// Pause between attempts to reach the controller.
const PROPOSE_RETRY: Duration = Duration::from_millis(50);
/// A leader that heard from no quorum for this many election timeouts
/// refuses changes at once instead of waiting for them to time out.
const QUORUM_LOST_ELECTION_TIMEOUTS: u64 = 3;
/// How long a starting node checks its peers agree on the cluster.
const HELLO_TIMEOUT: Duration = Duration::from_secs(2);
/// Raft entries between two snapshots (which purge the log before them).
const SNAPSHOT_EVERY_ENTRIES: u64 = 1_000;
/// Entries kept before the latest snapshot, for followers slightly behind.
const ENTRIES_KEPT_BEHIND_SNAPSHOT: u64 = 200;

/// Which cluster a data directory belongs to (`meta/node.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct NodeIdentity {
    cluster_id: String,
    node_id: NodeId,
}

/// Refuses a data directory of another cluster or node; claims a new one.
fn check_identity(meta_dir: &Path, cluster_id: &str, node_id: NodeId) -> anyhow::Result<()> {
    let path = meta_dir.join("node.json");
    let mine = NodeIdentity { cluster_id: cluster_id.to_owned(), node_id };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let found: NodeIdentity =
                serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))?;
            if found != mine {
                bail!(
                    "data directory {} belongs to node {} of cluster {}, not node {node_id} of cluster {cluster_id}: \
                     point this node at its own data directory",
                    meta_dir.parent().unwrap_or(meta_dir).display(),
                    found.node_id,
                    found.cluster_id
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(meta_dir)?;
            crate::storage::write_atomically(&path, &serde_json::to_vec(&mine)?)?;
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Refuses to start when a reachable peer disagrees on the cluster.
async fn hello_peers(peers: &Peers) -> anyhow::Result<()> {
    let calls = peers.ids().map(|id| async move { (id, peers.call(id, &PeerCall::Hello, HELLO_TIMEOUT).await) });
    for (id, result) in futures_util::future::join_all(calls).await {
        match result {
            Err(e) if e.code == ErrorCode::InvalidConfig => bail!("node {id} refuses this node: {}", e.message),
            Err(e) => tracing::info!(node = id, error = %e, "peer not reachable yet"),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// This node's part of the cluster.
pub struct Cluster {
    pub node_id: NodeId,
    raft: Raft,
    sm: StateMachine,
    peers: Arc<Peers>,
    voters: BTreeMap<NodeId, String>,
    admin_timeout: Duration,
    election_timeout: Duration,
    liveness: liveness::Liveness,
    node_heartbeat: Duration,
    node_session_timeout: Duration,
    /// `[cluster] unclean_leader_election`, carried by the commands this node proposes.
    pub unclean_leader_election: bool,
}

fn quorum_unavailable(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::QuorumUnavailable, msg)
}

impl Cluster {
    /// Opens the metadata in `meta_dir` and joins the quorum. `endpoint` is
    /// the node's QUIC endpoint, also used to call peers.
    ///
    /// # Errors
    /// A data directory of another cluster or node, a voter list that
    /// disagrees with the stored membership or a peer's, storage errors.
    pub async fn start(
        cfg: &ServerConfig,
        meta_dir: &Path,
        endpoint: quinn::Endpoint,
        tls: &crate::tls::NodeTls,
        voters: BTreeMap<NodeId, String>,
    ) -> anyhow::Result<Arc<Cluster>> {
        let node_id = cfg.node_id;
        let header =
            PeerHeader { cluster_id: tls.cluster_id.clone(), from: node_id, voters: canonical_voters(&voters) };
        let others: BTreeMap<NodeId, String> =
            voters.iter().filter(|(id, _)| **id != node_id).map(|(id, a)| (*id, a.clone())).collect();
        let client = match others.is_empty() {
            true => quinn::ClientConfig::new(Arc::new(quinn::crypto::rustls::QuicClientConfig::try_from(
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_protocol_versions(&[&rustls::version::TLS13])?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )?)),
            false => crate::tls::peer_client_config(tls)?,
        };
        let peers = Peers::new(endpoint, client, header, others);
        // Before anything is claimed or written: a peer that disagrees on
        // the cluster stops this node with its data directory untouched.
        hello_peers(&peers).await?;
        check_identity(meta_dir, &tls.cluster_id, node_id)?;
        let log_store = log_store::LogStore::open(&meta_dir.join("raft"))
            .map_err(|e| anyhow::anyhow!("opening the Raft log: {e}"))?;
        let sm = StateMachine::open(meta_dir, node_id)?;
        let c = &cfg.cluster;
        let config = Config {
            cluster_name: tls.cluster_id.clone(),
            heartbeat_interval: c.raft_heartbeat_ms,
            election_timeout_min: c.raft_election_timeout_ms,
            election_timeout_max: c.raft_election_timeout_ms * 2,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY_ENTRIES),
            max_in_snapshot_log_to_keep: ENTRIES_KEPT_BEHIND_SNAPSHOT,
            ..Config::default()
        };
        let config = Arc::new(config.validate().context("Raft settings")?);
        let raft = Raft::new(u64::from(node_id), config, NetworkFactory(Arc::clone(&peers)), log_store, sm.clone())
            .await
            .context("starting Raft")?;
        let cluster = Arc::new(Cluster {
            node_id,
            raft,
            sm,
            peers,
            voters,
            admin_timeout: Duration::from_millis(c.admin_timeout_ms),
            election_timeout: Duration::from_millis(c.raft_election_timeout_ms),
            liveness: liveness::Liveness::default(),
            node_heartbeat: Duration::from_millis(c.node_heartbeat_ms),
            node_session_timeout: Duration::from_millis(c.node_session_timeout_ms),
            unclean_leader_election: c.unclean_leader_election,
        });
        cluster.join().await?;
        Ok(cluster)
    }

    /// Initializes a new cluster's membership, or checks the stored one
    /// matches the configured voters.
    async fn join(&self) -> anyhow::Result<()> {
        let want: BTreeSet<RaftNodeId> = self.voters.keys().map(|id| u64::from(*id)).collect();
        if self.raft.is_initialized().await? {
            let stored: BTreeSet<RaftNodeId> =
                self.raft.metrics().borrow().membership_config.membership().voter_ids().collect();
            if stored != want {
                bail!(
                    "the configured voters {:?} differ from the cluster's voters {stored:?} stored in the data \
                     directory; changing the voter set is not supported",
                    want
                );
            }
        } else {
            let members: BTreeMap<RaftNodeId, BasicNode> =
                self.voters.iter().map(|(id, a)| (u64::from(*id), BasicNode::new(a))).collect();
            if let Err(e) = self.raft.initialize(members).await {
                tracing::debug!(error = %e, "membership already initialized");
            }
        }
        if self.voters.len() == 1 {
            // A lone voter need not wait out an election timeout.
            let _ = self.raft.trigger().elect().await;
        }
        Ok(())
    }

    /// The applied metadata now.
    pub fn applied(&self) -> Applied {
        self.sm.current()
    }

    /// The applied metadata and its changes.
    pub fn subscribe(&self) -> watch::Receiver<Applied> {
        self.sm.subscribe()
    }

    /// The calls to the other voters.
    pub fn peers(&self) -> &Arc<Peers> {
        &self.peers
    }

    /// The cluster's id.
    pub fn cluster_id(&self) -> &str {
        &self.peers.header().cluster_id
    }

    /// The voters, id -> address.
    /// How many voters the cluster has.
    pub fn voter_count(&self) -> u32 {
        self.voters.len() as u32
    }

    pub fn voters(&self) -> &BTreeMap<NodeId, String> {
        &self.voters
    }

    /// The current Raft leader (the controller), as this node knows it.
    pub fn controller(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader.map(|id| id as NodeId)
    }

    /// Proposes `cmd` to the controller (forwarding it when that is another
    /// node) and waits until it is applied here.
    ///
    /// # Errors
    /// `QuorumUnavailable` when no controller commits it within the admin
    /// timeout, or the error the state machine answered.
    pub async fn propose(&self, cmd: Command) -> Result<Outcome, ProtocolError> {
        let deadline = tokio::time::Instant::now() + self.admin_timeout;
        let (index, outcome) = loop {
            let attempt = match self.controller() {
                Some(me) if me == self.node_id => self.propose_here(cmd.clone()).await,
                Some(other) => self.forward(other, &cmd, deadline).await,
                None => Err(quorum_unavailable("no controller elected")),
            };
            match attempt {
                Ok(done) => break done,
                Err(e) if e.code == ErrorCode::QuorumUnavailable || e.code.is_retriable() => {
                    if tokio::time::Instant::now() + PROPOSE_RETRY >= deadline {
                        return Err(quorum_unavailable(format!(
                            "the metadata change was not committed within admin_timeout_ms ({} ms): {}",
                            self.admin_timeout.as_millis(),
                            e.message
                        )));
                    }
                    tokio::time::sleep(PROPOSE_RETRY).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.await_applied(index, deadline).await;
        outcome.into_result()
    }

    async fn forward(
        &self,
        controller: NodeId,
        cmd: &Command,
        deadline: tokio::time::Instant,
    ) -> Result<(u64, Outcome), ProtocolError> {
        let body = serde_json::to_vec(cmd).expect("commands serialize");
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match self.peers.call(controller, &PeerCall::Propose(body), left).await? {
            PeerReply::Proposed { index, outcome } => serde_json::from_slice(&outcome)
                .map(|o| (index, o))
                .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, format!("controller's outcome: {e}"))),
            other => Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("unexpected reply {other:?}"))),
        }
    }

    /// On the controller: commit, then wait (bounded) for the voters that
    /// hold the entry to apply it.
    async fn propose_here(&self, cmd: Command) -> Result<(u64, Outcome), ProtocolError> {
        if let Command::RegisterNode { node_id, .. } = &cmd {
            // A node registering is alive: its session starts now.
            self.liveness.saw(*node_id);
        }
        let since_quorum = self.raft.metrics().borrow().millis_since_quorum_ack;
        let lost_after = self.election_timeout.as_millis() as u64 * QUORUM_LOST_ELECTION_TIMEOUTS;
        if self.voters.len() > 1 && since_quorum.is_some_and(|ms| ms > lost_after) {
            return Err(quorum_unavailable(format!(
                "no majority of the voters answered for {} ms",
                since_quorum.unwrap_or(0)
            )));
        }
        let written = tokio::time::timeout(self.admin_timeout, self.raft.client_write(cmd))
            .await
            .map_err(|_| quorum_unavailable("no majority of the voters acknowledged the change"))?;
        let written = match written {
            Ok(w) => w,
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                return Err(ProtocolError::new(
                    ErrorCode::NotLeader,
                    format!("the controller moved to {:?}", f.leader_id),
                ))
            }
            Err(e) => return Err(ProtocolError::new(ErrorCode::StorageError, format!("metadata write failed: {e}"))),
        };
        let index = written.log_id.index;
        self.await_voters_applied(index).await;
        Ok((index, written.data))
    }

    async fn await_voters_applied(&self, index: u64) {
        let holding: Vec<NodeId> = match &self.raft.metrics().borrow().replication {
            Some(r) => r
                .iter()
                .filter(|(id, matched)| **id != u64::from(self.node_id) && matched.is_some_and(|m| m.index >= index))
                .map(|(id, _)| *id as NodeId)
                .collect(),
            None => Vec::new(),
        };
        let call = PeerCall::AwaitApplied { index, timeout_ms: AWAIT_APPLIED_MS };
        let timeout = Duration::from_millis(u64::from(AWAIT_APPLIED_MS) + 500);
        let waits = holding.iter().map(|id| self.peers.call(*id, &call, timeout));
        for (id, r) in holding.iter().zip(futures_util::future::join_all(waits).await) {
            if let Err(e) = r {
                tracing::debug!(node = id, index, error = %e, "a voter did not confirm applying a change");
            }
        }
    }

    /// Waits until this node applied `index`, or `deadline`.
    async fn await_applied(&self, index: u64, deadline: tokio::time::Instant) -> bool {
        let mut rx = self.sm.subscribe();
        tokio::time::timeout_at(deadline, rx.wait_for(|a| a.index >= index)).await.is_ok_and(|r| r.is_ok())
    }

    /// Decodes a peer request of node `from` (its connection's certificate
    /// proved it at the handshake) and checks its sender.
    ///
    /// # Errors
    /// Malformed, from another cluster or voter set, or naming another node.
    pub fn admit(&self, from: u32, bytes: &[u8]) -> Result<(PeerHeader, PeerCall), ProtocolError> {
        let (header, call) = wire::decode_request(bytes)?;
        self.check_sender(from, &header)?;
        Ok((header, call))
    }

    /// A request must come from the node its connection's certificate
    /// proved (`from`), of this cluster and with this node's voters. What
    /// differs goes to this node's log; the answer names no value of ours.
    fn check_sender(&self, from: u32, h: &PeerHeader) -> Result<(), ProtocolError> {
        let mine = self.peers.header();
        let refuse = |what: &str| {
            tracing::warn!(node = from, ?h.cluster_id, ?h.voters, ours = ?mine.voters, what, "refused a peer request");
            Err(ProtocolError::new(ErrorCode::InvalidConfig, format!("peer request refused: {what}")))
        };
        if h.from != from {
            return refuse("the request names another node than its certificate");
        }
        if h.cluster_id != mine.cluster_id {
            return refuse("the cluster id differs");
        }
        if h.voters != mine.voters {
            return refuse("the voters differ");
        }
        Ok(())
    }

    /// Answers a metadata-quorum call (not the data-plane ones).
    ///
    /// # Errors
    /// Malformed Raft messages, or the controller's refusal.
    pub async fn serve(&self, call: PeerCall) -> Result<PeerReply, ProtocolError> {
        let bad = |e: serde_json::Error| ProtocolError::new(ErrorCode::InvalidRequest, format!("Raft message: {e}"));
        let json = |v: &dyn erased::Json| PeerReply::Raft(v.to_json());
        Ok(match call {
            PeerCall::Hello => PeerReply::Hello,
            PeerCall::AppendEntries(b) => {
                json(&self.raft.append_entries(serde_json::from_slice(&b).map_err(bad)?).await)
            }
            PeerCall::Vote(b) => json(&self.raft.vote(serde_json::from_slice(&b).map_err(bad)?).await),
            PeerCall::Snapshot(b) => {
                let m: SnapshotMessage = serde_json::from_slice(&b).map_err(bad)?;
                let snapshot = Snapshot { meta: m.meta, snapshot: Box::new(std::io::Cursor::new(m.data)) };
                json(&self.raft.install_full_snapshot(m.vote, snapshot).await)
            }
            PeerCall::Propose(b) => {
                let cmd: Command = serde_json::from_slice(&b).map_err(bad)?;
                let (index, outcome) = self.propose_here(cmd).await?;
                PeerReply::Proposed { index, outcome: serde_json::to_vec(&outcome).expect("outcomes serialize") }
            }
            PeerCall::AwaitApplied { index, timeout_ms } => {
                let limit = Duration::from_millis(u64::from(timeout_ms.min(AWAIT_APPLIED_MS)));
                self.await_applied(index, tokio::time::Instant::now() + limit).await;
                PeerReply::Applied(self.applied().index)
            }
            PeerCall::Heartbeat { .. } => PeerReply::Heartbeat { fenced: false },
            PeerCall::ReplicaFetch(_) | PeerCall::EpochEnd(_) => {
                return Err(ProtocolError::new(ErrorCode::InvalidRequest, "a data request reached the quorum"))
            }
        })
    }

    /// Leaves the quorum and closes the peer connections.
    pub async fn shutdown(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.raft.shutdown()).await;
        self.peers.close();
    }
}

/// Serializing the Raft library's results without naming their types.
mod erased {
    pub trait Json {
        fn to_json(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Vec<u8> {
            serde_json::to_vec(self).expect("Raft messages serialize")
        }
    }
}
