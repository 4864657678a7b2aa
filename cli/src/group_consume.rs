//! `pyralog consume LOG --group G`: read as a member of a consumer group,
//! committing after every printed batch. SIGINT or SIGTERM leaves the group
//! cleanly (commit, revoke, leave).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyralog::{Client, ConsumerConfig, ConsumerRecord, LogPartition, OffsetReset, RebalanceListener};

use crate::io::{write_record, ConsumeArgs, FOLLOW_POLL};

/// Without --follow or --max: stop after this long without records.
const IDLE_EXIT: Duration = Duration::from_secs(3);

fn micros() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

fn list(parts: &[LogPartition]) -> String {
    parts.iter().map(|p| p.partition.to_string()).collect::<Vec<_>>().join(",")
}

/// Prints timestamped rebalance events for `--trace-group` the moment the
/// listener hears them: a member SIGKILLed inside a rebalance has still
/// told what it gave up.
struct Trace;

impl Trace {
    fn push(&self, what: &str, detail: String) {
        // stdout's lock is reentrant: the poll loop's writer on this thread
        // holds it while the listener runs inside `poll`.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{} {what} {detail}", micros()).and_then(|()| out.flush());
    }
}

impl RebalanceListener for Trace {
    fn on_partitions_assigned(&self, p: &[LogPartition]) {
        self.push("assigned", list(p));
    }
    fn on_partitions_revoked(&self, p: &[LogPartition]) {
        self.push("revoked", list(p));
    }
    fn on_partitions_lost(&self, p: &[LogPartition]) {
        self.push("lost", list(p));
    }
}

fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        flag.store(true, Ordering::Release);
    });
    Ok(stop)
}

pub async fn run(client: &Client, args: ConsumeArgs) -> anyhow::Result<()> {
    let cfg = ConsumerConfig {
        group_id: args.group.clone(),
        auto_offset_reset: if args.from_beginning { OffsetReset::Earliest } else { OffsetReset::Latest },
        session_timeout: Duration::from_millis(args.session_timeout_ms),
        heartbeat_interval: Duration::from_millis(args.session_timeout_ms / 4),
        ..ConsumerConfig::default()
    };
    let mut consumer = client.consumer(cfg);
    let listener: Option<Arc<dyn RebalanceListener>> = args.trace_group.then(|| Arc::new(Trace) as _);
    consumer.subscribe(&[&args.log], listener)?;
    let stop = stop_on_signals()?;
    let max = args.max.unwrap_or(usize::MAX);
    let (mut seen, mut last_record) = (0usize, None::<Instant>);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while seen < max && !stop.load(Ordering::Acquire) {
        let records = consumer.poll(FOLLOW_POLL).await?;
        if records.is_empty() {
            if !args.follow && last_record.is_some_and(|t| t.elapsed() >= IDLE_EXIT) {
                break;
            }
            out.flush()?;
            continue;
        }
        last_record = Some(Instant::now());
        let take = records.len().min(max - seen);
        print_records(&mut out, &args, &records[..take])?;
        seen += take;
        out.flush()?;
        commit(&mut consumer, &args, &records[..take], &mut out).await?;
        out.flush()?;
    }
    consumer.close().await;
    out.flush()?;
    Ok(())
}

fn print_records(out: &mut impl Write, args: &ConsumeArgs, records: &[ConsumerRecord]) -> std::io::Result<()> {
    for r in records {
        if args.trace_group {
            writeln!(out, "{} record {} {}", micros(), r.partition, r.offset)?;
        } else {
            write_record(out, args, r)?;
        }
    }
    Ok(())
}

/// Commits what was printed: the offset after each partition's last record.
async fn commit(
    consumer: &mut pyralog::Consumer,
    args: &ConsumeArgs,
    printed: &[ConsumerRecord],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut next: std::collections::BTreeMap<LogPartition, u64> = std::collections::BTreeMap::new();
    for r in printed {
        next.insert(LogPartition { log: Arc::clone(&r.log), partition: r.partition }, r.offset + 1);
    }
    let offsets: Vec<(LogPartition, u64)> = next.into_iter().collect();
    match consumer.commit_offsets(&offsets).await {
        Ok(()) if args.trace_group => {
            let detail = offsets.iter().map(|(lp, o)| format!("{}:{o}", lp.partition)).collect::<Vec<_>>().join(",");
            writeln!(out, "{} committed {detail}", micros())?;
        }
        Ok(()) => {}
        // A rebalance or a lost membership: the next poll rejoins; the
        // records stay uncommitted and may be delivered again.
        Err(e) => eprintln!("commit failed ({e}); the next poll rejoins the group"),
    }
    Ok(())
}
