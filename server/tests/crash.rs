//! Crash safety: SIGKILL the server at random moments under produce load,
//! restart it, and check that every acknowledged record is present exactly
//! once with its content, and that the log stays appendable.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::unique;
use pyralog::{Client, ClientConfig, LogOffset, ProducerConfig, Record};
use rand::Rng;

/// Kill/restart cycles.
const CYCLES: usize = 20;
/// Longest a producer runs before its server is killed.
const MAX_RUN_MS: u64 = 400;

/// Acknowledged ids and the partition/offset each was acknowledged at.
#[derive(Default)]
struct Acked(std::sync::Mutex<Vec<(u64, u32, u64)>>);

fn value_of(id: u64) -> Vec<u8> {
    let mut v = format!("record-{id:012}-").into_bytes();
    v.resize(64, b'#');
    v
}

async fn produce_until_killed(client: Client, log: String, first_id: u64, acked: Arc<Acked>) -> u64 {
    let producer = client
        .producer(ProducerConfig {
            linger: Duration::from_millis(1),
            delivery_timeout: Duration::from_millis(1500),
            ..ProducerConfig::default()
        })
        .unwrap();
    let mut id = first_id;
    let mut tasks = Vec::new();
    loop {
        let record = Record::new(value_of(id)).key(format!("k{}", id % 37));
        let Ok(fut) = producer.send(&log, record).await else { break };
        let acked = Arc::clone(&acked);
        let this = id;
        tasks.push(tokio::spawn(async move {
            if let Ok(md) = fut.await {
                acked.0.lock().unwrap().push((this, md.partition, md.offset));
                true
            } else {
                false
            }
        }));
        id += 1;
        if id % 256 == 0 {
            // Keep a bounded number of records in flight.
            let done: Vec<_> = std::mem::take(&mut tasks);
            let mut failures = 0;
            for t in done {
                if !t.await.unwrap_or(false) {
                    failures += 1;
                }
            }
            if failures > 0 {
                break;
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_sigkill_under_load_when_restarted_every_acknowledged_record_is_present_once() {
    let mut server = common::start_with("segment_bytes = 262144\n");
    let log = unique("crash");
    {
        let c = server.client().await;
        c.create_log(&log, 3).await.unwrap();
        c.close().await;
    }
    let acked = Arc::new(Acked::default());
    let mut next_id = 0u64;
    for cycle in 0..CYCLES {
        let client = Client::connect(&server.addr, ClientConfig::with_ca_file(server.ca_file())).await.unwrap();
        let run = tokio::spawn(produce_until_killed(client.clone(), log.clone(), next_id, Arc::clone(&acked)));
        let wait = rand::thread_rng().gen_range(50..MAX_RUN_MS);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        next_id = run.await.unwrap() + 1;
        client.close().await;
        server.restart();
        let acked_now = acked.0.lock().unwrap().len();
        eprintln!("cycle {cycle}: {acked_now} acknowledged so far");
        assert!(acked_now > 0 || cycle < 2, "producer made no progress by cycle {cycle}");
    }

    let c = server.client().await;
    // Appendable after the last restart, with dense offsets.
    let md = c.produce(&log, Record::new("after-crashes").partition(0)).await.unwrap();
    let all = c.consume(&log, LogOffset::ZERO, usize::MAX).await.unwrap();
    let mut seen: HashMap<Vec<u8>, (u32, u64)> = HashMap::new();
    for p in 0..3 {
        let offsets: Vec<u64> = all.iter().filter(|r| r.partition == p).map(|r| r.offset).collect();
        assert!(offsets.iter().enumerate().all(|(i, o)| *o == i as u64), "partition {p} offsets dense");
    }
    for r in &all {
        assert!(seen.insert(r.value.to_vec(), (r.partition, r.offset)).is_none(), "duplicate {:?}", r.value);
    }
    let acked = acked.0.lock().unwrap();
    assert!(acked.len() > 1000, "only {} records acknowledged over {CYCLES} cycles", acked.len());
    for (id, partition, offset) in acked.iter() {
        let at = seen.get(&value_of(*id)).unwrap_or_else(|| panic!("acknowledged record {id} lost"));
        assert_eq!(at, &(*partition, *offset), "record {id} moved");
    }
    assert!(all.iter().any(|r| r.partition == 0 && r.offset == md.offset && &r.value[..] == b"after-crashes"));
    eprintln!("{} acknowledged records survived {CYCLES} SIGKILLs; {} stored", acked.len(), all.len());
}
