//! Node-to-node messages: `PeerRequest` / `PeerResponse` of the schema,
//! decoded into owned data. Raft payloads stay opaque JSON here; the Raft
//! glue (`network.rs`) parses them.

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
}

/// A peer response's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerReply {
    Hello,
    Raft(Vec<u8>),
    Proposed { index: u64, outcome: Vec<u8> },
    Applied(u64),
    Heartbeat,
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
    };
    Ok((header, call))
}

/// Encodes a response.
pub fn encode_reply(reply: &Result<PeerReply, ProtocolError>) -> Vec<u8> {
    let mut m = Builder::new_default();
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
        Ok(PeerReply::Heartbeat) => r.set_heartbeat(()),
    }
    frame::encode(&m)
}

/// Decodes a response; an error response becomes `Err`.
///
/// # Errors
/// The error the peer answered, or `InvalidRequest` for a malformed one.
pub fn decode_reply(bytes: &[u8]) -> Result<PeerReply, ProtocolError> {
    let msg = frame::decode(bytes, MAX_PEER_MESSAGE_BYTES)?;
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
        Which::Heartbeat(()) => PeerReply::Heartbeat,
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
        ] {
            assert_eq!(decode_request(&encode_request(&h, &call)).unwrap(), (h.clone(), call));
        }
        for reply in [
            Ok(PeerReply::Hello),
            Ok(PeerReply::Raft(vec![5])),
            Ok(PeerReply::Proposed { index: 2, outcome: vec![6] }),
            Ok(PeerReply::Applied(8)),
            Ok(PeerReply::Heartbeat),
            Err(ProtocolError::new(ErrorCode::QuorumUnavailable, "no")),
        ] {
            assert_eq!(decode_reply(&encode_reply(&reply)), reply);
        }
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(decode_request(&[1, 2, 3]).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(decode_reply(&[0; 16]).unwrap_err().code, ErrorCode::InvalidRequest);
    }
}
