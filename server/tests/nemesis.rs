//! Failover without loss, under a nemesis: three nodes, a log of RF 3 and
//! `min_in_sync_replicas` 2, idempotent producers with `acks = all` writing
//! keyed records without pause, a consumer reading along, while the nemesis
//! SIGKILLs a node (the leader of some partition at least half the time) at
//! random moments and restarts it, and now and then SIGSTOPs another node
//! for a while.
//!
//! At the end: every acknowledged record is present exactly once, at the
//! offset it was acknowledged with; per partition the offsets are dense and
//! each producer's records of a key are in send order; every record the
//! consumer read is still there; every replica holds the same bytes.
//!
//! `PYRALOG_NEMESIS_KILLS` sets the number of kills (default 30; the long
//! run of `scripts/nemesis.sh` uses 500).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::{assert_replicas_converge, create_replicated, read_partition, wait_fully_in_sync, NODES};
use common::unique;
use pyralog::{Client, LogOffset, ProducerConfig, Record};
use pyralog_testkit::TestCluster;
use rand::Rng;

const PARTITIONS: u32 = 4;
const PRODUCERS: u8 = 2;
/// Keys per producer (each key's records must stay in send order).
const KEYS: u64 = 24;
/// Records a producer has sent and not yet seen resolved, at most.
const MAX_PENDING: usize = 2_000;
/// Kills in a CI run.
const DEFAULT_KILLS: usize = 30;
/// A node is SIGSTOPped after every this many kills.
const STOP_EVERY_KILLS: usize = 3;
/// Longest the whole fault phase may last.
const FAULT_PHASE_MAX: Duration = Duration::from_secs(60 * 60);

fn kills() -> usize {
    std::env::var("PYRALOG_NEMESIS_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_KILLS)
}

/// A record's identity, carried in its value: producer, sequence number.
fn value(producer: u8, seq: u64) -> Vec<u8> {
    let mut v = vec![producer];
    v.extend_from_slice(&seq.to_be_bytes());
    v
}

fn parse(value: &[u8]) -> (u8, u64) {
    (value[0], u64::from_be_bytes(value[1..9].try_into().unwrap()))
}

/// What the clients saw: acknowledgements and the consumer's reads.
#[derive(Default)]
struct Ledger {
    /// (producer, seq) -> (partition, offset).
    acked: Mutex<HashMap<(u8, u64), (u32, u64)>>,
    failed: Mutex<u64>,
    /// (partition, offset) -> value, as read by the consumer.
    read: Mutex<HashMap<(u32, u64), Vec<u8>>>,
}

async fn produce(client: Client, log: String, id: u8, stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    let cfg = ProducerConfig {
        linger: Duration::from_millis(2),
        retry_backoff: Duration::from_millis(50),
        delivery_timeout: Duration::from_secs(120),
        ..ProducerConfig::default()
    };
    let producer = client.producer(cfg).unwrap();
    let mut pending = Vec::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let record = Record::new(value(id, seq)).key(format!("p{id}-k{}", seq % KEYS));
        match producer.send(&log, record).await {
            Ok(fut) => pending.push((seq, fut)),
            Err(e) => panic!("producer {id}: send refused: {e}"),
        }
        seq += 1;
        if pending.len() >= MAX_PENDING {
            settle(id, std::mem::take(&mut pending), &ledger).await;
        }
    }
    producer.flush().await.unwrap();
    settle(id, pending, &ledger).await;
    producer.close().await.unwrap();
}

async fn settle(id: u8, pending: Vec<(u64, pyralog::DeliveryFuture)>, ledger: &Ledger) {
    for (seq, fut) in pending {
        match fut.await {
            Ok(md) => {
                let before = ledger.acked.lock().unwrap().insert((id, seq), (md.partition, md.offset));
                assert!(before.is_none(), "record {id}/{seq} acknowledged twice");
            }
            Err(_) => *ledger.failed.lock().unwrap() += 1,
        }
    }
}

/// Reads every partition along, from the start, until stopped.
async fn consume(client: Client, log: String, stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    let mut next = [0u64; PARTITIONS as usize];
    while !stop.load(Ordering::Relaxed) {
        for p in 0..PARTITIONS {
            let from = LogOffset::from(next[p as usize]);
            let Ok(records) = client.consume_from_partition(&log, p, from, 2_000).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let mut read = ledger.read.lock().unwrap();
            for r in records {
                assert_eq!(r.offset, next[p as usize], "partition {p}: the consumer read a gap");
                read.insert((p, r.offset), r.value.to_vec());
                next[p as usize] = r.offset + 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The node to kill: the leader of a random partition half the time.
async fn victim(client: &Client, log: &str) -> u32 {
    let mut rng = rand::thread_rng();
    if rng.gen_bool(0.5) {
        if let Ok(md) = client.get_log_metadata(log).await {
            let leader = md.partitions[rng.gen_range(0..PARTITIONS as usize)].leader;
            if (1..=NODES as u32).contains(&leader) {
                return leader;
            }
        }
    }
    rng.gen_range(1..=NODES as u32)
}

async fn nemesis(c: &mut TestCluster, client: &Client, log: &str) {
    let started = Instant::now();
    let mut restarts = Vec::new();
    for kill in 0..kills() {
        assert!(started.elapsed() < FAULT_PHASE_MAX, "fault phase over {FAULT_PHASE_MAX:?}");
        let wait = rand::thread_rng().gen_range(100..800);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let id = victim(client, log).await;
        c.node(id).kill();
        let down = rand::thread_rng().gen_range(100..1_200);
        tokio::time::sleep(Duration::from_millis(down)).await;
        let restart = Instant::now();
        c.node(id).restart();
        restarts.push(restart.elapsed());
        if kill % STOP_EVERY_KILLS == STOP_EVERY_KILLS - 1 {
            let other = rand::thread_rng().gen_range(1..=NODES as u32);
            let pause = rand::thread_rng().gen_range(200..1_500);
            c.node(other).signal(libc::SIGSTOP);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            c.node(other).signal(libc::SIGCONT);
        }
        if kill % 10 == 9 {
            eprintln!("nemesis: {} kills in {:?}", kill + 1, started.elapsed());
        }
    }
    restarts.sort();
    let median = restarts.get(restarts.len() / 2).copied().unwrap_or_default();
    let max = restarts.last().copied().unwrap_or_default();
    eprintln!(
        "nemesis: {} kills in {:?}; restart to serving: median {median:?}, max {max:?}",
        kills(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_nemesis_killing_and_pausing_nodes_when_producing_with_acks_all_then_nothing_acknowledged_is_lost() {
    let mut c = common::cluster::start("");
    let client = c.client().await;
    let log = unique("nemesis");
    create_replicated(&client, &log, PARTITIONS).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Ledger::default());
    let mut tasks = Vec::new();
    for id in 0..PRODUCERS {
        tasks.push(tokio::spawn(produce(client.clone(), log.clone(), id, Arc::clone(&stop), Arc::clone(&ledger))));
    }
    let reader = tokio::spawn(consume(client.clone(), log.clone(), Arc::clone(&stop), Arc::clone(&ledger)));

    nemesis(&mut c, &client, &log).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    reader.await.unwrap();

    wait_fully_in_sync(&client, &log).await;
    check(&client, &log, &ledger).await;
    assert_replicas_converge(&c, &log, PARTITIONS);
    client.close().await;
}

async fn check(client: &Client, log: &str, ledger: &Ledger) {
    let mut stored: HashMap<(u32, u64), Vec<u8>> = HashMap::new();
    let mut at: HashMap<(u8, u64), (u32, u64)> = HashMap::new();
    for p in 0..PARTITIONS {
        // Per producer and key, the last sequence number seen in this partition.
        let mut last: HashMap<(u8, u64), u64> = HashMap::new();
        for r in read_partition(client, log, p).await {
            let (producer, seq) = parse(&r.value);
            assert!(at.insert((producer, seq), (p, r.offset)).is_none(), "record {producer}/{seq} stored twice");
            if let Some(prev) = last.insert((producer, seq % KEYS), seq) {
                assert!(prev < seq, "{p}: key {} of producer {producer} out of send order", seq % KEYS);
            }
            stored.insert((p, r.offset), r.value.to_vec());
        }
    }
    let acked = ledger.acked.lock().unwrap();
    for (record, place) in acked.iter() {
        let found = at.get(record).unwrap_or_else(|| panic!("acknowledged record {record:?} lost"));
        assert_eq!(found, place, "acknowledged record {record:?} moved");
    }
    let read = ledger.read.lock().unwrap();
    for (place, value) in read.iter() {
        assert_eq!(stored.get(place), Some(value), "record the consumer read at {place:?} was lost");
    }
    let failed = *ledger.failed.lock().unwrap();
    eprintln!(
        "nemesis: {} kills; {} records acknowledged, {failed} failed, {} stored, {} read along",
        kills(),
        acked.len(),
        at.len(),
        read.len()
    );
    assert!(acked.len() > 1_000, "the producers made progress under faults ({} acknowledged)", acked.len());
}
