//! Exactly-once produce (VLSN): with acknowledgements lost — dropped by the
//! server's fault injection, or never sent because the server was SIGKILLed
//! between writing and answering — a retrying producer ends with every
//! record in the log once, in send order per partition.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::unique;
use pyralog::{Client, ClientConfig, ErrorCode, LogOffset, ProducerConfig, Record};

/// Records sent per run.
const RECORDS: u64 = 100_000;
/// Partitions of the log.
const PARTITIONS: u32 = 4;
/// Distinct keys, so every partition gets records.
const KEYS: u64 = 64;

fn record(i: u64) -> Record {
    Record::new(i.to_be_bytes().to_vec()).key(format!("key-{}", i % KEYS))
}

fn producer_config(idempotence: bool) -> ProducerConfig {
    ProducerConfig {
        // Small batches: many produce requests, so many lost acknowledgements.
        batch_size: 16 * 1024,
        linger: Duration::from_millis(1),
        retry_backoff: Duration::from_millis(20),
        delivery_timeout: Duration::from_secs(120),
        idempotence,
        ..ProducerConfig::default()
    }
}

/// Sends every record from one task, pausing a millisecond every
/// `pause_every` records (0: never), and waits for all acknowledgements.
async fn send_all(client: &Client, log: &str, cfg: ProducerConfig, pause_every: u64) {
    let producer = client.producer(cfg).unwrap();
    let mut pending = Vec::with_capacity(RECORDS as usize);
    for i in 0..RECORDS {
        pending.push(producer.send(log, record(i)).await.unwrap());
        if pause_every > 0 && i % pause_every == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    producer.flush().await.unwrap();
    for (i, fut) in pending.into_iter().enumerate() {
        fut.await.unwrap_or_else(|e| panic!("record {i} failed: {e}"));
    }
    producer.close().await.unwrap();
}

/// Per partition, the record numbers in log order.
async fn read_back(client: &Client, log: &str) -> HashMap<u32, Vec<u64>> {
    let mut out = HashMap::new();
    for p in 0..PARTITIONS {
        let records = client.consume_from_partition(log, p, LogOffset::ZERO, usize::MAX).await.unwrap();
        let ids = records.iter().map(|r| u64::from_be_bytes(r.value[..8].try_into().unwrap())).collect();
        out.insert(p, ids);
    }
    out
}

/// Every record exactly once, and in send order within its partition.
fn assert_exactly_once_in_order(by_partition: &HashMap<u32, Vec<u64>>) {
    let mut seen = vec![false; RECORDS as usize];
    for (p, ids) in by_partition {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "partition {p} is out of send order or has duplicates");
        for &id in ids {
            assert!(!std::mem::replace(&mut seen[id as usize], true), "record {id} written twice");
        }
    }
    let missing = seen.iter().filter(|s| !**s).count();
    assert_eq!(missing, 0, "{missing} records missing");
}

fn duplicates(by_partition: &HashMap<u32, Vec<u64>>) -> usize {
    let total: usize = by_partition.values().map(Vec::len).sum();
    total - RECORDS as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_lost_acknowledgements_when_retried_every_record_is_written_once_in_order() {
    let server = common::start_with("[faults]\ndrop_every_nth_produce_response = 7\n");
    let c = server.client().await;

    let log = unique("eos-drop");
    c.create_log(&log, PARTITIONS).await.unwrap();
    send_all(&c, &log, producer_config(true), 0).await;
    assert_exactly_once_in_order(&read_back(&c, &log).await);

    // The same faults without idempotence do duplicate: the check above can fail.
    let plain = unique("eos-drop-plain");
    c.create_log(&plain, PARTITIONS).await.unwrap();
    send_all(&c, &plain, ProducerConfig { max_in_flight: 1, ..producer_config(false) }, 0).await;
    let dups = duplicates(&read_back(&c, &plain).await);
    assert!(dups > 0, "dropped acknowledgements caused no duplicate without idempotence");
    eprintln!("without idempotence the same faults wrote {dups} duplicates");
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_sigkill_between_write_and_ack_when_retried_every_record_is_written_once_in_order() {
    /// Kills while the producer runs, and the pause between them.
    const KILLS: usize = 4;
    const RUN_BETWEEN_KILLS: Duration = Duration::from_millis(700);

    let mut server = common::start();
    let log = unique("eos-kill");
    let config = ClientConfig {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        ..ClientConfig::with_ca_file(server.ca_file())
    };
    let client = Client::connect(&server.addr, config).await.unwrap();
    client.create_log(&log, PARTITIONS).await.unwrap();

    let sender = {
        let (client, log) = (client.clone(), log.clone());
        // About 20k records/s, so the run spans several kills.
        tokio::spawn(async move { send_all(&client, &log, producer_config(true), 20).await })
    };
    let mut kills = 0;
    while kills < KILLS && !sender.is_finished() {
        tokio::time::sleep(RUN_BETWEEN_KILLS).await;
        server = tokio::task::spawn_blocking(move || {
            server.restart(); // SIGKILL, then start on the same port and data
            server
        })
        .await
        .unwrap();
        kills += 1;
    }
    sender.await.unwrap();
    assert!(kills >= 2, "the producer finished before the server was killed twice");

    let reader = server.client().await;
    let by_partition = read_back(&reader, &log).await;
    assert_exactly_once_in_order(&by_partition);
    eprintln!("{RECORDS} records exactly once across {kills} SIGKILLs");
    client.close().await;
    reader.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_resumed_identity_when_old_incarnation_sends_it_is_fenced() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("eos-fence");
    c.create_log(&log, 2).await.unwrap();

    let old = c.producer(ProducerConfig::default()).unwrap();
    old.send(&log, Record::new("a").partition(0)).await.unwrap().await.unwrap();
    let identity = old.identity().await.unwrap().unwrap();

    let new = c.producer(ProducerConfig { resume: Some(identity), ..ProducerConfig::default() }).unwrap();
    let resumed = new.identity().await.unwrap().unwrap();
    assert_eq!((resumed.id, resumed.epoch), (identity.id, identity.epoch + 1));
    new.send(&log, Record::new("b").partition(0)).await.unwrap().await.unwrap();

    // The old incarnation is fenced even on a partition the new one never wrote.
    let err = old.send(&log, Record::new("zombie").partition(1)).await.unwrap().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ProducerFenced);
    let err = old.send(&log, Record::new("zombie").partition(0)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ProducerFenced, "a fenced producer refuses further sends");

    let values: Vec<_> = c.consume(&log, LogOffset::ZERO, 10).await.unwrap().into_iter().map(|r| r.value).collect();
    assert_eq!(values, vec![&b"a"[..], &b"b"[..]]);
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_server_down_at_the_first_send_when_it_returns_within_the_delivery_timeout_the_record_is_written() {
    let mut server = common::start();
    let config = ClientConfig {
        request_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        ..ClientConfig::with_ca_file(server.ca_file())
    };
    let c = Client::connect(&server.addr, config).await.unwrap();
    let log = unique("eos-late");
    c.create_log(&log, 1).await.unwrap();
    let producer =
        c.producer(ProducerConfig { delivery_timeout: Duration::from_secs(30), ..producer_config(true) }).unwrap();
    server.kill();
    // Neither the log's metadata nor a producer id can be had until the server is back.
    let restart = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        tokio::task::spawn_blocking(move || {
            server.restart();
            server
        })
        .await
        .unwrap()
    });
    let delivery = producer.send(&log, record(7)).await.expect("send waits for metadata up to max_block");
    let server = restart.await.unwrap();
    let md = delivery.await.expect("written once the server is back");
    assert_eq!(md.offset, 0);
    let reader = server.client().await;
    assert_eq!(reader.consume(&log, LogOffset::ZERO, 10).await.unwrap().len(), 1);
    c.close().await;
    reader.close().await;
}
