use std::path::Path;

use pyralog_protocol::batch::{BatchBuilder, BatchIter};

use super::*;

fn cfg() -> StorageConfig {
    StorageConfig { segment_bytes: 4096, index_interval_bytes: 256, ..StorageConfig::default() }
}

fn batch(values: &[&str], ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(256);
    for v in values {
        b.push(ts, None, v.as_bytes(), &[]).unwrap();
    }
    b.finish()
}

fn append_n(log: &mut PartitionLog, n: usize, size: usize) {
    for i in 0..n {
        let v = format!("{i:06}{}", "x".repeat(size.saturating_sub(6)));
        log.append(&mut batch(&[&v], 1000 + i as i64), 1, 5000 + i as i64, 0).unwrap();
    }
}

fn values(log: &PartitionLog, from: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut next = from;
    while next < log.log_end_offset() {
        let slice = log.read(next, 1 << 20, u64::MAX).unwrap();
        assert!(!slice.bytes().is_empty());
        for b in BatchIter::new(slice.bytes()) {
            for r in b.unwrap().records() {
                let r = r.unwrap();
                if r.offset >= next {
                    out.push((r.offset, String::from_utf8(r.value.to_vec()).unwrap()));
                }
            }
        }
        next = out.last().unwrap().0 + 1;
    }
    out
}

fn offset_for_timestamp(log: &PartitionLog, ts: i64) -> Option<(u64, i64)> {
    let (candidates, path) = log.timestamp_candidates(ts)?;
    offset_for_timestamp_in(&candidates, &path, ts).unwrap()
}

fn open(dir: &Path) -> PartitionLog {
    PartitionLog::open(dir, cfg()).unwrap().0
}

fn last_segment(dir: &Path) -> std::path::PathBuf {
    pyralog_testkit::segments(dir).pop().unwrap()
}

#[test]
fn appends_read_back_across_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 200, 100);
    assert!(log.segment_count() > 3);
    let got = values(&log, 0);
    assert_eq!(got.len(), 200);
    assert!(got.iter().enumerate().all(|(i, (o, v))| *o == i as u64 && v.starts_with(&format!("{i:06}"))));
    assert_eq!(values(&log, 137)[0].0, 137);
}

#[test]
fn read_from_inside_a_batch_returns_the_containing_batch_and_respects_upper_and_max() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.append(&mut batch(&["a", "b", "c"], 1), 1, 1, 0).unwrap();
    log.append(&mut batch(&["d"], 1), 1, 1, 0).unwrap();
    let s = log.read(1, 1 << 20, u64::MAX).unwrap();
    let batches: Vec<_> = BatchIter::new(s.bytes()).map(Result::unwrap).collect();
    assert_eq!((batches.len(), batches[0].base_offset()), (2, 0));
    let s = log.read(0, 1 << 20, 3).unwrap();
    assert_eq!(BatchIter::new(s.bytes()).count(), 1, "upper stops before offset 3");
    let s = log.read(0, 1, u64::MAX).unwrap();
    assert_eq!(BatchIter::new(s.bytes()).count(), 1, "at least one batch");
    assert!(log.read(4, 100, u64::MAX).unwrap().bytes().is_empty());
    assert!(matches!(log.read(5, 100, u64::MAX), Err(StorageError::OffsetOutOfRange { .. })));
}

#[test]
fn reopen_after_close_keeps_offsets_and_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.begin_epoch(1).unwrap();
    append_n(&mut log, 50, 100);
    log.begin_epoch(3).unwrap();
    append_n(&mut log, 10, 100);
    log.close().unwrap();
    let (log, report) = PartitionLog::open(dir.path(), cfg()).unwrap();
    assert_eq!(report.truncated_bytes, 0);
    assert_eq!(log.log_end_offset(), 60);
    assert_eq!(log.epoch_table(), vec![(1, 0), (3, 50)]);
    assert_eq!(log.end_offset_for_epoch(1), Some(50));
    assert_eq!(log.end_offset_for_epoch(3), Some(60));
    assert_eq!(log.end_offset_for_epoch(2), None);
    assert_eq!(values(&log, 0).len(), 60);
}

#[test]
fn given_torn_tail_when_reopened_should_truncate_to_last_valid_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 5, 100);
    let end = log.active().size;
    drop(log);
    let path = last_segment(dir.path());
    // Half of an extra batch after the valid data, as a torn write leaves it.
    let extra = batch(&["torn-record"], 1);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[end as usize..end as usize + extra.len() / 2].copy_from_slice(&extra[..extra.len() / 2]);
    std::fs::write(&path, bytes).unwrap();
    let (mut log, report) = PartitionLog::open(dir.path(), cfg()).unwrap();
    assert!(report.truncated_bytes > 0);
    assert_eq!(log.log_end_offset(), 5);
    let info = log.append(&mut batch(&["next"], 1), 1, 1, 0).unwrap();
    assert_eq!(info.base_offset, 5);
    assert_eq!(values(&log, 0).len(), 6);
}

#[test]
fn given_flipped_byte_in_last_batch_when_reopened_should_drop_that_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 3, 100);
    let end = log.active().size as usize;
    drop(log);
    let path = last_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[end - 5] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let log = open(dir.path());
    assert_eq!(log.log_end_offset(), 2);
}

#[test]
fn missing_and_damaged_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 200, 100);
    log.close().unwrap();
    let mut indexes: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "index"))
        .collect();
    indexes.sort();
    std::fs::remove_file(&indexes[0]).unwrap();
    std::fs::write(&indexes[1], [0xffu8; 13]).unwrap();
    let (log, report) = PartitionLog::open(dir.path(), cfg()).unwrap();
    assert!(report.rebuilt_indexes >= 3, "{report:?}");
    assert_eq!(values(&log, 0).len(), 200);
    assert_eq!(values(&log, 77)[0].0, 77);
}

#[test]
fn a_batch_that_fails_its_checksum_is_read_alone_and_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 200, 100);
    let first = log.segments[0].path.clone();
    drop(log);
    let mut bytes = std::fs::read(&first).unwrap();
    let (b, _) = BatchView::split(&bytes).unwrap().unwrap();
    let second_batch = b.bytes().len();
    bytes[second_batch + 90] ^= 0x01;
    std::fs::write(&first, bytes).unwrap();
    let log = open(dir.path());
    // Reading from 0 returns the good first batch and stops before the bad one.
    let s = log.read(0, 1 << 20, u64::MAX).unwrap();
    assert_eq!(BatchIter::new(s.bytes()).count(), 1);
    // A read at the bad batch gets it alone, as stored: its reader reports it.
    let s = log.read(1, 1 << 20, u64::MAX).unwrap();
    let bad: Vec<_> = BatchIter::new(s.bytes()).map(Result::unwrap).collect();
    assert_eq!(bad.len(), 1);
    assert!(!bad[0].crc_ok() && bad[0].base_offset() == 1);
    assert_eq!(values(&log, 150).len(), 50, "later segments still readable");
}

#[test]
fn retention_by_bytes_and_time_deletes_sealed_segments_and_moves_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 200, 100);
    let segments = log.segment_count();
    log.set_config(StorageConfig { retention_bytes: 8192, ..cfg() });
    let deleted = log.apply_retention(10_000).unwrap();
    assert!(deleted > 0 && log.segment_count() == segments - deleted);
    assert!(log.log_start_offset() > 0);
    assert!(log.size_bytes() >= 8192 - 4096);
    assert!(matches!(log.read(0, 100, u64::MAX), Err(StorageError::OffsetOutOfRange { .. })));
    assert_eq!(values(&log, log.log_start_offset())[0].0, log.log_start_offset());

    log.set_config(StorageConfig { retention_ms: 1000, ..cfg() });
    log.apply_retention(1_000_000).unwrap();
    assert_eq!(log.segment_count(), 1, "only the active segment stays");
    log.close().unwrap();
    let log = open(dir.path());
    assert!(log.log_start_offset() > 0);
    assert_eq!(log.log_end_offset(), 200);
}

#[test]
fn age_rolls_idle_segments_so_they_can_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut log =
        PartitionLog::open(dir.path(), StorageConfig { segment_ms: 100, retention_ms: 50, ..cfg() }).unwrap().0;
    log.append(&mut batch(&["old"], 1), 1, 1000, 0).unwrap();
    log.apply_retention(1200).unwrap();
    assert_eq!(log.segment_count(), 1);
    assert_eq!(log.log_start_offset(), 1);
    assert_eq!(log.log_end_offset(), 1);
    assert_eq!(log.append(&mut batch(&["new"], 2000), 1, 2000, 0).unwrap().base_offset, 1);
}

#[test]
fn offset_for_timestamp_finds_the_first_record_at_or_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 100, 100);
    assert_eq!(offset_for_timestamp(&log, 1050), Some((50, 1050)));
    assert_eq!(offset_for_timestamp(&log, 0), Some((0, 1000)));
    assert_eq!(offset_for_timestamp(&log, 5000), None);
}

#[test]
fn crash_mid_roll_with_an_empty_newest_segment_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 10, 100);
    let end = log.log_end_offset();
    drop(log);
    // A preallocated, never-written segment as a crash after creating it leaves.
    let f = std::fs::File::create(segment::log_path(dir.path(), end)).unwrap();
    f.set_len(4096).unwrap();
    let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
    assert_eq!(log.log_end_offset(), end);
    assert_eq!(log.append(&mut batch(&["after"], 1), 1, 1, 0).unwrap().base_offset, end);
    assert_eq!(values(&log, 0).len(), 11);
}

#[test]
fn a_batch_larger_than_a_segment_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_n(&mut log, 2, 100);
    let big = "y".repeat(10_000);
    log.append(&mut batch(&[&big], 1), 1, 1, 0).unwrap();
    append_n(&mut log, 2, 100);
    assert_eq!(values(&log, 0).len(), 5);
    log.close().unwrap();
    assert_eq!(values(&open(dir.path()), 2)[0].1.len(), 10_000);
}

fn keyed(key: &str, value: &str, ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(256);
    b.push(ts, Some(key.as_bytes()), value.as_bytes(), &[]).unwrap();
    b.finish()
}

/// `n` records cycling over `keys` keys, one batch each.
fn append_keyed(log: &mut PartitionLog, n: usize, keys: usize) {
    for i in 0..n {
        let v = format!("v{i:05}{}", "x".repeat(60));
        log.append(&mut keyed(&format!("k{}", i % keys), &v, 1000), 1, 5000, 0).unwrap();
    }
}

/// One compaction round over every sealed segment the map covers.
fn compact_once(log: &mut PartitionLog, max_keys: usize) -> usize {
    let sealed = log.sealed_segments();
    let map = compact::build_offset_map(&sealed, max_keys);
    for seg in &sealed[..map.segments_mapped] {
        if let Some((path, _)) = compact::clean_segment(log.dir(), seg, &map, i64::MIN).unwrap() {
            assert!(log.swap_cleaned(seg, &path).unwrap());
        }
    }
    map.segments_mapped
}

#[test]
fn compaction_keeps_offsets_reads_across_emptied_segments_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    append_keyed(&mut log, 300, 5);
    let (sealed, end) = (log.sealed_segments().len(), log.log_end_offset());
    assert!(sealed > 4, "{sealed} sealed segments");
    assert_eq!(compact_once(&mut log, 1_000), sealed);
    let after: Vec<(u64, String)> = values(&log, 0);
    assert!(after.len() < 300 - 200, "superseded records went: {} left", after.len());
    assert!(after.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, end), "offsets unchanged");
    // A read inside an emptied range continues with the next record.
    let first_hole = (0..end).find(|o| after.iter().all(|(a, _)| a != o)).unwrap();
    let from_hole = values(&log, first_hole);
    assert!(from_hole[0].0 > first_hole);
    drop(log);
    let log = open(dir.path());
    assert_eq!(values(&log, 0), after, "the same after reopening");
}

#[test]
fn a_small_offset_map_compacts_only_the_segments_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    // Every record its own key: a map of 40 keys covers the first segments only.
    append_keyed(&mut log, 300, usize::MAX);
    let sealed = log.sealed_segments().len();
    let mapped = compact_once(&mut log, 40);
    assert!(mapped >= 1 && mapped < sealed, "{mapped} of {sealed} segments fit 40 keys");
    assert_eq!(values(&log, 0).len(), 300, "unique keys all stay");
}
