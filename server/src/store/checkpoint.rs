//! The high watermark checkpoint: the last high watermark a replica knew,
//! written now and then (`HIGH_WATERMARK_CHECKPOINT_MS`) so a restarted
//! replica serves what was committed before it stopped instead of nothing
//! until its followers report (Kafka's replication-offset checkpoint). It
//! is a lower bound: everything below it was in every in-sync replica, and
//! a lost or stale checkpoint only delays visibility.

use std::path::{Path, PathBuf};

use super::{write_atomically, StorageError};

/// The checkpoint file in a partition directory.
const FILE: &str = "high-watermark";

/// Where `dir`'s checkpoint lives.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The checkpointed high watermark, or 0 when there is none or it is unreadable.
pub fn read(dir: &Path) -> u64 {
    std::fs::read_to_string(path(dir)).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// Replaces the checkpoint with `high_watermark`.
///
/// # Errors
/// `Io`; the previous checkpoint stays.
pub fn write(path: &Path, high_watermark: u64) -> Result<(), StorageError> {
    write_atomically(path, high_watermark.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_and_a_missing_or_bad_one_reads_zero() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), 0);
        write(&path(dir.path()), 1234).unwrap();
        assert_eq!(read(dir.path()), 1234);
        std::fs::write(path(dir.path()), "garbage").unwrap();
        assert_eq!(read(dir.path()), 0);
    }
}
