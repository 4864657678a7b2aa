//! The key hash matches spec/partitioner-vectors.json for every
//! vector and partition count.

use pyralog::partitioner::{murmur2, partition_for_key};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn murmur2_and_partitions_match_every_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/partitioner-vectors.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 5);
    for e in vectors {
        let key = hex(e["key_hex"].as_str().unwrap());
        assert_eq!(i64::from(murmur2(&key)), e["murmur2_signed"].as_i64().unwrap(), "{e}");
        for (count, want) in e["partitions"].as_object().unwrap() {
            assert_eq!(
                u64::from(partition_for_key(&key, count.parse().unwrap())),
                want.as_u64().unwrap(),
                "key {key:?} count {count}"
            );
        }
    }
}
