//! The snapshot of every committed offset, so the offsets log can drop the
//! segments it summarizes: `<data_dir>/groups/offsets.snapshot`, JSON,
//! written to a temporary file, synced, renamed, and the directory synced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyralog_protocol::{ErrorCode, ProtocolError};
use serde::{Deserialize, Serialize};

use crate::storage::write_atomically;

/// Version of the snapshot format (2 added the logs' incarnations; 1 is
/// read with incarnation 0, "before incarnations were kept").
const VERSION: u32 = 2;
const FILE: &str = "offsets.snapshot";

/// One committed offset as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub offset: u64,
    pub metadata: String,
    /// The incarnation of the log it was committed for (0: committed before
    /// incarnations were kept, or for a log that did not exist).
    pub incarnation: u64,
}

/// (group, log, partition) -> what was committed.
pub type Offsets = BTreeMap<(String, String, u32), Stored>;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    /// Every offset-log record below this is reflected in `entries`.
    log_offset: u64,
    entries: Vec<(String, String, u32, u64, String)>,
    /// The incarnation of each entry, in order (absent in version 1).
    #[serde(default)]
    incarnations: Vec<u64>,
}

fn failed(path: &Path, e: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(ErrorCode::StorageError, format!("group offsets snapshot {}: {e}", path.display()))
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The snapshot in `dir`: (log offset it covers, offsets), if any.
///
/// # Errors
/// `StorageError` for an unreadable or damaged snapshot (never ignored:
/// the log segments it summarized are gone).
pub fn load(dir: &Path) -> Result<Option<(u64, Offsets)>, ProtocolError> {
    let p = path(dir);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(&p, e)),
    };
    let f: File = serde_json::from_slice(&bytes).map_err(|e| failed(&p, e))?;
    if !(1..=VERSION).contains(&f.version) {
        return Err(failed(&p, format!("unknown version {}", f.version)));
    }
    let incarnations = f.incarnations.into_iter().chain(std::iter::repeat(0));
    let offsets = f
        .entries
        .into_iter()
        .zip(incarnations)
        .map(|((g, l, p, offset, metadata), incarnation)| ((g, l, p), Stored { offset, metadata, incarnation }))
        .collect();
    Ok(Some((f.log_offset, offsets)))
}

/// Writes the snapshot of `offsets`, covering the offsets log below `log_offset`.
///
/// # Errors
/// `StorageError`; the previous snapshot stays in place.
pub fn write(dir: &Path, log_offset: u64, offsets: &Offsets) -> Result<(), ProtocolError> {
    let p = path(dir);
    std::fs::create_dir_all(dir).map_err(|e| failed(&p, e))?;
    let entries =
        offsets.iter().map(|((g, l, part), s)| (g.clone(), l.clone(), *part, s.offset, s.metadata.clone())).collect();
    let incarnations = offsets.values().map(|s| s.incarnation).collect();
    let file = File { version: VERSION, log_offset, entries, incarnations };
    let bytes = serde_json::to_vec(&file).map_err(|e| failed(&p, e))?;
    write_atomically(&p, &bytes).map_err(|e| failed(&p, e))
}
