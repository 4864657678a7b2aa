//! The leader's side: answering followers' fetches and epoch questions.

use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::limits::MAX_FETCH_BYTES;
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::broker::Broker;
use crate::cluster::state::NodeId;
use crate::cluster::wire::{EpochEnd, Fetched, PeerReply, ReplicaFetch, ReplicaKey, NO_EPOCH};
use crate::partition::Partition;

/// Longest a follower's fetch is held open waiting for data.
pub const MAX_REPLICA_FETCH_WAIT_MS: u32 = 5_000;

/// The partition `key` names, led here under the follower's epoch.
///
/// # Errors
/// `LogNotFound` (gone or re-created), `NotLeader`, `FencedEpoch` (the
/// follower follows an older epoch).
fn led(broker: &Broker, key: &ReplicaKey) -> Result<Arc<Partition>, ProtocolError> {
    let stored = broker.stored(&key.log)?;
    if stored.incarnation != key.incarnation {
        return Err(ProtocolError::new(ErrorCode::LogNotFound, format!("log {} was re-created", key.log)));
    }
    let p = broker.partition(&key.log, key.partition)?;
    p.check_leader()?;
    let epoch = p.leader_epoch();
    if key.leader_epoch < epoch {
        return Err(ProtocolError::new(
            ErrorCode::FencedEpoch,
            format!(
                "{}/{}: the follower follows epoch {}, the leader is at {epoch}",
                key.log, key.partition, key.leader_epoch
            ),
        ));
    }
    if key.leader_epoch > epoch {
        return Err(ProtocolError::new(
            ErrorCode::NotLeader,
            format!(
                "{}/{}: this leader is at epoch {epoch}, behind the follower's {}",
                key.log, key.partition, key.leader_epoch
            ),
        ));
    }
    Ok(p)
}

/// Answers a follower's fetch: records its progress, then returns what
/// follows its log end, waiting up to `max_wait_ms` for something to come.
///
/// # Errors
/// As [`led`]; `OffsetOutOfRange` when the follower holds more than the
/// leader (it must truncate first).
pub async fn fetch(broker: &Broker, from: NodeId, f: ReplicaFetch) -> Result<PeerReply, ProtocolError> {
    let p = led(broker, &f.key)?;
    let end = p.replica_fetched(from, f.fetch_offset, f.acked_offset);
    if f.fetch_offset > end {
        return Err(ProtocolError::new(
            ErrorCode::OffsetOutOfRange,
            format!("{}/{}: follower at {} is past the leader's end {end}", f.key.log, f.key.partition, f.fetch_offset),
        ));
    }
    let wait = Duration::from_millis(u64::from(f.max_wait_ms.min(MAX_REPLICA_FETCH_WAIT_MS)));
    let mut ends = p.watch_log_end();
    if *ends.borrow_and_update() <= f.fetch_offset {
        let _ = tokio::time::timeout(wait, ends.wait_for(|e| *e > f.fetch_offset)).await;
    }
    let max_bytes = f.max_bytes.clamp(1, MAX_FETCH_BYTES) as usize;
    let slice = p.read_for_replica(f.fetch_offset, max_bytes)?;
    Ok(PeerReply::Fetched(Fetched {
        high_watermark: p.high_watermark(),
        log_start_offset: p.log_start_offset(),
        log_end_offset: p.log_end_offset(),
        records: bytes::Bytes::from_owner(slice),
    }))
}

/// Where the follower's epoch ends here (KIP-279: the largest epoch at or
/// below it that this leader holds).
///
/// # Errors
/// As [`led`].
pub fn epoch_end(broker: &Broker, e: EpochEnd) -> Result<PeerReply, ProtocolError> {
    let p = led(broker, &e.key)?;
    Ok(match p.epoch_end(e.epoch) {
        Some((epoch, end)) => PeerReply::EpochEnd(epoch, end),
        None => PeerReply::EpochEnd(NO_EPOCH, 0),
    })
}
