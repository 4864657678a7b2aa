//! The metadata store: logs, partitions and leader epochs as a state machine
//! changed only by [`Command`]s. On a single node the state is persisted as a
//! snapshot after every command (write temp, fsync, rename, fsync dir); when
//! replication lands the same commands go through a Raft log instead.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pyralog_protocol::model::{LogConfig, LogState};
use serde::{Deserialize, Serialize};

use crate::storage::write_atomically;

/// Version of the snapshot file format.
const SNAPSHOT_VERSION: u32 = 1;

/// A log as the metadata store knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLog {
    pub name: String,
    /// Distinguishes a re-created log's data directory from the deleted one's.
    pub incarnation: u64,
    pub replication_factor: u32,
    pub config: LogConfig,
    pub created_at_ms: i64,
    pub state: LogState,
    /// Leader epoch per partition; the length is the partition count.
    pub epochs: Vec<u64>,
}

impl StoredLog {
    pub fn partition_count(&self) -> u32 {
        self.epochs.len() as u32
    }

    /// Directory name of this incarnation's data.
    pub fn dir_name(&self) -> String {
        format!("{}.{}", self.name, self.incarnation)
    }
}

/// A change to the metadata state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Command {
    CreateLog {
        name: String,
        partition_count: u32,
        replication_factor: u32,
        config: LogConfig,
        created_at_ms: i64,
    },
    UpdateConfig {
        name: String,
        config: LogConfig,
    },
    SetState {
        name: String,
        state: LogState,
    },
    /// Removes the log from the namespace (its data is removed separately).
    DeleteLog {
        name: String,
    },
    AddPartitions {
        name: String,
        partition_count: u32,
    },
    /// Starts a new leader epoch on every partition of every log (a restart).
    BumpAllEpochs,
    /// Reserves the next `count` producer ids.
    AllocateProducerIds {
        count: u64,
    },
    /// Starts the next epoch of a producer id, fencing the older ones.
    BumpProducerEpoch {
        producer_id: u64,
    },
}

/// Producer ids whose epoch was bumped are remembered up to this many; the
/// lowest (oldest) ids are forgotten first, and their zombies are then only
/// fenced by the partitions they wrote to.
pub const MAX_TRACKED_PRODUCER_EPOCHS: usize = 100_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    next_incarnation: u64,
    logs: BTreeMap<String, StoredLog>,
    /// Producer ids below this were handed out.
    #[serde(default)]
    next_producer_id: u64,
    /// Producers whose epoch is above 0.
    #[serde(default)]
    producer_epochs: BTreeMap<u64, u16>,
}

/// The persisted state machine.
#[derive(Debug)]
pub struct MetadataStore {
    path: PathBuf,
    state: State,
}

impl MetadataStore {
    /// Opens the snapshot in `dir`, or starts empty.
    ///
    /// # Errors
    /// An unreadable or unparsable snapshot (never silently discarded).
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("metadata.json");
        let _ = fs::remove_file(dir.join("metadata.json.tmp"));
        let state = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("parsing metadata snapshot {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                State { version: SNAPSHOT_VERSION, ..State::default() }
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(MetadataStore { path, state })
    }

    pub fn logs(&self) -> impl Iterator<Item = &StoredLog> {
        self.state.logs.values()
    }

    pub fn get(&self, name: &str) -> Option<&StoredLog> {
        self.state.logs.get(name)
    }

    /// Producer ids below this were handed out.
    pub fn next_producer_id(&self) -> u64 {
        self.state.next_producer_id
    }

    /// The current epoch of a producer id (0 unless bumped).
    pub fn producer_epoch(&self, producer_id: u64) -> u16 {
        self.state.producer_epochs.get(&producer_id).copied().unwrap_or(0)
    }

    /// Every producer with an epoch above 0.
    pub fn producer_epochs(&self) -> impl Iterator<Item = (u64, u16)> + '_ {
        self.state.producer_epochs.iter().map(|(k, v)| (*k, *v))
    }

    /// Applies a command and persists the new state. The caller has validated
    /// it; an invalid command (unknown log) is a no-op returning `None`.
    ///
    /// # Errors
    /// The snapshot could not be written; the in-memory state is rolled back.
    pub fn apply(&mut self, cmd: Command) -> anyhow::Result<Option<StoredLog>> {
        let before = serde_json::to_vec(&self.state)?;
        let result = self.apply_in_memory(cmd);
        if let Err(e) = self.persist() {
            self.state = serde_json::from_slice(&before)?;
            return Err(e);
        }
        Ok(result)
    }

    fn apply_in_memory(&mut self, cmd: Command) -> Option<StoredLog> {
        let s = &mut self.state;
        match cmd {
            Command::CreateLog { name, partition_count, replication_factor, config, created_at_ms } => {
                s.next_incarnation += 1;
                let log = StoredLog {
                    name: name.clone(),
                    incarnation: s.next_incarnation,
                    replication_factor,
                    config,
                    created_at_ms,
                    state: LogState::Active,
                    epochs: vec![1; partition_count as usize],
                };
                s.logs.insert(name, log.clone());
                Some(log)
            }
            Command::UpdateConfig { name, config } => {
                let log = s.logs.get_mut(&name)?;
                log.config = config;
                Some(log.clone())
            }
            Command::SetState { name, state } => {
                let log = s.logs.get_mut(&name)?;
                log.state = state;
                Some(log.clone())
            }
            Command::DeleteLog { name } => s.logs.remove(&name),
            Command::AddPartitions { name, partition_count } => {
                let log = s.logs.get_mut(&name)?;
                log.epochs.resize(partition_count as usize, 1);
                Some(log.clone())
            }
            Command::BumpAllEpochs => {
                for log in s.logs.values_mut() {
                    log.epochs.iter_mut().for_each(|e| *e += 1);
                }
                None
            }
            Command::AllocateProducerIds { count } => {
                s.next_producer_id = s.next_producer_id.saturating_add(count);
                None
            }
            Command::BumpProducerEpoch { producer_id } => {
                let e = s.producer_epochs.entry(producer_id).or_insert(0);
                *e = e.saturating_add(1);
                while s.producer_epochs.len() > MAX_TRACKED_PRODUCER_EPOCHS {
                    s.producer_epochs.pop_first();
                }
                None
            }
        }
    }

    fn persist(&self) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.state)?;
        Ok(write_atomically(&self.path, &bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(name: &str, n: u32) -> Command {
        Command::CreateLog {
            name: name.into(),
            partition_count: n,
            replication_factor: 1,
            config: LogConfig::default(),
            created_at_ms: 5,
        }
    }

    #[test]
    fn state_survives_reopen_and_epochs_bump() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = MetadataStore::open(dir.path()).unwrap();
        m.apply(create("a", 2)).unwrap();
        m.apply(Command::BumpAllEpochs).unwrap();
        drop(m);
        let mut m = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(m.get("a").unwrap().epochs, vec![2, 2]);
        m.apply(Command::AddPartitions { name: "a".into(), partition_count: 3 }).unwrap();
        assert_eq!(m.get("a").unwrap().epochs, vec![2, 2, 1]);
    }

    #[test]
    fn recreated_log_gets_a_new_incarnation() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = MetadataStore::open(dir.path()).unwrap();
        let first = m.apply(create("a", 1)).unwrap().unwrap();
        m.apply(Command::DeleteLog { name: "a".into() }).unwrap();
        let second = m.apply(create("a", 1)).unwrap().unwrap();
        assert_ne!(first.dir_name(), second.dir_name());
    }
}
