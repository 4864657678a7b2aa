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
