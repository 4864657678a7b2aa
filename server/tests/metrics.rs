//! `/metrics` over HTTP, scraped while producing: the counters move by
//! exactly the records written and read; gauges show partitions, leadership
//! and group lag; the `metrics` request serves the same text.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::unique;
use pyralog::{ConsumerConfig, ErrorCode, LogOffset, ProducerConfig, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RECORDS: u64 = 20_000;
const PARTITIONS: u32 = 3;

/// A free loopback port for `metrics_listen`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// GET `path`; returns the status line and the body.
async fn get(port: u16, path: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out)).await.unwrap().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

async fn scrape(port: u16) -> BTreeMap<String, f64> {
    let (status, body) = get(port, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    common::metric_samples(&body)
}

fn value(s: &BTreeMap<String, f64>, series: &str) -> f64 {
    s.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_by_exactly_the_records_written_and_read_while_scraped() {
    let port = free_port();
    let server = common::start_with(&format!("metrics_listen = \"127.0.0.1:{port}\""));
    let c = server.client().await;
    let log = unique("metrics");
    c.create_log(&log, PARTITIONS).await.unwrap();
    let records = format!("pyralog_produced_records_total{{log=\"{log}\"}}");
    assert_eq!(scrape(port).await.get(&records), None, "no series before the first write");

    // Scraped during the run, after each quarter of it is acknowledged:
    // the counter moved by exactly the records written so far.
    let p = c.producer(ProducerConfig { batch_size: 16 * 1024, ..ProducerConfig::default() }).unwrap();
    let quarter = RECORDS / 4;
    for q in 0..4 {
        let mut deliveries = Vec::new();
        for i in q * quarter..(q + 1) * quarter {
            deliveries.push(p.send(&log, Record::new(format!("value-{i}")).key(format!("k{i}"))).await.unwrap());
        }
        for d in deliveries {
            d.await.unwrap();
        }
        assert_eq!(value(&scrape(port).await, &records), ((q + 1) * quarter) as f64, "after quarter {q}");
    }

    let s = scrape(port).await;
    assert_eq!(value(&s, &records), RECORDS as f64, "produced exactly");
    let stored: f64 = (0..PARTITIONS)
        .map(|p| value(&s, &format!("pyralog_partition_size_bytes{{log=\"{log}\",partition=\"{p}\"}}")))
        .sum();
    assert_eq!(
        value(&s, &format!("pyralog_produced_bytes_total{{log=\"{log}\"}}")),
        stored,
        "batch bytes = stored bytes"
    );
    for p in 0..PARTITIONS {
        let at = format!("{{log=\"{log}\",partition=\"{p}\"}}");
        assert!(value(&s, &format!("pyralog_partition_segments{at}")) >= 1.0);
        assert_eq!(value(&s, &format!("pyralog_partition_isr_size{at}")), 1.0);
        assert!(value(&s, &format!("pyralog_partition_leader_epoch{at}")) >= 1.0);
    }
    let hw: f64 = (0..PARTITIONS)
        .map(|p| value(&s, &format!("pyralog_partition_high_watermark{{log=\"{log}\",partition=\"{p}\"}}")))
        .sum();
    assert_eq!(hw, RECORDS as f64);
    assert_eq!(value(&s, "pyralog_under_replicated_partitions"), 0.0);
    assert!(value(&s, "pyralog_fsync_duration_seconds_count") > 0.0, "flush always fsyncs");
    assert!(value(&s, "pyralog_request_duration_seconds_count{kind=\"produce\"}") >= 1.0);
    assert!(value(&s, "pyralog_connections_open") >= 1.0);

    let read = c.consume(&log, LogOffset::ZERO, RECORDS as usize).await.unwrap();
    assert_eq!(read.len() as u64, RECORDS);
    let s = scrape(port).await;
    assert_eq!(value(&s, &format!("pyralog_fetched_records_total{{log=\"{log}\"}}")), RECORDS as f64, "read exactly");

    let errors = "pyralog_errors_total{code=\"LogNotFound\"}";
    let before = value(&s, errors);
    let e = c.produce(&unique("missing"), Record::new("x")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::LogNotFound);
    assert_eq!(value(&scrape(port).await, errors), before + 1.0);

    let (status, _) = get(port, "/other").await;
    assert!(status.contains("404"), "{status}");
    let text = c.server_metrics().await.unwrap();
    assert!(text.contains(&records), "the metrics request serves the same series");
}

#[tokio::test]
async fn group_lag_is_the_records_after_the_committed_offset() {
    let port = free_port();
    let server = common::start_with(&format!("metrics_listen = \"127.0.0.1:{port}\""));
    let c = server.client().await;
    let (log, group) = (unique("lag"), unique("lag-group"));
    c.create_log(&log, 1).await.unwrap();
    for i in 0..50 {
        c.produce(&log, Record::new(format!("r{i}"))).await.unwrap();
    }
    let mut consumer = c.consumer(ConsumerConfig {
        group_id: Some(group.clone()),
        enable_auto_commit: false,
        ..ConsumerConfig::default()
    });
    consumer.subscribe(&[&log], None).unwrap();
    let mut got = 0;
    for _ in 0..100 {
        got += consumer.poll(Duration::from_millis(200)).await.unwrap().len();
        if got == 50 {
            break;
        }
    }
    assert_eq!(got, 50);
    consumer.commit().await.unwrap();
    let lag = format!("pyralog_group_lag{{group=\"{group}\",log=\"{log}\",partition=\"0\"}}");
    assert_eq!(scrape(port).await.get(&lag).copied(), Some(0.0));
    for i in 0..7 {
        c.produce(&log, Record::new(format!("late{i}"))).await.unwrap();
    }
    assert_eq!(scrape(port).await.get(&lag).copied(), Some(7.0));
    consumer.close().await;
}

#[tokio::test]
async fn retried_batches_count_once_and_a_deleted_logs_series_go() {
    let port = free_port();
    let config = format!("metrics_listen = \"127.0.0.1:{port}\"\n[faults]\ndrop_every_nth_produce_response = 3\n");
    let server = common::start_with(&config);
    let c = server.client().await;
    let log = unique("metrics-retry");
    c.create_log(&log, 1).await.unwrap();
    // One record per batch: every third acknowledgement is lost, the
    // producer sends the batch again, the server answers it as a duplicate.
    let p = c.producer(ProducerConfig { linger: Duration::ZERO, ..ProducerConfig::default() }).unwrap();
    for i in 0..30 {
        p.send(&log, Record::new(format!("r{i}"))).await.unwrap().await.unwrap();
    }
    let records = format!("pyralog_produced_records_total{{log=\"{log}\"}}");
    assert_eq!(value(&scrape(port).await, &records), 30.0, "retries are not counted again");
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 30);

    c.delete_log(&log).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while scrape(port).await.keys().any(|k| k.contains(&log)) {
        assert!(std::time::Instant::now() < deadline, "series of {log} still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
