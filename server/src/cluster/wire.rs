//! Node-to-node messages: `PeerRequest` / `PeerResponse` of the schema,
//! decoded into owned data. Raft payloads stay opaque JSON here; the Raft
//! glue (`network.rs`) parses them.

use bytes::Bytes;
use capnp::message::Builder;
use pyralog_protocol::frame::{self, malformed, text};
use pyralog_protocol::pyralog_capnp::{peer_request, peer_response};
use pyralog_protocol::{ErrorCode, ProtocolError};

use super::state::NodeId;

/// Largest peer message (a metadata snapshot included).
pub const MAX_PEER_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Who sends a peer request, and which cluster it believes it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHeader {
    pub cluster_id: String,
    pub from: NodeId,
    pub voters: String,
}

/// A peer request's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerCall {
    Hello,
    AppendEntries(Vec<u8>),
    Vote(Vec<u8>),
    Snapshot(Vec<u8>),
    Propose(Vec<u8>),
    AwaitApplied { index: u64, timeout_ms: u32 },
    Heartbeat { applied_index: u64, incarnation: u64 },
    ReplicaFetch(ReplicaFetch),
    EpochEnd(EpochEnd),
}

/// Which partition replica a follower request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaKey {
    pub log: String,
    pub partition: u32,
    pub incarnation: u64,
    /// The leader epoch the follower follows.
    pub leader_epoch: u64,
}

/// A follower's fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaFetch {
    pub key: ReplicaKey,
    pub fetch_offset: u64,
    pub acked_offset: u64,
    pub max_bytes: u32,
    pub max_wait_ms: u32,
}

/// A follower's question: where does `epoch` end on the leader?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochEnd {
    pub key: ReplicaKey,
    pub epoch: u64,
}

/// `EpochEndResponse::epoch` when the leader holds no such epoch.
pub const NO_EPOCH: u64 = u64::MAX;

/// What a leader answers a follower's fetch; `records` travel as payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub high_watermark: u64,
    pub log_start_offset: u64,
    pub log_end_offset: u64,
    pub records: Bytes,
}

/// A peer response's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerReply {
    Hello,
    Raft(Vec<u8>),
    Proposed {
        index: u64,
        outcome: Vec<u8>,
    },
    Applied(u64),
    Heartbeat {
        fenced: bool,
    },
    Fetched(Fetched),
    /// (epoch, end offset) on the leader; `NO_EPOCH` when none.
    EpochEnd(u64, u64),
}

/// Encodes a request.
pub fn encode_request(h: &PeerHeader, call: &PeerCall) -> Vec<u8> {
    let mut m = Builder::new_default();
    let mut r = m.init_root::<peer_request::Builder>();
    r.set_cluster_id(h.cluster_id.as_str());
    r.set_from_node(h.from);
    r.set_voters(h.voters.as_str());
    match call {
        PeerCall::Hello => r.set_hello(()),
        PeerCall::AppendEntries(b) => r.set_raft_append_entries(b),
        PeerCall::Vote(b) => r.set_raft_vote(b),
        PeerCall::Snapshot(b) => r.set_raft_snapshot(b),
        PeerCall::Propose(b) => r.set_propose(b),
        PeerCall::AwaitApplied { index, timeout_ms } => {
            let mut a = r.init_await_applied();
            a.set_index(*index);
            a.set_timeout_ms(*timeout_ms);
        }
        PeerCall::Heartbeat { applied_index, incarnation } => {
            let mut hb = r.init_heartbeat();
            hb.set_applied_index(*applied_index);
            hb.set_incarnation(*incarnation);
        }
        PeerCall::ReplicaFetch(f) => {
            let mut b = r.init_replica_fetch();
            b.set_log(f.key.log.as_str());
            b.set_partition(f.key.partition);
            b.set_incarnation(f.key.incarnation);
            b.set_leader_epoch(f.key.leader_epoch);
            b.set_fetch_offset(f.fetch_offset);
            b.set_acked_offset(f.acked_offset);
            b.set_max_bytes(f.max_bytes);
            b.set_max_wait_ms(f.max_wait_ms);
        }
        PeerCall::EpochEnd(e) => {
            let mut b = r.init_epoch_end();
            b.set_log(e.key.log.as_str());
            b.set_partition(e.key.partition);
            b.set_incarnation(e.key.incarnation);
            b.set_leader_epoch(e.key.leader_epoch);
            b.set_epoch(e.epoch);
        }
    }
    frame::encode(&m)
}

/// Decodes a request.
///
/// # Errors
/// `InvalidRequest` for anything malformed; `RequestTooLarge`.
pub fn decode_request(bytes: &[u8]) -> Result<(PeerHeader, PeerCall), ProtocolError> {
    let msg = frame::decode(bytes, MAX_PEER_MESSAGE_BYTES)?;
    let r = msg.get_root::<peer_request::Reader>().map_err(malformed)?;
    let header = PeerHeader {
        cluster_id: text(r.get_cluster_id(), "clusterId")?.to_owned(),
        from: r.get_from_node(),
        voters: text(r.get_voters(), "voters")?.to_owned(),
    };
    let data = |d: capnp::Result<capnp::data::Reader<'_>>| d.map(<[u8]>::to_vec).map_err(malformed);
    use peer_request::Which;
    let which = r
        .which()
        .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, format!("unknown peer request {}", e.0)))?;
    let call = match which {
        Which::Hello(()) => PeerCall::Hello,
        Which::RaftAppendEntries(d) => PeerCall::AppendEntries(data(d)?),
        Which::RaftVote(d) => PeerCall::Vote(data(d)?),
        Which::RaftSnapshot(d) => PeerCall::Snapshot(data(d)?),
        Which::Propose(d) => PeerCall::Propose(data(d)?),
        Which::AwaitApplied(a) => {
            let a = a.map_err(malformed)?;
            PeerCall::AwaitApplied { index: a.get_index(), timeout_ms: a.get_timeout_ms() }
        }
        Which::Heartbeat(hb) => {
            let hb = hb.map_err(malformed)?;
            PeerCall::Heartbeat { applied_index: hb.get_applied_index(), incarnation: hb.get_incarnation() }
        }
        Which::ReplicaFetch(f) => {
            let f = f.map_err(malformed)?;
            PeerCall::ReplicaFetch(ReplicaFetch {
                key: ReplicaKey {
                    log: text(f.get_log(), "log")?.to_owned(),
                    partition: f.get_partition(),
                    incarnation: f.get_incarnation(),
                    leader_epoch: f.get_leader_epoch(),
                },
                fetch_offset: f.get_fetch_offset(),
                acked_offset: f.get_acked_offset(),
                max_bytes: f.get_max_bytes(),
                max_wait_ms: f.get_max_wait_ms(),
            })
        }
        Which::EpochEnd(e) => {
            let e = e.map_err(malformed)?;
            PeerCall::EpochEnd(EpochEnd {
                key: ReplicaKey {
                    log: text(e.get_log(), "log")?.to_owned(),
                    partition: e.get_partition(),
                    incarnation: e.get_incarnation(),
                    leader_epoch: e.get_leader_epoch(),
                },
                epoch: e.get_epoch(),
            })
        }
    };
    Ok((header, call))
}

/// Encodes a response: the message, and the payload that follows it (a
/// fetch's batches, straight from the segments).
pub fn encode_reply(reply: &Result<PeerReply, ProtocolError>) -> (Vec<u8>, Option<Bytes>) {
    let mut m = Builder::new_default();
    let mut payload = None;
    let mut r = m.init_root::<peer_response::Builder>();
    match reply {
        Err(e) => {
            let mut eb = r.init_error();
            eb.set_code(e.code.as_u16());
            eb.set_message(e.message.as_str());
        }
        Ok(PeerReply::Hello) => r.set_hello(()),
        Ok(PeerReply::Raft(b)) => r.set_raft(b),
        Ok(PeerReply::Proposed { index, outcome }) => {
            let mut p = r.init_proposed();
            p.set_index(*index);
            p.set_outcome(outcome);
        }
        Ok(PeerReply::Applied(i)) => r.set_applied(*i),
        Ok(PeerReply::Heartbeat { fenced }) => r.init_heartbeat().set_fenced(*fenced),
        Ok(PeerReply::Fetched(f)) => {
            let mut b = r.init_replica_fetch();
            b.set_high_watermark(f.high_watermark);
            b.set_log_start_offset(f.log_start_offset);
            b.set_log_end_offset(f.log_end_offset);
            // Bounded by MAX_FETCH_BYTES (u32).
            b.set_records_bytes(f.records.len() as u32);
            payload = Some(f.records.clone());
        }
        Ok(PeerReply::EpochEnd(epoch, end)) => {
            let mut b = r.init_epoch_end();
            b.set_epoch(*epoch);
            b.set_end_offset(*end);
        }
    }
    (frame::encode(&m), payload)
}

/// Decodes a response; an error response becomes `Err`. Fetched batches
/// are a slice of `bytes`, not a copy.
///
/// # Errors
/// The error the peer answered, or `InvalidRequest` for a malformed one.
pub fn decode_reply(bytes: &Bytes) -> Result<PeerReply, ProtocolError> {
    let (message, payload) = frame::split_payload(bytes)?;
    let msg = frame::decode(message, MAX_PEER_MESSAGE_BYTES)?;
    let r = msg.get_root::<peer_response::Reader>().map_err(malformed)?;
    use peer_response::Which;
    let which = r
        .which()
        .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, format!("unknown peer response {}", e.0)))?;
    Ok(match which {
        Which::Error(e) => {
            let e = e.map_err(malformed)?;
            return Err(ProtocolError::new(ErrorCode::from_u16(e.get_code()), text(e.get_message(), "message")?));
        }
        Which::Hello(()) => PeerReply::Hello,
        Which::Raft(d) => PeerReply::Raft(d.map_err(malformed)?.to_vec()),
        Which::Proposed(p) => {
            let p = p.map_err(malformed)?;
            PeerReply::Proposed { index: p.get_index(), outcome: p.get_outcome().map_err(malformed)?.to_vec() }
        }
        Which::Applied(i) => PeerReply::Applied(i),
        Which::Heartbeat(h) => PeerReply::Heartbeat { fenced: h.map_err(malformed)?.get_fenced() },
        Which::ReplicaFetch(f) => {
            let f = f.map_err(malformed)?;
            if f.get_records_bytes() as usize != payload.len() {
                return Err(ProtocolError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "replica fetch declares {} bytes of batches and carries {}",
                        f.get_records_bytes(),
                        payload.len()
                    ),
                ));
            }
            PeerReply::Fetched(Fetched {
                high_watermark: f.get_high_watermark(),
                log_start_offset: f.get_log_start_offset(),
                log_end_offset: f.get_log_end_offset(),
                records: bytes.slice_ref(payload),
            })
        }
        Which::EpochEnd(e) => {
            let e = e.map_err(malformed)?;
            PeerReply::EpochEnd(e.get_epoch(), e.get_end_offset())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_and_reply_round_trips() {
        let h = PeerHeader { cluster_id: "c".into(), from: 3, voters: "1@a:1,3@b:2".into() };
        for call in [
            PeerCall::Hello,
            PeerCall::AppendEntries(vec![1, 2]),
            PeerCall::Vote(vec![3]),
            PeerCall::Snapshot(vec![]),
            PeerCall::Propose(b"{}".to_vec()),
            PeerCall::AwaitApplied { index: 9, timeout_ms: 100 },
            PeerCall::Heartbeat { applied_index: 4, incarnation: 7 },
            PeerCall::ReplicaFetch(ReplicaFetch {
                key: ReplicaKey { log: "l".into(), partition: 2, incarnation: 3, leader_epoch: 4 },
                fetch_offset: 5,
                acked_offset: 4,
                max_bytes: 100,
                max_wait_ms: 50,
            }),
            PeerCall::EpochEnd(EpochEnd {
                key: ReplicaKey { log: "l".into(), partition: 0, incarnation: 1, leader_epoch: 2 },
                epoch: 1,
            }),
        ] {
            assert_eq!(decode_request(&encode_request(&h, &call)).unwrap(), (h.clone(), call));
        }
        for reply in [
            Ok(PeerReply::Hello),
            Ok(PeerReply::Raft(vec![5])),
            Ok(PeerReply::Proposed { index: 2, outcome: vec![6] }),
            Ok(PeerReply::Applied(8)),
            Ok(PeerReply::Heartbeat { fenced: true }),
            Ok(PeerReply::Fetched(Fetched {
                high_watermark: 1,
                log_start_offset: 0,
                log_end_offset: 2,
                records: Bytes::from_static(b"batches"),
            })),
            Ok(PeerReply::EpochEnd(NO_EPOCH, 0)),
            Err(ProtocolError::new(ErrorCode::QuorumUnavailable, "no")),
        ] {
            let (mut bytes, payload) = encode_reply(&reply);
            bytes.extend_from_slice(payload.as_deref().unwrap_or_default());
            assert_eq!(decode_reply(&Bytes::from(bytes)), reply);
        }
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(decode_request(&[1, 2, 3]).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(decode_reply(&Bytes::from_static(&[0; 16])).unwrap_err().code, ErrorCode::InvalidRequest);
    }
}
