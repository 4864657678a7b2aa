//! The follower's side: one task per followed partition that first cuts a
//! divergent tail (asking the leader where its epochs end), then fetches
//! from the leader, appends what it gets as it is, makes it durable when
//! the log fsyncs before acknowledging, and reports back on the next fetch.

use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::cluster::network::Peers;
use crate::cluster::state::NodeId;
use crate::cluster::wire::{EpochEnd, PeerCall, PeerReply, ReplicaFetch, ReplicaKey, NO_EPOCH};
use crate::partition::{Fetcher, Partition};

/// Bytes a follower asks for per fetch.
pub const REPLICA_FETCH_BYTES: u32 = 8 * 1024 * 1024;
/// How long the leader may hold a follower's fetch open.
pub const REPLICA_FETCH_WAIT_MS: u32 = 1_000;
/// Pause after a failed fetch before the next.
const RETRY_BACKOFF: Duration = Duration::from_millis(50);
/// Extra time, beyond the long-poll, a fetch may take to answer.
const FETCH_SLACK: Duration = Duration::from_secs(2);
/// Longest a follower waits for its appended batches to become durable.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Most rounds of epoch questions before fetching (each round moves to an
/// older epoch, so divergence resolves in a few).
const MAX_TRUNCATION_ROUNDS: usize = 64;

/// Starts following `leader` under `key.leader_epoch`.
pub fn spawn(p: Arc<Partition>, peers: Arc<Peers>, leader: NodeId, key: ReplicaKey) -> Fetcher {
    let epoch = key.leader_epoch;
    let task = tokio::spawn(run(p, peers, leader, key));
    Fetcher { leader, epoch, task }
}

async fn run(p: Arc<Partition>, peers: Arc<Peers>, leader: NodeId, key: ReplicaKey) {
    let mut truncated = false;
    while !p.is_closed() {
        if !truncated {
            match truncate_divergent(&p, &peers, leader, &key).await {
                Ok(()) => truncated = true,
                Err(e) => {
                    tracing::debug!(log = %key.log, partition = key.partition, leader, error = %e, "epoch check failed");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                    continue;
                }
            }
        }
        match fetch_once(&p, &peers, leader, &key).await {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::OffsetOutOfRange => truncated = false,
            Err(e) => {
                tracing::debug!(log = %key.log, partition = key.partition, leader, error = %e, "replica fetch failed");
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
        }
    }
}

/// Cuts what this replica holds past where the leader's copy of its epochs ends.
async fn truncate_divergent(
    p: &Partition,
    peers: &Peers,
    leader: NodeId,
    key: &ReplicaKey,
) -> Result<(), ProtocolError> {
    for _ in 0..MAX_TRUNCATION_ROUNDS {
        let mine = p.latest_epoch();
        if mine == 0 || p.log_end_offset() == 0 {
            return Ok(());
        }
        let call = PeerCall::EpochEnd(EpochEnd { key: key.clone(), epoch: mine });
        let reply = peers.call(leader, &call, FETCH_SLACK).await?;
        let PeerReply::EpochEnd(epoch, end) = reply else {
            return Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("unexpected reply {reply:?}")));
        };
        if epoch == NO_EPOCH {
            p.truncate_to(0)?;
            return Ok(());
        }
        if epoch == mine {
            p.truncate_to(end)?;
            return Ok(());
        }
        // The leader never had `mine`: cut to where both copies of `epoch`
        // end (here: where the first epoch after it starts, held or not).
        let my_end = p.epoch_end(epoch).map_or(0, |(_, my_end)| my_end);
        p.truncate_to(end.min(my_end))?;
    }
    Err(ProtocolError::new(ErrorCode::Unknown, "the epoch tables did not converge"))
}

async fn fetch_once(p: &Arc<Partition>, peers: &Peers, leader: NodeId, key: &ReplicaKey) -> Result<(), ProtocolError> {
    let f = ReplicaFetch {
        key: key.clone(),
        fetch_offset: p.log_end_offset(),
        acked_offset: p.acked_offset(),
        max_bytes: REPLICA_FETCH_BYTES,
        max_wait_ms: REPLICA_FETCH_WAIT_MS,
    };
    let timeout = Duration::from_millis(u64::from(REPLICA_FETCH_WAIT_MS)) + FETCH_SLACK;
    let reply = peers.call(leader, &PeerCall::ReplicaFetch(f), timeout).await?;
    let PeerReply::Fetched(fetched) = reply else {
        return Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("unexpected reply {reply:?}")));
    };
    if !fetched.records.is_empty() {
        p.append_replicated(&fetched.records)?;
        p.sync_replicated(SYNC_TIMEOUT).await?;
    }
    p.set_follower_high_watermark(fetched.high_watermark);
    Ok(())
}
