//! Helpers of the cluster tests: a 3-node cluster of this package's server
//! binary, replicated logs, and the checks that replicas converge.

use std::time::{Duration, Instant};

use pyralog::{Client, ConsumerRecord, LogConfig, LogMetadata, LogOffset, LogSpec};
use pyralog_testkit::{stored_batches, TestCluster};

pub const NODES: usize = 3;
/// How long replicas may take to converge after writes stop.
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Three nodes on defaults plus `config` (TOML lines).
pub fn start(config: &str) -> TestCluster {
    TestCluster::start(env!("CARGO_BIN_EXE_pyralog-server"), NODES, config)
}

/// A log of `partitions` partitions, RF 3, `min_in_sync_replicas` 2.
pub async fn create_replicated(client: &Client, name: &str, partitions: u32) -> LogMetadata {
    let config = LogConfig { min_in_sync_replicas: 2, ..LogConfig::default() };
    let spec = LogSpec { partition_count: partitions, replication_factor: NODES as u32, config };
    client.create_log_with_config(name, spec).await.expect("create a replicated log")
}

/// Every record of one partition; panics unless offsets are dense from 0.
pub async fn read_partition(client: &Client, log: &str, partition: u32) -> Vec<ConsumerRecord> {
    let records = client.consume_from_partition(log, partition, LogOffset::ZERO, usize::MAX).await.unwrap();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, i as u64, "{log}/{partition}: offsets are dense");
    }
    records
}

/// Waits until every replica of every partition holds the same batches.
pub fn assert_replicas_converge(c: &TestCluster, log: &str, partitions: u32) {
    let all: Vec<u32> = (1..=c.nodes.len() as u32).collect();
    for p in 0..partitions {
        assert_replicas_converge_on(c, log, p, &all);
    }
}

/// Waits until the replicas of `partition` on `nodes` hold the same batches.
pub fn assert_replicas_converge_on(c: &TestCluster, log: &str, partition: u32, nodes: &[u32]) {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    loop {
        let copies: Vec<Vec<Vec<u8>>> =
            nodes.iter().map(|n| stored_batches(&c.nodes[*n as usize - 1].partition_dir(log, partition))).collect();
        if copies.windows(2).all(|w| w[0] == w[1]) {
            assert!(!copies[0].is_empty(), "partition {partition} holds batches");
            return;
        }
        let lens: Vec<usize> = copies.iter().map(Vec::len).collect();
        assert!(Instant::now() < deadline, "partition {partition}: replicas differ (batches per node {lens:?})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the metadata shows every partition led, with a full ISR.
pub async fn wait_fully_in_sync(client: &Client, log: &str) -> LogMetadata {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    loop {
        if let Ok(md) = client.get_log_metadata(log).await {
            if md.partitions.iter().all(|p| p.isr.len() == NODES && p.leader != pyralog::NO_LEADER) {
                return md;
            }
            assert!(Instant::now() < deadline, "ISR not full in time: {:?}", md.partitions);
        }
        assert!(Instant::now() < deadline, "no metadata in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
