//! Compressed batches end to end: a producer compresses, the server stores
//! the compressed bytes, consumers (by offset, by timestamp, in the middle of
//! a batch) read the records back exactly.

mod common;

use std::time::Duration;

use common::unique;
use pyralog::{Client, Compression, ConsumerConfig, LogOffset, LogPartition, ProducerConfig, Record};

const RECORDS: usize = 3_000;

/// A JSON-like value of about 200 bytes, repetitive as such records are.
fn value(i: usize) -> String {
    format!(
        "{{\"order_id\":{i},\"customer\":\"customer-{}\",\"state\":\"shipped\",\"items\":[{{\"sku\":\"sku-{}\",\"qty\":{}}}],\"note\":\"left at the front door\"}}",
        i % 97,
        i % 13,
        i % 5 + 1
    )
}

async fn produce(c: &Client, log: &str, compression: Compression) {
    let p = c.producer(ProducerConfig { compression, ..ProducerConfig::default() }).unwrap();
    let mut deliveries = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let r = Record::new(value(i)).key(format!("k{}", i % 50)).partition(0).timestamp(10_000 + i as i64);
        deliveries.push(p.send(log, r.header("codec", compression.to_string())).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    p.close().await.unwrap();
}

#[tokio::test]
async fn every_codec_stores_smaller_and_reads_back_the_same_records() {
    let server = common::start();
    let c = server.client().await;
    let plain_log = unique("codec-none");
    c.create_log(&plain_log, 1).await.unwrap();
    produce(&c, &plain_log, Compression::None).await;
    let plain_bytes = c.get_log_stats(&plain_log).await.unwrap().size_bytes;

    for compression in [Compression::Snappy, Compression::Lz4, Compression::Zstd { level: 3 }] {
        let log = unique(&format!("codec-{compression}"));
        c.create_log(&log, 1).await.unwrap();
        produce(&c, &log, compression).await;
        let stats = c.get_log_stats(&log).await.unwrap();
        assert_eq!(stats.record_count, RECORDS as u64);
        assert!(
            stats.size_bytes * 3 < plain_bytes,
            "{compression}: {} bytes stored vs {plain_bytes} uncompressed",
            stats.size_bytes
        );
        let got = c.consume_from_partition(&log, 0, LogOffset::ZERO, RECORDS).await.unwrap();
        assert_eq!(got.len(), RECORDS, "{compression}");
        for (i, r) in got.iter().enumerate() {
            assert_eq!((r.offset, &r.value[..]), (i as u64, value(i).as_bytes()), "{compression}");
            assert_eq!(r.key.as_deref(), Some(format!("k{}", i % 50).as_bytes()));
            assert_eq!(r.timestamp, 10_000 + i as i64);
            assert_eq!(r.headers, vec![("codec".to_owned(), compression.to_string().into())]);
        }
    }
}

#[tokio::test]
async fn consumers_start_inside_a_compressed_batch_by_offset_and_by_timestamp() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("codec-seek");
    c.create_log(&log, 1).await.unwrap();
    produce(&c, &log, Compression::Lz4).await;

    let mid = c.consume_from_partition(&log, 0, LogOffset(1234), 3).await.unwrap();
    assert_eq!(mid.iter().map(|r| r.offset).collect::<Vec<_>>(), [1234, 1235, 1236]);

    let lp = LogPartition::new(&log, 0);
    let mut consumer = c.consumer(ConsumerConfig::default());
    consumer.assign([lp.clone()]).unwrap();
    consumer.seek_to_timestamp(std::slice::from_ref(&lp), 10_000 + 2_500).unwrap();
    assert_eq!(consumer.position(&lp).await.unwrap(), 2_500, "the server finds a timestamp inside a compressed batch");
    let mut got = Vec::new();
    while got.len() < RECORDS - 2_500 {
        let polled = consumer.poll(Duration::from_secs(5)).await.unwrap();
        assert!(!polled.is_empty(), "records from 2500 on arrive");
        got.extend(polled);
    }
    assert_eq!(got[0].offset, 2_500);
    assert_eq!(&got.last().unwrap().value[..], value(RECORDS - 1).as_bytes());
}
