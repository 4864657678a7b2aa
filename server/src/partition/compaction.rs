//! One compaction round of a partition (the steps are in
//! `store/compact.rs`): the segments are read and rewritten without the
//! partition's lock; only each swap takes it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::storage::compact::{self, OFFSET_MAP_ENTRY_BYTES};
use crate::storage::StorageError;

use super::Partition;

/// What a round may do.
#[derive(Debug, Clone, Copy)]
pub struct CompactionSettings {
    pub offset_map_bytes: u64,
    pub min_dirty_ratio: f64,
    /// Tombstones whose batch was appended before this (server ms) go.
    pub tombstones_before_ms: i64,
    /// Fault injection: pause between writing and swapping.
    pub stall_before_swap: Duration,
}

/// What a round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactionReport {
    pub segments_rewritten: usize,
    pub records_removed: u64,
    pub bytes_reclaimed: u64,
    /// Undecodable batches kept as they are in the rewritten segments.
    pub undecodable_kept: u64,
}

impl Partition {
    /// Compacts the sealed segments if enough was sealed since the last
    /// round (blocking I/O: call off the async workers). `None` when the
    /// round was skipped.
    ///
    /// # Errors
    /// `Io` (nothing is changed); undecodable batches are kept as they are.
    pub fn compact(&self, s: &CompactionSettings) -> Result<Option<CompactionReport>, StorageError> {
        let (dir, sealed, active_base) = {
            let st = self.storage.lock();
            let sealed = st.sealed_segments();
            let active_base = st.active_base();
            (st.dir().to_owned(), sealed, active_base)
        };
        let total: u64 = sealed.iter().map(|g| g.size()).sum();
        let cleaned_to = self.compacted_to.load(Ordering::Acquire);
        let dirty: u64 = sealed.iter().filter(|g| g.base >= cleaned_to).map(|g| g.size()).sum();
        if dirty == 0 || (dirty as f64) < s.min_dirty_ratio * total as f64 {
            return Ok(None);
        }
        let max_keys = (s.offset_map_bytes as usize / OFFSET_MAP_ENTRY_BYTES).max(1);
        let map = compact::build_offset_map(&sealed, max_keys);
        if map.segments_mapped == 0 {
            tracing::warn!(log = %self.log, partition = self.id, max_keys, "compaction: the first sealed segment has more keys than the offset map holds; raise [compaction] offset_map_bytes");
            return Ok(None);
        }
        let mapped = &sealed[..map.segments_mapped];
        let mut cleaned = Vec::new();
        for seg in mapped {
            if let Some(c) = compact::clean_segment(&dir, seg, &map, s.tombstones_before_ms)? {
                cleaned.push((seg, c));
            }
        }
        if !cleaned.is_empty() && !s.stall_before_swap.is_zero() {
            tracing::warn!(log = %self.log, partition = self.id, "compaction: stalling before the swap (fault injection)");
            std::thread::sleep(s.stall_before_swap);
        }
        let mut report = CompactionReport::default();
        for (seg, (path, stats)) in cleaned {
            if self.storage.lock().swap_cleaned(seg, &path)? {
                report.segments_rewritten += 1;
                report.records_removed += stats.records_removed;
                report.bytes_reclaimed += stats.bytes_before - stats.bytes_after;
                report.undecodable_kept += stats.undecodable_kept;
            }
        }
        let mapped_end = sealed.get(map.segments_mapped).map_or(active_base, |g| g.base);
        self.compacted_to.store(mapped_end, Ordering::Release);
        Ok(Some(report))
    }
}
