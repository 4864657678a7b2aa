//! Calls to peer nodes over QUIC (one connection per peer, re-established on
//! demand, one stream per call), and the Raft network on top of them.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    Fatal, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse};
use openraft::{BasicNode, OptionalSend, RaftNetwork, RaftNetworkFactory};
use parking_lot::Mutex;
use pyralog_protocol::{ErrorCode, ProtocolError};
use serde::{Deserialize, Serialize};

use super::state::NodeId;
use super::types::{RaftNodeId, Snapshot, SnapshotMeta, TypeConfig, Vote};
use super::wire::{self, PeerCall, PeerHeader, PeerReply, MAX_PEER_MESSAGE_BYTES};
use crate::tls::peer_name;

/// Longest a connection attempt to a peer may take.
pub const PEER_CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Longest a Raft call may take (the library may ask for less).
const RAFT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

fn failed(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::ConnectionFailed, msg)
}

/// The connections to every other voter.
pub struct Peers {
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    header: PeerHeader,
    addrs: BTreeMap<NodeId, String>,
    conns: Mutex<HashMap<NodeId, quinn::Connection>>,
    connecting: HashMap<NodeId, tokio::sync::Mutex<()>>,
}

impl Peers {
    /// `addrs`: every voter but this node.
    pub fn new(
        endpoint: quinn::Endpoint,
        client: quinn::ClientConfig,
        header: PeerHeader,
        addrs: BTreeMap<NodeId, String>,
    ) -> Arc<Peers> {
        let connecting = addrs.keys().map(|id| (*id, tokio::sync::Mutex::new(()))).collect();
        Arc::new(Peers { endpoint, client, header, addrs, conns: Mutex::new(HashMap::new()), connecting })
    }

    pub fn header(&self) -> &PeerHeader {
        &self.header
    }

    /// Every other voter.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.addrs.keys().copied()
    }

    fn live(&self, node: NodeId) -> Option<quinn::Connection> {
        self.conns.lock().get(&node).filter(|c| c.close_reason().is_none()).cloned()
    }

    async fn connection(&self, node: NodeId) -> Result<quinn::Connection, ProtocolError> {
        if let Some(c) = self.live(node) {
            return Ok(c);
        }
        let (Some(addr), Some(lock)) = (self.addrs.get(&node), self.connecting.get(&node)) else {
            return Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("node {node} is not a voter")));
        };
        let _one_at_a_time = lock.lock().await;
        if let Some(c) = self.live(node) {
            return Ok(c);
        }
        let resolved = tokio::time::timeout(PEER_CONNECT_TIMEOUT, tokio::net::lookup_host(addr.as_str()))
            .await
            .map_err(|_| failed(format!("resolving node {node} ({addr}) timed out")))?
            .map_err(|e| failed(format!("resolving node {node} ({addr}): {e}")))?
            .next()
            .ok_or_else(|| failed(format!("node {node}'s address {addr} resolved to nothing")))?;
        let connecting = self
            .endpoint
            .connect_with(self.client.clone(), resolved, &peer_name(node))
            .map_err(|e| failed(format!("connecting to node {node} ({addr}): {e}")))?;
        let conn = tokio::time::timeout(PEER_CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| failed(format!("node {node} ({addr}) did not answer within {PEER_CONNECT_TIMEOUT:?}")))?
            .map_err(|e| failed(format!("connecting to node {node} ({addr}): {e}")))?;
        self.conns.lock().insert(node, conn.clone());
        Ok(conn)
    }

    /// One call to `node`, answered within `timeout`.
    ///
    /// # Errors
    /// `ConnectionFailed` (unreachable, or silent for the whole timeout, after
    /// which the connection is dropped), `Timeout`, or the peer's error.
    pub async fn call(&self, node: NodeId, call: &PeerCall, timeout: Duration) -> Result<PeerReply, ProtocolError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let conn = tokio::time::timeout_at(deadline, self.connection(node))
            .await
            .map_err(|_| failed(format!("no connection to node {node} within {timeout:?}")))??;
        let received_before = conn.stats().udp_rx.datagrams;
        let request = wire::encode_request(&self.header, call);
        let exchange = async {
            let (mut send, mut recv) = conn.open_bi().await.map_err(|e| failed(format!("node {node}: {e}")))?;
            send.write_all(&request).await.map_err(|e| failed(format!("node {node}: {e}")))?;
            send.finish().map_err(|e| failed(format!("node {node}: {e}")))?;
            recv.read_to_end(MAX_PEER_MESSAGE_BYTES).await.map_err(|e| failed(format!("node {node}: {e}")))
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(Ok(bytes)) => wire::decode_reply(&bytes.into()),
            Ok(Err(e)) => Err(e),
            Err(_) if conn.stats().udp_rx.datagrams == received_before => {
                conn.close(0u32.into(), b"peer unresponsive");
                Err(failed(format!("node {node} sent nothing within {timeout:?}")))
            }
            Err(_) => {
                Err(ProtocolError::new(ErrorCode::Timeout, format!("node {node} did not answer within {timeout:?}")))
            }
        }
    }

    /// Closes every peer connection.
    pub fn close(&self) {
        for (_, c) in self.conns.lock().drain() {
            c.close(0u32.into(), b"node stopping");
        }
    }
}

/// A whole snapshot as one peer message.
#[derive(Serialize, Deserialize)]
pub struct SnapshotMessage {
    pub vote: Vote,
    pub meta: SnapshotMeta,
    pub data: Vec<u8>,
}

/// The Raft library's view of the peers.
#[derive(Clone)]
pub struct NetworkFactory(pub Arc<Peers>);

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = RaftPeer;

    async fn new_client(&mut self, target: RaftNodeId, _node: &BasicNode) -> RaftPeer {
        RaftPeer { peers: Arc::clone(&self.0), target: target as NodeId }
    }
}

/// Raft calls to one peer.
pub struct RaftPeer {
    peers: Arc<Peers>,
    target: NodeId,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CallError(String);

/// Whether a failed call means the peer cannot take Raft calls now (down,
/// silent, starting or stopping): the library backs off before retrying.
fn unreachable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ConnectionFailed
            | ErrorCode::Timeout
            | ErrorCode::Busy
            | ErrorCode::NodeStarting
            | ErrorCode::ShuttingDown
    )
}

fn to_rpc<E: std::error::Error>(e: ProtocolError) -> RPCError<RaftNodeId, BasicNode, E> {
    let err = CallError(e.to_string());
    match e.code {
        c if unreachable(c) => RPCError::Unreachable(Unreachable::new(&err)),
        _ => RPCError::Network(NetworkError::new(&err)),
    }
}

impl RaftPeer {
    async fn raft_call<T: serde::de::DeserializeOwned>(
        &self,
        call: PeerCall,
        timeout: Duration,
    ) -> Result<T, ProtocolError> {
        match self.peers.call(self.target, &call, timeout.min(RAFT_CALL_TIMEOUT)).await? {
            PeerReply::Raft(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, format!("node {}: {e}", self.target))),
            other => Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("unexpected reply {other:?}"))),
        }
    }
}

type RaftResult<T, E = openraft::error::Infallible> = Result<T, RaftError<RaftNodeId, E>>;

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("Raft messages serialize")
}

impl RaftNetwork<TypeConfig> for RaftPeer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<RaftNodeId>, RPCError<RaftNodeId, BasicNode, RaftError<RaftNodeId>>> {
        let r: RaftResult<AppendEntriesResponse<RaftNodeId>> =
            self.raft_call(PeerCall::AppendEntries(json(&rpc)), option.hard_ttl()).await.map_err(to_rpc)?;
        r.map_err(|e| RPCError::RemoteError(RemoteError::new(u64::from(self.target), e)))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<RaftNodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<RaftNodeId>, RPCError<RaftNodeId, BasicNode, RaftError<RaftNodeId>>> {
        let r: RaftResult<VoteResponse<RaftNodeId>> =
            self.raft_call(PeerCall::Vote(json(&rpc)), option.hard_ttl()).await.map_err(to_rpc)?;
        r.map_err(|e| RPCError::RemoteError(RemoteError::new(u64::from(self.target), e)))
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        _cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<RaftNodeId>, StreamingError<TypeConfig, Fatal<RaftNodeId>>> {
        let msg = SnapshotMessage { vote, meta: snapshot.meta, data: snapshot.snapshot.into_inner() };
        let to_streaming = |e: ProtocolError| -> StreamingError<TypeConfig, Fatal<RaftNodeId>> {
            let err = CallError(e.to_string());
            match e.code {
                c if unreachable(c) => StreamingError::Unreachable(Unreachable::new(&err)),
                _ => StreamingError::Network(NetworkError::new(&err)),
            }
        };
        let r: Result<SnapshotResponse<RaftNodeId>, Fatal<RaftNodeId>> =
            self.raft_call(PeerCall::Snapshot(json(&msg)), option.hard_ttl()).await.map_err(to_streaming)?;
        r.map_err(|e| StreamingError::RemoteError(RemoteError::new(u64::from(self.target), e)))
    }
}
