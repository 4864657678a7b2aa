//! Conformance scenarios 9 (consumer group) and 10 (commits) of
//! spec/conformance.md, through the core client against the real server:
//! each on one node and on a 3-node cluster (the groups' coordinator is the
//! leader of `__consumer_offsets`, a replicated log).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::target::Target;
use common::unique;
use pyralog::{Client, ConsumerConfig, LogPartition, RebalanceListener, Record};
use tokio::task::JoinHandle;

/// Longest any phase of a scenario may take.
const PHASE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

fn group_config(group: &str) -> ConsumerConfig {
    ConsumerConfig {
        group_id: Some(group.to_owned()),
        session_timeout: Duration::from_secs(6),
        heartbeat_interval: Duration::from_millis(300),
        rebalance_timeout: Duration::from_secs(10),
        enable_auto_commit: false,
        ..ConsumerConfig::default()
    }
}

/// Records what a member's listener and polls saw.
#[derive(Default)]
struct Seen {
    assigned_calls: Mutex<Vec<Vec<LogPartition>>>,
    revoked_calls: Mutex<Vec<Vec<LogPartition>>>,
    assignment: Mutex<BTreeSet<LogPartition>>,
    /// (partition, offset) of every record delivered.
    delivered: Mutex<Vec<(u32, u64)>>,
}

impl RebalanceListener for Seen {
    fn on_partitions_assigned(&self, p: &[LogPartition]) {
        self.assigned_calls.lock().unwrap().push(p.to_vec());
    }
    fn on_partitions_revoked(&self, p: &[LogPartition]) {
        self.revoked_calls.lock().unwrap().push(p.to_vec());
    }
}

/// A consumer polling in its own task, committing after every batch, until stopped.
struct Member {
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Member {
    fn start(client: &Client, group: &str, log: &str) -> Member {
        let seen = Arc::new(Seen::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut consumer = client.consumer(group_config(group));
        let listener: Arc<dyn RebalanceListener> = seen.clone();
        consumer.subscribe(&[log], Some(listener)).unwrap();
        let (s, st) = (Arc::clone(&seen), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            while !st.load(Ordering::Acquire) {
                let records = consumer.poll(POLL).await.unwrap();
                s.delivered.lock().unwrap().extend(records.iter().map(|r| (r.partition, r.offset)));
                if !records.is_empty() {
                    consumer.commit().await.unwrap();
                }
                *s.assignment.lock().unwrap() = consumer.assignment().into_iter().collect();
            }
            consumer.close().await;
        });
        Member { seen, stop, task }
    }

    fn assignment(&self) -> BTreeSet<LogPartition> {
        self.seen.assignment.lock().unwrap().clone()
    }

    fn delivered(&self) -> Vec<(u32, u64)> {
        self.seen.delivered.lock().unwrap().clone()
    }

    async fn close(self) -> Arc<Seen> {
        self.stop.store(true, Ordering::Release);
        self.task.await.unwrap();
        self.seen
    }
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PHASE_TIMEOUT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn produce_per_partition(c: &Client, log: &str, partitions: u32, per_partition: u32, tag: &str) {
    for p in 0..partitions {
        for i in 0..per_partition {
            c.produce(log, Record::new(format!("{tag}-{p}-{i}")).partition(p)).await.unwrap();
        }
    }
}

fn all_delivered(members: &[&Member]) -> Vec<(u32, u64)> {
    members.iter().flat_map(|m| m.delivered()).collect()
}

async fn scenario_9_two_members_split_then_one_takes_over_and_nothing_is_delivered_twice(t: &Target) {
    let c = t.client().await;
    let (log, group) = (unique("conf-9"), unique("g9"));
    c.create_log(&log, 4).await.unwrap();
    produce_per_partition(&c, &log, 4, 25, "first").await;

    let a = Member::start(&c, &group, &log);
    let b = Member::start(&c, &group, &log);
    eventually("each member owns 2 partitions, together all 4", || {
        let (x, y) = (a.assignment(), b.assignment());
        x.len() == 2 && y.len() == 2 && x.is_disjoint(&y)
    })
    .await;
    eventually("all 100 records delivered", || all_delivered(&[&a, &b]).len() >= 100).await;
    assert!(!a.seen.assigned_calls.lock().unwrap().is_empty() && !b.seen.assigned_calls.lock().unwrap().is_empty());

    let b_seen = b.close().await;
    assert!(!b_seen.revoked_calls.lock().unwrap().is_empty(), "closing revokes the member's partitions");
    eventually("the remaining member owns all 4 partitions", || a.assignment().len() == 4).await;
    produce_per_partition(&c, &log, 4, 5, "second").await;
    eventually("all 120 records delivered", || {
        all_delivered(&[&a]).len() + b_seen.delivered.lock().unwrap().len() >= 120
    })
    .await;
    let a_seen = a.close().await;

    let mut delivered: Vec<(u32, u64)> = a_seen.delivered.lock().unwrap().clone();
    delivered.extend(b_seen.delivered.lock().unwrap().iter());
    let unique_records: BTreeSet<_> = delivered.iter().collect();
    assert_eq!(unique_records.len(), 120, "every produced record delivered");
    assert_eq!(delivered.len(), 120, "after commits no record is delivered twice to the group");

    // A member joining after the commits starts from the committed offsets.
    let late = Member::start(&c, &group, &log);
    eventually("the late member owns all 4 partitions", || late.assignment().len() == 4).await;
    produce_per_partition(&c, &log, 4, 1, "third").await;
    eventually("the late member got the new records", || late.delivered().len() >= 4).await;
    tokio::time::sleep(POLL * 3).await;
    let late_seen = late.close().await;
    let got = late_seen.delivered.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "only records after the committed offsets: {got:?}");
    assert!(got.iter().all(|(_, offset)| *offset == 30));
    c.close().await;
}

async fn scenario_10_commit_then_committed_returns_it_and_a_new_consumer_resumes_there(t: &Target) {
    let c = t.client().await;
    let (log, group) = (unique("conf-10"), unique("g10"));
    c.create_log(&log, 1).await.unwrap();
    produce_per_partition(&c, &log, 1, 100, "r").await;
    let lp = LogPartition::new(&log, 0);

    let mut first = c.consumer(ConsumerConfig { max_poll_records: 40, ..group_config(&group) });
    first.subscribe(&[&log], None).unwrap();
    let mut got = Vec::new();
    while got.len() < 40 {
        got.extend(first.poll(POLL).await.unwrap());
    }
    assert_eq!(got.len(), 40);
    first.commit().await.unwrap();
    let committed = first.committed(std::slice::from_ref(&lp)).await.unwrap();
    assert_eq!(committed, HashMap::from([(lp.clone(), 40)]).into_iter().collect());
    // An asynchronous commit resolves once durable.
    let mut more = Vec::new();
    while more.len() < 5 {
        more.extend(first.poll(POLL).await.unwrap());
    }
    let pending = first.commit_async().unwrap();
    pending.await.unwrap().unwrap();
    let after_async = first.committed(std::slice::from_ref(&lp)).await.unwrap();
    assert_eq!(after_async.get(&lp), Some(&(40 + more.len() as u64)));
    first.close().await;

    let mut second = c.consumer(group_config(&group));
    second.subscribe(&[&log], None).unwrap();
    let mut resumed = Vec::new();
    for _ in 0..100 {
        resumed = second.poll(POLL).await.unwrap();
        if !resumed.is_empty() {
            break;
        }
    }
    let expected = 40 + more.len() as u64;
    assert_eq!(resumed.first().map(|r| r.offset), Some(expected), "resumes exactly at the committed offset");
    second.close().await;
    c.close().await;
}

async fn auto_commit_on_interval_and_on_close_then_unsubscribe_keeps_the_commits(t: &Target) {
    let c = t.client().await;
    let (log, group) = (unique("auto"), unique("g-auto"));
    c.create_log(&log, 1).await.unwrap();
    produce_per_partition(&c, &log, 1, 30, "r").await;
    let lp = LogPartition::new(&log, 0);
    let cfg = ConsumerConfig {
        enable_auto_commit: true,
        auto_commit_interval: Duration::from_millis(200),
        max_poll_records: 10,
        ..group_config(&group)
    };

    let mut consumer = c.consumer(cfg.clone());
    consumer.subscribe(&[&log], None).unwrap();
    let mut got = 0;
    while got < 10 {
        got += consumer.poll(POLL).await.unwrap().len();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    got += consumer.poll(POLL).await.unwrap().len(); // the interval passed: this poll commits
    let committed = consumer.committed(std::slice::from_ref(&lp)).await.unwrap();
    assert!(committed.get(&lp).is_some_and(|o| *o >= 10), "interval auto-commit: {committed:?}");
    consumer.unsubscribe().await.unwrap();
    assert!(consumer.assignment().is_empty());
    let after_leave = consumer.committed(std::slice::from_ref(&lp)).await.unwrap();
    assert_eq!(after_leave.get(&lp), Some(&(got as u64)), "leaving commits every record polled");
    consumer.close().await;

    let mut next = c.consumer(cfg);
    next.subscribe(&[&log], None).unwrap();
    let mut first = Vec::new();
    for _ in 0..100 {
        first = next.poll(POLL).await.unwrap();
        if !first.is_empty() {
            break;
        }
    }
    assert_eq!(first.first().map(|r| r.offset), Some(got as u64));
    next.close().await;
    c.close().await;
}

async fn a_member_that_stops_polling_leaves_after_max_poll_interval_and_rejoins_on_its_next_poll(t: &Target) {
    let c = t.client().await;
    let (log, group) = (unique("slow"), unique("g-slow"));
    c.create_log(&log, 4).await.unwrap();
    let steady = Member::start(&c, &group, &log);
    let mut slow = c.consumer(ConsumerConfig { max_poll_interval: Duration::from_secs(1), ..group_config(&group) });
    slow.subscribe(&[&log], None).unwrap();
    let split =
        |slow: &pyralog::Consumer, steady: &Member| slow.assignment().len() == 2 && steady.assignment().len() == 2;
    let deadline = tokio::time::Instant::now() + PHASE_TIMEOUT;
    while !split(&slow, &steady) {
        assert!(tokio::time::Instant::now() < deadline, "the two members never split the log");
        slow.poll(POLL).await.unwrap();
    }
    // No poll for longer than max_poll_interval: the steady member takes everything.
    eventually("the steady member owns all 4 partitions", || steady.assignment().len() == 4).await;
    let deadline = tokio::time::Instant::now() + PHASE_TIMEOUT;
    while !split(&slow, &steady) {
        assert!(tokio::time::Instant::now() < deadline, "the slow member never rejoined");
        slow.poll(POLL).await.unwrap();
    }
    slow.close().await;
    steady.close().await;
    c.close().await;
}

on_one_and_three_nodes!(
    scenario_9_two_members_split_then_one_takes_over_and_nothing_is_delivered_twice,
    scenario_10_commit_then_committed_returns_it_and_a_new_consumer_resumes_there,
    auto_commit_on_interval_and_on_close_then_unsubscribe_keeps_the_commits,
    a_member_that_stops_polling_leaves_after_max_poll_interval_and_rejoins_on_its_next_poll,
);
