//! Compacted logs: consumers from the beginning see the newest value of every
//! key at its original offset, tombstones go after `delete_retention_ms`,
//! and a SIGKILL while cleaned segments wait to be swapped in loses nothing.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{unique, TestServer};
use pyralog::{CleanupPolicy, Client, Compression, LogConfig, LogOffset, LogSpec, ProducerConfig, Record};

const KEYS: usize = 100;
const ROUNDS: usize = 20;
/// The smallest segment a log may have: the rounds fill several.
const SEGMENT_BYTES: u64 = 64 * 1024;
const COMPACTOR: &str = "[compaction]\ninterval_ms = 100\nmin_dirty_ratio = 0.0\n";

async fn create_compacted(c: &Client, log: &str, delete_retention_ms: i64) {
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::Compact,
        segment_bytes: SEGMENT_BYTES,
        delete_retention_ms,
        ..LogConfig::default()
    };
    c.create_log_with_config(log, LogSpec { config, ..LogSpec::new(1) }).await.unwrap();
}

fn value(key: usize, round: usize) -> String {
    format!("key-{key:03} round-{round:02} {}", "x".repeat(80))
}

/// Writes ROUNDS values of every key (odd rounds lz4-compressed, with a
/// keyless record per round), then filler of one key that seals the
/// segments holding them; returns each key's newest offset.
async fn write_rounds(c: &Client, log: &str) -> BTreeMap<String, u64> {
    let plain = c.producer(ProducerConfig { batch_size: 8 * 1024, ..ProducerConfig::default() }).unwrap();
    let lz4 = c
        .producer(ProducerConfig { batch_size: 8 * 1024, compression: Compression::Lz4, ..ProducerConfig::default() })
        .unwrap();
    let mut newest = BTreeMap::new();
    for round in 0..ROUNDS {
        let p = if round % 2 == 0 { &plain } else { &lz4 };
        let mut sent = Vec::new();
        for key in 0..KEYS {
            sent.push((
                format!("key-{key:03}"),
                p.send(log, Record::new(value(key, round)).key(format!("key-{key:03}"))).await.unwrap(),
            ));
        }
        p.send(log, Record::new(format!("keyless {round}"))).await.unwrap().await.unwrap();
        for (key, d) in sent {
            newest.insert(key, d.await.unwrap().offset);
        }
    }
    write_filler(c, log).await;
    newest
}

/// 2,000 records of the key `filler` (more than two segments).
async fn write_filler(c: &Client, log: &str) {
    let p = c.producer(ProducerConfig::default()).unwrap();
    let mut sent = Vec::new();
    for i in 0..2_000 {
        sent.push(p.send(log, Record::new(value(i, 99)).key("filler")).await.unwrap());
    }
    for d in sent {
        d.await.unwrap();
    }
}

/// Reads the whole partition: (offset, key, value) in order.
async fn read_all(c: &Client, log: &str) -> Vec<(u64, Option<String>, String)> {
    let records = c.consume_from_partition(log, 0, LogOffset::ZERO, 1_000_000).await.unwrap();
    records
        .iter()
        .map(|r| {
            let key = r.key.as_ref().map(|k| String::from_utf8(k.to_vec()).unwrap());
            (r.offset, key, String::from_utf8(r.value.to_vec()).unwrap())
        })
        .collect()
}

fn rounds_records(read: &[(u64, Option<String>, String)]) -> usize {
    read.iter().filter(|r| r.1.as_deref().is_some_and(|k| k.starts_with("key-"))).count()
}

/// Waits until one record of each key is left of the rounds (compaction
/// ran over all of them), within 30 s.
async fn await_compacted(c: &Client, log: &str) -> Vec<(u64, Option<String>, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = read_all(c, log).await;
        if rounds_records(&all) == KEYS {
            return all;
        }
        assert!(Instant::now() < deadline, "still {} records of the rounds", rounds_records(&all));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every key's last value read is its newest, at the offset it was written
/// at; offsets only grow; every keyless record is still there.
fn assert_newest(read: &[(u64, Option<String>, String)], newest: &BTreeMap<String, u64>) {
    assert!(read.windows(2).all(|w| w[0].0 < w[1].0), "offsets increase");
    let mut last: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for (offset, key, v) in read {
        if let Some(k) = key.as_deref().filter(|k| k.starts_with("key-")) {
            last.insert(k, (*offset, v));
        }
    }
    assert_eq!(last.len(), KEYS, "every key is there");
    for (key, (offset, v)) in last {
        assert_eq!(offset, newest[key], "{key} at its original offset");
        assert!(v.contains(&format!("round-{:02}", ROUNDS - 1)), "{key}: {v}");
    }
    assert_eq!(read.iter().filter(|r| r.1.is_none()).count(), ROUNDS, "keyless records stay");
}

#[tokio::test]
async fn a_consumer_from_the_beginning_sees_the_newest_value_of_every_key() {
    let server = common::start_with(COMPACTOR);
    let c = server.client().await;
    let log = unique("compacted");
    create_compacted(&c, &log, 0).await;
    let newest = write_rounds(&c, &log).await;
    let read = await_compacted(&c, &log).await;
    assert_newest(&read, &newest);
    let stats = c.get_log_stats(&log).await.unwrap();
    assert!(stats.partitions[0].segment_count >= 3, "several segments: {stats:?}");
    // Compacting again changes nothing a reader sees.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(read_all(&c, &log).await, read);
}

#[tokio::test]
async fn tombstones_go_after_delete_retention_and_take_their_key_with_them() {
    let server = common::start_with(COMPACTOR);
    let c = server.client().await;
    let log = unique("tombstones");
    create_compacted(&c, &log, 1).await;
    for key in 0..50 {
        c.produce(&log, Record::new(value(key, 0)).key(format!("key-{key:03}"))).await.unwrap();
    }
    for key in 0..25 {
        c.produce(&log, Record::new("").key(format!("key-{key:03}"))).await.unwrap();
    }
    write_filler(&c, &log).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = read_all(&c, &log).await;
        let keys: Vec<&str> = read.iter().filter_map(|r| r.1.as_deref()).filter(|k| k.starts_with("key-")).collect();
        if keys.len() == 25 {
            let expected: Vec<String> = (25..50).map(|k| format!("key-{k:03}")).collect();
            assert_eq!(keys, expected, "deleted keys are gone, values and tombstones alike");
            break;
        }
        assert!(Instant::now() < deadline, "still {} keyed records: {keys:?}", keys.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn cleaned_files(server: &TestServer, log: &str) -> usize {
    let dir = server.partition_dir(log, 0);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".cleaned"))
        .count()
}

#[tokio::test]
async fn given_sigkill_between_cleaning_and_swapping_when_restarted_nothing_is_lost() {
    let stall = "[faults]\ncompaction_stall_before_swap_ms = 3000\n";
    let mut server = common::start_with(&format!("{COMPACTOR}{stall}"));
    let c = server.client().await;
    let log = unique("compact-kill");
    create_compacted(&c, &log, 0).await;
    let newest = write_rounds(&c, &log).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while cleaned_files(&server, &log) == 0 {
        assert!(Instant::now() < deadline, "no cleaned segment was written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    server.restart();
    let c = server.client().await;
    let read = read_all(&c, &log).await;
    assert_eq!(rounds_records(&read), KEYS * ROUNDS, "nothing was swapped in before the kill");
    assert_newest(&read, &newest);
    // After the restart the compactor runs again and finishes.
    let read = await_compacted(&c, &log).await;
    assert_newest(&read, &newest);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cleaned_files(&server, &log), 0, "no cleaned file is left behind");
}

/// A follower that was down while its leader compacted copies the leader's
/// gaps and rejoins the ISR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_behind_a_compacted_leader_catches_up_across_the_gaps() {
    let mut c = common::cluster::start(COMPACTOR);
    let client = c.client().await;
    let log = unique("compacted-rf3");
    let config =
        LogConfig { cleanup_policy: CleanupPolicy::Compact, segment_bytes: SEGMENT_BYTES, ..LogConfig::default() };
    let spec = LogSpec { config, replication_factor: 3, ..LogSpec::new(1) };
    client.create_log_with_config(&log, spec).await.unwrap();
    let leader = common::cluster::wait_fully_in_sync(&client, &log).await.partitions[0].leader;
    let follower = (1..=3).find(|n| *n != leader).unwrap();
    c.node(follower).kill();
    let newest = write_rounds(&client, &log).await;
    let read = await_compacted(&client, &log).await;
    assert_newest(&read, &newest);
    c.node(follower).restart();
    let md = common::cluster::wait_fully_in_sync(&client, &log).await;
    assert!(md.partitions[0].isr.contains(&follower), "the follower rejoined: {md:?}");
    client.close().await;
}
