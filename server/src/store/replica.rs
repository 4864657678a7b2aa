//! What a follower does to its log: append the leader's batches exactly as
//! the leader stored them, and cut a divergent tail.

use std::path::Path;

use pyralog_protocol::batch::BatchView;

use super::segment::log_path;
use super::{io_err, sync_dir, write_atomically, AppendInfo, PartitionLog, StorageError};

fn corrupt(dir: &Path, position: u64, detail: String) -> StorageError {
    StorageError::Corruption { segment: dir.to_owned(), position, detail }
}

impl PartitionLog {
    /// Appends a batch the leader already stamped (offsets, epoch, append
    /// time), without changing a byte. It may start past the log end: a
    /// compacted leader has gaps where whole batches went. A batch of a newer
    /// leader epoch starts that epoch in the epoch table; its producer is
    /// remembered.
    ///
    /// # Errors
    /// `Corruption` when the batch starts below the log end or fails its
    /// checksum (nothing is written); `Io`.
    pub fn append_replicated(&mut self, batch: &[u8]) -> Result<AppendInfo, StorageError> {
        let view = BatchView::new(batch).map_err(|e| corrupt(&self.dir, 0, e.message))?;
        let end = self.log_end_offset();
        if view.base_offset() < end || !view.crc_ok() || view.record_count() == 0 {
            return Err(corrupt(
                &self.dir,
                0,
                format!(
                    "replicated batch at offset {} does not continue the log at {end} or fails its checksum",
                    view.base_offset()
                ),
            ));
        }
        if view.leader_epoch() > self.leader_epoch() {
            self.begin_epoch_at(view.leader_epoch(), end)?;
        }
        self.make_room(batch.len() as u64, view.append_time_ms())?;
        let seg = self.active_mut();
        if seg.size == 0 {
            seg.created_ms = view.append_time_ms();
        }
        seg.write(batch)?;
        self.producers_mut().observe(&view);
        Ok(AppendInfo { base_offset: view.base_offset(), next_offset: self.log_end_offset() })
    }

    /// Removes every batch at or past `offset` (a batch that straddles it
    /// goes too) and reopens the log; returns the new log end. Files are
    /// replaced, never cut in place, so mappings held by readers stay
    /// valid; epochs that start at or past the new end and producer
    /// snapshots past it go.
    ///
    /// # Errors
    /// `Io`, or `Corruption` while scanning for the cut.
    pub fn truncate_in_place(&mut self, offset: u64) -> Result<u64, StorageError> {
        if offset >= self.log_end_offset() {
            // No record goes, but an epoch begun at the cut holds nothing the
            // leader knows of (a leader that wrote nothing in its epoch).
            self.epochs.drop_from(offset)?;
            return Ok(self.log_end_offset());
        }
        let cut = self.cut_position(offset)?;
        apply_cut(&self.dir, cut)?;
        let (log, _) = PartitionLog::open(&self.dir, self.cfg)?;
        *self = log;
        let end = self.log_end_offset();
        self.epochs.drop_from(end)?;
        Ok(end)
    }

    /// (segment base, byte position) where data at or past `offset` starts.
    fn cut_position(&self, offset: u64) -> Result<(u64, u64), StorageError> {
        let i = self.segments.partition_point(|s| s.base <= offset).saturating_sub(1);
        let seg = &self.segments[i];
        let data = seg.data();
        let mut pos = seg.scan_start(offset) as usize;
        while pos < data.len() {
            let b = match BatchView::split(&data[pos..]) {
                Ok(Some((b, _))) => b,
                _ => return Err(corrupt(&seg.path, pos as u64, "unreadable batch while truncating".into())),
            };
            if b.next_offset() > offset {
                break;
            }
            pos += b.bytes().len();
        }
        Ok((seg.base, pos as u64))
    }
}

/// Deletes the segments after the cut and rewrites the cut one's prefix.
fn apply_cut(dir: &Path, (base, pos): (u64, u64)) -> Result<(), StorageError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let seg_base = name.split('.').next().and_then(|s| s.parse::<u64>().ok());
        let is_segment_file = name.ends_with(".log") || name.ends_with(".index") || name.ends_with(".timeindex");
        if let Some(b) = seg_base.filter(|_| is_segment_file) {
            let later = b > base;
            let our_index = b == base && !name.ends_with(".log");
            if later || our_index {
                std::fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
    }
    let path = log_path(dir, base);
    let prefix = {
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        bytes[..(pos as usize).min(bytes.len())].to_vec()
    };
    write_atomically(&path, &prefix)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use pyralog_protocol::batch::{stamp, BatchBuilder, BatchView};

    use super::super::{PartitionLog, StorageConfig};

    fn batch(n: u32) -> Vec<u8> {
        let mut b = BatchBuilder::new(1024);
        for i in 0..n {
            b.push(1_000 + i64::from(i), None, format!("v{i}").as_bytes(), &[]).unwrap();
        }
        b.finish()
    }

    fn cfg() -> StorageConfig {
        StorageConfig { segment_bytes: 8 * 1024, preallocate: false, ..StorageConfig::default() }
    }

    #[test]
    fn replicated_batches_are_written_as_stamped_and_start_their_epochs() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
        let mut b = batch(3);
        stamp(&mut b, 0, 4, 77, 0);
        log.append_replicated(&b).unwrap();
        let mut behind = batch(1);
        stamp(&mut behind, 2, 4, 78, 0);
        assert!(log.append_replicated(&behind).is_err(), "a batch below the log end is refused");
        assert_eq!(log.log_end_offset(), 3);
        assert_eq!(log.epoch_table(), vec![(4, 0)]);
        let slice = log.read(0, 1 << 20, 3).unwrap();
        assert_eq!(slice.bytes(), &b[..], "byte-identical to the leader's batch");
        assert_eq!(BatchView::new(slice.bytes()).unwrap().append_time_ms(), 77);
    }

    #[test]
    fn a_gap_left_by_the_leaders_compaction_is_copied_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
        let mut first = batch(3);
        stamp(&mut first, 0, 4, 77, 0);
        log.append_replicated(&first).unwrap();
        let mut after_gap = batch(2);
        stamp(&mut after_gap, 9, 4, 78, 0);
        assert_eq!(log.append_replicated(&after_gap).unwrap().base_offset, 9);
        assert_eq!(log.log_end_offset(), 11);
        drop(log);
        let (log, report) = PartitionLog::open(dir.path(), cfg()).unwrap();
        assert_eq!((log.log_end_offset(), report.truncated_bytes), (11, 0), "recovery keeps the batch after the gap");
        let read = log.read(5, 1 << 20, 11).unwrap();
        assert_eq!(BatchView::new(read.bytes()).unwrap().base_offset(), 9, "a read inside the gap gets the next batch");
    }

    #[test]
    fn truncation_cuts_at_batch_boundaries_across_segments_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
        log.begin_epoch(1).unwrap();
        for _ in 0..400 {
            log.append(&mut batch(2), 1, 5, 0).unwrap();
        }
        assert!(log.segment_count() > 1);
        let mut log = log;
        assert_eq!(log.truncate_in_place(301).unwrap(), 300, "the batch holding 300 and 301 goes whole");
        drop(log);
        let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
        assert_eq!(log.log_end_offset(), 300);
        log.begin_epoch(2).unwrap();
        let info = log.append(&mut batch(1), 2, 6, 0).unwrap();
        assert_eq!(info.base_offset, 300);
        assert_eq!(log.epoch_table(), vec![(1, 0), (2, 300)]);
        assert_eq!(log.truncate_in_place(300).unwrap(), 300);
        assert_eq!(log.epoch_table(), vec![(1, 0)], "epoch 2 held nothing below the cut");
        assert_eq!(log.truncate_in_place(0).unwrap(), 0);
        assert_eq!(log.log_end_offset(), 0);
    }

    #[test]
    fn given_an_epoch_without_records_when_truncating_at_its_start_then_the_epoch_goes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = PartitionLog::open(dir.path(), cfg()).unwrap();
        log.begin_epoch(1).unwrap();
        log.append(&mut batch(3), 1, 5, 0).unwrap();
        log.begin_epoch(2).unwrap();
        assert_eq!(log.epoch_table(), vec![(1, 0), (2, 3)]);
        assert_eq!(log.truncate_in_place(3).unwrap(), 3, "no record goes");
        assert_eq!(log.epoch_table(), vec![(1, 0)], "the leader never heard of epoch 2");
        assert_eq!(log.leader_epoch(), 1);
    }
}
