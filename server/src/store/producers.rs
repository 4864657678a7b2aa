//! Per-partition producer state: what makes a retried batch land once.
//!
//! For every idempotent producer that wrote to the partition we keep its
//! epoch and its last `MAX_IN_FLIGHT_BATCHES_PER_PARTITION` batches (VLSN
//! range and where they were written). A batch is then a duplicate (answer
//! with the original offsets), the next one (append), a gap
//! (`OutOfOrderSequence`) or from a fenced epoch (`ProducerFenced`).
//!
//! The state is snapshotted when a segment rolls and when the log closes,
//! and rebuilt on open from the newest usable snapshot plus the batches
//! written after it, so it survives a crash:
//!
//! ```text
//! <offset:020>.producers   state as of `offset` (the log end when written)
//!   magic "PYPS" | version u16 | offset u64 | producer_count u32
//!   per producer: id u64 | epoch u16 | batch_count u8 |
//!     per batch: base_vlsn u64 | record_count u32 | base_offset u64 |
//!                leader_epoch u64 | append_time_ms i64
//!   crc32 of everything before it (u32)      all integers little-endian
//! ```

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use pyralog_protocol::batch::{BatchView, NO_PRODUCER_ID};
use pyralog_protocol::limits::{MAX_IN_FLIGHT_BATCHES_PER_PARTITION, MAX_PRODUCERS_PER_PARTITION};
use pyralog_protocol::{ErrorCode, ProtocolError};

use super::{io_err, write_atomically, StorageError};

const MAGIC: &[u8; 4] = b"PYPS";
const VERSION: u16 = 1;
const SUFFIX: &str = ".producers";
/// Snapshots kept on disk: the newest, and one before it in case the newest
/// turns out to be past a truncated tail.
const SNAPSHOTS_KEPT: usize = 2;
const ENTRY_HEADER_BYTES: usize = 8 + 2 + 1;
const BATCH_BYTES: usize = 8 + 4 + 8 + 8 + 8;

/// Where one batch of a producer was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenBatch {
    pub base_vlsn: u64,
    pub record_count: u32,
    pub base_offset: u64,
    pub leader_epoch: u64,
    pub append_time_ms: i64,
}

impl WrittenBatch {
    fn next_vlsn(&self) -> u64 {
        self.base_vlsn + u64::from(self.record_count)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Producer {
    epoch: u16,
    batches: VecDeque<WrittenBatch>,
}

/// What to do with an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequencing {
    /// Not idempotent, or the next batch of its producer: write it.
    Append,
    /// Already written: answer with where it went, write nothing.
    Duplicate(WrittenBatch),
}

/// The producer identity a batch carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProducer {
    pub id: u64,
    pub epoch: u16,
    pub base_vlsn: u64,
    pub record_count: u32,
}

impl BatchProducer {
    pub fn of(b: &BatchView<'_>) -> Self {
        BatchProducer {
            id: b.producer_id(),
            epoch: b.producer_epoch(),
            base_vlsn: b.base_vlsn(),
            record_count: b.record_count(),
        }
    }

    pub fn is_idempotent(&self) -> bool {
        self.id != NO_PRODUCER_ID
    }
}

/// Sequence state of every producer of one partition.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProducerStates {
    producers: HashMap<u64, Producer>,
}

impl ProducerStates {
    /// Decides what an incoming batch is.
    ///
    /// # Errors
    /// `ProducerFenced` (older epoch), `OutOfOrderSequence` (gap, or a
    /// sequence too old to still be remembered), `UnknownProducer` (no state
    /// and not starting at VLSN 0).
    pub fn check(&self, b: &BatchProducer) -> Result<Sequencing, ProtocolError> {
        if !b.is_idempotent() {
            return Ok(Sequencing::Append);
        }
        let Some(p) = self.producers.get(&b.id) else {
            if b.base_vlsn == 0 {
                return Ok(Sequencing::Append);
            }
            return Err(ProtocolError::new(
                ErrorCode::UnknownProducer,
                format!(
                    "no sequence state for producer {} (first VLSN {}): initialize a new producer",
                    b.id, b.base_vlsn
                ),
            ));
        };
        if b.epoch < p.epoch {
            return Err(ProtocolError::new(
                ErrorCode::ProducerFenced,
                format!("producer {} epoch {} is fenced by epoch {}", b.id, b.epoch, p.epoch),
            ));
        }
        if b.epoch > p.epoch {
            return match b.base_vlsn {
                0 => Ok(Sequencing::Append),
                v => Err(out_of_order(b, v, 0)),
            };
        }
        if let Some(w) = p.batches.iter().find(|w| w.base_vlsn == b.base_vlsn && w.record_count == b.record_count) {
            return Ok(Sequencing::Duplicate(*w));
        }
        let expected = p.batches.back().map_or(0, WrittenBatch::next_vlsn);
        if b.base_vlsn == expected {
            Ok(Sequencing::Append)
        } else {
            Err(out_of_order(b, b.base_vlsn, expected))
        }
    }

    /// Whether `b` starts past the next expected VLSN of its producer and
    /// epoch — it may have overtaken a batch still on its way.
    pub fn is_ahead(&self, b: &BatchProducer) -> bool {
        if !b.is_idempotent() || b.base_vlsn == 0 {
            return false;
        }
        match self.producers.get(&b.id) {
            None => true,
            Some(p) if p.epoch == b.epoch => b.base_vlsn > p.batches.back().map_or(0, WrittenBatch::next_vlsn),
            Some(_) => false,
        }
    }

    /// Records a batch written for producer `b`.
    pub fn record(&mut self, b: &BatchProducer, written: WrittenBatch) {
        if !b.is_idempotent() {
            return;
        }
        if !self.producers.contains_key(&b.id) && self.producers.len() >= MAX_PRODUCERS_PER_PARTITION {
            self.evict_least_recent();
        }
        let p = self.producers.entry(b.id).or_insert(Producer { epoch: b.epoch, batches: VecDeque::new() });
        if b.epoch != p.epoch {
            p.epoch = b.epoch;
            p.batches.clear();
        }
        if p.batches.len() == MAX_IN_FLIGHT_BATCHES_PER_PARTITION {
            p.batches.pop_front();
        }
        p.batches.push_back(written);
    }

    /// Replays a stored batch (recovery).
    pub fn observe(&mut self, b: &BatchView<'_>) {
        let who = BatchProducer::of(b);
        let written = WrittenBatch {
            base_vlsn: who.base_vlsn,
            record_count: who.record_count,
            base_offset: b.base_offset(),
            leader_epoch: b.leader_epoch(),
            append_time_ms: b.append_time_ms(),
        };
        self.record(&who, written);
    }

    fn evict_least_recent(&mut self) {
        let oldest =
            self.producers.iter().min_by_key(|(_, p)| p.batches.back().map_or(0, |w| w.base_offset)).map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.producers.remove(&id);
        }
    }

    /// Producers with state in this partition.
    pub fn producer_count(&self) -> usize {
        self.producers.len()
    }

    /// Writes the state as of log offset `offset` (temp file, fsync, rename)
    /// and removes snapshots beyond the newest `SNAPSHOTS_KEPT`.
    ///
    /// # Errors
    /// `Io`.
    pub fn snapshot(&self, dir: &Path, offset: u64) -> Result<(), StorageError> {
        write_atomically(&snapshot_path(dir, offset), &self.encode(offset))?;
        let mut all = snapshot_offsets(dir)?;
        all.sort_unstable();
        let stale = all.len().saturating_sub(SNAPSHOTS_KEPT);
        for o in &all[..stale] {
            let _ = std::fs::remove_file(snapshot_path(dir, *o));
        }
        Ok(())
    }

    fn encode(&self, offset: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(18 + self.producers.len() * (ENTRY_HEADER_BYTES + BATCH_BYTES));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(self.producers.len() as u32).to_le_bytes());
        let mut ids: Vec<_> = self.producers.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let p = &self.producers[&id];
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&p.epoch.to_le_bytes());
            out.push(p.batches.len() as u8);
            for w in &p.batches {
                out.extend_from_slice(&w.base_vlsn.to_le_bytes());
                out.extend_from_slice(&w.record_count.to_le_bytes());
                out.extend_from_slice(&w.base_offset.to_le_bytes());
                out.extend_from_slice(&w.leader_epoch.to_le_bytes());
                out.extend_from_slice(&w.append_time_ms.to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<(u64, ProducerStates)> {
        let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?) {
            return None;
        }
        let mut r = Reader(body);
        if r.take(4)? != MAGIC || r.u16()? != VERSION {
            return None;
        }
        let offset = r.u64()?;
        let count = r.u32()? as usize;
        if count > MAX_PRODUCERS_PER_PARTITION {
            return None;
        }
        let mut producers = HashMap::with_capacity(count);
        for _ in 0..count {
            let (id, epoch, n) = (r.u64()?, r.u16()?, r.take(1)?[0] as usize);
            if n > MAX_IN_FLIGHT_BATCHES_PER_PARTITION {
                return None;
            }
            let mut batches = VecDeque::with_capacity(n);
            for _ in 0..n {
                batches.push_back(WrittenBatch {
                    base_vlsn: r.u64()?,
                    record_count: r.u32()?,
                    base_offset: r.u64()?,
                    leader_epoch: r.u64()?,
                    append_time_ms: r.u64()? as i64,
                });
            }
            producers.insert(id, Producer { epoch, batches });
        }
        r.0.is_empty().then_some((offset, ProducerStates { producers }))
    }

    /// The newest intact snapshot at or below `log_end`: its offset and
    /// state. Snapshots past `log_end` (a truncated tail) are removed.
    ///
    /// # Errors
    /// `Io` listing the directory.
    pub fn load(dir: &Path, log_end: u64) -> Result<Option<(u64, ProducerStates)>, StorageError> {
        let mut offsets = snapshot_offsets(dir)?;
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        for o in offsets {
            let path = snapshot_path(dir, o);
            if o > log_end {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            match std::fs::read(&path).ok().and_then(|b| Self::decode(&b)) {
                Some((at, state)) if at == o => return Ok(Some((o, state))),
                _ => tracing::warn!(path = %path.display(), "ignoring unreadable producer snapshot"),
            }
        }
        Ok(None)
    }
}

fn out_of_order(b: &BatchProducer, got: u64, expected: u64) -> ProtocolError {
    let why = if got < expected { "is older than the batches still remembered" } else { "leaves a gap" };
    ProtocolError::new(
        ErrorCode::OutOfOrderSequence,
        format!("producer {} epoch {}: batch at VLSN {got} {why}; expected VLSN {expected}", b.id, b.epoch),
    )
}

fn snapshot_path(dir: &Path, offset: u64) -> PathBuf {
    dir.join(format!("{offset:020}{SUFFIX}"))
}

fn snapshot_offsets(dir: &Path) -> Result<Vec<u64>, StorageError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let name = entry.map_err(io_err(dir))?.file_name();
        if let Some(o) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)).and_then(|s| s.parse().ok()) {
            out.push(o);
        }
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(id: u64, epoch: u16, base_vlsn: u64, record_count: u32) -> BatchProducer {
        BatchProducer { id, epoch, base_vlsn, record_count }
    }

    fn at(base_vlsn: u64, record_count: u32, base_offset: u64) -> WrittenBatch {
        WrittenBatch { base_vlsn, record_count, base_offset, leader_epoch: 1, append_time_ms: 7 }
    }

    fn code(r: Result<Sequencing, ProtocolError>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn given_written_batches_when_checked_should_tell_next_duplicate_gap_and_fenced() {
        let mut s = ProducerStates::default();
        assert_eq!(s.check(&who(1, 0, 0, 10)).unwrap(), Sequencing::Append);
        s.record(&who(1, 0, 0, 10), at(0, 10, 100));
        s.record(&who(1, 0, 10, 5), at(10, 5, 110));
        assert_eq!(s.check(&who(1, 0, 15, 3)).unwrap(), Sequencing::Append);
        assert!(s.is_ahead(&who(1, 0, 16, 3)) && !s.is_ahead(&who(1, 0, 15, 3)) && !s.is_ahead(&who(1, 0, 5, 3)));
        assert!(s.is_ahead(&who(7, 0, 4, 1)), "a first batch that overtook the producer's very first");
        assert_eq!(s.check(&who(1, 0, 0, 10)).unwrap(), Sequencing::Duplicate(at(0, 10, 100)));
        assert_eq!(code(s.check(&who(1, 0, 16, 3))), ErrorCode::OutOfOrderSequence);
        assert_eq!(code(s.check(&who(1, 0, 5, 3))), ErrorCode::OutOfOrderSequence);
        assert_eq!(code(s.check(&who(2, 0, 4, 1))), ErrorCode::UnknownProducer);
        assert_eq!(s.check(&who(1, 1, 0, 1)).unwrap(), Sequencing::Append);
        assert_eq!(code(s.check(&who(1, 1, 15, 1))), ErrorCode::OutOfOrderSequence);
        s.record(&who(1, 1, 0, 1), at(0, 1, 115));
        assert_eq!(code(s.check(&who(1, 0, 15, 3))), ErrorCode::ProducerFenced);
    }

    #[test]
    fn given_more_producers_than_remembered_the_least_recently_writing_is_forgotten() {
        let mut s = ProducerStates::default();
        let n = MAX_PRODUCERS_PER_PARTITION as u64;
        for id in 0..n {
            s.record(&who(id, 0, 0, 1), at(0, 1, id));
        }
        assert_eq!(s.producer_count(), MAX_PRODUCERS_PER_PARTITION);
        // Producer 0 writes again: producer 1 is now the least recent.
        s.record(&who(0, 0, 1, 1), at(1, 1, n));
        s.record(&who(u64::MAX - 1, 0, 0, 1), at(0, 1, n + 1));
        assert_eq!(s.producer_count(), MAX_PRODUCERS_PER_PARTITION);
        assert_eq!(code(s.check(&who(1, 0, 1, 1))), ErrorCode::UnknownProducer, "forgotten");
        assert!(matches!(s.check(&who(0, 0, 1, 1)).unwrap(), Sequencing::Duplicate(_)), "kept");
    }

    #[test]
    fn given_more_batches_than_remembered_when_oldest_retried_should_refuse_it() {
        let mut s = ProducerStates::default();
        for i in 0..=MAX_IN_FLIGHT_BATCHES_PER_PARTITION as u64 {
            s.record(&who(1, 0, i, 1), at(i, 1, i));
        }
        assert_eq!(code(s.check(&who(1, 0, 0, 1))), ErrorCode::OutOfOrderSequence);
        assert!(matches!(s.check(&who(1, 0, 1, 1)).unwrap(), Sequencing::Duplicate(_)));
    }

    #[test]
    fn given_snapshot_when_loaded_should_equal_state_and_skip_damaged_or_future_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = ProducerStates::default();
        s.record(&who(3, 2, 0, 4), at(0, 4, 0));
        s.snapshot(dir.path(), 4).unwrap();
        s.record(&who(9, 0, 0, 1), at(0, 1, 4));
        s.snapshot(dir.path(), 5).unwrap();
        s.snapshot(dir.path(), 9).unwrap();
        assert_eq!(snapshot_offsets(dir.path()).unwrap().len(), SNAPSHOTS_KEPT);
        let (o, loaded) = ProducerStates::load(dir.path(), 9).unwrap().unwrap();
        assert_eq!((o, &loaded), (9, &s));
        // A tail truncated below 9 makes that snapshot unusable; 5 is next.
        let (o, loaded) = ProducerStates::load(dir.path(), 6).unwrap().unwrap();
        assert_eq!((o, loaded.producer_count()), (5, 2));
        let path = snapshot_path(dir.path(), 5);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(ProducerStates::load(dir.path(), 6).unwrap().is_none());
    }
}
