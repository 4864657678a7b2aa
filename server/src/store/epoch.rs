//! The leader-epoch table: `epoch -> start offset`, one line per epoch
//! (`<epoch> <start_offset>\n`) in `leader-epoch-checkpoint`, replaced
//! atomically (write temp, fsync, rename, fsync directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{io_err, StorageError};

const FILE: &str = "leader-epoch-checkpoint";
/// Most entries kept; the oldest are dropped (their data is long gone).
const MAX_EPOCH_ENTRIES: usize = 10_000;

pub struct EpochTable {
    path: PathBuf,
    dir: PathBuf,
    entries: Vec<(u64, u64)>,
}

impl EpochTable {
    /// Loads the table; unparsable lines are a corruption error.
    pub fn load(dir: &Path) -> Result<Self, StorageError> {
        let path = dir.join(FILE);
        let _ = fs::remove_file(dir.join(format!("{FILE}.tmp")));
        let mut entries = Vec::new();
        match fs::read_to_string(&path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    let parsed =
                        line.split_once(' ').and_then(|(e, o)| Some((e.parse::<u64>().ok()?, o.parse::<u64>().ok()?)));
                    let Some(entry) = parsed else {
                        return Err(StorageError::Corruption {
                            segment: path.clone(),
                            position: n as u64,
                            detail: format!("unparsable epoch table line {n}: {line:?}"),
                        });
                    };
                    entries.push(entry);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        Ok(EpochTable { path, dir: dir.to_owned(), entries })
    }

    pub fn latest(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.0)
    }

    pub fn entries(&self) -> &[(u64, u64)] {
        &self.entries
    }

    /// Records that `epoch` starts at `start`.
    pub fn begin(&mut self, epoch: u64, start: u64) -> Result<(), StorageError> {
        if epoch <= self.latest() {
            return Err(StorageError::Corruption {
                segment: self.path.clone(),
                position: 0,
                detail: format!("epoch {epoch} does not follow the latest epoch {}", self.latest()),
            });
        }
        self.entries.push((epoch, start));
        if self.entries.len() > MAX_EPOCH_ENTRIES {
            self.entries.remove(0);
        }
        self.persist()
    }

    /// Drops entries that start past `end` (after the log was truncated).
    pub fn truncate_after(&mut self, end: u64) -> Result<(), StorageError> {
        let before = self.entries.len();
        self.entries.retain(|&(_, start)| start <= end);
        if self.entries.len() != before {
            self.persist()?;
        }
        Ok(())
    }

    /// Drops epochs that start at or past `end` (their data was cut).
    pub fn drop_from(&mut self, end: u64) -> Result<(), StorageError> {
        let before = self.entries.len();
        self.entries.retain(|&(_, start)| start < end);
        if self.entries.len() != before {
            self.persist()?;
        }
        Ok(())
    }

    /// End offset of `epoch`: where the next epoch starts, or `log_end` for the latest.
    pub fn end_offset(&self, epoch: u64, log_end: u64) -> Option<u64> {
        let i = self.entries.iter().position(|&(e, _)| e == epoch)?;
        Some(self.entries.get(i + 1).map_or(log_end, |&(_, start)| start))
    }

    fn persist(&self) -> Result<(), StorageError> {
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let mut text = String::new();
        for (e, o) in &self.entries {
            text.push_str(&format!("{e} {o}\n"));
        }
        let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, &self.path).map_err(io_err(&self.path))?;
        super::sync_dir(&self.dir)
    }
}
