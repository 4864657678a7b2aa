//! Committed group offsets are durable (SIGKILL) and their internal log
//! does not grow without bound: snapshots let old segments go.

mod common;

use common::{segments, unique};
use pyralog::LogPartition;

/// Commits made in the test; each names every partition.
const COMMITS: u64 = 1_500;
const PARTITIONS: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_many_commits_when_snapshotted_the_offsets_log_stays_small_and_survives_sigkill() {
    let mut server = common::start_with("group_offsets_snapshot_every = 400\ngroup_offsets_segment_bytes = 65536\n");
    let c = server.client().await;
    let (log, group) = (unique("offs"), unique("offs-g"));
    c.create_log(&log, PARTITIONS).await.unwrap();
    for i in 1..=COMMITS {
        let offsets: Vec<_> = (0..PARTITIONS).map(|p| (LogPartition::new(&log, p), i * 10 + u64::from(p))).collect();
        c.alter_group_offsets(&group, &offsets).await.unwrap();
    }
    c.close().await;
    let dir = server.partition_dir("__consumer_offsets", 0);
    let kept = segments(&dir).len();
    // ~1,500 commits of ~250 bytes fill about six 64 KiB segments; snapshots leave at most two.
    assert!(kept <= 2, "{kept} offsets-log segments kept after snapshots");

    server.kill();
    server.restart();
    let c = server.client().await;
    let described = c.describe_group(&group).await.unwrap();
    let mut committed: Vec<(u32, u64)> = described.offsets.iter().map(|o| (o.partition, o.committed)).collect();
    committed.sort_unstable();
    let expected: Vec<(u32, u64)> = (0..PARTITIONS).map(|p| (p, COMMITS * 10 + u64::from(p))).collect();
    assert_eq!(committed, expected, "the last commit survives SIGKILL");
    assert!(c.list_logs().await.unwrap().iter().all(|l| l.name != "__consumer_offsets"), "internal logs are hidden");
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_server_sigkilled_under_a_group_member_it_rejoins_and_resumes_at_the_committed_offsets() {
    use std::time::Duration;

    use pyralog::{Client, ClientConfig, ConsumerConfig, Record};

    let mut server = common::start();
    let (log, group) = (unique("rejoin"), unique("rejoin-g"));
    let config = ClientConfig {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        ..ClientConfig::with_ca_file(server.ca_file())
    };
    let c = Client::connect(&server.addr, config).await.unwrap();
    c.create_log(&log, 2).await.unwrap();
    for i in 0..20u32 {
        c.produce(&log, Record::new(format!("before-{i}")).partition(i % 2)).await.unwrap();
    }
    let mut consumer = c.consumer(ConsumerConfig {
        group_id: Some(group.clone()),
        session_timeout: Duration::from_secs(3),
        heartbeat_interval: Duration::from_millis(300),
        enable_auto_commit: false,
        ..ConsumerConfig::default()
    });
    consumer.subscribe(&[&log], None).unwrap();
    let mut before = 0;
    while before < 20 {
        before += consumer.poll(Duration::from_millis(200)).await.unwrap().len();
    }
    consumer.commit().await.unwrap();

    server.kill();
    server.restart();
    for i in 0..10u32 {
        // The first request after the restart may still go out on the dead
        // connection; `produce` makes one attempt, so retry as a user would.
        let record = Record::new(format!("after-{i}")).partition(i % 2);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Err(e) = c.produce(&log, record.clone()).await {
            assert!(e.is_retriable() && tokio::time::Instant::now() < deadline, "produce failed for good: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut after = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while after.len() < 10 {
        assert!(tokio::time::Instant::now() < deadline, "no records after the restart: {after:?}");
        match consumer.poll(Duration::from_millis(200)).await {
            Ok(records) => after.extend(records.into_iter().map(|r| r.value)),
            Err(e) => assert!(e.is_retriable(), "poll failed for good: {e}"),
        }
    }
    assert!(after.iter().all(|v| v.starts_with(b"after-")), "only records after the commit: {after:?}");
    assert_eq!(after.len(), 10);
    consumer.close().await;
    c.close().await;
}

/// Polls `consumer` until it has `n` records (within 30 s); their values.
async fn poll_values(consumer: &mut pyralog::Consumer, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < n {
        assert!(tokio::time::Instant::now() < deadline, "only {got:?}");
        let records = consumer.poll(std::time::Duration::from_millis(200)).await.unwrap();
        got.extend(records.iter().map(|r| String::from_utf8(r.value.to_vec()).unwrap()));
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_deleted_and_created_again_its_groups_read_the_new_log_from_the_start() {
    use pyralog::{ConsumerConfig, Record};

    let server = common::start();
    let c = server.client().await;
    let (log, group) = (unique("recreated"), unique("recreated-g"));
    let member = || {
        let mut consumer = c.consumer(ConsumerConfig {
            group_id: Some(group.clone()),
            enable_auto_commit: false,
            ..ConsumerConfig::default()
        });
        consumer.subscribe(&[&log], None).unwrap();
        consumer
    };
    c.create_log(&log, 1).await.unwrap();
    for i in 0..5 {
        c.produce(&log, Record::new(format!("old-{i}"))).await.unwrap();
    }
    let mut consumer = member();
    assert_eq!(poll_values(&mut consumer, 5).await.len(), 5);
    consumer.commit().await.unwrap();
    consumer.close().await;

    c.delete_log(&log).await.unwrap();
    c.create_log(&log, 1).await.unwrap();
    // More records than the old commit's offset: an old offset would
    // silently skip the first five, not trip the reset policy.
    for i in 0..8 {
        c.produce(&log, Record::new(format!("new-{i}"))).await.unwrap();
    }
    let described = c.describe_group(&group).await.unwrap();
    assert!(described.offsets.is_empty(), "the deleted log's offsets are not the new log's: {described:?}");
    let mut consumer = member();
    let expected: Vec<String> = (0..8).map(|i| format!("new-{i}")).collect();
    assert_eq!(poll_values(&mut consumer, 8).await, expected, "from the start of the new log");
    consumer.close().await;
}
