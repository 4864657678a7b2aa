//! The Rust program of the interop test: `produce`, `dump` and `member` as
//! `tests/interop/README.md` defines them. It only moves records between the
//! text format and the core client; the driver makes every check.

mod tsv;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyralog::{
    Acks, Client, ClientConfig, Consumer, ConsumerConfig, ErrorCode, LogOffset, LogPartition, ProducerConfig,
    RebalanceListener,
};

/// Records one `dump` read asks for.
const DUMP_READ_MAX: usize = 1_000;
/// How long a member's poll waits.
const MEMBER_POLL: Duration = Duration::from_millis(200);
/// A member gives up (exit 2) after this long.
const MEMBER_GIVE_UP: Duration = Duration::from_secs(180);

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["produce", server, ca, log, input, output] => produce(server, ca, log, input, output).await,
        ["dump", server, ca, log, output] => dump(server, ca, log, output).await,
        ["member", server, ca, log, group, stop, output] => member(server, ca, log, group, stop, output).await,
        _ => Err("usage: pyralog-interop produce|dump|member ... (see tests/interop/README.md)".into()),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("pyralog-interop: {e}");
            std::process::exit(1);
        }
    }
}

async fn connect(server: &str, ca: &str) -> AnyResult<Client> {
    Ok(Client::connect(server, ClientConfig::with_ca_file(ca)).await?)
}

/// Sends every record without waiting on each, flushes, then writes where
/// each landed, in input order.
async fn produce(server: &str, ca: &str, log: &str, input: &str, output: &str) -> AnyResult<i32> {
    let records = tsv::read_records(&std::fs::read_to_string(input)?)?;
    let client = connect(server, ca).await?;
    let producer = client.producer(ProducerConfig { acks: Acks::All, ..ProducerConfig::default() })?;
    let mut deliveries = Vec::with_capacity(records.len());
    for record in records {
        deliveries.push(producer.send(log, record).await?);
    }
    producer.flush().await?;
    let mut out = BufWriter::new(File::create(output)?);
    for delivery in deliveries {
        let md = delivery.await?;
        writeln!(out, "{}\t{}", md.partition, md.offset)?;
    }
    out.flush()?;
    producer.close().await?;
    client.close().await;
    Ok(0)
}

/// Reads every partition from its start until a read returns nothing.
async fn dump(server: &str, ca: &str, log: &str, output: &str) -> AnyResult<i32> {
    let client = connect(server, ca).await?;
    let partitions = client.get_log_metadata(log).await?.partition_count;
    let mut out = BufWriter::new(File::create(output)?);
    for p in 0..partitions {
        let mut next = LogOffset::ZERO;
        loop {
            let records = client.consume_from_partition(log, p, next, DUMP_READ_MAX).await?;
            let Some(last) = records.last() else { break };
            next = LogOffset(last.offset + 1);
            for r in &records {
                writeln!(out, "{}", tsv::dump_line(r))?;
            }
        }
    }
    out.flush()?;
    client.close().await;
    Ok(0)
}

/// The member's assignment as its listener saw it.
#[derive(Default)]
struct Assignment(Mutex<BTreeSet<u32>>);

impl Assignment {
    fn change(&self, partitions: &[LogPartition], add: bool) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for lp in partitions {
            if add {
                set.insert(lp.partition);
            } else {
                set.remove(&lp.partition);
            }
        }
        let list: Vec<String> = set.iter().map(u32::to_string).collect();
        let shown = if list.is_empty() { "-".to_owned() } else { list.join(",") };
        let mut stdout = std::io::stdout().lock();
        // A closed stdout only loses the trace; the driver then fails on its own.
        let _ = writeln!(stdout, "assignment {shown}").and_then(|()| stdout.flush());
    }
}

impl RebalanceListener for Assignment {
    fn on_partitions_assigned(&self, partitions: &[LogPartition]) {
        self.change(partitions, true);
    }
    fn on_partitions_revoked(&self, partitions: &[LogPartition]) {
        self.change(partitions, false);
    }
    fn on_partitions_lost(&self, partitions: &[LogPartition]) {
        self.change(partitions, false);
    }
}

/// Polls as a group member, recording and committing, until the stop file appears.
async fn member(server: &str, ca: &str, log: &str, group: &str, stop: &str, output: &str) -> AnyResult<i32> {
    let client = connect(server, ca).await?;
    let mut consumer =
        client.consumer(ConsumerConfig { group_id: Some(group.to_owned()), ..ConsumerConfig::default() });
    let listener: Arc<dyn RebalanceListener> = Arc::new(Assignment::default());
    consumer.subscribe(&[log], Some(listener))?;
    let mut out = BufWriter::new(File::create(output)?);
    let started = Instant::now();
    while !Path::new(stop).exists() {
        if started.elapsed() > MEMBER_GIVE_UP {
            eprintln!("pyralog-interop: no stop file after {MEMBER_GIVE_UP:?}");
            return Ok(2);
        }
        let records = consumer.poll(MEMBER_POLL).await?;
        for r in &records {
            writeln!(out, "{}\t{}\t{}", r.partition, r.offset, tsv::hex(&r.value))?;
        }
        out.flush()?;
        if !records.is_empty() {
            commit(&mut consumer).await?;
        }
    }
    commit(&mut consumer).await?;
    consumer.close().await;
    println!("closed");
    client.close().await;
    Ok(0)
}

/// Commits the positions. `RebalanceInProgress` is no failure: the member
/// rejoins on its next poll and commits again then.
async fn commit(consumer: &mut Consumer) -> AnyResult<()> {
    match consumer.commit().await {
        Err(e) if e.code() == ErrorCode::RebalanceInProgress => Ok(()),
        other => Ok(other?),
    }
}
