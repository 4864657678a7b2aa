//! Results cross to Java as one little-endian byte array each, decoded by
//! `io.pyralog.internal.Codec` (one JNI call per result instead of one per
//! object). Layouts, in the order written:
//!
//! - str: i32 length, UTF-8 bytes. bytes: i32 length (-1 for null), bytes.
//! - records: i32 log count, str logs; i32 record count; per record: i32 log
//!   index, i32 partition, i64 offset, i64 epoch, i64 timestamp, bytes key,
//!   bytes value, i32 header count, per header: str name, bytes value.
//! - config: i64 retention ms, i64 retention bytes, i32 min ISR, i32 flush
//!   policy, i32 flush interval ms, i64 segment bytes, i64 segment ms, i32
//!   timestamp type, i32 partitioning mode, i32 cleanup policy, i64 delete
//!   retention ms.
//! - metadata: str name, i32 partition count, i32 replication factor, i64
//!   created at ms, i32 state, config, i32 partitions, per partition: i32
//!   partition, i64 leader epoch, i64 log start offset, i64 high watermark.
//! - metadata list: i32 count, metadata each.
//! - stats: i64 record count, i64 size bytes, f64 write rate, i32
//!   partitions, per partition: i32 partition, i64 log start offset, i64
//!   high watermark, i64 size bytes, i32 segment count.
//! - offsets: i32 count, per entry: str log, i32 partition, i64 offset.

use pyralog::{CleanupPolicy, PartitioningMode, TimestampType};
use pyralog::{ConsumerRecord, FlushPolicy, LogConfig, LogMetadata, LogPartition, LogState, LogStats};

use crate::jvm::invalid;

#[derive(Default)]
pub struct Out(pub Vec<u8>);

impl Out {
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.i32(v as i32);
    }
    fn len(&mut self, n: usize) {
        self.i32(i32::try_from(n).unwrap_or(i32::MAX));
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.i64(v as i64);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn bytes(&mut self, b: Option<&[u8]>) {
        match b {
            None => self.i32(-1),
            Some(b) => {
                self.len(b.len());
                self.0.extend_from_slice(b);
            }
        }
    }
}

pub fn records(v: &[ConsumerRecord]) -> Vec<u8> {
    let size: usize = v.iter().map(|r| 64 + r.key.as_ref().map_or(0, |k| k.len()) + r.value.len()).sum();
    let mut o = Out(Vec::with_capacity(size + 64));
    let mut logs: Vec<&str> = Vec::new();
    let index: Vec<i32> = v
        .iter()
        .map(|r| {
            let i = logs.iter().position(|l| *l == &*r.log).unwrap_or_else(|| {
                logs.push(&r.log);
                logs.len() - 1
            });
            i as i32
        })
        .collect();
    o.len(logs.len());
    for l in &logs {
        o.str(l);
    }
    o.len(v.len());
    for (r, i) in v.iter().zip(index) {
        o.i32(i);
        o.u32(r.partition);
        o.u64(r.offset);
        o.u64(r.epoch);
        o.i64(r.timestamp);
        o.bytes(r.key.as_deref());
        o.bytes(Some(&r.value));
        o.len(r.headers.len());
        for (n, hv) in &r.headers {
            o.str(n);
            o.bytes(Some(hv));
        }
    }
    o.0
}

fn config(o: &mut Out, c: &LogConfig) {
    o.i64(c.retention_ms);
    o.i64(c.retention_bytes);
    o.u32(c.min_in_sync_replicas);
    o.i32(match c.flush_policy {
        FlushPolicy::ServerDefault => 0,
        FlushPolicy::Always => 1,
        FlushPolicy::Interval => 2,
        FlushPolicy::Never => 3,
    });
    o.u32(c.flush_interval_ms);
    o.u64(c.segment_bytes);
    o.i64(c.segment_ms);
    o.i32(i32::from(c.timestamp_type == TimestampType::LogAppendTime));
    o.i32(i32::from(c.partitioning_mode == PartitioningMode::Dynamic));
    o.i32(match c.cleanup_policy {
        CleanupPolicy::Delete => 0,
        CleanupPolicy::Compact => 1,
        CleanupPolicy::CompactDelete => 2,
    });
    o.i64(c.delete_retention_ms);
}

fn metadata_into(o: &mut Out, m: &LogMetadata) {
    o.str(&m.name);
    o.u32(m.partition_count);
    o.u32(m.replication_factor);
    o.i64(m.created_at_ms);
    o.i32(match m.state {
        LogState::Active => 0,
        LogState::Paused => 1,
        LogState::Deleting => 2,
    });
    config(o, &m.config);
    o.len(m.partitions.len());
    for p in &m.partitions {
        o.u32(p.partition);
        o.u32(p.leader);
        for nodes in [&p.replicas, &p.isr] {
            o.len(nodes.len());
            nodes.iter().for_each(|n| o.u32(*n));
        }
        o.u64(p.leader_epoch);
        o.u64(p.log_start_offset);
        o.u64(p.high_watermark);
    }
}

pub fn metadata(m: &LogMetadata) -> Vec<u8> {
    let mut o = Out::default();
    metadata_into(&mut o, m);
    o.0
}

pub fn metadata_list(v: &[LogMetadata]) -> Vec<u8> {
    let mut o = Out::default();
    o.len(v.len());
    for m in v {
        metadata_into(&mut o, m);
    }
    o.0
}

pub fn stats(s: &LogStats) -> Vec<u8> {
    let mut o = Out::default();
    o.u64(s.record_count);
    o.u64(s.size_bytes);
    o.0.extend_from_slice(&s.write_rate.to_le_bytes());
    o.len(s.partitions.len());
    for p in &s.partitions {
        o.u32(p.partition);
        o.u64(p.log_start_offset);
        o.u64(p.high_watermark);
        o.u64(p.size_bytes);
        o.u32(p.segment_count);
    }
    o.0
}

pub fn offsets<'a>(v: impl ExactSizeIterator<Item = (&'a LogPartition, u64)>) -> Vec<u8> {
    let mut o = Out::default();
    o.len(v.len());
    for (lp, off) in v {
        o.str(&lp.log);
        o.u32(lp.partition);
        o.u64(off);
    }
    o.0
}

/// A log config from the eleven longs Java sends, in the `config` order.
pub fn config_from(v: &[i64]) -> pyralog::Result<LogConfig> {
    let [ret_ms, ret_bytes, min_isr, flush, flush_ms, seg_bytes, seg_ms, ts, mode, cleanup, delete_ret_ms] =
        <[i64; CONFIG_LEN]>::try_from(v).map_err(|_| invalid("a log config is eleven values"))?;
    let u32_of = |x: i64, what: &str| u32::try_from(x).map_err(|_| invalid(format!("{what} out of range")));
    Ok(LogConfig {
        retention_ms: ret_ms,
        retention_bytes: ret_bytes,
        min_in_sync_replicas: u32_of(min_isr, "minInSyncReplicas")?,
        flush_policy: match flush {
            0 => FlushPolicy::ServerDefault,
            1 => FlushPolicy::Always,
            2 => FlushPolicy::Interval,
            3 => FlushPolicy::Never,
            n => return Err(invalid(format!("flush policy {n}"))),
        },
        flush_interval_ms: u32_of(flush_ms, "flushIntervalMs")?,
        segment_bytes: u64::try_from(seg_bytes).map_err(|_| invalid("segmentBytes out of range"))?,
        segment_ms: seg_ms,
        timestamp_type: if ts == 1 { TimestampType::LogAppendTime } else { TimestampType::CreateTime },
        partitioning_mode: if mode == 1 { PartitioningMode::Dynamic } else { PartitioningMode::Static },
        cleanup_policy: match cleanup {
            0 => CleanupPolicy::Delete,
            1 => CleanupPolicy::Compact,
            2 => CleanupPolicy::CompactDelete,
            n => return Err(invalid(format!("cleanup policy {n}"))),
        },
        delete_retention_ms: delete_ret_ms,
    })
}

/// How many longs `LogConfig.toNative()` sends.
pub const CONFIG_LEN: usize = 11;

/// Headers packed by Java: i32 count, per header: str name, bytes value.
pub fn headers_from(b: &[u8]) -> pyralog::Result<Vec<(String, bytes::Bytes)>> {
    let mut c = Cursor { b, at: 0 };
    let count = c.len()?;
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let n = c.len()?;
        let name = String::from_utf8(c.take(n)?.to_vec()).map_err(|_| invalid("a header name is not UTF-8"))?;
        let n = c.len()?;
        out.push((name, bytes::Bytes::copy_from_slice(c.take(n)?)));
    }
    Ok(out)
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> pyralog::Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(|| invalid("truncated headers"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn len(&mut self) -> pyralog::Result<usize> {
        let v = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        usize::try_from(v).map_err(|_| invalid("negative length in headers"))
    }
}
