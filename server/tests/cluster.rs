//! A three-node cluster of real server processes on loopback: replicated
//! logs land byte-identical on every replica, a SIGKILLed leader's
//! partitions move to an in-sync follower with a new epoch and lose no
//! acknowledged record, the killed node catches up when it returns, and
//! the whole cluster SIGKILLed at once comes back with everything.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cluster::{read_partition, wait_fully_in_sync, NODES};
use common::unique;
use pyralog::{Client, ErrorCode, LogMetadata, ProducerConfig, Record};
use pyralog_testkit::TestCluster;

const PARTITIONS: u32 = 4;

fn cluster() -> TestCluster {
    common::cluster::start("")
}

async fn create_replicated(client: &Client, name: &str) -> LogMetadata {
    common::cluster::create_replicated(client, name, PARTITIONS).await
}

fn record(i: u64) -> Record {
    Record::new(i.to_be_bytes().to_vec()).key(format!("key-{}", i % 32))
}

fn producer_config() -> ProducerConfig {
    ProducerConfig {
        linger: Duration::from_millis(2),
        retry_backoff: Duration::from_millis(50),
        delivery_timeout: Duration::from_secs(60),
        ..ProducerConfig::default()
    }
}

/// Sends records `range` through one producer; every one acknowledged.
async fn send(client: &Client, log: &str, range: std::ops::Range<u64>) {
    let producer = client.producer(producer_config()).unwrap();
    let mut pending = Vec::new();
    for i in range {
        pending.push(producer.send(log, record(i)).await.unwrap());
    }
    producer.flush().await.unwrap();
    for (i, fut) in pending.into_iter().enumerate() {
        fut.await.unwrap_or_else(|e| panic!("record {i} not acknowledged: {e}"));
    }
    producer.close().await.unwrap();
}

/// Every record number in the log; each partition's offsets dense from 0.
async fn read_all(client: &Client, log: &str) -> Vec<u64> {
    let mut all = Vec::new();
    for p in 0..PARTITIONS {
        let records = read_partition(client, log, p).await;
        all.extend(records.iter().map(|r| u64::from_be_bytes(r.value[..8].try_into().unwrap())));
    }
    all.sort_unstable();
    all
}

fn assert_replicas_converge(c: &TestCluster, log: &str) {
    common::cluster::assert_replicas_converge(c, log, PARTITIONS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_three_nodes_when_a_log_of_rf3_is_written_then_every_replica_holds_the_same_bytes() {
    let c = cluster();
    let client = c.client().await;
    let log = unique("cluster-rf3");
    let md = create_replicated(&client, &log).await;
    assert!(md.partitions.iter().all(|p| p.replicas.len() == NODES), "{:?}", md.partitions);
    let leaders: BTreeSet<u32> = md.partitions.iter().map(|p| p.leader).collect();
    assert_eq!(leaders.len(), NODES, "leaders spread over the nodes: {:?}", md.partitions);

    send(&client, &log, 0..2_000).await;
    assert_eq!(read_all(&client, &log).await, (0..2_000).collect::<Vec<_>>());
    assert_replicas_converge(&c, &log);

    let missing = unique("cluster-missing");
    let err = client.produce(&missing, Record::new("x")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LogNotFound, "{err}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_killed_leader_when_writing_on_then_a_follower_leads_under_a_new_epoch_and_nothing_is_lost() {
    let mut c = cluster();
    let client = c.client().await;
    let log = unique("cluster-failover");
    create_replicated(&client, &log).await;
    send(&client, &log, 0..1_000).await;
    let before = wait_fully_in_sync(&client, &log).await;
    let victim = before.partitions[0].leader;

    c.node(victim).kill();
    send(&client, &log, 1_000..2_000).await;
    let after = client.get_log_metadata(&log).await.unwrap();
    let p0 = &after.partitions[0];
    assert_ne!(p0.leader, victim, "partition 0 moved off the killed node");
    assert!(p0.leader_epoch > before.partitions[0].leader_epoch, "a new leader epoch: {p0:?}");
    assert!(!p0.isr.contains(&victim), "the killed node left the ISR: {p0:?}");
    assert_eq!(read_all(&client, &log).await, (0..2_000).collect::<Vec<_>>());

    c.start_all();
    wait_fully_in_sync(&client, &log).await;
    assert_replicas_converge(&c, &log);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_whole_cluster_sigkilled_when_restarted_then_logs_epochs_and_offsets_are_intact() {
    let mut c = cluster();
    let client = c.client().await;
    let log = unique("cluster-restart");
    create_replicated(&client, &log).await;
    send(&client, &log, 0..1_000).await;
    let before = wait_fully_in_sync(&client, &log).await;
    client.close().await;

    c.kill_all();
    c.start_all();
    let client = c.client().await;
    let after = wait_fully_in_sync(&client, &log).await;
    for (a, b) in after.partitions.iter().zip(&before.partitions) {
        assert!(a.leader_epoch > b.leader_epoch, "leadership re-established under a new epoch: {a:?} after {b:?}");
    }
    // Visible at once up to each replica's checkpointed high watermark, the
    // rest as soon as the followers report to their new leaders.
    let deadline = std::time::Instant::now() + common::cluster::CONVERGE_TIMEOUT;
    while read_all(&client, &log).await.len() < 1_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(read_all(&client, &log).await, (0..1_000).collect::<Vec<_>>());
    send(&client, &log, 1_000..1_100).await;
    assert_eq!(read_all(&client, &log).await, (0..1_100).collect::<Vec<_>>());
    assert_replicas_converge(&c, &log);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_two_of_three_nodes_dead_when_writing_with_acks_all_then_nothing_is_acknowledged() {
    let mut c = cluster();
    let client = c.client().await;
    let log = unique("cluster-minority");
    create_replicated(&client, &log).await;
    send(&client, &log, 0..100).await;
    let md = wait_fully_in_sync(&client, &log).await;
    let survivor = md.partitions[0].leader;
    for id in 1..=NODES as u32 {
        if id != survivor {
            c.node(id).kill();
        }
    }
    let cfg = ProducerConfig { delivery_timeout: Duration::from_secs(5), ..producer_config() };
    let producer = client.producer(cfg).unwrap();
    let outcome = producer.send(&log, record(100).partition(0)).await.unwrap().await;
    let err = outcome.expect_err("no acks=all write is acknowledged by a lone replica");
    assert!(matches!(err.code(), ErrorCode::Timeout | ErrorCode::NotEnoughReplicas | ErrorCode::NotLeader), "{err}");
    let admin = client.create_log(&unique("cluster-no-quorum"), 1).await.unwrap_err();
    assert!(matches!(admin.code(), ErrorCode::QuorumUnavailable | ErrorCode::Timeout), "{admin}");
    let _ = producer.close().await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_dead_follower_the_leaders_metrics_show_its_partition_under_replicated() {
    let mut c = cluster();
    let client = c.client().await;
    let log = unique("cluster-metrics");
    common::cluster::create_replicated(&client, &log, 1).await;
    send(&client, &log, 0..10).await;
    let leader = wait_fully_in_sync(&client, &log).await.partitions[0].leader;
    let at_leader = c.node(leader).client().await;
    let series = |name: &str| format!("{name}{{log=\"{log}\",partition=\"0\"}}");
    let m = common::metric_samples(&at_leader.server_metrics().await.unwrap());
    assert_eq!((m[&series("pyralog_partition_isr_size")], m[&series("pyralog_partition_replicas")]), (3.0, 3.0));
    assert!(m[&series("pyralog_partition_leader_epoch")] >= 1.0);
    assert_eq!(m["pyralog_under_replicated_partitions"], 0.0);

    let follower = (1..=NODES as u32).find(|n| *n != leader).unwrap();
    c.node(follower).kill();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = common::metric_samples(&at_leader.server_metrics().await.unwrap());
        if m["pyralog_under_replicated_partitions"] == 1.0 {
            assert_eq!(m[&series("pyralog_partition_isr_size")], 2.0);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the ISR never shrank: {m:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    at_leader.close().await;
    client.close().await;
}
