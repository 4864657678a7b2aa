//! The snapshot of every committed offset, so the offsets log can drop the
//! segments it summarizes: `<data_dir>/groups/offsets.snapshot`, JSON,
//! written to a temporary file, synced, renamed, and the directory synced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyralog_protocol::{ErrorCode, ProtocolError};
use serde::{Deserialize, Serialize};

use crate::storage::write_atomically;

/// Version of the snapshot format.
const VERSION: u32 = 1;
const FILE: &str = "offsets.snapshot";

/// (group, log, partition) -> (offset, metadata).
pub type Offsets = BTreeMap<(String, String, u32), (u64, String)>;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    /// Every offset-log record below this is reflected in `entries`.
    log_offset: u64,
    entries: Vec<(String, String, u32, u64, String)>,
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
    if f.version != VERSION {
        return Err(failed(&p, format!("unknown version {}", f.version)));
    }
    let offsets = f.entries.into_iter().map(|(g, l, p, o, m)| ((g, l, p), (o, m))).collect();
    Ok(Some((f.log_offset, offsets)))
}

/// Writes the snapshot of `offsets`, covering the offsets log below `log_offset`.
///
/// # Errors
/// `StorageError`; the previous snapshot stays in place.
pub fn write(dir: &Path, log_offset: u64, offsets: &Offsets) -> Result<(), ProtocolError> {
    let p = path(dir);
    std::fs::create_dir_all(dir).map_err(|e| failed(&p, e))?;
    let entries = offsets.iter().map(|((g, l, part), (o, m))| (g.clone(), l.clone(), *part, *o, m.clone())).collect();
    let bytes = serde_json::to_vec(&File { version: VERSION, log_offset, entries }).map_err(|e| failed(&p, e))?;
    write_atomically(&p, &bytes).map_err(|e| failed(&p, e))
}
