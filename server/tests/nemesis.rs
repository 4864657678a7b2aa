//! Failover without loss, under a nemesis: three nodes, a log of RF 3 and
//! `min_in_sync_replicas` 2, idempotent producers with `acks = all` writing
//! keyed records without pause, a consumer reading along, while the nemesis
//! SIGKILLs a node (the leader of some partition at least half the time) at
//! random moments and restarts it, and now and then SIGSTOPs another node
//! for a while.
//!
//! At the end: every acknowledged record is present exactly once, at the
//! offset it was acknowledged with; per partition the offsets are dense and
//! each producer's records of a key are in send order; every record the
//! consumer read is still there; every replica holds the same bytes.
//!
//! `PYRALOG_NEMESIS_KILLS` sets the number of kills (default 30; the long
//! run of `scripts/nemesis.sh` uses 500).

mod common;

use std::time::{Duration, Instant};

use common::cluster::{assert_replicas_converge, create_replicated, wait_fully_in_sync, NODES};
use common::ledger::{self, Workload};
use common::unique;
use pyralog::Client;
use pyralog_testkit::TestCluster;
use rand::Rng;

const PARTITIONS: u32 = 4;
const PRODUCERS: u8 = 2;
/// Kills in a CI run.
const DEFAULT_KILLS: usize = 30;
/// A node is SIGSTOPped after every this many kills.
const STOP_EVERY_KILLS: usize = 3;
/// Longest the whole fault phase may last.
const FAULT_PHASE_MAX: Duration = Duration::from_secs(60 * 60);

fn kills() -> usize {
    std::env::var("PYRALOG_NEMESIS_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_KILLS)
}

/// The node to kill: the leader of a random partition half the time.
async fn victim(client: &Client, log: &str) -> u32 {
    let mut rng = rand::thread_rng();
    if rng.gen_bool(0.5) {
        if let Ok(md) = client.get_log_metadata(log).await {
            let leader = md.partitions[rng.gen_range(0..PARTITIONS as usize)].leader;
            if (1..=NODES as u32).contains(&leader) {
                return leader;
            }
        }
    }
    rng.gen_range(1..=NODES as u32)
}

async fn nemesis(c: &mut TestCluster, client: &Client, log: &str) {
    let started = Instant::now();
    let mut restarts = Vec::new();
    for kill in 0..kills() {
        assert!(started.elapsed() < FAULT_PHASE_MAX, "fault phase over {FAULT_PHASE_MAX:?}");
        let wait = rand::thread_rng().gen_range(100..800);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let id = victim(client, log).await;
        c.node(id).kill();
        let down = rand::thread_rng().gen_range(100..1_200);
        tokio::time::sleep(Duration::from_millis(down)).await;
        let restart = Instant::now();
        c.node(id).restart();
        restarts.push(restart.elapsed());
        if kill % STOP_EVERY_KILLS == STOP_EVERY_KILLS - 1 {
            let other = rand::thread_rng().gen_range(1..=NODES as u32);
            let pause = rand::thread_rng().gen_range(200..1_500);
            c.node(other).signal(libc::SIGSTOP);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            c.node(other).signal(libc::SIGCONT);
        }
        if kill % 10 == 9 {
            eprintln!("nemesis: {} kills in {:?}", kill + 1, started.elapsed());
        }
    }
    restarts.sort();
    let median = restarts.get(restarts.len() / 2).copied().unwrap_or_default();
    let max = restarts.last().copied().unwrap_or_default();
    eprintln!(
        "nemesis: {} kills in {:?}; restart to serving: median {median:?}, max {max:?}",
        kills(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_nemesis_killing_and_pausing_nodes_when_producing_with_acks_all_then_nothing_acknowledged_is_lost() {
    let mut c = common::cluster::start("");
    let client = c.client().await;
    let log = unique("nemesis");
    create_replicated(&client, &log, PARTITIONS).await;
    let workload = Workload::start(&client, &log, PARTITIONS, PRODUCERS);

    nemesis(&mut c, &client, &log).await;
    let ledger = workload.stop().await;

    wait_fully_in_sync(&client, &log).await;
    let checked = ledger::check(&client, &log, PARTITIONS, &ledger).await;
    eprintln!(
        "nemesis: {} kills; {} records acknowledged, {} failed, {} stored, {} read along",
        kills(),
        checked.acked,
        checked.failed,
        checked.stored,
        checked.read
    );
    assert!(checked.acked > 1_000, "the producers made progress under faults ({} acknowledged)", checked.acked);
    assert_replicas_converge(&c, &log, PARTITIONS);
    client.close().await;
}
