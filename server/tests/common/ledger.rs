//! The checker of the fault tests: producers write keyed records whose
//! values name them (producer, sequence number), a consumer reads along,
//! and at the end every acknowledged record must be stored exactly once at
//! the offset it was acknowledged with, each producer's records of a key in
//! send order, offsets dense, and every record the consumer read still there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyralog::{Client, DeliveryFuture, LogOffset, ProducerConfig, Record};

use super::cluster::read_partition;

/// Keys per producer (each key's records must stay in send order).
pub const KEYS: u64 = 24;
/// Records a producer has sent and not yet seen resolved, at most.
const MAX_PENDING: usize = 2_000;
/// Records the consumer asks for at once.
const READ_BATCH: usize = 2_000;

/// A record's identity, carried in its value: producer, sequence number.
pub fn value(producer: u8, seq: u64) -> Vec<u8> {
    let mut v = vec![producer];
    v.extend_from_slice(&seq.to_be_bytes());
    v
}

fn parse(value: &[u8]) -> (u8, u64) {
    (value[0], u64::from_be_bytes(value[1..9].try_into().unwrap()))
}

/// What the clients saw: acknowledgements and the consumer's reads.
#[derive(Default)]
pub struct Ledger {
    /// (producer, seq) -> (partition, offset).
    acked: Mutex<HashMap<(u8, u64), (u32, u64)>>,
    failed: Mutex<u64>,
    /// (partition, offset) -> value, as read by a consumer.
    read: Mutex<HashMap<(u32, u64), Vec<u8>>>,
}

impl Ledger {
    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Notes what a consumer read at `partition`/`offset`.
    pub fn read(&self, partition: u32, offset: u64, value: &[u8]) {
        self.read.lock().unwrap().insert((partition, offset), value.to_vec());
    }
}

/// An idempotent producer with `acks = all` writing records of producer
/// `id` to `log` without pause until `stop`.
pub async fn produce(client: Client, log: String, id: u8, stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
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

async fn settle(id: u8, pending: Vec<(u64, DeliveryFuture)>, ledger: &Ledger) {
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

/// Reads every partition along, from the start, until `stop`.
pub async fn consume(client: Client, log: String, partitions: u32, stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    let mut next = vec![0u64; partitions as usize];
    while !stop.load(Ordering::Relaxed) {
        for p in 0..partitions {
            let from = LogOffset::from(next[p as usize]);
            let Ok(records) = client.consume_from_partition(&log, p, from, READ_BATCH).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            for r in records {
                assert_eq!(r.offset, next[p as usize], "partition {p}: the consumer read a gap");
                ledger.read(p, r.offset, &r.value);
                next[p as usize] = r.offset + 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `producers` producers and a reader running against `log` until stopped.
pub struct Workload {
    pub ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Workload {
    pub fn start(client: &Client, log: &str, partitions: u32, producers: u8) -> Workload {
        let (stop, ledger) = (Arc::new(AtomicBool::new(false)), Arc::new(Ledger::default()));
        let mut tasks: Vec<_> = (0..producers)
            .map(|id| {
                let (stop, ledger) = (Arc::clone(&stop), Arc::clone(&ledger));
                tokio::spawn(produce(client.clone(), log.to_owned(), id, stop, ledger))
            })
            .collect();
        let (reader_stop, reader_ledger) = (Arc::clone(&stop), Arc::clone(&ledger));
        tasks.push(tokio::spawn(consume(client.clone(), log.to_owned(), partitions, reader_stop, reader_ledger)));
        Workload { ledger, stop, tasks }
    }

    /// Stops the producers (each flushes and settles what it sent) and the reader.
    pub async fn stop(self) -> Arc<Ledger> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        self.ledger
    }
}

/// What the log holds, checked against the ledger (panics on a violation).
pub struct Checked {
    pub acked: usize,
    pub failed: u64,
    pub stored: usize,
    pub read: usize,
    /// Every stored value, for looking for records that must not be there.
    pub values: Vec<Vec<u8>>,
}

/// Reads the whole log and checks it against the ledger.
pub async fn check(client: &Client, log: &str, partitions: u32, ledger: &Ledger) -> Checked {
    let mut stored: HashMap<(u32, u64), Vec<u8>> = HashMap::new();
    let mut at: HashMap<(u8, u64), (u32, u64)> = HashMap::new();
    for p in 0..partitions {
        // Per producer and key, the last sequence number seen in this partition.
        let mut last: HashMap<(u8, u64), u64> = HashMap::new();
        for r in read_partition(client, log, p).await {
            stored.insert((p, r.offset), r.value.to_vec());
            if r.value.len() != 9 {
                continue;
            }
            let (producer, seq) = parse(&r.value);
            assert!(at.insert((producer, seq), (p, r.offset)).is_none(), "record {producer}/{seq} stored twice");
            if let Some(prev) = last.insert((producer, seq % KEYS), seq) {
                assert!(prev < seq, "{p}: key {} of producer {producer} out of send order", seq % KEYS);
            }
        }
    }
    let acked = ledger.acked.lock().unwrap();
    for (record, place) in acked.iter() {
        let found = at.get(record).unwrap_or_else(|| panic!("acknowledged record {record:?} lost"));
        assert_eq!(found, place, "acknowledged record {record:?} moved");
    }
    let read = ledger.read.lock().unwrap();
    for (place, value) in read.iter() {
        assert_eq!(stored.get(place), Some(value), "record a consumer read at {place:?} was lost");
    }
    Checked {
        acked: acked.len(),
        failed: *ledger.failed.lock().unwrap(),
        stored: stored.len(),
        read: read.len(),
        values: stored.into_values().collect(),
    }
}
