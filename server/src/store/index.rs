//! Fixed-width index files read and written through `memmap2`.
//!
//! The offset index holds `(relative_offset: u32, position: u32)` entries and
//! the time index `(max_timestamp_so_far: i64, relative_offset: u32)` entries,
//! both little-endian, both sorted. The active segment's index files are
//! preallocated to their capacity and written in place; sealing truncates
//! them to their entries.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use super::{io_err, StorageError};

/// Bytes of an offset index entry.
pub const OFFSET_ENTRY_BYTES: usize = 8;
/// Bytes of a time index entry.
pub const TIME_ENTRY_BYTES: usize = 12;

/// One index file of entries of `width` bytes.
pub struct IndexFile {
    path: PathBuf,
    file: File,
    map: Option<MmapMut>,
    width: usize,
    entries: usize,
    capacity: usize,
}

impl IndexFile {
    /// Creates (truncating) an index with room for `capacity` entries.
    pub fn create(path: &Path, width: usize, capacity: usize) -> Result<Self, StorageError> {
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path).map_err(io_err(path))?;
        // Allocated, not sparse: entries are written through the mapping.
        super::segment::allocate(&file, (capacity * width) as u64).map_err(io_err(path))?;
        let mut idx = IndexFile { path: path.to_owned(), file, map: None, width, entries: 0, capacity };
        idx.remap()?;
        Ok(idx)
    }

    /// Opens an existing sealed index; `None` if it is missing or its size is
    /// not a whole number of entries (the caller rebuilds it).
    pub fn open_sealed(path: &Path, width: usize) -> Result<Option<Self>, StorageError> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(path)(e)),
        };
        let len = file.metadata().map_err(io_err(path))?.len() as usize;
        if len % width != 0 {
            return Ok(None);
        }
        let entries = len / width;
        let mut idx = IndexFile { path: path.to_owned(), file, map: None, width, entries, capacity: entries };
        idx.remap()?;
        Ok(Some(idx))
    }

    fn remap(&mut self) -> Result<(), StorageError> {
        self.map = None;
        if self.capacity > 0 {
            // SAFETY: the file is private to this partition; nothing else
            // truncates it while mapped (we unmap before every set_len).
            let map = unsafe { MmapMut::map_mut(&self.file) }.map_err(io_err(&self.path))?;
            self.map = Some(map);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_full(&self) -> bool {
        self.entries >= self.capacity
    }

    fn entry(&self, i: usize) -> &[u8] {
        let map = self.map.as_ref().expect("entries imply a mapping");
        &map[i * self.width..(i + 1) * self.width]
    }

    /// The first 8 bytes of entry `i` as (u32, u32) or the whole as (i64, u32).
    pub fn pair_u32(&self, i: usize) -> (u32, u32) {
        let e = self.entry(i);
        (u32::from_le_bytes(e[0..4].try_into().expect("4")), u32::from_le_bytes(e[4..8].try_into().expect("4")))
    }

    pub fn pair_i64_u32(&self, i: usize) -> (i64, u32) {
        let e = self.entry(i);
        (i64::from_le_bytes(e[0..8].try_into().expect("8")), u32::from_le_bytes(e[8..12].try_into().expect("4")))
    }

    /// Appends an entry; a full index silently keeps its entries (the index
    /// is sparse: a missing entry only costs a longer scan).
    pub fn push(&mut self, bytes: &[u8]) {
        debug_assert_eq!(bytes.len(), self.width);
        if self.is_full() {
            return;
        }
        let at = self.entries * self.width;
        let map = self.map.as_mut().expect("capacity implies a mapping");
        map[at..at + self.width].copy_from_slice(bytes);
        self.entries += 1;
    }

    /// Index of the last entry whose key (by `key`) is <= `target`.
    pub fn floor(&self, target: i64, key: impl Fn(&Self, usize) -> i64) -> Option<usize> {
        let (mut lo, mut hi) = (0usize, self.entries);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(self, mid) <= target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.checked_sub(1)
    }

    /// Shrinks the file to its entries and syncs it.
    pub fn seal(&mut self) -> Result<(), StorageError> {
        if let Some(m) = &self.map {
            m.flush().map_err(io_err(&self.path))?;
        }
        self.map = None;
        self.file.set_len((self.entries * self.width) as u64).map_err(io_err(&self.path))?;
        self.file.sync_all().map_err(io_err(&self.path))?;
        self.capacity = self.entries;
        self.remap()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
