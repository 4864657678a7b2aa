//! Recovery, corruption, retention, and restart behaviour of the real server.

mod common;

use std::time::{Duration, Instant};

use common::{segments, unique, TestServer};
use pyralog::{ConsumerConfig, ErrorCode, LogConfig, LogOffset, LogPartition, LogSpec, Record};
use pyralog_protocol::batch::{BatchView, HEADER_BYTES};

const SMALL_SEGMENTS: &str = "segment_bytes = 65536\nretention_check_interval_ms = 200\n";

/// Byte ranges of the batches stored in a segment file.
fn batch_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Ok(Some((b, _))) = BatchView::split(&bytes[pos..]) {
        if b.record_count() == 0 {
            break;
        }
        out.push((pos, pos + b.bytes().len()));
        pos += b.bytes().len();
    }
    out
}

fn flip(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

async fn produce_values(server: &TestServer, log: &str, n: usize, size: usize) {
    let c = server.client().await;
    for i in 0..n {
        let mut v = format!("{i:08}").into_bytes();
        v.resize(size, b'v');
        c.produce(log, Record::new(v).partition(0)).await.unwrap();
    }
    c.close().await;
}

#[tokio::test]
async fn given_a_flipped_byte_in_the_last_batch_when_restarted_the_tail_is_truncated_and_appends_continue() {
    let mut server = common::start_with(SMALL_SEGMENTS);
    let log = unique("torn");
    server.client().await.create_log(&log, 1).await.unwrap();
    produce_values(&server, &log, 100, 50).await;
    server.kill();

    let last = segments(&server.partition_dir(&log, 0)).pop().unwrap();
    let ranges = batch_ranges(&std::fs::read(&last).unwrap());
    let (start, end) = *ranges.last().unwrap();
    flip(&last, (start + end) / 2);

    server.restart();
    let c = server.client().await;
    let recs = c.consume_from_partition(&log, 0, LogOffset::ZERO, 1000).await.unwrap();
    assert_eq!(recs.len(), 99, "only the corrupt last batch is dropped");
    assert!(recs.iter().enumerate().all(|(i, r)| r.offset == i as u64));
    let md = c.produce(&log, Record::new("after").partition(0)).await.unwrap();
    assert_eq!(md.offset, 99);
}

#[tokio::test]
async fn given_a_torn_write_when_restarted_the_partial_batch_is_removed() {
    let mut server = common::start_with(SMALL_SEGMENTS);
    let log = unique("torn-len");
    server.client().await.create_log(&log, 1).await.unwrap();
    produce_values(&server, &log, 10, 50).await;
    server.kill();
    let last = segments(&server.partition_dir(&log, 0)).pop().unwrap();
    let bytes = std::fs::read(&last).unwrap();
    let (start, end) = *batch_ranges(&bytes).last().unwrap();
    // Keep only half of the last batch, then zeros (as after a torn write).
    let mut torn = bytes[..(start + end) / 2].to_vec();
    torn.resize(bytes.len(), 0);
    std::fs::write(&last, torn).unwrap();

    server.restart();
    let c = server.client().await;
    assert_eq!(c.consume_from_partition(&log, 0, LogOffset::ZERO, 100).await.unwrap().len(), 9);
    assert_eq!(c.produce(&log, Record::new("next").partition(0)).await.unwrap().offset, 9);
}

#[tokio::test]
async fn given_corruption_inside_a_sealed_segment_reads_report_the_batch_and_read_on_past_it() {
    let mut server = common::start_with(SMALL_SEGMENTS);
    let log = unique("sealed");
    server.client().await.create_log(&log, 1).await.unwrap();
    produce_values(&server, &log, 400, 500).await;
    server.kill();

    let segs = segments(&server.partition_dir(&log, 0));
    assert!(segs.len() >= 3, "expected several segments, got {}", segs.len());
    let first = &segs[0];
    let bytes = std::fs::read(first).unwrap();
    let ranges = batch_ranges(&bytes);
    let (start, end) = ranges[ranges.len() / 2];
    let bad = BatchView::split(&bytes[start..]).unwrap().unwrap().0.base_offset();
    flip(first, end - 10);

    server.restart();
    let c = server.client().await;
    let before = c.consume_from_partition(&log, 0, LogOffset::ZERO, 10_000).await.unwrap();
    assert_eq!(before.len() as u64, bad, "every record before the corrupt batch is read");
    let err = c.consume_from_partition(&log, 0, LogOffset(bad), 10_000).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::CorruptData);
    // The server logs the segment and position; the reader is told the batch.
    assert!(err.message().contains("failed its checksum"), "{}", err.message());
    let at = err.corrupt_batch().expect("the error names the batch");
    assert_eq!((at.log.as_str(), at.partition, at.first_offset, at.last_offset), (log.as_str(), 0, bad, bad));
    let skipped = c.consume_from_partition(&log, 0, LogOffset(at.last_offset + 1), 1).await.unwrap();
    assert_eq!(skipped[0].offset, bad + 1, "reading on after the batch skips it");
    // Data in later segments is still served, and the log is appendable.
    let later = c.consume_from_partition(&log, 0, LogOffset(399), 1).await.unwrap();
    assert_eq!(later.len(), 1);
    c.produce(&log, Record::new("still-writable").partition(0)).await.unwrap();
}

/// Polls `consumer` until it fails, within `limit`; no poll returns records before.
async fn poll_until_error(consumer: &mut pyralog::Consumer, limit: Duration) -> pyralog::Error {
    let t = Instant::now();
    while t.elapsed() < limit {
        match consumer.poll(Duration::from_millis(200)).await {
            Ok(recs) => assert!(recs.is_empty(), "records past a corrupt batch: {recs:?}"),
            Err(e) => return e,
        }
    }
    panic!("no error within {limit:?}");
}

/// The SDK suites' scenario (python/tests/test_corrupt_data.py and its
/// siblings): one-record batches, the fourth flipped on disk while the
/// server runs (it serves segments from a shared mapping).
#[tokio::test]
async fn given_a_batch_corrupted_while_served_readers_take_the_records_before_it_and_seek_past_it() {
    let server = common::start_with(SMALL_SEGMENTS);
    let log = unique("corrupt-live");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    produce_values(&server, &log, 6, 20).await;
    let path = segments(&server.partition_dir(&log, 0)).remove(0);
    let (start, end) = batch_ranges(&std::fs::read(&path).unwrap())[3];
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        let at = ((start + HEADER_BYTES + end) / 2) as u64;
        let mut byte = [0u8];
        f.read_exact_at(&mut byte, at).unwrap();
        f.write_all_at(&[byte[0] ^ 0xff], at).unwrap();
    }

    let got = c.consume_from_partition(&log, 0, LogOffset::ZERO, 10).await.unwrap();
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 1, 2]);
    let err = c.consume_from_partition(&log, 0, LogOffset(3), 10).await.unwrap_err();
    let at = err.corrupt_batch().unwrap_or_else(|| panic!("names the batch: {err}"));
    assert_eq!((at.log.as_str(), at.partition, at.first_offset, at.last_offset), (log.as_str(), 0, 3, 3));

    let mut consumer = c.consumer(ConsumerConfig::default());
    let lp = LogPartition::new(&log, 0);
    consumer.assign([lp.clone()]).unwrap();
    consumer.seek(&lp, LogOffset(0)).unwrap();
    let mut got = Vec::new();
    let t = Instant::now();
    while got.len() < 3 && t.elapsed() < Duration::from_secs(10) {
        got.extend(consumer.poll(Duration::from_millis(200)).await.unwrap().into_iter().map(|r| r.offset));
    }
    assert_eq!(got, [0, 1, 2]);
    for _ in 0..2 {
        let err = poll_until_error(&mut consumer, Duration::from_secs(10)).await;
        assert_eq!(err.code(), ErrorCode::CorruptData, "{err}");
        let at = err.corrupt_batch().unwrap_or_else(|| panic!("names the batch: {err}"));
        assert_eq!((at.partition, at.first_offset, at.last_offset), (0, 3, 3));
    }
    consumer.seek(&lp, LogOffset(4)).unwrap();
    let mut after = Vec::new();
    let t = Instant::now();
    while after.len() < 2 && t.elapsed() < Duration::from_secs(10) {
        after.extend(consumer.poll(Duration::from_millis(200)).await.unwrap().into_iter().map(|r| r.offset));
    }
    assert_eq!(after, [4, 5]);
    consumer.close().await;
}

async fn wait_until<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while t.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn retention_by_bytes_deletes_old_segments_and_restart_keeps_offsets_and_bumps_epochs() {
    let mut server = common::start_with(SMALL_SEGMENTS);
    let log = unique("retention-bytes");
    let c = server.client().await;
    let config = LogConfig { retention_bytes: 150_000, ..LogConfig::default() };
    c.create_log_with_config(&log, LogSpec { config, ..LogSpec::new(1) }).await.unwrap();
    produce_values(&server, &log, 1000, 500).await;
    // Retention keeps at least 150 kB and deletes whole 64 KiB segments beyond it.
    let bound = 150_000 + 65_536;
    let trimmed =
        wait_until(Duration::from_secs(10), || async { c.get_log_stats(&log).await.unwrap().size_bytes < bound }).await;
    assert!(trimmed, "retention did not trim the log below {bound} bytes");
    let start = c.earliest_offset(&log, 0).await.unwrap();
    assert!(start > 0, "the log start offset moved");
    let first = c.consume_from_partition(&log, 0, LogOffset::ZERO, 1).await.unwrap();
    assert_eq!(first[0].offset, start);
    assert_eq!(
        c.consume_from_partition(&log, 0, LogOffset(start - 1), 1).await.unwrap_err().code(),
        ErrorCode::OffsetOutOfRange
    );

    let before = c.get_log_metadata(&log).await.unwrap().partitions[0].clone();
    c.close().await;
    assert!(server.terminate(), "graceful shutdown exits 0");
    server.restart();
    let c = server.client().await;
    let after = c.get_log_metadata(&log).await.unwrap().partitions[0].clone();
    assert_eq!(after.log_start_offset, before.log_start_offset);
    assert_eq!(after.high_watermark, before.high_watermark);
    assert_eq!(after.leader_epoch, before.leader_epoch + 1, "a restart starts a new leader epoch");
    let md = c.produce(&log, Record::new("after-restart").partition(0)).await.unwrap();
    assert_eq!((md.offset, md.epoch), (before.high_watermark, after.leader_epoch));
    // Records keep the epoch they were written in.
    let old = c.consume_from_partition(&log, 0, LogOffset(before.high_watermark - 1), 2).await.unwrap();
    assert_eq!((old[0].epoch, old[1].epoch), (before.leader_epoch, after.leader_epoch));
}

#[tokio::test]
async fn retention_by_time_deletes_segments_whose_records_are_older_than_the_limit() {
    let server = common::start_with(SMALL_SEGMENTS);
    let log = unique("retention-time");
    let c = server.client().await;
    let config = LogConfig { retention_ms: 60_000, ..LogConfig::default() };
    c.create_log_with_config(&log, LogSpec { config, ..LogSpec::new(1) }).await.unwrap();
    let two_hours_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - 7_200_000;
    for i in 0..300 {
        let r = Record::new(vec![b'o'; 500]).partition(0).timestamp(two_hours_ago + i);
        c.produce(&log, r).await.unwrap();
    }
    let fresh = c.produce(&log, Record::new("fresh").partition(0)).await.unwrap();
    let moved = wait_until(Duration::from_secs(10), || async { c.earliest_offset(&log, 0).await.unwrap() > 0 }).await;
    assert!(moved, "time retention did not run");
    let remaining = c.consume_from_partition(&log, 0, LogOffset::ZERO, 10_000).await.unwrap();
    assert!(remaining.len() < 300, "old segments deleted ({} left)", remaining.len());
    assert_eq!(remaining.last().unwrap().offset, fresh.offset);
}

#[tokio::test]
async fn declared_logs_are_created_at_start_and_lookup_by_timestamp_works() {
    let server = common::start_with(
        "[logs.user_events]\npartition_count = 10\nreplication_factor = 1\nretention_bytes = 1073741824\nretention_hours = 168\nmin_in_sync_replicas = 1\n",
    );
    let c = server.client().await;
    let md = c.get_log_metadata("user_events").await.unwrap();
    assert_eq!(md.partition_count, 10);
    assert_eq!(md.config.retention_ms, 168 * 3_600_000);
    assert_eq!(md.config.retention_bytes, 1 << 30);
    for (i, ts) in [1000i64, 2000, 3000].iter().enumerate() {
        c.produce("user_events", Record::new(format!("t{i}")).partition(3).timestamp(*ts)).await.unwrap();
    }
    assert_eq!(c.offset_for_timestamp("user_events", 3, 1500).await.unwrap(), 1);
    assert_eq!(c.offset_for_timestamp("user_events", 3, 3000).await.unwrap(), 2);
    assert_eq!(c.offset_for_timestamp("user_events", 3, 9000).await.unwrap(), 3, "none: the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_cleanly_and_keeps_every_acknowledged_record() {
    let mut server = common::start();
    let log = unique("sigterm");
    let c = server.client().await;
    c.create_log(&log, 2).await.unwrap();
    let producer = c
        .producer(pyralog::ProducerConfig {
            delivery_timeout: Duration::from_secs(2),
            linger: Duration::from_millis(1),
            ..pyralog::ProducerConfig::default()
        })
        .unwrap();
    let mut futures = Vec::new();
    let mut acked = Vec::new();
    for i in 0..20_000 {
        futures.push(producer.send(&log, Record::new(format!("r{i}"))).await.unwrap());
        if i == 10_000 {
            // Some records acknowledged (the first batch waits for a producer
            // id, so this does not follow from the sends alone), the rest in
            // flight: stop the server.
            for f in futures.drain(..1000) {
                acked.push(f.await.expect("acknowledged before the stop"));
            }
            let t = Instant::now();
            assert!(server.terminate(), "graceful shutdown exits 0");
            assert!(t.elapsed() < Duration::from_secs(10), "shutdown took {:?}", t.elapsed());
        }
    }
    for f in futures {
        if let Ok(md) = f.await {
            acked.push(md);
        }
    }
    assert!(acked.len() >= 1000, "records before the stop were acknowledged");
    server.restart();
    let c = server.client().await;
    let all = c.consume(&log, LogOffset::ZERO, 100_000).await.unwrap();
    let stored: std::collections::HashSet<(u32, u64)> = all.iter().map(|r| (r.partition, r.offset)).collect();
    for md in &acked {
        assert!(stored.contains(&(md.partition, md.offset)), "acknowledged {md:?} lost");
    }
}
