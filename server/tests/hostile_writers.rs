//! Writers who mean harm, and data gone bad: a producer id of another
//! principal is refused and tells nothing; a stored batch that cannot be
//! decoded blocks neither the records before it nor compaction; a log whose
//! preallocation would eat the disk is refused; a partition that cannot be
//! opened is reported, not answered `NotLeader` forever.

mod common;

use std::time::{Duration, Instant};

use common::auth::{auth_server, connect, records_in, token, with_token};
use common::raw::{produce_request, raw_authenticate, raw_refusal};
use pyralog::{
    CleanupPolicy, ConsumerConfig, ErrorCode, LogConfig, LogOffset, LogPartition, LogSpec, ProducerConfig, Record,
};
use pyralog_protocol::batch::BatchBuilder;
use pyralog_testkit::{damage_batch, unique};

/// Longest a test waits for the server to act on its own.
const SETTLE: Duration = Duration::from_secs(20);

/// A batch of one record stamped as producer `id`/`epoch` at sequence `vlsn`.
fn forged_batch(value: &[u8], id: u64, epoch: u16, vlsn: u64) -> Vec<u8> {
    let mut b = BatchBuilder::new(value.len() + 128);
    b.push(1, None, value, &[]).unwrap();
    b.set_producer(id, epoch, vlsn);
    b.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carrying_another_principals_producer_id_is_refused_and_hers_all_land() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let log = unique("forged");
    admin.create_log(&log, 1).await.unwrap();
    admin.add_acl("*", "write", &format!("log:{log}")).await.unwrap();
    let alice = connect(&server, with_token(&server, &token(&server, "alice"))).await.unwrap();
    let producer = alice.producer(ProducerConfig::default()).unwrap();
    producer.send(&log, Record::new("alice-0")).await.unwrap().await.unwrap();
    let id = producer.identity().await.unwrap().expect("an idempotent producer has an id");

    // Bob stamps Alice's id and her next sequence into his own batch.
    let bob = common::raw_connect(&server).await;
    raw_authenticate(&bob, &token(&server, "bob")).await.unwrap();
    for vlsn in [1, 0, 7] {
        let batch = forged_batch(b"bob posing as alice", id.id, id.epoch, vlsn);
        let (code, message) = raw_refusal(&bob, &produce_request(&log, &batch)).await;
        assert_eq!(code, ErrorCode::NotAuthorized, "{message}");
        assert!(!message.contains("sequence") && !message.contains("epoch"), "tells nothing of hers: {message}");
    }
    // Nor may he take the id over (that needs write on the cluster).
    let taken = connect(&server, with_token(&server, &token(&server, "bob2"))).await.unwrap();
    let resumed = taken.producer(ProducerConfig { resume: Some(id), ..ProducerConfig::default() }).unwrap();
    let e = match resumed.send(&log, Record::new("b")).await {
        Ok(d) => d.await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.code(), ErrorCode::NotAuthorized, "{e}");

    // Every one of Alice's batches is written, none answered as a duplicate of his.
    for i in 1..=5 {
        let md = producer.send(&log, Record::new(format!("alice-{i}"))).await.unwrap().await.unwrap();
        assert_eq!(md.offset, i, "alice's record {i} lands at its own offset");
    }
    producer.close().await.unwrap();
    assert_eq!(records_in(&admin, &log).await, 6);
    let values: Vec<_> = admin
        .consume_from_partition(&log, 0, LogOffset::ZERO, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8(r.value.to_vec()).unwrap())
        .collect();
    assert_eq!(values, (0..=5).map(|i| format!("alice-{i}")).collect::<Vec<_>>());

    // The owner itself still resumes its id without any cluster right.
    let own = alice.producer(ProducerConfig { resume: Some(id), ..ProducerConfig::default() }).unwrap();
    own.send(&log, Record::new("alice-again")).await.unwrap().await.expect("alice resumes her own id");
    own.close().await.unwrap();
}

/// One record per batch, `n` of them, each acknowledged before the next.
async fn one_batch_each(c: &pyralog::Client, log: &str, values: impl IntoIterator<Item = String>) {
    for v in values {
        c.produce(log, Record::new(v).partition(0)).await.unwrap();
    }
}

fn values_of(records: &[pyralog::ConsumerRecord]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8(r.value.to_vec()).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_batch_that_does_not_decode_lets_every_record_before_it_be_read() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("rotten");
    c.create_log(&log, 1).await.unwrap();
    one_batch_each(&c, &log, (0..6).map(|i| format!("v{i}"))).await;
    damage_batch(&server.partition_dir(&log, 0), 3);

    let read = c.consume_from_partition(&log, 0, LogOffset::ZERO, 10).await.unwrap();
    assert_eq!(values_of(&read), ["v0", "v1", "v2"], "every record before the bad batch");
    let e = c.consume_from_partition(&log, 0, LogOffset(3), 10).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CorruptData, "{e}");
    let at = e.corrupt_batch().expect("where the bad batch is").clone();
    assert_eq!((at.log.as_str(), at.partition, at.first_offset, at.last_offset), (log.as_str(), 0, 3, 3));
    let after = c.consume_from_partition(&log, 0, LogOffset(at.last_offset + 1), 10).await.unwrap();
    assert_eq!(values_of(&after), ["v4", "v5"]);

    // A consumer: the good records, then the error (again, until it
    // seeks past the batch), then the rest.
    let mut consumer = c.consumer(ConsumerConfig::default());
    let lp = LogPartition { log: log.as_str().into(), partition: 0 };
    consumer.assign([lp.clone()]).unwrap();
    consumer.seek(&lp, LogOffset::ZERO).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + SETTLE;
    let reported = loop {
        assert!(Instant::now() < deadline, "no CorruptData after {got:?}");
        match consumer.poll(Duration::from_millis(500)).await {
            Ok(records) => got.extend(values_of(&records)),
            Err(e) => break e,
        }
    };
    assert_eq!(got, ["v0", "v1", "v2"], "delivered before the error");
    assert_eq!(reported.corrupt_batch().map(|b| (b.first_offset, b.last_offset)), Some((3, 3)), "{reported}");
    let again = consumer.poll(Duration::from_millis(500)).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::CorruptData, "reported until skipped");
    consumer.seek(&lp, LogOffset(4)).unwrap();
    let mut rest = Vec::new();
    while rest.len() < 2 && Instant::now() < deadline {
        rest.extend(values_of(&consumer.poll(Duration::from_millis(500)).await.unwrap()));
    }
    assert_eq!(rest, ["v4", "v5"]);
    consumer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_goes_on_around_a_batch_that_does_not_decode() {
    let server = common::start_with("[compaction]\ninterval_ms = 100\nmin_dirty_ratio = 0.0\n");
    let c = server.client().await;
    let log = unique("rotten-compacted");
    let config = LogConfig { cleanup_policy: CleanupPolicy::Compact, segment_bytes: 64 * 1024, ..LogConfig::default() };
    c.create_log_with_config(&log, LogSpec { config, ..LogSpec::new(1) }).await.unwrap();
    // Key k0 once, a damaged batch, then enough versions of k1 to seal
    // several segments.
    c.produce(&log, Record::new("k0-only").key("k0").partition(0)).await.unwrap();
    c.produce(&log, Record::new("to be damaged").key("bad").partition(0)).await.unwrap();
    // Damaged before any segment is sealed: every compaction round meets it.
    damage_batch(&server.partition_dir(&log, 0), 1);
    // Small batches: segments seal as they fill.
    let producer = c.producer(ProducerConfig { batch_size: 8 * 1024, ..ProducerConfig::default() }).unwrap();
    let mut sent = Vec::new();
    for i in 0..1_500 {
        sent.push(producer.send(&log, Record::new(format!("k1 {i:04} {}", "x".repeat(100))).key("k1")).await.unwrap());
    }
    for d in sent {
        d.await.unwrap();
    }
    producer.close().await.unwrap();

    // Compaction removes k1's old versions although a batch before them
    // does not decode; the damaged batch stays as it was.
    let deadline = Instant::now() + SETTLE;
    loop {
        let after_bad = c.consume_from_partition(&log, 0, LogOffset(2), 10_000).await.unwrap();
        let k1 = after_bad.iter().filter(|r| r.key.as_deref() == Some(&b"k1"[..])).count();
        if k1 < 1_000 {
            break;
        }
        assert!(Instant::now() < deadline, "compaction made no progress: {k1} versions of k1");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = c.consume_from_partition(&log, 0, LogOffset::ZERO, 10).await.unwrap();
    assert_eq!(values_of(&first), ["k0-only"]);
    let e = c.consume_from_partition(&log, 0, LogOffset(1), 10).await.unwrap_err();
    assert_eq!(e.corrupt_batch().map(|b| b.first_offset), Some(1), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_whose_preallocation_would_eat_the_disk_is_refused_and_nothing_is_created() {
    // Keep all but ~100 MiB of the data directory's disk in reserve.
    let probe = tempfile::tempdir().unwrap();
    let free = pyralog_server::storage::available_disk_bytes(probe.path()).unwrap();
    let reserve = free.saturating_sub(100 << 20);
    let server = common::start_with(&format!("disk_reserve_bytes = {reserve}\n"));
    let c = server.client().await;
    let big = unique("too-big");
    let e = c.create_log(&big, 64).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StorageFull, "{e}");
    assert!(e.message().contains("nothing was created"), "{e}");
    assert!(!c.log_exists(&big).await.unwrap());
    let small = unique("fits");
    c.create_log(&small, 2).await.expect("two partitions fit");
    let e = c.add_partitions(&small, 66).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StorageFull, "{e}");
    assert_eq!(c.get_log_metadata(&small).await.unwrap().partition_count, 2);
    // A new partition takes one allocation step of its segment, not all of it.
    let seg = &pyralog_testkit::segments(&server.partition_dir(&small, 0))[0];
    let allocated = std::fs::metadata(seg).unwrap().len();
    assert!(allocated <= 16 << 20, "a new segment file is {allocated} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_that_cannot_be_opened_is_reported_not_answered_not_leader_forever() {
    let mut server = common::start();
    let c = server.client().await;
    let log = unique("unopenable");
    c.create_log(&log, 2).await.unwrap();
    c.produce(&log, Record::new("kept").partition(1)).await.unwrap();
    let dir = server.partition_dir(&log, 1);
    c.close().await;
    server.kill();
    // Partition 1's directory turns into a file: it cannot be opened.
    let aside = dir.with_extension("aside");
    std::fs::rename(&dir, &aside).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    server.restart();
    let c = server.client().await;
    let deadline = Instant::now() + SETTLE;
    let md = loop {
        let md = c.get_log_metadata(&log).await.unwrap();
        if !md.partitions[1].offline_replicas.is_empty() {
            break md;
        }
        assert!(Instant::now() < deadline, "partition 1 never reported offline: {md:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(md.partitions[1].leader, pyralog::NO_LEADER);
    assert!(md.partitions[0].offline_replicas.is_empty());
    let began = Instant::now();
    let e = c.produce(&log, Record::new("x").partition(1)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StorageError, "{e}");
    assert!(!e.is_retriable() && began.elapsed() < Duration::from_secs(5), "at once, not retried: {e}");
    c.produce(&log, Record::new("y").partition(0)).await.expect("the other partition works");

    // Mended: the replica opens at the next start and leads again.
    c.close().await;
    server.kill();
    std::fs::remove_file(&dir).unwrap();
    std::fs::rename(&aside, &dir).unwrap();
    server.restart();
    let c = server.client().await;
    let deadline = Instant::now() + SETTLE;
    loop {
        match c.produce(&log, Record::new("z").partition(1)).await {
            Ok(md) => {
                assert_eq!(md.offset, 1, "after the record kept");
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "partition 1 not back: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.get_log_metadata(&log).await.unwrap().partitions[1].offline_replicas.is_empty());
}
