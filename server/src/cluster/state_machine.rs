//! The metadata state machine behind Raft, persisted in
//! `<data_dir>/meta/state.json` after every applied batch (write temp, fsync,
//! rename, fsync the directory), so a node starts from what it last applied
//! without replaying. The file doubles as the snapshot sent to a lagging
//! follower. Every change is published on a watch channel that the node's
//! reconciler and request handlers read.

// The error type is the Raft library's (its storage traits name it).
#![allow(clippy::result_large_err)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::RaftStateMachine;
use openraft::{AnyError, EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::state::{NodeId, Outcome, PartitionAssignment, State, StoredLog};
use super::types::{Entry, LogId, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::storage::write_atomically;

/// The state a node has applied, as published to its readers.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Raft index of the last applied entry (0: none).
    pub index: u64,
    pub state: Arc<State>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Persisted {
    last_applied: Option<LogId>,
    membership: StoredMembership,
    state: State,
}

struct Inner {
    path: PathBuf,
    data: Mutex<Persisted>,
    published: watch::Sender<Applied>,
}

/// The state machine; clones share it.
#[derive(Clone)]
pub struct StateMachine {
    inner: Arc<Inner>,
}

fn sm_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_state_machine(AnyError::new(&e)).into()
}

impl StateMachine {
    /// Loads `state.json` from `dir`, or imports a single node's metadata of
    /// format version 1 (`metadata.json`) as led by `node_id`, or starts empty.
    ///
    /// # Errors
    /// An unreadable or unparsable file (never silently discarded).
    pub fn open(dir: &Path, node_id: NodeId) -> anyhow::Result<StateMachine> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("state.json");
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("parsing the metadata state {}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Persisted {
                state: legacy::import(&dir.join("metadata.json"), node_id)?.unwrap_or_else(State::new),
                ..Persisted::default()
            },
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        let applied = Applied { index: data.last_applied.map_or(0, |l| l.index), state: Arc::new(data.state.clone()) };
        Ok(StateMachine {
            inner: Arc::new(Inner { path, data: Mutex::new(data), published: watch::Sender::new(applied) }),
        })
    }

    /// The applied state and its changes.
    pub fn subscribe(&self) -> watch::Receiver<Applied> {
        self.inner.published.subscribe()
    }

    /// The applied state now.
    pub fn current(&self) -> Applied {
        self.inner.published.borrow().clone()
    }

    fn persist_and_publish(&self, data: &Persisted) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(data).map_err(sm_err)?;
        tokio::task::block_in_place(|| write_atomically(&self.inner.path, &bytes)).map_err(sm_err)?;
        let index = data.last_applied.map_or(0, |l| l.index);
        self.inner.published.send_replace(Applied { index, state: Arc::new(data.state.clone()) });
        Ok(())
    }

    fn snapshot_of(data: &Persisted) -> Result<Snapshot, StorageError> {
        let bytes = serde_json::to_vec(data).map_err(sm_err)?;
        let id = data.last_applied.map_or_else(|| "empty".to_owned(), |l| format!("{}-{}", l.leader_id, l.index));
        let meta =
            SnapshotMeta { last_log_id: data.last_applied, last_membership: data.membership.clone(), snapshot_id: id };
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) })
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let data = self.inner.data.lock().clone();
        Self::snapshot_of(&data)
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let data = self.inner.data.lock();
        Ok((data.last_applied, data.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut data = self.inner.data.lock().clone();
        let mut outcomes = Vec::new();
        for entry in entries {
            data.last_applied = Some(entry.log_id);
            outcomes.push(match entry.payload {
                EntryPayload::Blank => Outcome::default(),
                EntryPayload::Normal(cmd) => data.state.apply(cmd),
                EntryPayload::Membership(m) => {
                    data.membership = StoredMembership::new(Some(entry.log_id), m);
                    Outcome::default()
                }
            });
        }
        self.persist_and_publish(&data)?;
        *self.inner.data.lock() = data;
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let mut data: Persisted = serde_json::from_slice(snapshot.get_ref()).map_err(sm_err)?;
        data.last_applied = meta.last_log_id;
        data.membership = meta.last_membership.clone();
        self.persist_and_publish(&data)?;
        *self.inner.data.lock() = data;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let data = self.inner.data.lock().clone();
        if data.last_applied.is_none() {
            return Ok(None);
        }
        Self::snapshot_of(&data).map(Some)
    }
}

/// The single node's metadata before it became a Raft state machine.
mod legacy {
    use std::collections::BTreeMap;
    use std::path::Path;

    use pyralog_protocol::model::{LogConfig, LogState};
    use serde::Deserialize;

    use super::{NodeId, PartitionAssignment, State, StoredLog};

    #[derive(Deserialize)]
    struct V1 {
        next_incarnation: u64,
        logs: BTreeMap<String, V1Log>,
        #[serde(default)]
        next_producer_id: u64,
        #[serde(default)]
        producer_epochs: BTreeMap<u64, u16>,
    }

    #[derive(Deserialize)]
    struct V1Log {
        name: String,
        incarnation: u64,
        replication_factor: u32,
        config: LogConfig,
        created_at_ms: i64,
        state: LogState,
        epochs: Vec<u64>,
    }

    /// The state of a version-1 `metadata.json`, every partition on `node`.
    pub fn import(path: &Path, node: NodeId) -> anyhow::Result<Option<State>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        let v1: V1 = serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?;
        let logs = v1
            .logs
            .into_values()
            .map(|l| {
                let partitions = l
                    .epochs
                    .iter()
                    .map(|&e| PartitionAssignment {
                        replicas: vec![node],
                        leader: Some(node),
                        leader_epoch: e,
                        isr: vec![node],
                        offline: Default::default(),
                    })
                    .collect();
                let log = StoredLog {
                    name: l.name.clone(),
                    incarnation: l.incarnation,
                    replication_factor: l.replication_factor,
                    config: l.config,
                    created_at_ms: l.created_at_ms,
                    state: l.state,
                    partitions,
                };
                (l.name, log)
            })
            .collect();
        tracing::info!(path = %path.display(), "imported the single node's metadata");
        Ok(Some(State {
            next_incarnation: v1.next_incarnation,
            logs,
            next_producer_id: v1.next_producer_id,
            producer_epochs: v1.producer_epochs,
            ..State::new()
        }))
    }
}
