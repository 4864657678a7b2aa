//! Core-client behaviour beyond the conformance scenarios: partitioners,
//! consumer seek/pause/reset, and producer retries across a server restart.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::unique;
use pyralog::{ConsumerConfig, ErrorCode, LogOffset, LogPartition, OffsetReset, Partitioner, ProducerConfig, Record};

#[tokio::test]
async fn custom_partitioner_decides_and_out_of_range_choice_fails() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("custom-part");
    c.create_log(&log, 5).await.unwrap();
    let by_len =
        Partitioner::Custom(Arc::new(|_log: &str, key: Option<&[u8]>, n: u32| key.map_or(0, |k| k.len() as u32 % n)));
    let p = c.producer(ProducerConfig { partitioner: by_len, ..ProducerConfig::default() }).unwrap();
    let md = p.send(&log, Record::new("v").key("abc")).await.unwrap().await.unwrap();
    assert_eq!(md.partition, 3);
    let bad = Partitioner::Custom(Arc::new(|_: &str, _: Option<&[u8]>, n: u32| n));
    let p2 = c.producer(ProducerConfig { partitioner: bad, ..ProducerConfig::default() }).unwrap();
    assert_eq!(p2.send(&log, Record::new("v")).await.unwrap_err().code(), ErrorCode::PartitionNotFound);
    // An explicit partition wins over any partitioner.
    let md = p.send(&log, Record::new("v").key("abc").partition(1)).await.unwrap().await.unwrap();
    assert_eq!(md.partition, 1);
}

#[tokio::test]
async fn keyless_records_stick_to_a_partition_per_batch_and_spread_over_time() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("sticky");
    c.create_log(&log, 4).await.unwrap();
    let p = c.producer(ProducerConfig { batch_size: 4096, ..ProducerConfig::default() }).unwrap();
    let mut futs = Vec::new();
    for _ in 0..2000 {
        futs.push(p.send(&log, Record::new(vec![0u8; 100])).await.unwrap());
    }
    p.flush().await.unwrap();
    let mut parts = Vec::new();
    for f in futs {
        parts.push(f.await.unwrap().partition);
    }
    let switches = parts.windows(2).filter(|w| w[0] != w[1]).count();
    let used: HashSet<u32> = parts.iter().copied().collect();
    assert!(used.len() >= 3, "keyless records spread over partitions: {used:?}");
    assert!(switches < 200, "sticky: about one switch per 4 KiB batch, saw {switches}");
}

#[tokio::test]
async fn consumer_pause_resume_seek_beginning_end_and_timestamp() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("consumer-ops");
    c.create_log(&log, 2).await.unwrap();
    for i in 0..10i64 {
        c.produce(&log, Record::new(format!("p0-{i}")).partition(0).timestamp(1000 + i)).await.unwrap();
        c.produce(&log, Record::new(format!("p1-{i}")).partition(1).timestamp(1000 + i)).await.unwrap();
    }
    let (p0, p1) = (LogPartition::new(&log, 0), LogPartition::new(&log, 1));
    let mut consumer = c.consumer(ConsumerConfig::default());
    consumer.assign_log(&log).await.unwrap();
    consumer.pause(std::slice::from_ref(&p1)).unwrap();
    let mut got = Vec::new();
    while got.len() < 10 {
        got.extend(consumer.poll(Duration::from_secs(2)).await.unwrap());
    }
    assert!(got.iter().all(|r| r.partition == 0), "paused partition not delivered");
    assert!(consumer.poll(Duration::from_millis(200)).await.unwrap().is_empty());
    consumer.resume(std::slice::from_ref(&p1)).unwrap();
    let more = consumer.poll(Duration::from_secs(2)).await.unwrap();
    assert!(!more.is_empty() && more.iter().all(|r| r.partition == 1));
    assert_eq!(consumer.position(&p0).await.unwrap(), 10);

    consumer.seek_to_timestamp(std::slice::from_ref(&p0), 1005).unwrap();
    assert_eq!(consumer.position(&p0).await.unwrap(), 5);
    consumer.seek_to_beginning(std::slice::from_ref(&p0)).unwrap();
    assert_eq!(consumer.position(&p0).await.unwrap(), 0);
    consumer.seek_to_end(&[]).unwrap();
    assert_eq!(consumer.position(&p1).await.unwrap(), 10);
    consumer.seek(&p0, LogOffset(7)).unwrap();
    let r = consumer.poll(Duration::from_secs(2)).await.unwrap();
    assert_eq!(r[0].offset, 7);
    assert!(consumer.seek(&LogPartition::new("other", 0), LogOffset(1)).is_err());
}

#[tokio::test]
async fn out_of_range_positions_follow_the_reset_policy() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("reset");
    c.create_log(&log, 1).await.unwrap();
    for i in 0..5 {
        c.produce(&log, Record::new(format!("{i}")).partition(0)).await.unwrap();
    }
    let lp = LogPartition::new(&log, 0);
    let mut earliest = c.consumer(ConsumerConfig::default());
    earliest.assign([lp.clone()]).unwrap();
    earliest.seek(&lp, LogOffset(100)).unwrap();
    let r = earliest.poll(Duration::from_secs(2)).await.unwrap();
    assert_eq!(r.first().map(|r| r.offset), Some(0), "reset to earliest");

    let mut strict = c.consumer(ConsumerConfig { auto_offset_reset: OffsetReset::Error, ..ConsumerConfig::default() });
    strict.assign([lp.clone()]).unwrap();
    assert_eq!(strict.poll(Duration::from_millis(100)).await.unwrap_err().code(), ErrorCode::OffsetOutOfRange);
    strict.seek(&lp, LogOffset(100)).unwrap();
    assert_eq!(strict.poll(Duration::from_secs(2)).await.unwrap_err().code(), ErrorCode::OffsetOutOfRange);

    let mut latest = c.consumer(ConsumerConfig { auto_offset_reset: OffsetReset::Latest, ..ConsumerConfig::default() });
    latest.assign([lp.clone()]).unwrap();
    assert_eq!(latest.position(&lp).await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_retries_in_order_across_a_server_restart() {
    let mut server = common::start();
    let log = unique("retry");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let p = c
        .producer(ProducerConfig {
            delivery_timeout: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(50),
            ..ProducerConfig::default()
        })
        .unwrap();
    let mut futs = Vec::new();
    for i in 0..500 {
        futs.push(p.send(&log, Record::new(format!("{i:05}"))).await.unwrap());
    }
    p.flush().await.unwrap();
    assert!(server.terminate());
    // Sent while the server is down: retried until it is back.
    for i in 500..1000 {
        futs.push(p.send(&log, Record::new(format!("{i:05}"))).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart();
    for f in futs {
        f.await.unwrap();
    }
    let all = c.consume_from_partition(&log, 0, LogOffset::ZERO, 2000).await.unwrap();
    let values: Vec<String> = all.iter().map(|r| String::from_utf8(r.value.to_vec()).unwrap()).collect();
    let expected: Vec<String> = (0..1000).map(|i| format!("{i:05}")).collect();
    assert_eq!(values, expected, "every record once, in send order");
}

#[tokio::test]
async fn a_full_buffer_refuses_a_send_after_max_block_and_acknowledged_records_free_it() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("buffer-full");
    c.create_log(&log, 1).await.unwrap();
    let cfg = ProducerConfig {
        buffer_memory: 1000,
        max_block: Duration::from_millis(300),
        linger: Duration::from_secs(30), // records stay queued until the flush
        ..ProducerConfig::default()
    };
    let p = c.producer(cfg).unwrap();
    let value = vec![7u8; 300];
    let mut queued = Vec::new();
    for _ in 0..3 {
        queued.push(p.send(&log, Record::new(value.clone())).await.unwrap());
    }
    let started = std::time::Instant::now();
    let refused = p.send(&log, Record::new(value.clone())).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BufferFull, "{refused}");
    assert!(started.elapsed() >= Duration::from_millis(250), "refused before max_block");

    p.flush().await.unwrap();
    for f in queued {
        f.await.unwrap();
    }
    // Their room is free again: the next send is queued at once.
    let next = p.send(&log, Record::new(value)).await.unwrap();
    p.flush().await.unwrap();
    assert_eq!(next.await.unwrap().offset, 3);
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 4);
}

#[tokio::test]
async fn full_batches_are_sent_without_waiting_for_linger() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("full-batches");
    c.create_log(&log, 1).await.unwrap();
    let cfg = ProducerConfig { batch_size: 1000, linger: Duration::from_secs(30), ..ProducerConfig::default() };
    let p = c.producer(cfg).unwrap();
    let mut futs = Vec::new();
    for _ in 0..30 {
        futs.push(p.send(&log, Record::new(vec![1u8; 100])).await.unwrap());
    }
    // The last batch is still open (it would linger); the full ones before it are sent.
    futs.truncate(20);
    let all = futures_util::future::try_join_all(futs);
    let acked = tokio::time::timeout(Duration::from_secs(10), all).await.expect("sent before the linger ran out");
    assert_eq!(acked.unwrap().len(), 20);
    p.close().await.unwrap();
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 30);
}

#[tokio::test]
async fn a_producer_dropped_without_close_still_sends_what_it_queued() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("dropped-producer");
    c.create_log(&log, 2).await.unwrap();
    let p = c.producer(ProducerConfig { linger: Duration::from_secs(30), ..ProducerConfig::default() }).unwrap();
    let mut futs = Vec::new();
    for i in 0..100 {
        futs.push(p.send(&log, Record::new(format!("v{i}")).key(format!("k{i}"))).await.unwrap());
    }
    drop(p);
    let all = futures_util::future::try_join_all(futs);
    let acked = tokio::time::timeout(Duration::from_secs(10), all).await.expect("sent at once, not after linger");
    assert_eq!(acked.unwrap().len(), 100);
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 100);
}

#[tokio::test]
async fn sends_racing_close_are_either_refused_or_written_and_told() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("close-race");
    c.create_log(&log, 4).await.unwrap();
    let p = c.producer(ProducerConfig::default()).unwrap();
    let mut senders = Vec::new();
    for t in 0..4 {
        let (p, log) = (p.clone(), log.clone());
        senders.push(tokio::spawn(async move {
            let mut queued = Vec::new();
            for i in 0..200_000 {
                match p.send(&log, Record::new(format!("{t}-{i}"))).await {
                    Ok(f) => queued.push(f),
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::Closed, "{e}");
                        break;
                    }
                }
                if i % 256 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            queued
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    p.close().await.unwrap();
    let mut written = 0u64;
    for s in senders {
        for f in s.await.unwrap() {
            tokio::time::timeout(Duration::from_secs(10), f).await.expect("every queued record is told").unwrap();
            written += 1;
        }
    }
    assert!(p.send(&log, Record::new("late")).await.is_err(), "a send after close is refused");
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, written);
}

/// Records and bytes of the bulk transfer below: 32 MiB each way.
const BULK_RECORDS: usize = 32 * 1024;
const BULK_RECORD_BYTES: usize = 1024;

/// quinn batches datagrams for segment offload; a path MTU whose batch the
/// kernel refuses turned every bulk transfer's batches into "losses", and
/// the connection fell back to 1200-byte packets at half the throughput.
/// Megabytes each way keep the MTU discovery found on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_transfers_keep_the_discovered_path_mtu() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("bulk-mtu");
    c.create_log(&log, 1).await.unwrap();
    let p = c.producer(ProducerConfig::default()).unwrap();
    for _ in 0..BULK_RECORDS {
        drop(p.send(&log, Record::new(vec![7u8; BULK_RECORD_BYTES])).await.unwrap());
    }
    p.close().await.unwrap();
    let mut read = 0;
    while read < BULK_RECORDS {
        let got = c.consume_from_partition(&log, 0, LogOffset(read as u64), BULK_RECORDS).await.unwrap();
        assert!(!got.is_empty(), "read {read} of {BULK_RECORDS}");
        assert!(got.iter().all(|r| r.value.len() == BULK_RECORD_BYTES));
        read += got.len();
    }
    let n = c.network_stats();
    assert_eq!(n.black_holes, 0, "no connection fell back to 1200-byte packets: {n:?}");
    assert!(n.smallest_mtu > 1452, "loopback carries more than Ethernet's MTU: {n:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakeup_ends_a_waiting_poll_at_once_and_a_wakeup_before_a_poll_ends_the_next() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("wakeup");
    c.create_log(&log, 1).await.unwrap();
    let mut consumer = c.consumer(ConsumerConfig::default());
    consumer.assign_log(&log).await.unwrap();
    let wakeup = consumer.wakeup_handle();
    let waker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        wakeup.wake();
        std::time::Instant::now()
    });
    let e = consumer.poll(Duration::from_secs(30)).await.unwrap_err();
    let woken_after = waker.await.unwrap().elapsed();
    assert_eq!(e.code(), pyralog::ErrorCode::Cancelled, "{e}");
    assert!(woken_after < Duration::from_millis(100), "woken {woken_after:?} after wake()");
    // Nothing pending: the next poll waits as usual, and sees a record produced.
    c.produce(&log, Record::new("after")).await.unwrap();
    let mut got = Vec::new();
    while got.is_empty() {
        got = consumer.poll(Duration::from_secs(5)).await.unwrap();
    }
    // A wakeup with no poll running ends the next poll.
    consumer.wakeup_handle().wake();
    assert_eq!(consumer.poll(Duration::from_secs(30)).await.unwrap_err().code(), pyralog::ErrorCode::Cancelled);
    consumer.close().await;
}
