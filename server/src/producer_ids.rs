//! Producer ids and epochs (`InitProducer`), and the check every idempotent
//! batch passes before its partition sequences it.
//!
//! Ids are reserved from the metadata store in blocks, so handing one out
//! rarely writes metadata; an epoch bump always does. Batches of an epoch
//! older than the producer's current one are fenced here even on partitions
//! the newer incarnation has not written to yet.

use std::collections::HashMap;

use parking_lot::{Mutex, RwLock};
use pyralog_protocol::batch::NO_PRODUCER_ID;
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::meta::{Command, MetadataStore};
use crate::storage::producers::BatchProducer;

/// Producer ids reserved per metadata write.
const PRODUCER_ID_BLOCK: u64 = 1_000;

/// A producer identity handed to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    pub id: u64,
    pub epoch: u16,
}

/// Ids handed out and epochs above 0.
pub struct ProducerIds {
    /// Next id to hand out, and the end of the reserved block.
    block: Mutex<(u64, u64)>,
    epochs: RwLock<HashMap<u64, u16>>,
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
        format!("producer {id} epoch {epoch} was never handed out by this server"),
    )
}

fn meta_failed(e: anyhow::Error) -> ProtocolError {
    ProtocolError::new(ErrorCode::StorageError, format!("writing metadata: {e:#}"))
}

impl ProducerIds {
    pub fn load(meta: &MetadataStore) -> Self {
        let next = meta.next_producer_id();
        ProducerIds { block: Mutex::new((next, next)), epochs: RwLock::new(meta.producer_epochs().collect()) }
    }

    fn current_epoch(&self, id: u64) -> u16 {
        self.epochs.read().get(&id).copied().unwrap_or(0)
    }

    /// A new producer id at epoch 0, or — with `resume` — the same id at its
    /// next epoch (an id whose epochs ran out is replaced by a new one).
    ///
    /// # Errors
    /// `ProducerFenced` (a newer epoch exists), `UnknownProducer`,
    /// `StorageError` (metadata not written; nothing changed).
    pub fn init(
        &self,
        meta: &Mutex<MetadataStore>,
        resume: Option<ProducerIdentity>,
    ) -> Result<ProducerIdentity, ProtocolError> {
        let Some(old) = resume.filter(|r| r.id != NO_PRODUCER_ID) else { return self.allocate(meta) };
        if old.id >= self.block.lock().0 {
            return Err(unknown(old.id, old.epoch));
        }
        let current = self.current_epoch(old.id);
        if old.epoch < current {
            return Err(fenced(old.id, old.epoch, current));
        }
        if old.epoch > current {
            return Err(unknown(old.id, old.epoch));
        }
        if current == u16::MAX {
            return self.allocate(meta);
        }
        meta.lock().apply(Command::BumpProducerEpoch { producer_id: old.id }).map_err(meta_failed)?;
        let mut epochs = self.epochs.write();
        epochs.insert(old.id, current + 1);
        Ok(ProducerIdentity { id: old.id, epoch: current + 1 })
    }

    fn allocate(&self, meta: &Mutex<MetadataStore>) -> Result<ProducerIdentity, ProtocolError> {
        let mut block = self.block.lock();
        if block.0 == block.1 {
            let mut m = meta.lock();
            m.apply(Command::AllocateProducerIds { count: PRODUCER_ID_BLOCK }).map_err(meta_failed)?;
            block.1 = m.next_producer_id();
        }
        let id = block.0;
        block.0 += 1;
        Ok(ProducerIdentity { id, epoch: 0 })
    }

    /// Whether a batch's producer may write at all.
    ///
    /// # Errors
    /// `UnknownProducer` (an id or epoch never handed out), `ProducerFenced`.
    pub fn check(&self, b: &BatchProducer) -> Result<(), ProtocolError> {
        if !b.is_idempotent() {
            return Ok(());
        }
        if b.id >= self.block.lock().0 {
            return Err(unknown(b.id, b.epoch));
        }
        let current = self.current_epoch(b.id);
        match b.epoch.cmp(&current) {
            std::cmp::Ordering::Less => Err(fenced(b.id, b.epoch, current)),
            std::cmp::Ordering::Greater => Err(unknown(b.id, b.epoch)),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: u64, epoch: u16) -> BatchProducer {
        BatchProducer { id, epoch, base_vlsn: 0, record_count: 1 }
    }

    #[test]
    fn given_resumed_producer_when_old_epoch_writes_should_be_fenced_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Mutex::new(MetadataStore::open(dir.path()).unwrap());
        let ids = ProducerIds::load(&meta.lock());
        let a = ids.init(&meta, None).unwrap();
        let b = ids.init(&meta, None).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(ids.check(&batch(a.id + 100, 0)).unwrap_err().code, ErrorCode::UnknownProducer);
        let a1 = ids.init(&meta, Some(a)).unwrap();
        assert_eq!((a1.id, a1.epoch), (a.id, 1));
        assert_eq!(ids.check(&batch(a.id, 0)).unwrap_err().code, ErrorCode::ProducerFenced);
        assert_eq!(ids.init(&meta, Some(a)).unwrap_err().code, ErrorCode::ProducerFenced);
        ids.check(&batch(a.id, 1)).unwrap();
        drop(ids);
        let meta = Mutex::new(MetadataStore::open(dir.path()).unwrap());
        let ids = ProducerIds::load(&meta.lock());
        assert_eq!(ids.check(&batch(a.id, 0)).unwrap_err().code, ErrorCode::ProducerFenced);
        ids.check(&batch(a.id, 1)).unwrap();
        let c = ids.init(&meta, None).unwrap();
        assert!(c.id > b.id, "ids are never reused after a restart");
    }
}
