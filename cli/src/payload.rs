//! Record values of `pyralog bench produce --payload`.

use bytes::Bytes;

use crate::bench::Payload;

/// Distinct values a JSON payload cycles through: more than a batch holds,
/// so a compressor sees no repeated record within one batch.
const JSON_VALUES: u64 = 4096;

const EVENT_TYPES: [&str; 6] = ["page_view", "add_to_cart", "checkout", "search", "login", "refund"];
const COUNTRIES: [&str; 8] = ["DE", "US", "FR", "BR", "IN", "JP", "NG", "SE"];
const BROWSERS: [&str; 4] = ["Chrome/120.0.6099.109", "Firefox/121.0", "Safari/17.2.1", "Edg/120.0.2210.77"];

/// The values to cycle through, each `size` bytes.
pub fn values(payload: Payload, size: usize) -> Vec<Bytes> {
    match payload {
        Payload::Fill => vec![Bytes::from(vec![b'x'; size])],
        Payload::Json => (0..JSON_VALUES).map(|i| Bytes::from(json_event(i, size))).collect(),
    }
}

/// A JSON-like event (ids, timestamps, enums, nested objects, a list of
/// items) of exactly `size` bytes: items are added until it is long enough,
/// then it is cut.
fn json_event(i: u64, size: usize) -> Vec<u8> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ (i + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    let user = rng.below(100_000);
    let mut doc = format!(
        "{{\"event_id\":\"{:016x}{:016x}\",\"ts\":{},\"type\":\"{}\",\"user\":{{\"id\":{user},\"name\":\"user-{user}\",\"country\":\"{}\"}},\"session\":\"{:012x}\",\"device\":{{\"os\":\"Android 14\",\"browser\":\"{}\"}},\"path\":\"/products/{}\",\"amount\":{}.{:02},\"currency\":\"EUR\",\"items\":[",
        rng.next(),
        rng.next(),
        1_733_300_000_000 + rng.below(86_400_000),
        EVENT_TYPES[rng.below(EVENT_TYPES.len() as u64) as usize],
        COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize],
        rng.next() >> 16,
        BROWSERS[rng.below(BROWSERS.len() as u64) as usize],
        rng.below(10_000),
        rng.below(500),
        rng.below(100),
    );
    while doc.len() < size {
        doc.push_str(&format!(
            "{{\"sku\":\"SKU-{:06}\",\"qty\":{},\"price\":{}.{:02},\"warehouse\":\"wh-{}\"}},",
            rng.below(1_000_000),
            rng.below(5) + 1,
            rng.below(200),
            rng.below(100),
            rng.below(12)
        ));
    }
    let mut bytes = doc.into_bytes();
    bytes.truncate(size);
    bytes
}

/// A small deterministic generator: the same payload in every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
