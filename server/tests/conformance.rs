//! Conformance scenarios 1-8 and 11-13 of spec/conformance.md, through the
//! core client against the real server binary: each on one node and on a
//! 3-node cluster (logs of three copies).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::target::Target;
use common::unique;
use pyralog::{
    Client, ClientConfig, ConsumerConfig, ErrorCode, LogConfig, LogOffset, LogPartition, ProducerConfig, Record,
};

fn code<T: std::fmt::Debug>(r: pyralog::Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

async fn scenario_1_connect_with_ca_succeeds_and_wrong_ca_or_dead_port_fail_typed_within_10s(t: &Target) {
    let client = t.client().await;
    client.list_logs().await.unwrap();

    let other = common::start();
    let started = Instant::now();
    let wrong = Client::connect(&t.bootstrap(), ClientConfig::with_ca_file(other.ca_file())).await;
    assert_eq!(code(wrong), ErrorCode::TlsError);
    assert!(started.elapsed() < Duration::from_secs(10));

    let dead = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().to_string()
    };
    let started = Instant::now();
    let r = Client::connect(&dead, ClientConfig::with_ca_file(t.ca_file())).await;
    assert_eq!(code(r), ErrorCode::ConnectionFailed);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());

    let missing = Client::connect(&t.bootstrap(), ClientConfig::default()).await;
    assert_eq!(code(missing), ErrorCode::TlsError);
}

async fn scenario_2_log_admin_creates_lists_and_rejects_invalid_names(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-admin");
    let md = c.create_log(&name, 4).await.unwrap();
    assert_eq!(md.partition_count, 4);
    assert!(c.log_exists(&name).await.unwrap());
    let listed = c.list_logs().await.unwrap();
    let l = listed.iter().find(|l| l.name == name).expect("listed");
    assert_eq!(l.partition_count, 4);
    let parts: Vec<u32> = c.get_log_metadata(&name).await.unwrap().partitions.iter().map(|p| p.partition).collect();
    assert_eq!(parts, vec![0, 1, 2, 3]);
    assert_eq!(code(c.create_log(&name, 4).await), ErrorCode::LogAlreadyExists);

    let before = c.list_logs().await.unwrap().len();
    for bad in ["user/events", "events@prod", "a b", "", &"a".repeat(250)] {
        assert_eq!(code(c.create_log(bad, 1).await), ErrorCode::InvalidLogId, "{bad:?}");
    }
    assert_eq!(c.list_logs().await.unwrap().len(), before);
    assert!(!c.log_exists("user/events").await.unwrap());
}

struct Vector {
    key: Vec<u8>,
    partitions: BTreeMap<u32, u32>,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/partitioner-vectors.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("vectors file")).unwrap();
    v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Vector {
            key: hex(e["key_hex"].as_str().unwrap()),
            partitions: e["partitions"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.parse().unwrap(), v.as_u64().unwrap() as u32))
                .collect(),
        })
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

async fn scenario_3_keys_land_on_the_partitions_of_the_vectors(t: &Target) {
    let c = t.client().await;
    let vectors = vectors();
    assert!(!vectors.is_empty());
    for count in [1u32, 4, 7, 16] {
        let name = unique(&format!("conf-keys-{count}"));
        c.create_log(&name, count).await.unwrap();
        for (i, v) in vectors.iter().enumerate() {
            let want = v.partitions[&count];
            let value = format!("vector-{i}");
            let md = c.produce(&name, Record::new(value.clone()).key(v.key.clone())).await.unwrap();
            assert_eq!(md.partition, want, "key {:?} with {count} partitions", v.key);
            let back = c.consume_from_partition(&name, want, LogOffset(md.offset), 1).await.unwrap();
            assert_eq!(back[0].value, value.as_bytes());
            assert_eq!(back[0].partition, want);
        }
    }
}

fn round_trip_records() -> Vec<Record> {
    let mut v: Vec<Record> = (0..1000)
        .map(|i| {
            Record::new(format!("event-{i}"))
                .key(format!("user-{}", i % 100))
                .header("source", "web-app")
                .header("source", "dup")
                .header("empty", "")
        })
        .collect();
    v.push(Record::new(vec![0xff, 0x00, 0xfe, 0x80]).key(vec![0xc3, 0x28, 0x00, 0xff]));
    v.push(Record::new(Vec::new()).key("empty-value"));
    v.push(Record::new("no-key"));
    v
}

async fn scenario_4_and_6_round_trip_keeps_every_field_and_stats_count_1003(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-roundtrip");
    c.create_log(&name, 4).await.unwrap();
    let start_ms = pyralog_now_ms() - 1;
    let producer = c.producer(ProducerConfig::default()).unwrap();
    let sent = round_trip_records();
    let mut futures = Vec::new();
    for r in sent.clone() {
        futures.push(producer.send(&name, r).await.unwrap());
    }
    producer.flush().await.unwrap();
    let mut acked = Vec::new();
    for f in futures {
        acked.push(f.await.unwrap());
    }
    let end_ms = pyralog_now_ms() + 1;

    let mut read = Vec::new();
    for p in 0..4 {
        let recs = c.consume_from_partition(&name, p, LogOffset::ZERO, 10_000).await.unwrap();
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r.offset, i as u64, "offsets dense from 0");
            assert!(r.epoch >= 1);
            assert!((start_ms..=end_ms).contains(&r.timestamp));
        }
        read.extend(recs);
    }
    assert_eq!(read.len(), 1003);
    // Every sent record comes back exactly, at the offset its send reported.
    for (s, md) in sent.iter().zip(&acked) {
        let r = read.iter().find(|r| r.partition == md.partition && r.offset == md.offset).unwrap();
        assert_eq!(r.key, s.key);
        assert_eq!(r.value, s.value);
        assert_eq!(r.headers, s.headers);
    }
    // Per-key order: for each key, values appear in send order.
    let mut last: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for p in 0..4 {
        for r in read.iter().filter(|r| r.partition == p) {
            if let Some(n) = std::str::from_utf8(&r.value).ok().and_then(|v| v.strip_prefix("event-")) {
                let n: i64 = n.parse().unwrap();
                let prev = last.insert(r.key.clone().unwrap().to_vec(), n);
                assert!(prev.is_none_or(|p| p < n), "order of key {:?}", r.key);
            }
        }
    }
    let stats = c.get_log_stats(&name).await.unwrap();
    assert_eq!(stats.record_count, 1003);
    assert!(stats.size_bytes > 0);
}

fn pyralog_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn scenario_5_offsets_start_exactly_and_end_waits_for_new_records(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-offsets");
    c.create_log(&name, 1).await.unwrap();
    for i in 0..50 {
        c.produce(&name, Record::new(format!("v{i}"))).await.unwrap();
    }
    let from = c.consume_from_partition(&name, 0, LogOffset(17), 5).await.unwrap();
    assert_eq!(from.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![17, 18, 19, 20, 21]);
    assert!(c.consume_from_partition(&name, 0, LogOffset::MAX, 5).await.unwrap().is_empty());

    let mut consumer = c.consumer(ConsumerConfig::default());
    let lp = LogPartition::new(&name, 0);
    consumer.assign([lp.clone()]).unwrap();
    consumer.seek(&lp, LogOffset::MAX).unwrap();
    assert!(consumer.poll(Duration::from_millis(300)).await.unwrap().is_empty());
    c.produce(&name, Record::new("new")).await.unwrap();
    let got = consumer.poll(Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].offset, &got[0].value[..]), (50, &b"new"[..]));

    assert_eq!(code(c.consume_from_partition(&name, 0, LogOffset(52), 1).await), ErrorCode::OffsetOutOfRange);
}

async fn scenario_7_lifecycle_pause_resume_update_delete_recreate(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-lifecycle");
    c.create_log(&name, 2).await.unwrap();
    c.produce(&name, Record::new("before").partition(0)).await.unwrap();
    c.pause_log(&name).await.unwrap();
    assert_eq!(code(c.produce(&name, Record::new("x").partition(0)).await), ErrorCode::LogPaused);
    assert_eq!(c.consume_from_partition(&name, 0, LogOffset::ZERO, 10).await.unwrap().len(), 1);
    c.resume_log(&name).await.unwrap();
    c.produce(&name, Record::new("after").partition(0)).await.unwrap();

    let cfg = LogConfig { retention_ms: 7_200_000, retention_bytes: 1 << 30, ..LogConfig::default() };
    c.update_log_config(&name, cfg).await.unwrap();
    let md = c.get_log_metadata(&name).await.unwrap();
    assert_eq!((md.config.retention_ms, md.config.retention_bytes), (7_200_000, 1 << 30));

    c.delete_log(&name).await.unwrap();
    assert_eq!(code(c.produce(&name, Record::new("x").partition(0)).await), ErrorCode::LogNotFound);
    assert_eq!(code(c.consume_from_partition(&name, 0, LogOffset::ZERO, 1).await), ErrorCode::LogNotFound);
    c.create_log(&name, 2).await.unwrap();
    assert!(c.consume(&name, LogOffset::ZERO, 10).await.unwrap().is_empty());
    assert_eq!(c.get_log_stats(&name).await.unwrap().record_count, 0);
}

async fn scenario_8_async_producer_delivers_100k_records_exactly_once(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-throughput");
    c.create_log(&name, 4).await.unwrap();
    let producer = c.producer(ProducerConfig::default()).unwrap();
    let payload = |i: u32| {
        let mut v = format!("{i:010}").into_bytes();
        v.resize(100, b'.');
        v
    };
    let mut futures = Vec::with_capacity(100_000);
    for i in 0..100_000u32 {
        futures.push(producer.send(&name, Record::new(payload(i)).key(format!("k{}", i % 1000))).await.unwrap());
    }
    producer.flush().await.unwrap();
    for f in futures {
        f.await.unwrap();
    }
    let all = c.consume(&name, LogOffset::ZERO, 200_000).await.unwrap();
    assert_eq!(all.len(), 100_000);
    let unique: HashSet<_> = all.iter().map(|r| (r.key.clone(), r.value.clone())).collect();
    assert_eq!(unique.len(), 100_000);
    producer.close().await.unwrap();
}

async fn scenario_11_errors_are_typed_and_write_nothing(t: &Target) {
    let c = t.client().await;
    assert_eq!(code(c.produce(&unique("conf-missing"), Record::new("x")).await), ErrorCode::LogNotFound);

    let name = unique("conf-errors");
    c.create_log(&name, 1).await.unwrap();
    let big = vec![0u8; pyralog_protocol::limits::MAX_RECORD_BYTES + 1];
    assert_eq!(code(c.produce(&name, Record::new(big.clone())).await), ErrorCode::RecordTooLarge);
    let producer = c.producer(ProducerConfig::default()).unwrap();
    assert_eq!(code(producer.send(&name, Record::new(big.clone())).await), ErrorCode::RecordTooLarge);
    let batch = vec![Record::new("fine"), Record::new(big)];
    assert_eq!(code(producer.send_batch(&name, batch).await), ErrorCode::RecordTooLarge);
    producer.flush().await.unwrap();
    assert_eq!(c.get_log_stats(&name).await.unwrap().record_count, 0);

    let mut consumer = c.consumer(ConsumerConfig::default());
    consumer.assign_log(&name).await.unwrap();
    let t = Instant::now();
    assert!(consumer.poll(Duration::from_millis(700)).await.unwrap().is_empty());
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(650) && waited < Duration::from_millis(3000), "{waited:?}");
}

async fn scenario_12_close_is_idempotent_and_later_calls_fail_closed(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-close");
    c.create_log(&name, 1).await.unwrap();
    let producer = c.producer(ProducerConfig::default()).unwrap();
    producer.close().await.unwrap();
    producer.close().await.unwrap();
    assert_eq!(code(producer.send(&name, Record::new("x")).await), ErrorCode::Closed);
    let mut consumer = c.consumer(ConsumerConfig::default());
    consumer.close().await;
    consumer.close().await;
    assert_eq!(code(consumer.poll(Duration::from_millis(10)).await), ErrorCode::Closed);
    c.close().await;
    c.close().await;
    assert_eq!(code(c.list_logs().await), ErrorCode::Closed);
}

async fn scenario_13_eight_tasks_produce_through_one_client(t: &Target) {
    let c = t.client().await;
    let name = unique("conf-concurrency");
    c.create_log(&name, 4).await.unwrap();
    let producer = Arc::new(c.producer(ProducerConfig::default()).unwrap());
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (c, producer, name) = (c.clone(), Arc::clone(&producer), name.clone());
        tasks.push(tokio::spawn(async move {
            let mut offsets = Vec::new();
            for i in 0..500 {
                let r = Record::new(format!("t{t}-{i}")).key(format!("t{t}"));
                if i % 2 == 0 {
                    offsets.push(c.produce(&name, r).await.unwrap());
                } else {
                    offsets.push(producer.send(&name, r).await.unwrap().await.unwrap());
                }
            }
            offsets
        }));
    }
    let mut acked = HashSet::new();
    for t in tasks {
        for md in t.await.unwrap() {
            assert!(acked.insert((md.partition, md.offset)), "offset acknowledged twice");
        }
    }
    assert_eq!(acked.len(), 4000);
    let all = c.consume(&name, LogOffset::ZERO, 10_000).await.unwrap();
    assert_eq!(all.len(), 4000);
    let values: HashSet<_> = all.iter().map(|r| r.value.clone()).collect();
    assert_eq!(values.len(), 4000);
}

on_one_and_three_nodes!(
    scenario_1_connect_with_ca_succeeds_and_wrong_ca_or_dead_port_fail_typed_within_10s,
    scenario_2_log_admin_creates_lists_and_rejects_invalid_names,
    scenario_3_keys_land_on_the_partitions_of_the_vectors,
    scenario_4_and_6_round_trip_keeps_every_field_and_stats_count_1003,
    scenario_5_offsets_start_exactly_and_end_waits_for_new_records,
    scenario_7_lifecycle_pause_resume_update_delete_recreate,
    scenario_8_async_producer_delivers_100k_records_exactly_once,
    scenario_11_errors_are_typed_and_write_nothing,
    scenario_12_close_is_idempotent_and_later_calls_fail_closed,
    scenario_13_eight_tasks_produce_through_one_client,
);
