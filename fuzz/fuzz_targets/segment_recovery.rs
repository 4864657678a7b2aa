//! Any bytes as a partition's only segment (and, split at the first byte's
//! position, as a sealed segment followed by the active one): opening the
//! partition recovers or reports, and reading everything it kept answers
//! batches or typed errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyralog_server::storage::{PartitionLog, StorageConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let split = data.first().map_or(0, |b| (*b as usize * data.len()) / 256);
    let (sealed, active) = data.split_at(split);
    let segments: Vec<(u64, &[u8])> =
        if sealed.is_empty() { vec![(0, active)] } else { vec![(0, sealed), (1_000, active)] };
    for (base, bytes) in segments {
        if std::fs::write(dir.path().join(format!("{base:020}.log")), bytes).is_err() {
            return;
        }
    }
    let cfg = StorageConfig { segment_bytes: 64 * 1024, preallocate: false, ..StorageConfig::default() };
    let Ok((log, _)) = PartitionLog::open(dir.path(), cfg) else { return };
    let mut offset = log.log_start_offset();
    let mut reads = 0;
    while offset < log.log_end_offset() && reads < 1_000 {
        let Ok(slice) = log.read(offset, 1 << 20, u64::MAX) else { break };
        let Some(next) = pyralog_protocol::batch::BatchIter::new(slice.bytes())
            .filter_map(Result::ok)
            .map(|b| b.next_offset())
            .last()
        else {
            break;
        };
        offset = next.max(offset + 1);
        reads += 1;
    }
});
