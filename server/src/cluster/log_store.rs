//! The Raft log on disk, in `<data_dir>/meta/raft/`:
//!
//! ```text
//! entries          records back to back: len u32 | crc32 u32 | JSON entry (len bytes), LE
//! vote.json        the latest vote (replaced atomically)
//! committed.json   the latest committed log id (replaced atomically)
//! purged.json      the last purged log id (replaced atomically)
//! ```
//!
//! An append is fsynced before Raft is told it is on disk. Opening scans the
//! records and truncates at the first torn or corrupt one (a record that was
//! never acknowledged as flushed). A purge rewrites the file with the
//! entries it keeps (write temp, fsync, rename, fsync the directory).
//! Entries after the last purge are also kept in memory: snapshots purge the
//! log regularly, so they stay few.

// The error type is the Raft library's (its storage traits name it).
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{AnyError, LogState, OptionalSend, RaftLogReader, StorageIOError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;

use super::types::{Entry, LogId, StorageError, TypeConfig, Vote};
use crate::storage::write_atomically;

/// Largest serialized entry accepted when reading the log back.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024 * 1024;
const RECORD_HEADER_BYTES: usize = 8;

fn io(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_logs(AnyError::new(&e)).into()
}

fn read_io(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::read_logs(AnyError::new(&e)).into()
}

/// Reads a small JSON file, `None` when absent.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StorageError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(read_io),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_io(e)),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StorageError> {
    let bytes = serde_json::to_vec(value).map_err(io)?;
    write_atomically(path, &bytes).map_err(io)
}

/// Blocking file work on a runtime worker, without stalling the others.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn encode(entry: &Entry, out: &mut Vec<u8>) -> Result<(), StorageError> {
    let json = serde_json::to_vec(entry).map_err(io)?;
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
    out.extend_from_slice(&json);
    Ok(())
}

/// Parses records from `bytes`; returns them with their positions and the
/// length of the valid prefix.
fn decode_all(bytes: &[u8]) -> (Vec<(u64, Entry)>, usize) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while bytes.len() - pos >= RECORD_HEADER_BYTES {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes"));
        let start = pos + RECORD_HEADER_BYTES;
        if len > MAX_ENTRY_BYTES || bytes.len() - start < len || crc32fast::hash(&bytes[start..start + len]) != crc {
            break;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(&bytes[start..start + len]) else { break };
        out.push((pos as u64, entry));
        pos = start + len;
    }
    (out, pos)
}

struct Inner {
    dir: PathBuf,
    file: File,
    /// Index -> (position in `entries`, entry).
    entries: BTreeMap<u64, (u64, Entry)>,
    end: u64,
    vote: Option<Vote>,
    committed: Option<LogId>,
    purged: Option<LogId>,
}

/// The Raft log storage; clones share it.
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
}

impl LogStore {
    /// Opens (or creates) the log in `dir`, truncating a torn tail.
    ///
    /// # Errors
    /// I/O errors, or unparsable vote/committed/purged files.
    pub fn open(dir: &Path) -> Result<LogStore, StorageError> {
        fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("entries");
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(read_io)?;
        let (records, valid) = decode_all(&bytes);
        if valid < bytes.len() {
            tracing::warn!(path = %path.display(), dropped_bytes = bytes.len() - valid, "truncating a torn Raft log tail");
            file.set_len(valid as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let purged: Option<LogId> = read_json(&dir.join("purged.json"))?;
        let floor = purged.map_or(0, |p| p.index + 1);
        let entries = records
            .into_iter()
            .filter(|(_, e)| e.log_id.index >= floor)
            .map(|(pos, e)| (e.log_id.index, (pos, e)))
            .collect();
        let inner = Inner {
            dir: dir.to_owned(),
            file,
            entries,
            end: valid as u64,
            vote: read_json(&dir.join("vote.json"))?,
            committed: read_json(&dir.join("committed.json"))?,
            purged,
        };
        Ok(LogStore { inner: Arc::new(Mutex::new(inner)) })
    }
}

impl Inner {
    fn append(&mut self, entries: Vec<Entry>) -> Result<(), StorageError> {
        let mut buf = Vec::new();
        let mut placed = Vec::with_capacity(entries.len());
        for e in entries {
            placed.push((self.end + buf.len() as u64, e));
            let entry = &placed.last().expect("just pushed").1;
            encode(entry, &mut buf)?;
        }
        self.file.write_all(&buf).and_then(|()| self.file.sync_data()).map_err(io)?;
        self.end += buf.len() as u64;
        for (pos, e) in placed {
            self.entries.insert(e.log_id.index, (pos, e));
        }
        Ok(())
    }

    /// Removes entries from `index` on.
    fn truncate(&mut self, index: u64) -> Result<(), StorageError> {
        let Some((&first, &(pos, _))) = self.entries.range(index..).next() else { return Ok(()) };
        self.file.set_len(pos).and_then(|()| self.file.sync_data()).map_err(io)?;
        self.file.seek(SeekFrom::End(0)).map_err(io)?;
        self.end = pos;
        self.entries.split_off(&first);
        Ok(())
    }

    /// Forgets entries up to `log_id` and rewrites the file without them.
    fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        write_json(&self.dir.join("purged.json"), &log_id)?;
        self.purged = Some(log_id);
        self.entries = self.entries.split_off(&(log_id.index + 1));
        let kept: Vec<Entry> = self.entries.values().map(|(_, e)| e.clone()).collect();
        let mut buf = Vec::new();
        let mut positions = Vec::with_capacity(kept.len());
        for e in &kept {
            positions.push(buf.len() as u64);
            encode(e, &mut buf)?;
        }
        let path = self.dir.join("entries");
        write_atomically(&path, &buf).map_err(io)?;
        self.file = OpenOptions::new().read(true).append(true).open(&path).map_err(io)?;
        self.end = buf.len() as u64;
        self.entries = kept.into_iter().zip(positions).map(|(e, pos)| (e.log_id.index, (pos, e))).collect();
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let inner = self.inner.lock().await;
        let (start, end) = (range.start_bound().cloned(), range.end_bound().cloned());
        Ok(inner.entries.range((start, end)).map(|(_, (_, e))| e.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.inner.lock().await;
        let last = inner.entries.values().next_back().map(|(_, e)| e.log_id).or(inner.purged);
        Ok(LogState { last_purged_log_id: inner.purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().await;
        blocking(|| write_json(&inner.dir.join("vote.json"), vote))?;
        inner.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.inner.lock().await.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().await;
        if inner.committed == committed {
            return Ok(());
        }
        blocking(|| write_json(&inner.dir.join("committed.json"), &committed))?;
        inner.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.inner.lock().await.committed)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let mut inner = self.inner.lock().await;
        let result = blocking(|| inner.append(entries));
        callback.log_io_completed(result.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
        result
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().await;
        blocking(|| inner.truncate(log_id.index))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().await;
        blocking(|| inner.purge(log_id))
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, EntryPayload};

    use super::*;

    fn entry(term: u64, index: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
            payload: EntryPayload::Normal(super::super::state::Command::AllocateProducerIds {
                count: index,
                owner: String::new(),
            }),
        }
    }

    fn indexes(store: &LogStore) -> Vec<u64> {
        store.inner.try_lock().unwrap().entries.keys().copied().collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn entries_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(dir.path()).unwrap();
            store.inner.lock().await.append((1..=5).map(|i| entry(1, i)).collect()).unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(dir.path().join("entries")).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2, 3]).unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(indexes(&store), vec![1, 2, 3, 4, 5]);
        store.inner.lock().await.append(vec![entry(1, 6)]).unwrap();
        drop(store);
        assert_eq!(indexes(&LogStore::open(dir.path()).unwrap()), vec![1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn truncate_and_purge_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        store.inner.lock().await.append((1..=6).map(|i| entry(1, i)).collect()).unwrap();
        store.inner.lock().await.truncate(5).unwrap();
        store.inner.lock().await.append(vec![entry(2, 5)]).unwrap();
        store.inner.lock().await.purge(entry(1, 2).log_id).unwrap();
        drop(store);
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(indexes(&store), vec![3, 4, 5]);
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id.unwrap().index, 2);
        assert_eq!(state.last_log_id.unwrap(), entry(2, 5).log_id);
        let got = store.try_get_log_entries(4..).await.unwrap();
        assert_eq!(got.iter().map(|e| e.log_id.index).collect::<Vec<_>>(), vec![4, 5]);
    }
}
