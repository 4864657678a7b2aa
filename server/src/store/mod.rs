//! The storage engine: one partition's log as a directory of segments.
//!
//! ```text
//! <base:020>.log        record batches back to back (docs/FORMAT.md); the
//!                       active segment is preallocated and zero past its data
//! <base:020>.index      sparse offset index: (relative_offset u32, position u32) LE,
//!                       one entry per `index_interval_bytes` of log
//! <base:020>.timeindex  time index: (max_timestamp_so_far i64, relative_offset u32) LE,
//!                       written with each offset index entry
//! leader-epoch-checkpoint  "<epoch> <start_offset>\n" per leader epoch
//! <offset:020>.producers   idempotent producers' state as of `offset` (producers.rs)
//! ```
//!
//! Recovery scans the last segment from its start, verifying every batch's
//! framing, checksum and offset continuity, and truncates at the first bad or
//! zero batch; its indexes are always rebuilt. Sealed segments keep their
//! indexes if they are sane (whole entries, sorted, inside the file) and are
//! rebuilt otherwise; their data is not rescanned, so corruption inside a
//! sealed segment surfaces as `Corruption` (segment path and byte position)
//! when it is read, and never silently truncates or skips data.

pub mod checkpoint;
pub mod compact;
mod epoch;
mod index;
pub mod producers;
mod recover;
mod replica;
mod segment;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use pyralog_protocol::batch::{stamp, BatchView};

use self::epoch::EpochTable;
use self::producers::ProducerStates;
use self::segment::Segment;

/// Default segment size.
pub const DEFAULT_SEGMENT_BYTES: u64 = 128 * 1024 * 1024;
/// Default bytes of log between two index entries.
pub const DEFAULT_INDEX_INTERVAL_BYTES: u32 = 4096;
/// Largest position an index entry can hold: a segment never grows past it.
pub const MAX_SEGMENT_BYTES: u64 = u32::MAX as u64;

/// Settings of one partition's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageConfig {
    /// Roll to a new segment when the active one would exceed this.
    pub segment_bytes: u64,
    /// Roll when the active segment is older than this (0: never).
    pub segment_ms: i64,
    pub index_interval_bytes: u32,
    /// Delete segments whose records are all older than this (0: keep).
    pub retention_ms: i64,
    /// Delete the oldest segments while the rest still holds this much (0: keep).
    pub retention_bytes: u64,
    /// Allocate the active segment's blocks up front.
    pub preallocate: bool,
}

impl StorageConfig {
    /// Disk a new partition with these settings takes at once (its first
    /// segment's first allocation step and index files).
    pub fn initial_disk_bytes(&self) -> u64 {
        segment::Segment::initial_disk_bytes(self.segment_bytes.min(MAX_SEGMENT_BYTES), self.index_interval_bytes)
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            segment_ms: 0,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            retention_ms: 0,
            retention_bytes: 0,
            preallocate: true,
        }
    }
}

/// A storage failure; what it means for the partition is in each variant.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O call failed; nothing past the last durable offset is promised.
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Stored bytes fail their checksum or framing; the data is kept as is.
    #[error("corrupt data in {segment} at byte position {position}: {detail}")]
    Corruption { segment: PathBuf, position: u64, detail: String },
    /// The offset is outside the stored range.
    #[error("offset {offset} is outside the stored range {start}..={end}")]
    OffsetOutOfRange { offset: u64, start: u64, end: u64 },
    /// A batch cannot fit any segment.
    #[error("batch of {size} bytes exceeds the segment limit of {limit} bytes")]
    BatchTooLarge { size: u64, limit: u64 },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io { path: path.to_owned(), source }
}

/// Bytes an unprivileged writer may still take on the filesystem of `dir`.
///
/// # Errors
/// `Io` when the filesystem cannot be asked.
pub fn available_disk_bytes(dir: &Path) -> Result<u64, StorageError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| io_err(dir)(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: statvfs writes the struct it is handed; `c` is a valid C string.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return Err(io_err(dir)(std::io::Error::last_os_error()));
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let st = unsafe { st.assume_init() };
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

/// Replaces `path` with `bytes` so a crash leaves the old or the new file,
/// never a mix: write `<path>.tmp`, fsync it, rename over `path`, fsync
/// the directory.
///
/// # Errors
/// `Io`; the previous file stays in place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => Ok(()),
    }
}

/// What recovery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    pub segments: usize,
    /// Bytes removed from the end of the last segment (torn or corrupt tail).
    pub truncated_bytes: u64,
    pub rebuilt_indexes: usize,
    /// Sealed segments whose data does not end where the next one begins.
    pub suspect_segments: Vec<PathBuf>,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: u64,
    pub next_offset: u64,
}

/// Everything needed to make appends so far durable, without the log's lock.
pub struct SyncTarget {
    pub end_offset: u64,
    file: Arc<std::fs::File>,
    path: PathBuf,
}

impl SyncTarget {
    /// fdatasync of the active segment (sealed segments were synced when sealed).
    ///
    /// # Errors
    /// `Io` if the sync fails.
    pub fn sync(&self) -> Result<(), StorageError> {
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

/// Bytes of whole batches from one segment, readable without the log's lock.
pub struct ReadSlice {
    map: Option<Arc<Mmap>>,
    start: usize,
    end: usize,
}

/// Page size for releasing read pages (x86-64 and aarch64 default).
const PAGE_BYTES: usize = 4096;

impl Drop for ReadSlice {
    /// Drops this process's page-table entries for the bytes read, so the
    /// server's resident memory does not grow with the data it serves; the
    /// pages stay in the kernel's page cache for the next reader.
    fn drop(&mut self) {
        if let Some(map) = &self.map {
            let start = self.start / PAGE_BYTES * PAGE_BYTES;
            if self.end > start {
                // SAFETY: a read-only MAP_SHARED file mapping: DONTNEED only unmaps
                // pages; any later access faults the same file contents back in.
                let _ =
                    unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, self.end - start) };
            }
        }
    }
}

impl ReadSlice {
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().map_or(&[], |m| &m[self.start..self.end])
    }

    /// No bytes.
    pub fn empty() -> Self {
        ReadSlice { map: None, start: 0, end: 0 }
    }
}

/// Lets a response hand the mapped bytes to QUIC without copying them
/// (`Bytes::from_owner`); the pages are released when QUIC drops them.
impl AsRef<[u8]> for ReadSlice {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

/// One partition's log.
pub struct PartitionLog {
    dir: PathBuf,
    cfg: StorageConfig,
    segments: Vec<Segment>,
    epochs: EpochTable,
    producers: ProducerStates,
}

impl PartitionLog {
    /// The partition's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Opens or creates the partition in `dir` and recovers it.
    ///
    /// # Errors
    /// `Io`, or `Corruption` of the epoch table.
    pub fn open(dir: &Path, cfg: StorageConfig) -> Result<(PartitionLog, RecoveryReport), StorageError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let (segments, report) = recover::recover(dir, &cfg)?;
        let mut epochs = EpochTable::load(dir)?;
        let end = segments.last().map_or(0, |s| s.next_offset);
        epochs.truncate_after(end)?;
        let mut log = PartitionLog { dir: dir.to_owned(), cfg, segments, epochs, producers: ProducerStates::default() };
        if log.segments.is_empty() {
            let seg = Segment::create(dir, 0, log.capacity_for(0), cfg.index_interval_bytes, cfg.preallocate)?;
            sync_dir(dir)?;
            log.segments.push(seg);
        }
        log.rebuild_producers()?;
        Ok((log, report))
    }

    /// Producer state from the newest snapshot plus every batch after it.
    fn rebuild_producers(&mut self) -> Result<(), StorageError> {
        let (from, state) = ProducerStates::load(&self.dir, self.log_end_offset())?.unwrap_or_default();
        self.producers = state;
        for seg in self.segments.iter().filter(|s| s.next_offset > from && s.size > 0) {
            let data = seg.data();
            let mut pos = seg.scan_start(from) as usize;
            while let Ok(Some((b, _))) = BatchView::split(&data[pos..]) {
                if b.base_offset() >= from {
                    self.producers.observe(&b);
                }
                pos += b.bytes().len();
            }
            if pos < data.len() {
                tracing::warn!(segment = %seg.path.display(), position = pos, "producer state rebuilt up to damaged data");
            }
        }
        Ok(())
    }

    /// Sequence state of the partition's idempotent producers.
    pub fn producers(&self) -> &ProducerStates {
        &self.producers
    }

    pub fn producers_mut(&mut self) -> &mut ProducerStates {
        &mut self.producers
    }

    fn capacity_for(&self, batch: u64) -> u64 {
        self.cfg.segment_bytes.max(batch).min(MAX_SEGMENT_BYTES)
    }

    fn active(&self) -> &Segment {
        self.segments.last().expect("a log always has an active segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments.last_mut().expect("a log always has an active segment")
    }

    /// The first segment's base; the log end when the only segment is an
    /// empty active one (a sealed segment compaction emptied keeps its base).
    pub fn log_start_offset(&self) -> u64 {
        match self.segments.as_slice() {
            [only] if only.size == 0 => only.next_offset,
            segments => segments.first().map_or(0, |s| s.base),
        }
    }

    /// Base offset of the active segment (where the sealed ones end).
    pub fn active_base(&self) -> u64 {
        self.active().base
    }

    pub fn log_end_offset(&self) -> u64 {
        self.active().next_offset
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub fn set_config(&mut self, cfg: StorageConfig) {
        self.cfg = cfg;
    }

    /// Stamps and appends a validated batch (no fsync).
    ///
    /// # Errors
    /// `BatchTooLarge` past `MAX_SEGMENT_BYTES`; `Io`.
    pub fn append(
        &mut self,
        batch: &mut [u8],
        epoch: u64,
        append_time_ms: i64,
        flags: u8,
    ) -> Result<AppendInfo, StorageError> {
        let len = batch.len() as u64;
        if len > MAX_SEGMENT_BYTES {
            return Err(StorageError::BatchTooLarge { size: len, limit: MAX_SEGMENT_BYTES });
        }
        let base_offset = self.log_end_offset();
        self.make_room(len, append_time_ms)?;
        stamp(batch, base_offset, epoch, append_time_ms, flags);
        let seg = self.active_mut();
        if seg.size == 0 {
            seg.created_ms = append_time_ms;
        }
        seg.write(batch)?;
        Ok(AppendInfo { base_offset, next_offset: seg.next_offset })
    }

    /// Rolls or grows the active segment so a batch of `len` bytes fits.
    fn make_room(&mut self, len: u64, append_time_ms: i64) -> Result<(), StorageError> {
        let a = self.active();
        let aged = self.cfg.segment_ms > 0 && a.size > 0 && append_time_ms - a.created_ms >= self.cfg.segment_ms;
        if a.size > 0 && (a.room() < len || a.indexes_full() || aged) {
            self.roll(len)?;
        } else if a.room() < len {
            let cap = self.capacity_for(len);
            let preallocate = self.cfg.preallocate;
            self.active_mut().reactivate(cap, preallocate)?;
        }
        Ok(())
    }

    /// Seals the active segment (synced) and starts a new one.
    fn roll(&mut self, next_batch: u64) -> Result<(), StorageError> {
        self.active_mut().seal()?;
        let base = self.log_end_offset();
        self.producers.snapshot(&self.dir, base)?;
        let seg = Segment::create(
            &self.dir,
            base,
            self.capacity_for(next_batch),
            self.cfg.index_interval_bytes,
            self.cfg.preallocate,
        )?;
        sync_dir(&self.dir)?;
        self.segments.push(seg);
        Ok(())
    }

    pub fn sync_target(&self) -> SyncTarget {
        let a = self.active();
        SyncTarget { end_offset: a.next_offset, file: a.file(), path: a.path.clone() }
    }

    /// Whole batches from the one containing `offset`, below `upper`, up to
    /// `max_bytes` (at least one batch), checksums verified: reading stops
    /// before a batch that fails its checksum, and a read that starts at one
    /// gets that batch alone, as it is (its reader reports it).
    ///
    /// # Errors
    /// `OffsetOutOfRange`; `Corruption` naming the segment and position.
    pub fn read(&self, offset: u64, max_bytes: usize, upper: u64) -> Result<ReadSlice, StorageError> {
        let (start, end) = (self.log_start_offset(), self.log_end_offset());
        if offset < start || offset > end {
            return Err(StorageError::OffsetOutOfRange { offset, start, end });
        }
        if offset >= end || offset >= upper {
            return Ok(ReadSlice::empty());
        }
        // Compaction may have left nothing at or after `offset` in its
        // segment (a hole at its end, or an emptied segment): the next one
        // holds the next records.
        let first = self.segments.partition_point(|s| s.base <= offset).saturating_sub(1);
        for seg in &self.segments[first..] {
            let slice = Self::read_segment(seg, offset, max_bytes, upper)?;
            if !slice.bytes().is_empty() || seg.base >= upper {
                return Ok(slice);
            }
        }
        Ok(ReadSlice::empty())
    }

    /// [`PartitionLog::read`] within one segment: empty when the segment
    /// holds nothing at or after `offset` below `upper`.
    fn read_segment(seg: &Segment, offset: u64, max_bytes: usize, upper: u64) -> Result<ReadSlice, StorageError> {
        let data = seg.data();
        let corrupt = |pos: usize, detail: String| StorageError::Corruption {
            segment: seg.path.clone(),
            position: pos as u64,
            detail,
        };
        let mut pos = seg.scan_start(offset) as usize;
        let mut first = None;
        while pos < data.len() {
            let batch = match BatchView::split(&data[pos..]) {
                Ok(Some((b, _))) if b.record_count() > 0 => b,
                Ok(_) => return Err(corrupt(pos, "batch truncated or empty".into())),
                Err(e) => return Err(corrupt(pos, e.message)),
            };
            let len = batch.bytes().len();
            if batch.base_offset() >= upper || (first.is_some() && pos + len - first.unwrap_or(0) > max_bytes) {
                break;
            }
            if batch.next_offset() > offset {
                if !batch.crc_ok() {
                    if first.is_some() {
                        break; // return what is good; the next read hands over the bad batch
                    }
                    // Alone and as it is: its reader reports it with its
                    // range (a follower refuses it), and reads after it go on.
                    tracing::error!(segment = %seg.path.display(), position = pos, offset = batch.base_offset(), "a stored batch fails its checksum");
                    return Ok(ReadSlice { map: seg.map_arc(), start: pos, end: pos + len });
                }
                first.get_or_insert(pos);
            }
            pos += len;
        }
        match first {
            Some(s) => Ok(ReadSlice { map: seg.map_arc(), start: s, end: pos }),
            None => Ok(ReadSlice::empty()),
        }
    }

    /// Where to look for the first record with timestamp >= `ts`: the bytes
    /// of the first segment holding a later timestamp, from the time
    /// index's start for `ts` ([`offset_for_timestamp_in`] scans them without
    /// the log's lock), and the segment's path.
    pub fn timestamp_candidates(&self, ts: i64) -> Option<(ReadSlice, PathBuf)> {
        let seg = self.segments.iter().find(|s| s.size > 0 && s.max_timestamp >= ts)?;
        let start = seg.scan_start(seg.time_scan_start(ts)) as usize;
        Some((ReadSlice { map: seg.map_arc(), start, end: seg.size as usize }, seg.path.clone()))
    }

    /// Deletes whole sealed segments past retention; rolls an aged active
    /// segment first. Returns the number deleted.
    ///
    /// # Errors
    /// `Io`.
    pub fn apply_retention(&mut self, now_ms: i64) -> Result<usize, StorageError> {
        let cfg = self.cfg;
        let a = self.active();
        if cfg.segment_ms > 0 && a.size > 0 && now_ms - a.created_ms >= cfg.segment_ms {
            self.roll(0)?;
        }
        let mut deleted = 0;
        while self.segments.len() > 1 {
            let first = &self.segments[0];
            let too_old = cfg.retention_ms > 0 && first.max_timestamp < now_ms - cfg.retention_ms;
            let too_big = cfg.retention_bytes > 0 && self.size_bytes() - first.size >= cfg.retention_bytes;
            if !(too_old || too_big) {
                break;
            }
            self.segments.remove(0).delete()?;
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Deletes the sealed segments whose records all lie below `offset`
    /// (data summarized elsewhere, as in a snapshot); returns how many.
    ///
    /// # Errors
    /// `Io`.
    pub fn delete_segments_below(&mut self, offset: u64) -> Result<usize, StorageError> {
        let mut deleted = 0;
        while self.segments.len() > 1 && self.segments[0].next_offset <= offset {
            self.segments.remove(0).delete()?;
            deleted += 1;
        }
        Ok(deleted)
    }

    pub fn leader_epoch(&self) -> u64 {
        self.epochs.latest()
    }

    /// Starts `epoch` at the current log end.
    ///
    /// # Errors
    /// `Corruption` if `epoch` does not increase; `Io`.
    pub fn begin_epoch(&mut self, epoch: u64) -> Result<(), StorageError> {
        let end = self.log_end_offset();
        self.epochs.begin(epoch, end)
    }

    /// Starts `epoch` at `start` (a follower copying the leader's epochs).
    fn begin_epoch_at(&mut self, epoch: u64, start: u64) -> Result<(), StorageError> {
        self.epochs.begin(epoch, start)
    }

    /// The largest epoch at or below `epoch` this log holds, and where it
    /// ends (the next epoch's start, or the log end); `None` when every
    /// epoch here is newer (`KIP-279` semantics).
    pub fn epoch_end_at_or_below(&self, epoch: u64) -> Option<(u64, u64)> {
        let found = self.epochs.entries().iter().rev().find(|(e, _)| *e <= epoch)?.0;
        Some((found, self.end_offset_for_epoch(found)?))
    }

    pub fn epoch_table(&self) -> Vec<(u64, u64)> {
        self.epochs.entries().to_vec()
    }

    /// Where `epoch` ended (the next epoch's start, or the log end).
    pub fn end_offset_for_epoch(&self, epoch: u64) -> Option<u64> {
        self.epochs.end_offset(epoch, self.log_end_offset())
    }

    /// Snapshots the producer state at the log end (a clean stop).
    ///
    /// # Errors
    /// `Io`.
    pub fn snapshot_producers(&self) -> Result<(), StorageError> {
        self.producers.snapshot(&self.dir, self.log_end_offset())
    }

    /// Seals the active segment (truncating its preallocated tail) and syncs.
    ///
    /// # Errors
    /// `Io`.
    pub fn close(mut self) -> Result<(), StorageError> {
        self.active_mut().seal()?;
        self.producers.snapshot(&self.dir, self.log_end_offset())
    }
}

#[cfg(test)]
mod tests;

/// First record with timestamp >= `ts` in `candidates` (from
/// [`PartitionLog::timestamp_candidates`]): `(offset, timestamp)`.
/// Compressed batches are decompressed here, off the append and fetch
/// paths and outside the log's lock. A compressed batch whose records do not
/// decode — a producer may have sent garbage under a valid checksum —
/// answers its own first offset and latest timestamp, where a consumer then
/// reports the bad batch.
///
/// # Errors
/// `Corruption` for damaged framing or an uncompressed record that does
/// not decode (the server checked those on append).
pub fn offset_for_timestamp_in(
    candidates: &ReadSlice,
    path: &Path,
    ts: i64,
) -> Result<Option<(u64, i64)>, StorageError> {
    let data = candidates.bytes();
    let corrupt = |pos: usize, detail: String| StorageError::Corruption {
        segment: path.to_owned(),
        position: pos as u64,
        detail,
    };
    let mut pos = 0;
    while pos < data.len() {
        let Ok(Some((batch, _))) = BatchView::split(&data[pos..]) else {
            return Err(corrupt(pos, "bad batch framing".into()));
        };
        if batch.effective_max_timestamp() >= ts && batch.crc_ok() {
            let found = match batch.compression() {
                Ok(pyralog_protocol::compression::Compression::None) => {
                    first_record_at_or_after(&batch, batch.records_section(), ts)
                        .map_err(|e| corrupt(pos, e.message))?
                }
                _ => match batch.decompressed() {
                    Ok(Some(records)) => first_record_at_or_after(&batch, &records, ts)
                        .unwrap_or(Some((batch.base_offset(), batch.effective_max_timestamp()))),
                    _ => Some((batch.base_offset(), batch.effective_max_timestamp())),
                },
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        pos += batch.bytes().len();
    }
    Ok(None)
}

/// The first record of `batch` (its records section `records`) stamped at
/// or after `ts`.
fn first_record_at_or_after(
    batch: &BatchView<'_>,
    records: &[u8],
    ts: i64,
) -> Result<Option<(u64, i64)>, pyralog_protocol::ProtocolError> {
    for r in batch.records_in(records) {
        let r = r?;
        if r.timestamp >= ts {
            return Ok(Some((r.offset, r.timestamp)));
        }
    }
    Ok(None)
}
