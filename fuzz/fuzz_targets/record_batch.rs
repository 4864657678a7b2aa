//! Any bytes as fetched or produced record batches: framing, validation,
//! records, and decompression answer typed errors, never panic, and never
//! allocate past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyralog_protocol::batch::BatchIter;
use pyralog_protocol::compression::Compression;

fuzz_target!(|data: &[u8]| {
    for batch in BatchIter::new(data) {
        let Ok(batch) = batch else { break };
        let _ = batch.validate();
        let _ = batch.crc_ok();
        for r in batch.records() {
            if r.is_err() {
                break;
            }
        }
        if let Ok(records) = batch.plain_records() {
            for r in batch.records_in(&records) {
                if r.is_err() {
                    break;
                }
            }
        }
    }
    // The records section alone, under every codec.
    for c in [Compression::Snappy, Compression::Lz4, Compression::Zstd { level: 3 }] {
        let _ = c.decompress(data);
    }
});
