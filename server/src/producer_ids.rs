//! Producer ids and epochs (`InitProducer`), and the check every idempotent
//! batch passes before its partition sequences it.
//!
//! Ids are reserved from the cluster metadata in blocks, one block per
//! principal per node, so handing one out rarely writes metadata; an epoch
//! bump always does. Batches of an epoch older than the producer's current
//! one are fenced here even on partitions the newer incarnation has not
//! written to yet. Every node checks against the same replicated metadata,
//! so an id handed out by one node is known to all.
//!
//! An id belongs to the principal it was handed to (its block's owner in
//! the metadata), or to the principal that resumed it since: with
//! authentication on, a batch carrying it from anyone else is refused with
//! `NotAuthorized` before its sequence is looked at (so nobody learns
//! another producer's sequence, nor writes in its place).

use std::collections::HashMap;

use pyralog_protocol::acl::{Operation, Resource};
use pyralog_protocol::batch::NO_PRODUCER_ID;
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::auth::{Access, Principal};
use crate::cluster::state::{Command, State};
use crate::cluster::Cluster;
use crate::storage::producers::BatchProducer;

/// Producer ids reserved per metadata write.
const PRODUCER_ID_BLOCK: u64 = 1_000;
/// Principals whose block of ids this node keeps at once; beyond, one
/// block is dropped (its remaining ids are never handed out).
const MAX_LOCAL_PRODUCER_BLOCKS: usize = 1_024;
/// Longest a batch of a producer id or epoch this node has not applied yet
/// waits for the metadata to catch up.
const PRODUCER_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

/// A producer identity handed to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    pub id: u64,
    pub epoch: u16,
}

/// This node's blocks of ids, per principal: next to hand out, end of the block.
#[derive(Default)]
pub struct ProducerIds {
    blocks: tokio::sync::Mutex<HashMap<String, (u64, u64)>>,
}

fn fenced(id: u64, epoch: u16, current: u16) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::ProducerFenced,
        format!("producer {id} epoch {epoch} is fenced: a newer incarnation holds epoch {current}"),
    )
}

fn not_owner(principal: &str, id: u64) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::NotAuthorized,
        format!("principal {principal} may not use producer id {id}: it was handed to another principal"),
    )
}

/// Whether `principal` may write with producer `id` (anyone may while
/// authentication is off).
fn owns(state: &State, principal: &Principal, id: u64) -> bool {
    match principal {
        Principal::Anonymous => true,
        Principal::User { name, .. } => state.producer_owner(id) == Some(&**name),
    }
}

fn unknown(id: u64, epoch: u16) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnknownProducer,
        format!("producer {id} epoch {epoch} was never handed out by this cluster"),
    )
}

impl ProducerIds {
    /// A new producer id at epoch 0 for the principal of `access`, or —
    /// with `resume` — the same id at its next epoch (an id whose epochs ran
    /// out is replaced by a new one). Resuming an id of another principal
    /// takes `write` on the cluster and makes the id the resumer's.
    ///
    /// # Errors
    /// `ProducerFenced` (a newer epoch exists), `UnknownProducer`,
    /// `NotAuthorized`, `QuorumUnavailable` (metadata not written; nothing
    /// changed).
    pub async fn init(
        &self,
        cluster: &Cluster,
        access: &Access,
        resume: Option<ProducerIdentity>,
    ) -> Result<ProducerIdentity, ProtocolError> {
        let principal = access.principal().name().to_owned();
        let Some(old) = resume.filter(|r| r.id != NO_PRODUCER_ID) else {
            return self.allocate(cluster, principal).await;
        };
        let state = cluster.applied().state;
        if old.id >= state.next_producer_id {
            return Err(unknown(old.id, old.epoch));
        }
        let owner = match owns(&state, access.principal(), old.id) {
            true => None,
            false => {
                access.check(Operation::Write, Resource::Cluster).map_err(|_| not_owner(&principal, old.id))?;
                Some(principal.clone())
            }
        };
        let current = state.producer_epoch(old.id);
        if old.epoch < current {
            return Err(fenced(old.id, old.epoch, current));
        }
        if old.epoch > current {
            return Err(unknown(old.id, old.epoch));
        }
        if current == u16::MAX {
            return self.allocate(cluster, principal).await;
        }
        let outcome = cluster.propose(Command::BumpProducerEpoch { producer_id: old.id, from: current, owner }).await?;
        let epoch = outcome.producer_epoch.ok_or_else(|| ProtocolError::new(ErrorCode::Unknown, "no epoch bumped"))?;
        Ok(ProducerIdentity { id: old.id, epoch })
    }

    async fn allocate(&self, cluster: &Cluster, owner: String) -> Result<ProducerIdentity, ProtocolError> {
        let mut blocks = self.blocks.lock().await;
        let block = match blocks.get_mut(&owner) {
            Some(b) if b.0 < b.1 => b,
            _ => {
                let command = Command::AllocateProducerIds { count: PRODUCER_ID_BLOCK, owner: owner.clone() };
                let from = cluster
                    .propose(command)
                    .await?
                    .producer_ids_from
                    .ok_or_else(|| ProtocolError::new(ErrorCode::Unknown, "no producer id block allocated"))?;
                if blocks.len() >= MAX_LOCAL_PRODUCER_BLOCKS && !blocks.contains_key(&owner) {
                    let some = blocks.keys().next().cloned().expect("the map is full");
                    blocks.remove(&some);
                }
                blocks.entry(owner).insert_entry((from, from + PRODUCER_ID_BLOCK)).into_mut()
            }
        };
        let id = block.0;
        block.0 += 1;
        Ok(ProducerIdentity { id, epoch: 0 })
    }

    /// Whether a batch's producer may write at all, for `principal`. An id
    /// or epoch this node has not seen yet may come from a metadata change
    /// it has not applied (another node handed it out a moment ago): it
    /// waits up to `PRODUCER_CATCH_UP` for the metadata before refusing.
    ///
    /// # Errors
    /// `UnknownProducer` (an id or epoch never handed out), `ProducerFenced`,
    /// `NotAuthorized` (the id is another principal's).
    pub async fn check(cluster: &Cluster, principal: &Principal, b: &BatchProducer) -> Result<(), ProtocolError> {
        if !b.is_idempotent() {
            return Ok(());
        }
        let verdict = |state: &crate::cluster::state::State| {
            if b.id >= state.next_producer_id {
                return Err(unknown(b.id, b.epoch));
            }
            let current = state.producer_epoch(b.id);
            // Another's id is refused before its epoch is told (a newer
            // epoch may be a resume of this principal not applied here yet).
            if !owns(state, principal, b.id) && b.epoch <= current {
                return Err(not_owner(principal.name(), b.id));
            }
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
