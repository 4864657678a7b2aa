//! Opening a partition directory after a clean stop or a crash.

use std::path::{Path, PathBuf};

use pyralog_protocol::batch::{BatchView, MAGIC};

use super::segment::Segment;
use super::{io_err, RecoveryReport, StorageConfig, StorageError};

/// Base offsets of the segment files in `dir`, sorted; removes leftovers of
/// interrupted writes (`*.tmp`, indexes without a segment).
fn segment_bases(dir: &Path) -> Result<Vec<u64>, StorageError> {
    let mut bases = Vec::new();
    let mut others: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name.ends_with(".tmp") || name.ends_with(super::compact::CLEANED_SUFFIX) {
            let _ = std::fs::remove_file(&path);
        } else if let Some(stem) = name.strip_suffix(".log") {
            if let Ok(base) = stem.parse::<u64>() {
                bases.push(base);
            }
        } else if name.ends_with(".index") || name.ends_with(".timeindex") {
            others.push(path);
        }
    }
    bases.sort_unstable();
    for p in others {
        let stem = p.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok());
        if stem.is_none_or(|b| bases.binary_search(&b).is_err()) {
            let _ = std::fs::remove_file(&p);
        }
    }
    Ok(bases)
}

/// Recovers every segment; the last becomes the active one.
pub(super) fn recover(dir: &Path, cfg: &StorageConfig) -> Result<(Vec<Segment>, RecoveryReport), StorageError> {
    let bases = segment_bases(dir)?;
    let mut report = RecoveryReport { segments: bases.len(), ..RecoveryReport::default() };
    let mut segments = Vec::with_capacity(bases.len());
    for (i, &base) in bases.iter().enumerate() {
        let (mut seg, loaded) = Segment::open(dir, base, cfg.index_interval_bytes)?;
        match bases.get(i + 1) {
            Some(&next) => recover_sealed(dir, &mut seg, loaded, next, &mut report)?,
            None => recover_active(dir, &mut seg, cfg, &mut report)?,
        }
        segments.push(seg);
    }
    if report.truncated_bytes > 0 || !report.suspect_segments.is_empty() {
        tracing::warn!(dir = %dir.display(), ?report, "recovered partition");
    }
    Ok((segments, report))
}

/// Bytes compared at once when looking for the end of a zero-filled tail.
const ZERO_SCAN_BYTES: usize = 64 * 1024;
static ZEROS: [u8; ZERO_SCAN_BYTES] = [0; ZERO_SCAN_BYTES];

/// Length of `buf` without its all-zero tail (a preallocated segment is
/// mostly zeros: compared block-wise, as memcmp, not byte by byte).
fn nonzero_len(buf: &[u8]) -> usize {
    let mut end = buf.len();
    for block in buf.rchunks(ZERO_SCAN_BYTES) {
        if block != &ZEROS[..block.len()] {
            return end - block.len() + block.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        }
        end -= block.len();
    }
    0
}

/// Whether `b` is a plausible next batch at or after `expected` (framing
/// only; a follower copying a compacted leader appends batches with gaps
/// between them).
fn plausible(b: &BatchView<'_>, expected: Option<u64>) -> bool {
    b.magic() == MAGIC && b.record_count() > 0 && expected.is_none_or(|e| b.base_offset() >= e)
}

/// Scans the last segment from its start, verifying checksums and that
/// offsets rise; truncates at the first bad batch and rebuilds its indexes.
fn recover_active(
    dir: &Path,
    seg: &mut Segment,
    cfg: &StorageConfig,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let file_len = seg.mapped().len() as u64;
    let capacity = cfg.segment_bytes.max(file_len).min(super::MAX_SEGMENT_BYTES);
    seg.reset_indexes(dir, seg.index_slots_for(capacity))?;
    report.rebuilt_indexes += 1;
    let (mut pos, mut expected, mut first_time) = (0usize, seg.base, None);
    // A handle on the mapping, so the segment can be updated while scanning it.
    let map = seg.map_arc();
    let data: &[u8] = map.as_deref().map_or(&[], |m| &m[..]);
    while let Ok(Some((b, _))) = BatchView::split(&data[pos..]) {
        if !plausible(&b, Some(expected)) || !b.crc_ok() {
            break;
        }
        first_time.get_or_insert(b.append_time_ms());
        expected = b.next_offset();
        seg.note_batch(pos as u64, &b);
        pos += b.bytes().len();
    }
    let garbage = nonzero_len(&data[pos..]);
    report.truncated_bytes += garbage as u64;
    drop(map);
    seg.size = pos as u64;
    seg.next_offset = expected;
    seg.created_ms = first_time.unwrap_or(0);
    seg.reactivate(capacity, cfg.preallocate)
}

/// Keeps a sealed segment's data as it is; checks (or rebuilds) its indexes
/// and finds where its data ends. Only an all-zero tail (a crash between
/// rolling and truncating) is cut; anything else is reported as suspect and
/// left for reads to report precisely.
pub(super) fn recover_sealed(
    dir: &Path,
    seg: &mut Segment,
    loaded: bool,
    next_base: u64,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let file_len = seg.mapped().len() as u64;
    let sane = loaded && index_sane(seg, file_len, next_base);
    let mut pos = if sane {
        let n = seg.offsets().len();
        let ts = n.checked_sub(1).map_or(i64::MIN, |i| seg.times().pair_i64_u32(i).0);
        seg.max_timestamp = ts;
        n.checked_sub(1).map_or(0, |i| seg.offsets().pair_u32(i).1 as usize)
    } else {
        seg.reset_indexes(dir, seg.index_slots_for(file_len))?;
        report.rebuilt_indexes += 1;
        0
    };
    let map = seg.map_arc();
    let data: &[u8] = map.as_deref().map_or(&[], |m| &m[..]);
    while let Ok(Some((b, _))) = BatchView::split(&data[pos..]) {
        if !plausible(&b, None) || b.base_offset() < seg.base || b.next_offset() > next_base {
            break;
        }
        seg.note_batch(pos as u64, &b);
        pos += b.bytes().len();
    }
    let all_zero_tail = nonzero_len(&data[pos..]) == 0;
    drop(map);
    seg.next_offset = next_base;
    if all_zero_tail {
        seg.size = pos as u64;
        if pos as u64 != file_len || !sane {
            seg.seal()?;
        }
    } else {
        seg.size = file_len;
        report.suspect_segments.push(seg.path.clone());
        tracing::error!(segment = %seg.path.display(), position = pos, "sealed segment is damaged; reads of it will fail");
    }
    Ok(())
}

fn index_sane(seg: &Segment, file_len: u64, next_base: u64) -> bool {
    let (o, t) = (seg.offsets(), seg.times());
    let span = next_base.saturating_sub(seg.base);
    let mut prev: Option<(u32, u32, i64)> = None;
    for i in 0..o.len() {
        let (rel, pos) = o.pair_u32(i);
        let (ts, trel) = t.pair_i64_u32(i);
        if trel != rel || u64::from(pos) >= file_len || u64::from(rel) >= span.max(1) {
            return false;
        }
        if let Some((prel, ppos, pts)) = prev {
            if rel <= prel || pos <= ppos || ts < pts {
                return false;
            }
        }
        prev = Some((rel, pos, ts));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonzero_length_ignores_a_zero_tail_of_any_size() {
        assert_eq!(nonzero_len(&[]), 0);
        assert_eq!(nonzero_len(&[0; 10]), 0);
        let mut buf = vec![0u8; 3 * ZERO_SCAN_BYTES + 17];
        buf[5] = 1;
        assert_eq!(nonzero_len(&buf), 6);
        buf[2 * ZERO_SCAN_BYTES + 3] = 9;
        assert_eq!(nonzero_len(&buf), 2 * ZERO_SCAN_BYTES + 4);
        let last = buf.len() - 1;
        buf[last] = 1;
        assert_eq!(nonzero_len(&buf), buf.len());
    }
}
