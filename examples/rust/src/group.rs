//! A consumer group: two members split a 4-partition log and commit what
//! they read; the group's committed offsets are printed at the end.
//!
//! Run: `group [HOST:PORT] [CA_FILE]` against a running server.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyralog::{
    Client, ClientConfig, Consumer, ConsumerConfig, LogPartition, ProducerConfig, RebalanceListener, Record,
};

const LOG: &str = "orders";
const PARTITIONS: u32 = 4;
const RECORDS: usize = 200;
/// Longest each phase (splitting the partitions, reading every record) may take.
const PHASE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(200);

/// Prints the member's rebalances and keeps its current partitions.
struct Member {
    name: &'static str,
    partitions: Mutex<BTreeSet<u32>>,
}

impl RebalanceListener for Member {
    fn on_partitions_assigned(&self, partitions: &[LogPartition]) {
        let ids: Vec<u32> = partitions.iter().map(|lp| lp.partition).collect();
        println!("member {} assigned {ids:?}", self.name);
        self.partitions.lock().unwrap().extend(ids);
    }
    fn on_partitions_revoked(&self, partitions: &[LogPartition]) {
        let ids: Vec<u32> = partitions.iter().map(|lp| lp.partition).collect();
        println!("member {} revoked {ids:?}", self.name);
        self.partitions.lock().unwrap().retain(|p| !ids.contains(p));
    }
}

impl Member {
    fn new(name: &'static str) -> Arc<Member> {
        Arc::new(Member { name, partitions: Mutex::new(BTreeSet::new()) })
    }

    fn owned(&self) -> BTreeSet<u32> {
        self.partitions.lock().unwrap().clone()
    }
}

/// (member, (partition, offset)) of every record the members received.
type Delivered = Mutex<Vec<(&'static str, (u32, u64))>>;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let ca = args.next().unwrap_or_else(|| "pyralog-data/tls/ca.pem".into());
    let client = Client::connect(&addr, ClientConfig::with_ca_file(ca)).await?;
    if client.log_exists(LOG).await? {
        client.delete_log(LOG).await?;
    }
    client.create_log(LOG, PARTITIONS).await?;

    // A group id of its own per run, so a re-run starts with nothing committed.
    let group = format!("billing-{}", SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis());
    let (a, b) = (Member::new("a"), Member::new("b"));
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for m in [&a, &b] {
        let mut consumer =
            client.consumer(ConsumerConfig { group_id: Some(group.clone()), ..ConsumerConfig::default() });
        consumer.subscribe(&[LOG], Some(Arc::clone(m) as Arc<dyn RebalanceListener>))?;
        tasks.push(tokio::spawn(poll_until_stopped(consumer, m.name, Arc::clone(&delivered), Arc::clone(&stop))));
    }

    wait_for("each member to own 2 partitions", || a.owned().len() == 2 && b.owned().len() == 2).await?;
    let producer = client.producer(ProducerConfig::default())?;
    let mut deliveries = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        deliveries
            .push(producer.send(LOG, Record::new(format!("order-{i}")).key(format!("customer-{}", i % 20))).await?);
    }
    for delivery in deliveries {
        delivery.await?;
    }
    producer.close().await?;
    wait_for("every record to arrive", || delivered.lock().unwrap().len() >= RECORDS).await?;
    stop.store(true, Ordering::Release);
    let mut consumers = Vec::new();
    for task in tasks {
        consumers.push(task.await??);
    }

    let got = delivered.lock().unwrap().clone();
    for m in [&a, &b] {
        let count = got.iter().filter(|(name, _)| name == &m.name).count();
        println!("member {} read {count} records from partitions {:?}", m.name, m.owned());
    }
    let (a_parts, b_parts) = (a.owned(), b.owned());
    let split = a_parts.is_disjoint(&b_parts) && a_parts.len() + b_parts.len() == PARTITIONS as usize;
    let distinct: BTreeSet<_> = got.iter().map(|(_, position)| position).collect();
    if !split || got.len() != RECORDS || distinct.len() != RECORDS {
        let counts = format!("{} deliveries of {} distinct records", got.len(), distinct.len());
        return Err(format!("the members did not split the log: {a_parts:?} {b_parts:?}, {counts}").into());
    }

    let partitions: Vec<LogPartition> = (0..PARTITIONS).map(|p| LogPartition::new(LOG, p)).collect();
    for (lp, offset) in consumers[0].committed(&partitions).await? {
        println!("committed {}/{}: {offset}", lp.log, lp.partition);
    }
    for mut consumer in consumers {
        consumer.close().await;
    }
    client.close().await;
    Ok(())
}

/// Polls (and commits after every non-empty poll) until told to stop.
async fn poll_until_stopped(
    mut consumer: Consumer,
    name: &'static str,
    delivered: Arc<Delivered>,
    stop: Arc<AtomicBool>,
) -> Result<Consumer> {
    while !stop.load(Ordering::Acquire) {
        let records = consumer.poll(POLL).await?;
        if !records.is_empty() {
            delivered.lock().unwrap().extend(records.iter().map(|r| (name, (r.partition, r.offset))));
            consumer.commit().await?;
        }
    }
    Ok(consumer)
}

async fn wait_for(what: &str, done: impl Fn() -> bool) -> Result<()> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > PHASE_TIMEOUT {
            return Err(format!("timed out after {PHASE_TIMEOUT:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
