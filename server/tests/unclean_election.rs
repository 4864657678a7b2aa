//! Unclean leader election on a 3-node cluster: a partition of RF 2 whose
//! in-sync leader dies after its follower fell out of the ISR. Off (the
//! default), the partition waits for the in-sync replica and loses nothing;
//! on, the out-of-sync replica leads at once and what only the ISR held is
//! gone.

mod common;

use std::time::{Duration, Instant};

use common::cluster::{read_partition, CONVERGE_TIMEOUT};
use common::unique;
use pyralog::{Client, LogMetadata, LogSpec, PartitionMetadata, ProducerConfig, Record, NO_LEADER};
use pyralog_testkit::TestCluster;

/// How long a leaderless partition is watched to stay leaderless.
const STAYS_OFFLINE_FOR: Duration = Duration::from_secs(4);

async fn partition(client: &Client, log: &str) -> Option<PartitionMetadata> {
    client.get_log_metadata(log).await.ok().map(|md: LogMetadata| md.partitions[0].clone())
}

/// Waits until partition 0 of `log` satisfies `ok`.
async fn wait_for(
    client: &Client,
    log: &str,
    what: &str,
    ok: impl Fn(&PartitionMetadata) -> bool,
) -> PartitionMetadata {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    loop {
        match partition(client, log).await {
            Some(p) if ok(&p) => return p,
            last => assert!(Instant::now() < deadline, "{what}: not in time ({last:?})"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `range` (every record acknowledged) and returns.
async fn send(client: &Client, log: &str, range: std::ops::Range<u64>) {
    let cfg = ProducerConfig { delivery_timeout: Duration::from_secs(30), ..ProducerConfig::default() };
    let producer = client.producer(cfg).unwrap();
    let mut pending = Vec::new();
    for i in range {
        pending.push(producer.send(log, Record::new(i.to_be_bytes().to_vec()).partition(0)).await.unwrap());
    }
    producer.flush().await.unwrap();
    for fut in pending {
        fut.await.expect("acknowledged");
    }
    producer.close().await.unwrap();
}

async fn values(client: &Client, log: &str) -> Vec<u64> {
    read_partition(client, log, 0).await.iter().map(|r| u64::from_be_bytes(r.value[..8].try_into().unwrap())).collect()
}

/// Leader `a` and follower `b` of an RF 2 partition; records 0..100 go to
/// both, 100..200 to `a` alone after `b` died; then `a` dies and `b`
/// returns. Returns the cluster, the client, the log and `a`.
async fn lose_the_last_in_sync_replica(config: &str) -> (TestCluster, Client, String, u32) {
    let mut c = common::cluster::start(config);
    let client = c.client().await;
    let log = unique("unclean");
    client.create_log_with_config(&log, LogSpec { replication_factor: 2, ..LogSpec::new(1) }).await.unwrap();
    let p = wait_for(&client, &log, "both replicas in sync", |p| p.isr.len() == 2).await;
    let (a, b) = (p.leader, *p.replicas.iter().find(|n| **n != p.leader).unwrap());
    send(&client, &log, 0..100).await;
    wait_for(&client, &log, "the follower caught up", |p| p.high_watermark == 100 && p.isr.len() == 2).await;

    c.node(b).kill();
    wait_for(&client, &log, "the dead follower leaves the ISR", |p| p.isr == vec![a]).await;
    send(&client, &log, 100..200).await;
    c.node(a).kill();
    c.node(b).restart();
    (c, client, log, a)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_unclean_election_off_when_the_last_in_sync_replica_dies_the_partition_waits_for_it_and_loses_nothing() {
    let (mut c, client, log, a) = lose_the_last_in_sync_replica("").await;
    let until = Instant::now() + STAYS_OFFLINE_FOR;
    while Instant::now() < until {
        if let Some(p) = partition(&client, &log).await {
            assert!(p.leader == NO_LEADER || p.leader == a, "an out-of-sync replica leads: {p:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.node(a).restart();
    wait_for(&client, &log, "the in-sync replica leads again", |p| p.leader == a).await;
    assert_eq!(values(&client, &log).await, (0..200).collect::<Vec<_>>(), "every acknowledged record is kept");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_unclean_election_on_when_the_last_in_sync_replica_dies_an_out_of_sync_one_leads_and_its_tail_is_lost() {
    let (mut c, client, log, a) = lose_the_last_in_sync_replica("[cluster]\nunclean_leader_election = true\n").await;
    let p = wait_for(&client, &log, "the out-of-sync replica leads", |p| p.leader != NO_LEADER && p.leader != a).await;
    assert_eq!(p.isr, vec![p.leader]);
    assert_eq!(values(&client, &log).await, (0..100).collect::<Vec<_>>(), "what only the old ISR held is gone");
    send(&client, &log, 200..210).await;

    c.node(a).restart();
    wait_for(&client, &log, "the old leader truncates and rejoins", |p| p.isr.len() == 2).await;
    let expected: Vec<u64> = (0..100).chain(200..210).collect();
    assert_eq!(values(&client, &log).await, expected);
    common::cluster::assert_replicas_converge_on(&c, &log, 0, &[a, p.leader]);
    client.close().await;
}
