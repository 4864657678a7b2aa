//! One segment: a `.log` file of record batches with its offset and time
//! indexes. The active segment is mapped at its capacity, so appends
//! (positional writes) become readable through the mapping without
//! remapping; its file's blocks are allocated ahead of the writer in steps
//! of `PREALLOCATE_STEP_BYTES` (not the whole capacity at once: a new
//! partition reserves one step), so a full disk is `ENOSPC` at an
//! allocation, before anything is written, and readers never touch a page
//! past the file's end. Sealing truncates it to its data.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use pyralog_protocol::batch::BatchView;

use super::index::{IndexFile, OFFSET_ENTRY_BYTES, TIME_ENTRY_BYTES};
use super::{io_err, StorageError};

/// Index files get room for one entry per this many bytes of capacity, plus slack.
const INDEX_SLACK_ENTRIES: usize = 16;
/// Bytes of an active segment's blocks allocated at once, ahead of the
/// writer (at least one whole batch).
pub const PREALLOCATE_STEP_BYTES: u64 = 16 * 1024 * 1024;
const _: () = assert!(PREALLOCATE_STEP_BYTES >= pyralog_protocol::limits::MAX_BATCH_BYTES as u64);

pub fn log_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn index_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.index"))
}

fn time_index_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.timeindex"))
}

pub struct Segment {
    pub base: u64,
    pub path: PathBuf,
    file: Arc<File>,
    map: Option<Arc<Mmap>>,
    /// Bytes of valid batches.
    pub size: u64,
    /// Length of the mapping while active: the most the segment holds.
    capacity: u64,
    /// Length of the file (its blocks allocated when preallocating).
    allocated: u64,
    /// Offset after the last record.
    pub next_offset: u64,
    /// Largest effective timestamp of any record, `i64::MIN` when empty.
    pub max_timestamp: i64,
    /// Server time of the first append (for rolling by age).
    pub created_ms: i64,
    offsets: IndexFile,
    times: IndexFile,
    index_interval: u64,
    last_indexed_pos: Option<u64>,
}

fn map_file(file: &File, path: &Path, len: u64) -> Result<Option<Arc<Mmap>>, StorageError> {
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: segment files are only written by this partition through
    // positional writes within the mapped length, and only truncated after
    // the mapping is replaced; readers hold their own `Arc` of the mapping.
    let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(file) }.map_err(io_err(path))?;
    Ok(Some(Arc::new(map)))
}

impl Segment {
    /// Creates an empty active segment with room for `capacity` bytes.
    pub fn create(
        dir: &Path,
        base: u64,
        capacity: u64,
        index_interval: u32,
        preallocate: bool,
    ) -> Result<Self, StorageError> {
        let path = log_path(dir, base);
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).map_err(io_err(&path))?;
        let slots = (capacity / u64::from(index_interval.max(1))) as usize + INDEX_SLACK_ENTRIES;
        let offsets = IndexFile::create(&index_path(dir, base), OFFSET_ENTRY_BYTES, slots)?;
        let times = IndexFile::create(&time_index_path(dir, base), TIME_ENTRY_BYTES, slots)?;
        let mut seg = Segment::assemble(base, path, file, None, (0, 0), (offsets, times), index_interval);
        seg.activate(capacity, preallocate)?;
        Ok(seg)
    }

    /// Bytes a new active segment of `capacity` takes on disk at once (its
    /// first allocation step and its index files).
    pub fn initial_disk_bytes(capacity: u64, index_interval: u32) -> u64 {
        let slots = (capacity / u64::from(index_interval.max(1))) + INDEX_SLACK_ENTRIES as u64;
        capacity.min(PREALLOCATE_STEP_BYTES) + slots * (OFFSET_ENTRY_BYTES + TIME_ENTRY_BYTES) as u64
    }

    /// Makes the segment active with room for `capacity` bytes: maps that
    /// much and allocates the first step past its data.
    fn activate(&mut self, capacity: u64, preallocate: bool) -> Result<(), StorageError> {
        self.map = None;
        self.capacity = capacity.max(self.size);
        self.file.set_len(self.size).map_err(io_err(&self.path))?;
        self.allocated = self.size;
        match preallocate {
            true => self.allocate_for(self.size.max(1))?,
            // Sparse, for tests that want small files fast.
            false => {
                self.file.set_len(self.capacity).map_err(io_err(&self.path))?;
                self.allocated = self.capacity;
            }
        }
        self.map = map_file(&self.file, &self.path, self.capacity)?;
        Ok(())
    }

    /// Allocates blocks up to the step that holds byte `end` (at most the capacity).
    fn allocate_for(&mut self, end: u64) -> Result<(), StorageError> {
        let stepped = end.div_ceil(PREALLOCATE_STEP_BYTES).saturating_mul(PREALLOCATE_STEP_BYTES);
        let len = stepped.min(self.capacity).max(end);
        allocate(&self.file, len).map_err(io_err(&self.path))?;
        self.allocated = len;
        Ok(())
    }

    /// A segment of `size` valid bytes in a file of `capacity`, before recovery
    /// or appends set its bounds.
    fn assemble(
        base: u64,
        path: PathBuf,
        file: File,
        map: Option<Arc<Mmap>>,
        (size, capacity): (u64, u64),
        (offsets, times): (IndexFile, IndexFile),
        index_interval: u32,
    ) -> Segment {
        let last_indexed_pos = offsets.len().checked_sub(1).map(|i| u64::from(offsets.pair_u32(i).1));
        Segment {
            base,
            path,
            file: Arc::new(file),
            map,
            size,
            capacity,
            allocated: capacity,
            next_offset: base,
            max_timestamp: i64::MIN,
            created_ms: 0,
            offsets,
            times,
            index_interval: u64::from(index_interval.max(1)),
            last_indexed_pos,
        }
    }

    /// Opens an existing segment file as it is (recovery decides its size
    /// and checks the indexes). Returns whether both index files were found
    /// with whole entries; if not, the segment has empty indexes to rebuild.
    pub fn open(dir: &Path, base: u64, index_interval: u32) -> Result<(Self, bool), StorageError> {
        let path = log_path(dir, base);
        let file = OpenOptions::new().read(true).write(true).open(&path).map_err(io_err(&path))?;
        let len = file.metadata().map_err(io_err(&path))?.len();
        let map = map_file(&file, &path, len)?;
        let found = (
            IndexFile::open_sealed(&index_path(dir, base), OFFSET_ENTRY_BYTES)?,
            IndexFile::open_sealed(&time_index_path(dir, base), TIME_ENTRY_BYTES)?,
        );
        let (offsets, times, loaded) = match found {
            (Some(o), Some(t)) if o.len() == t.len() => (o, t, true),
            _ => (
                IndexFile::create(&index_path(dir, base), OFFSET_ENTRY_BYTES, 0)?,
                IndexFile::create(&time_index_path(dir, base), TIME_ENTRY_BYTES, 0)?,
                false,
            ),
        };
        let seg = Segment::assemble(base, path, file, map, (len, len), (offsets, times), index_interval);
        Ok((seg, loaded))
    }

    /// Starts fresh indexes with `capacity` entries (for a rebuild).
    pub fn reset_indexes(&mut self, dir: &Path, slots: usize) -> Result<(), StorageError> {
        self.offsets = IndexFile::create(&index_path(dir, self.base), OFFSET_ENTRY_BYTES, slots)?;
        self.times = IndexFile::create(&time_index_path(dir, self.base), TIME_ENTRY_BYTES, slots)?;
        self.last_indexed_pos = None;
        Ok(())
    }

    pub fn index_slots_for(&self, bytes: u64) -> usize {
        (bytes / self.index_interval) as usize + INDEX_SLACK_ENTRIES
    }

    pub fn offsets(&self) -> &IndexFile {
        &self.offsets
    }

    pub fn times(&self) -> &IndexFile {
        &self.times
    }

    /// The mapped bytes of valid data.
    pub fn data(&self) -> &[u8] {
        match &self.map {
            Some(m) => &m[..self.size as usize],
            None => &[],
        }
    }

    /// Whole mapped file (recovery looks past `size`).
    pub fn mapped(&self) -> &[u8] {
        self.map.as_deref().map_or(&[], |m| &m[..])
    }

    pub fn map_arc(&self) -> Option<Arc<Mmap>> {
        self.map.clone()
    }

    pub fn file(&self) -> Arc<File> {
        Arc::clone(&self.file)
    }

    pub fn room(&self) -> u64 {
        self.capacity.saturating_sub(self.size)
    }

    pub fn indexes_full(&self) -> bool {
        self.offsets.is_full() || self.times.is_full()
    }

    /// Records a batch now at `pos` in the indexes and bounds (no I/O).
    pub fn note_batch(&mut self, pos: u64, batch: &BatchView<'_>) {
        let rel = (batch.base_offset() - self.base) as u32;
        self.max_timestamp = self.max_timestamp.max(batch.effective_max_timestamp());
        let due = self.last_indexed_pos.is_none_or(|last| pos - last >= self.index_interval);
        if due && !self.indexes_full() {
            let mut e = [0u8; OFFSET_ENTRY_BYTES];
            e[..4].copy_from_slice(&rel.to_le_bytes());
            e[4..].copy_from_slice(&(pos as u32).to_le_bytes());
            self.offsets.push(&e);
            let mut t = [0u8; TIME_ENTRY_BYTES];
            t[..8].copy_from_slice(&self.max_timestamp.to_le_bytes());
            t[8..].copy_from_slice(&rel.to_le_bytes());
            self.times.push(&t);
            self.last_indexed_pos = Some(pos);
        }
        self.size = pos + batch.bytes().len() as u64;
        self.next_offset = batch.next_offset();
    }

    /// Writes a stamped batch at the end (allocating the next step first
    /// when it reaches past the allocated blocks).
    pub fn write(&mut self, batch: &[u8]) -> Result<(), StorageError> {
        let end = self.size + batch.len() as u64;
        if end > self.allocated {
            self.allocate_for(end)?;
        }
        self.file.write_all_at(batch, self.size).map_err(io_err(&self.path))?;
        let pos = self.size;
        let view = BatchView::new(batch).expect("caller validated the batch");
        self.note_batch(pos, &view);
        Ok(())
    }

    /// Position to start scanning for `offset` (from the sparse index).
    pub fn scan_start(&self, offset: u64) -> u64 {
        let rel = offset.saturating_sub(self.base) as i64;
        self.offsets
            .floor(rel, |ix, i| i64::from(ix.pair_u32(i).0))
            .map_or(0, |i| u64::from(self.offsets.pair_u32(i).1))
    }

    /// Offset to start scanning for the first timestamp >= `ts`.
    pub fn time_scan_start(&self, ts: i64) -> u64 {
        // Entries whose max-so-far is < ts cover only older records; start at the last such batch.
        match self.times.floor(ts - 1, |ix, i| ix.pair_i64_u32(i).0) {
            Some(i) => self.base + u64::from(self.times.pair_i64_u32(i).1),
            None => self.base,
        }
    }

    /// Makes this segment the active one again with room for `capacity` bytes.
    pub fn reactivate(&mut self, capacity: u64, preallocate: bool) -> Result<(), StorageError> {
        self.activate(capacity, preallocate)
    }

    /// Truncates the preallocated tail, syncs data and indexes.
    pub fn seal(&mut self) -> Result<(), StorageError> {
        self.map = None;
        self.file.set_len(self.size).map_err(io_err(&self.path))?;
        self.file.sync_all().map_err(io_err(&self.path))?;
        self.capacity = self.size;
        self.allocated = self.size;
        self.map = map_file(&self.file, &self.path, self.size)?;
        self.offsets.seal()?;
        self.times.seal()
    }

    /// Deletes the index files (they are rebuilt from the data).
    pub fn delete_indexes(&self) -> Result<(), StorageError> {
        remove_all(&[self.offsets.path(), self.times.path()])
    }

    /// Deletes the segment's files.
    pub fn delete(self) -> Result<(), StorageError> {
        remove_all(&[&self.path, self.offsets.path(), self.times.path()])
    }
}

/// Removes files; one already gone is fine.
fn remove_all(paths: &[&Path]) -> Result<(), StorageError> {
    for p in paths {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(p)(e)),
        }
    }
    Ok(())
}

/// Allocates disk blocks for the whole length, so appends (and writes
/// through a mapping, which cannot report an error: a full disk would kill
/// the process with SIGBUS) never need a block the disk may not have. A full
/// disk is `ENOSPC` here, before anything is written.
pub(super) fn allocate(file: &File, len: u64) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: posix_fallocate on an open descriptor we own.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
    match rc {
        0 => Ok(()),
        // Filesystems without fallocate: a sparse file of that length.
        libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL => file.set_len(len),
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}
