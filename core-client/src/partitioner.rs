//! Partition choice: Kafka's murmur2 for keyed records, a sticky partition
//! for keyless ones, or a custom function.

use std::sync::Arc;

/// murmur2 as in the Kafka Java client's `Utils.murmur2` (seed 0x9747b28c).
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka would choose for `key` among `partition_count`.
///
/// # Panics
/// If `partition_count` is zero.
pub fn partition_for_key(key: &[u8], partition_count: u32) -> u32 {
    assert!(partition_count > 0, "a log has at least one partition");
    ((murmur2(key) as u32) & 0x7fff_ffff) % partition_count
}

/// A user-supplied partitioner: `(log, key, partition_count) -> partition`.
/// Returning a partition >= `partition_count` fails the send.
pub type CustomPartitioner = Arc<dyn Fn(&str, Option<&[u8]>, u32) -> u32 + Send + Sync>;

/// How the producer picks a partition for records without an explicit one.
#[derive(Clone, Default)]
pub enum Partitioner {
    /// murmur2 for keyed records; sticky for keyless ones.
    #[default]
    Default,
    /// A custom function for every record.
    Custom(CustomPartitioner),
}

impl std::fmt::Debug for Partitioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Partitioner::Default => f.write_str("Default"),
            Partitioner::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Sticky choice for keyless records: stays on one partition until about a
/// batch's worth of bytes went there, then moves to another at random
/// (Kafka's uniform sticky partitioner).
#[derive(Debug, Default)]
pub struct Sticky {
    current: Option<u32>,
    bytes: usize,
}

impl Sticky {
    /// The partition for a keyless record of `size` bytes.
    pub fn next(&mut self, partition_count: u32, size: usize, batch_size: usize) -> u32 {
        let need_new = match self.current {
            None => true,
            Some(p) => p >= partition_count || self.bytes >= batch_size,
        };
        if need_new {
            let prev = self.current;
            let mut p = rand::random::<u32>() % partition_count;
            if partition_count > 1 && Some(p) == prev {
                p = (p + 1) % partition_count;
            }
            self.current = Some(p);
            self.bytes = 0;
        }
        self.bytes += size;
        self.current.expect("set above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_moves_after_a_batch_worth() {
        let mut s = Sticky::default();
        let first = s.next(8, 10, 100);
        for _ in 0..9 {
            assert_eq!(s.next(8, 10, 100), first);
        }
        assert_ne!(s.next(8, 10, 100), first);
    }
}
