//! Log compaction: sealed segments keep only the newest record of each key.
//!
//! One round, for one partition:
//! 1. Under the log's lock, take the sealed segments (their mappings:
//!    sealed data never changes in place).
//! 2. Without the lock, map each key (a 16-byte hash) to its newest offset
//!    over the sealed segments, oldest first, until the map holds
//!    `max_keys`; only the segments mapped whole are cleaned this round.
//! 3. Rewrite each mapped segment whose records are not all newest into
//!    `<base>.log.cleaned`: a batch keeps its header (offset range, epoch,
//!    times, producer) and the kept records; a batch left empty goes.
//!    Offsets never change; what was dropped leaves holes readers skip.
//!    Keyless records stay. Tombstones (empty values) that are the newest of
//!    their key go once their batch is older than `delete_retention_ms`.
//!    A batch that fails its checksum or does not decode (stored before the
//!    server checked compressed records, or damaged on disk) is kept as it
//!    is and maps no key; so is the rest of a segment whose framing breaks.
//!    Compaction goes on around them and reports them; readers get
//!    `CorruptData` for exactly that batch.
//! 4. Under the lock, swap each cleaned file in if its segment is still the
//!    one that was read (a follower's truncation or retention may have
//!    replaced it meanwhile): delete its index files, rename the cleaned file
//!    over the segment, rebuild the indexes. A crash at any point leaves the
//!    old segment or the new one whole; recovery deletes `*.cleaned` files
//!    and rebuilds missing indexes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use pyralog_protocol::batch::{self, BatchIter, BatchView};

use super::segment::{log_path, Segment};
use super::{io_err, sync_dir, PartitionLog, RecoveryReport, StorageError};

/// Suffix of a segment rewritten by compaction, before it is swapped in.
pub const CLEANED_SUFFIX: &str = ".cleaned";
/// Bytes one offset-map entry costs: a 16-byte key hash, an 8-byte offset,
/// and the hash table's own share (what `compaction_offset_map_bytes` is
/// divided by).
pub const OFFSET_MAP_ENTRY_BYTES: usize = 48;

/// A sealed segment as compaction reads it, without the log's lock.
pub struct SealedSegment {
    pub base: u64,
    map: Option<Arc<Mmap>>,
    size: usize,
}

impl SealedSegment {
    fn data(&self) -> &[u8] {
        self.map.as_deref().map_or(&[], |m| &m[..self.size])
    }

    pub fn size(&self) -> u64 {
        self.size as u64
    }
}

type KeyHash = [u8; 16];

fn key_hash(key: &[u8]) -> KeyHash {
    let d = ring::digest::digest(&ring::digest::SHA256, key);
    d.as_ref()[..16].try_into().expect("16 of 32 bytes")
}

/// Each key's newest offset over the segments mapped so far.
pub struct OffsetMap {
    newest: HashMap<KeyHash, u64>,
    /// Segments mapped whole (from the first): the ones cleaned this round.
    pub segments_mapped: usize,
}

/// A batch's records as compaction reads them, or why it keeps the batch
/// as it is.
fn readable<'a>(b: &BatchView<'a>) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if !b.crc_ok() {
        return Err(format!("the batch at offset {} fails its checksum", b.base_offset()));
    }
    b.plain_records().map_err(|e| format!("the batch at offset {}: {}", b.base_offset(), e.message))
}

fn kept_as_is(seg: &SealedSegment, dir: &Path, why: &str) {
    tracing::warn!(segment = %log_path(dir, seg.base).display(), why, "compaction keeps an undecodable batch as it is");
}

/// Maps keys to their newest offsets over `segments`, stopping before the
/// segment that would take the map past `max_keys` keys. Batches that do
/// not decode map nothing (module docs).
pub fn build_offset_map(segments: &[SealedSegment], max_keys: usize) -> OffsetMap {
    let mut map = OffsetMap { newest: HashMap::new(), segments_mapped: 0 };
    for seg in segments {
        let mut staged: Vec<(KeyHash, u64)> = Vec::new();
        for b in BatchIter::new(seg.data()) {
            let Ok(b) = b else { break };
            let Ok(records) = readable(&b) else { continue };
            let before = staged.len();
            for r in b.records_in(&records) {
                let Ok(r) = r else {
                    staged.truncate(before);
                    break;
                };
                if let Some(k) = r.key {
                    staged.push((key_hash(k), r.offset));
                }
            }
        }
        let new_keys = staged.iter().filter(|(k, _)| !map.newest.contains_key(k)).count();
        if map.newest.len() + new_keys > max_keys {
            break;
        }
        map.newest.extend(staged);
        map.segments_mapped += 1;
    }
    map
}

/// What cleaning one segment did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleaned {
    pub records_removed: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Batches (or a segment's unframed rest) kept as they are because they
    /// do not decode.
    pub undecodable_kept: u64,
}

/// Writes the cleaned form of `seg` to `<base>.log.cleaned` (fsynced);
/// `None` when every record stays.
///
/// # Errors
/// `Corruption` for undecodable data; `Io`.
pub fn clean_segment(
    dir: &Path,
    seg: &SealedSegment,
    map: &OffsetMap,
    tombstones_before_ms: i64,
) -> Result<Option<(PathBuf, Cleaned)>, StorageError> {
    let mut out = Vec::with_capacity(seg.size);
    let (mut removed, mut undecodable) = (0u64, 0u64);
    let mut pos = 0usize;
    for b in BatchIter::new(seg.data()) {
        let Ok(b) = b else {
            kept_as_is(seg, dir, &format!("unframed bytes from position {pos} to the segment's end"));
            out.extend_from_slice(&seg.data()[pos..]);
            undecodable += 1;
            break;
        };
        pos += b.bytes().len();
        match clean_batch(&b, map, tombstones_before_ms) {
            Ok((None, dropped)) => {
                out.extend_from_slice(b.bytes());
                removed += dropped;
            }
            Ok((Some(rebuilt), dropped)) => {
                out.extend_from_slice(&rebuilt);
                removed += dropped;
            }
            Err(why) => {
                kept_as_is(seg, dir, &why);
                out.extend_from_slice(b.bytes());
                undecodable += 1;
            }
        }
    }
    if removed == 0 {
        return Ok(None);
    }
    let path = cleaned_path(dir, seg.base);
    let mut f = std::fs::File::create(&path).map_err(io_err(&path))?;
    f.write_all(&out).and_then(|()| f.sync_all()).map_err(io_err(&path))?;
    let stats = Cleaned {
        records_removed: removed,
        bytes_before: seg.size as u64,
        bytes_after: out.len() as u64,
        undecodable_kept: undecodable,
    };
    Ok(Some((path, stats)))
}

/// One batch cleaned: `None` when it stays whole, else its rebuilt bytes
/// (empty when no record stays), and how many records went.
///
/// # Errors
/// Why the batch does not decode (it is then kept as it is).
fn clean_batch(
    b: &BatchView<'_>,
    map: &OffsetMap,
    tombstones_before_ms: i64,
) -> Result<(Option<Vec<u8>>, u64), String> {
    let records = readable(b)?;
    let (mut kept, mut count, mut dropped) = (Vec::with_capacity(records.len()), 0u32, 0u64);
    for r in b.records_in(&records) {
        let r = r.map_err(|e| format!("the batch at offset {}: {}", b.base_offset(), e.message))?;
        let keep = match r.key {
            None => true,
            Some(k) => {
                let newest = map.newest.get(&key_hash(k)).is_none_or(|&o| o == r.offset);
                let expired_tombstone = r.value.is_empty() && b.append_time_ms() < tombstones_before_ms;
                newest && !expired_tombstone
            }
        };
        if keep {
            kept.extend_from_slice(r.encoded);
            count += 1;
        } else {
            dropped += 1;
        }
    }
    match (count == b.record_count(), count) {
        (true, _) => Ok((None, 0)),
        (false, 0) => Ok((Some(Vec::new()), dropped)),
        (false, _) => {
            let codec = b.compression().map_err(|e| e.message)?;
            Ok((Some(batch::rebuild(b, &kept, count, codec)), dropped))
        }
    }
}

pub fn cleaned_path(dir: &Path, base: u64) -> PathBuf {
    let mut p = log_path(dir, base).into_os_string();
    p.push(CLEANED_SUFFIX);
    PathBuf::from(p)
}

impl PartitionLog {
    /// The sealed segments (every one but the active), readable without
    /// the lock.
    pub fn sealed_segments(&self) -> Vec<SealedSegment> {
        let n = self.segments.len().saturating_sub(1);
        self.segments[..n]
            .iter()
            .map(|s| SealedSegment { base: s.base, map: s.map_arc(), size: s.size as usize })
            .collect()
    }

    /// Swaps the cleaned file of `seg` in, if `seg` is still the segment
    /// this log holds at its base; otherwise deletes the cleaned file.
    /// Returns whether it was swapped.
    ///
    /// # Errors
    /// `Io`; the old segment or the new one is then in place whole.
    pub fn swap_cleaned(&mut self, seg: &SealedSegment, cleaned: &Path) -> Result<bool, StorageError> {
        let last = self.segments.len().saturating_sub(1);
        let Some(i) = self.segments[..last]
            .iter()
            .position(|s| s.base == seg.base && s.size as usize == seg.size && same_map(&s.map_arc(), &seg.map))
        else {
            std::fs::remove_file(cleaned).map_err(io_err(cleaned))?;
            return Ok(false);
        };
        let next_base = self.segments[i + 1].base;
        self.segments[i].delete_indexes()?;
        sync_dir(&self.dir)?;
        let path = log_path(&self.dir, seg.base);
        std::fs::rename(cleaned, &path).map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        let (mut fresh, _) = Segment::open(&self.dir, seg.base, self.cfg.index_interval_bytes)?;
        super::recover::recover_sealed(&self.dir, &mut fresh, false, next_base, &mut RecoveryReport::default())?;
        self.segments[i] = fresh;
        Ok(true)
    }
}

fn same_map(a: &Option<Arc<Mmap>>, b: &Option<Arc<Mmap>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}
