//! A network partition: three nodes, each in a network namespace of its own
//! on one bridge; idempotent producers with `acks = all` write keyed
//! records and a consumer reads along while the leader of a partition is
//! cut off from the other two nodes (not from the clients); that node is
//! the controller too, so the metadata quorum has to move first.
//!
//! Shown: the old leader acknowledges none of the `acks = all` writes a
//! client beside it sends, though it appends them (a divergent tail); the
//! majority elects a new leader under a new epoch and goes on acknowledging;
//! after healing, the old leader truncates its divergent tail and catches
//! up; nothing acknowledged or read is lost or duplicated, and every replica
//! holds the same bytes.
//!
//! Needs root for `ip netns`; elsewhere it says loudly that it was skipped.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{assert_replicas_converge, create_replicated, wait_fully_in_sync, NODES};
use common::ledger::{self, Workload};
use common::unique;
use pyralog::{
    Acks, Client, ClientConfig, LogMetadata, LogOffset, PartitionMetadata, ProducerConfig, Record, NO_LEADER,
};
use pyralog_testkit::netns::{self, NetLab, NODE_PORT};
use pyralog_testkit::{stored_batches, NodeHost, TestCluster};

/// One partition led by each node.
const PARTITIONS: u32 = 3;
const PRODUCERS: u8 = 2;
/// Records acknowledged before the cut, at least.
const WARM_UP_RECORDS: usize = 500;
/// Writes the client beside the cut-off leader sends.
const ISOLATED_WRITES: usize = 20;
/// Their delivery timeout: long past the new leader's election.
const ISOLATED_DELIVERY: Duration = Duration::from_secs(4);
/// Marks the values of those writes.
const MARKER: &[u8] = b"isolated-write";
/// Longest any phase of the test may take.
const PHASE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the producers go on after healing.
const AFTER_HEAL: Duration = Duration::from_secs(2);

fn lab() -> Option<NetLab> {
    match NetLab::create(NODES as u32) {
        Ok(lab) => Some(lab),
        Err(why) => {
            eprintln!("\n!!!!!!!! SKIPPED: the network-partition test needs root and `ip netns` ({why}) !!!!!!!!\n");
            None
        }
    }
}

fn start(lab: &NetLab) -> TestCluster {
    let hosts = (1..=NODES as u32)
        .map(|n| NodeHost { addr: format!("{}:{NODE_PORT}", lab.ip(n)), launcher: lab.launcher(n) })
        .collect();
    // Reachable beyond loopback: the server wants authentication decided.
    TestCluster::start_on(env!("CARGO_BIN_EXE_pyralog-server"), hosts, "[auth]\nenabled = false\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_leader_cut_off_from_its_followers_when_writing_on_then_it_acks_nothing_and_truncates_after_healing() {
    let Some(lab) = lab() else { return };
    let c = start(&lab);
    let client = c.client().await;
    let log = unique("netpart");
    create_replicated(&client, &log, PARTITIONS).await;
    let workload = Workload::start(&client, &log, PARTITIONS, PRODUCERS);
    let ledger = Arc::clone(&workload.ledger);
    wait_for(|| ledger.acked() >= WARM_UP_RECORDS, "records acknowledged before the cut").await;
    let before = wait_fully_in_sync(&client, &log).await;
    // The hardest node to lose: the controller, leading a partition too.
    let old = client.describe_cluster().await.unwrap().controller;
    let p = before.partitions.iter().find(|p| p.leader == old).expect("the controller leads a partition").clone();

    lab.cut(old);
    let cut_at = Instant::now();
    let beside_old = isolated_writes(lab.namespace(old), c.nodes[old as usize - 1].addr.clone(), &c, &log, p.partition);
    let after = new_leader_on_the_majority(&c, &p, &log).await;
    eprintln!(
        "partition: node {old} (controller) cut off; partition {} led by node {} after {:?}",
        p.partition,
        after.leader,
        cut_at.elapsed()
    );
    let beside_old = beside_old.await.unwrap();
    assert_eq!(beside_old.acked, 0, "the cut-off leader acknowledged acks=all writes ({} failed)", beside_old.failed);
    for (offset, value) in &beside_old.read {
        ledger.read(p.partition, *offset, value);
    }
    let old_dir = c.nodes[old as usize - 1].partition_dir(&log, p.partition);
    assert!(holds_marker(&stored_batches(&old_dir)), "the cut-off leader appended the writes (a divergent tail)");

    lab.heal();
    tokio::time::sleep(AFTER_HEAL).await;
    workload.stop().await;

    wait_fully_in_sync(&client, &log).await;
    let checked = ledger::check(&client, &log, PARTITIONS, &ledger).await;
    assert!(
        !checked.values.iter().any(|v| v.starts_with(MARKER)),
        "an unacknowledged write of the old leader survived"
    );
    assert_replicas_converge(&c, &log, PARTITIONS);
    assert!(!holds_marker(&stored_batches(&old_dir)), "the old leader truncated its divergent tail");
    eprintln!(
        "partition: {} acknowledged, {} failed, {} stored, {} read along; beside the old leader {} acknowledged, \
         {} failed, {} read",
        checked.acked,
        checked.failed,
        checked.stored,
        checked.read,
        beside_old.acked,
        beside_old.failed,
        beside_old.read.len()
    );
    client.close().await;
}

async fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {PHASE_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn holds_marker(batches: &[Vec<u8>]) -> bool {
    batches.iter().any(|b| b.windows(MARKER.len()).any(|w| w == MARKER))
}

/// What a client beside the cut-off leader got.
#[derive(Default)]
struct Beside {
    acked: usize,
    failed: usize,
    /// The partition as that leader served it to a consumer: (offset, value).
    read: Vec<(u64, Vec<u8>)>,
}

/// From inside the namespace of the cut-off node: `acks = all` writes to
/// `partition`, then a read of it — all on that node alone.
fn isolated_writes(
    namespace: String,
    addr: String,
    c: &TestCluster,
    log: &str,
    partition: u32,
) -> tokio::task::JoinHandle<Beside> {
    let (ca, log) = (c.ca_file(), log.to_owned());
    tokio::task::spawn_blocking(move || {
        netns::enter(&namespace).expect("enter the cut-off node's namespace");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let config = ClientConfig { request_timeout: ISOLATED_DELIVERY, ..ClientConfig::with_ca_file(ca) };
            let client = Client::connect(&addr, config).await.expect("connect beside the cut-off node");
            let cfg = ProducerConfig {
                acks: Acks::All,
                idempotence: false,
                delivery_timeout: ISOLATED_DELIVERY,
                ..ProducerConfig::default()
            };
            let producer = client.producer(cfg).unwrap();
            let mut pending = Vec::new();
            for i in 0..ISOLATED_WRITES {
                let value = [MARKER, format!("-{i}").as_bytes()].concat();
                pending.push(producer.send(&log, Record::new(value).partition(partition)).await.unwrap());
            }
            let mut beside = Beside::default();
            for fut in pending {
                match fut.await {
                    Ok(_) => beside.acked += 1,
                    Err(_) => beside.failed += 1,
                }
            }
            let _ = producer.close().await;
            if let Ok(records) = client.consume_from_partition(&log, partition, LogOffset::ZERO, usize::MAX).await {
                beside.read = records.into_iter().map(|r| (r.offset, r.value.to_vec())).collect();
            }
            client.close().await;
            beside
        })
    })
}

/// Waits until the two nodes left elect another leader of `before`'s
/// partition, under a higher epoch.
async fn new_leader_on_the_majority(c: &TestCluster, before: &PartitionMetadata, log: &str) -> PartitionMetadata {
    let old = before.leader;
    let majority: Vec<&str> =
        c.nodes.iter().enumerate().filter(|(i, _)| *i as u32 + 1 != old).map(|(_, n)| n.addr.as_str()).collect();
    let client = Client::connect(&majority.join(","), ClientConfig::with_ca_file(c.ca_file())).await.unwrap();
    let deadline = Instant::now() + PHASE_TIMEOUT;
    loop {
        let md: Option<LogMetadata> = client.get_log_metadata(log).await.ok();
        if let Some(p) = md.map(|m| m.partitions[before.partition as usize].clone()) {
            if p.leader != old && p.leader != NO_LEADER && p.leader_epoch > before.leader_epoch {
                client.close().await;
                return p;
            }
        }
        assert!(Instant::now() < deadline, "no new leader of partition {} on the majority side", before.partition);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
