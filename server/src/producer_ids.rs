//! Producer ids and epochs (`InitProducer`), and the check every idempotent
//! batch passes before its partition sequences it.
//!
//! Ids are reserved from the cluster metadata in blocks, so handing one out
//! rarely writes metadata; an epoch bump always does. Batches of an epoch
//! older than the producer's current one are fenced here even on partitions
//! the newer incarnation has not written to yet. Every node checks against
//! the same replicated metadata, so an id handed out by one node is known
//! to all.

use pyralog_protocol::batch::NO_PRODUCER_ID;
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::cluster::state::Command;
use crate::cluster::Cluster;
use crate::storage::producers::BatchProducer;

/// Producer ids reserved per metadata write.
const PRODUCER_ID_BLOCK: u64 = 1_000;
/// Longest a batch of a producer id or epoch this node has not applied yet
/// waits for the metadata to catch up.
const PRODUCER_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

/// A producer identity handed to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    pub id: u64,
    pub epoch: u16,
}

/// This node's block of ids: next to hand out, end of the block.
#[derive(Default)]
pub struct ProducerIds {
    block: tokio::sync::Mutex<(u64, u64)>,
}

fn fenced(id: u64, epoch: u16, current: u16) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::ProducerFenced,
        format!("producer {id} epoch {epoch} is fenced: a newer incarnation holds epoch {current}"),
    )
}

fn unknown(id: u64, epoch: u16) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnknownProducer,
        format!("producer {id} epoch {epoch} was never handed out by this cluster"),
    )
}

impl ProducerIds {
    /// A new producer id at epoch 0, or — with `resume` — the same id at its
    /// next epoch (an id whose epochs ran out is replaced by a new one).
    ///
    /// # Errors
    /// `ProducerFenced` (a newer epoch exists), `UnknownProducer`,
    /// `QuorumUnavailable` (metadata not written; nothing changed).
    pub async fn init(
        &self,
        cluster: &Cluster,
        resume: Option<ProducerIdentity>,
    ) -> Result<ProducerIdentity, ProtocolError> {
        let Some(old) = resume.filter(|r| r.id != NO_PRODUCER_ID) else { return self.allocate(cluster).await };
        let state = cluster.applied().state;
        if old.id >= state.next_producer_id {
            return Err(unknown(old.id, old.epoch));
        }
        let current = state.producer_epoch(old.id);
        if old.epoch < current {
            return Err(fenced(old.id, old.epoch, current));
        }
        if old.epoch > current {
            return Err(unknown(old.id, old.epoch));
        }
        if current == u16::MAX {
            return self.allocate(cluster).await;
        }
        let outcome = cluster.propose(Command::BumpProducerEpoch { producer_id: old.id, from: current }).await?;
        let epoch = outcome.producer_epoch.ok_or_else(|| ProtocolError::new(ErrorCode::Unknown, "no epoch bumped"))?;
        Ok(ProducerIdentity { id: old.id, epoch })
    }

    async fn allocate(&self, cluster: &Cluster) -> Result<ProducerIdentity, ProtocolError> {
        let mut block = self.block.lock().await;
        if block.0 == block.1 {
            let outcome = cluster.propose(Command::AllocateProducerIds { count: PRODUCER_ID_BLOCK }).await?;
            let from = outcome
                .producer_ids_from
                .ok_or_else(|| ProtocolError::new(ErrorCode::Unknown, "no producer id block allocated"))?;
            *block = (from, from + PRODUCER_ID_BLOCK);
        }
        let id = block.0;
        block.0 += 1;
        Ok(ProducerIdentity { id, epoch: 0 })
    }

    /// Whether a batch's producer may write at all. An id or epoch this
    /// node has not seen yet may come from a metadata change it has not
    /// applied (another node handed it out a moment ago): it waits up to
    /// `PRODUCER_CATCH_UP` for the metadata before refusing.
    ///
    /// # Errors
    /// `UnknownProducer` (an id or epoch never handed out), `ProducerFenced`.
    pub async fn check(cluster: &Cluster, b: &BatchProducer) -> Result<(), ProtocolError> {
        if !b.is_idempotent() {
            return Ok(());
        }
        let verdict = |state: &crate::cluster::state::State| {
            if b.id >= state.next_producer_id {
                return Err(unknown(b.id, b.epoch));
            }
            let current = state.producer_epoch(b.id);
            match b.epoch.cmp(&current) {
                std::cmp::Ordering::Less => Err(fenced(b.id, b.epoch, current)),
                std::cmp::Ordering::Greater => Err(unknown(b.id, b.epoch)),
                std::cmp::Ordering::Equal => Ok(()),
            }
        };
        let mut applied = cluster.subscribe();
        let first = verdict(&applied.borrow_and_update().state);
        match first {
            Err(e) if e.code == ErrorCode::UnknownProducer => {
                let known = applied.wait_for(|a| verdict(&a.state).is_ok());
                match tokio::time::timeout(PRODUCER_CATCH_UP, known).await {
                    Ok(Ok(_)) => Ok(()),
                    _ => verdict(&cluster.applied().state),
                }
            }
            other => other,
        }
    }
}
