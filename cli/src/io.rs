//! `pyralog produce` and `pyralog consume`.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use pyralog::{Client, ConsumerConfig, LogOffset, LogPartition, ProducerConfig, Record};
use tokio::io::AsyncBufReadExt;

/// Records sent before the CLI waits for their acknowledgements.
const PRODUCE_WINDOW: usize = 10_000;
/// Poll wait while following a log.
pub(crate) const FOLLOW_POLL: Duration = Duration::from_millis(500);

#[derive(Args)]
pub struct ProduceArgs {
    log: String,
    /// Split each line at the first SEP into key and value.
    #[arg(long, value_name = "SEP")]
    key_separator: Option<String>,
    /// Send every record to this partition.
    #[arg(long)]
    partition: Option<u32>,
    /// Print "partition offset" for each record.
    #[arg(long)]
    pub(crate) print_offsets: bool,
}

pub async fn produce(client: &Client, args: ProduceArgs) -> anyhow::Result<()> {
    let producer = client.producer(ProducerConfig { linger: Duration::from_millis(1), ..ProducerConfig::default() })?;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut pending = Vec::new();
    let mut out = std::io::stdout().lock();
    while let Some(line) = lines.next_line().await? {
        let mut record = match args.key_separator.as_deref().and_then(|sep| line.split_once(sep)) {
            Some((k, v)) => Record::new(v.to_owned()).key(k.to_owned()),
            None => Record::new(line),
        };
        record.partition = args.partition;
        pending.push(producer.send(&args.log, record).await?);
        if pending.len() >= PRODUCE_WINDOW {
            drain(&mut pending, args.print_offsets, &mut out).await?;
        }
    }
    producer.flush().await?;
    drain(&mut pending, args.print_offsets, &mut out).await?;
    producer.close().await?;
    Ok(())
}

async fn drain(pending: &mut Vec<pyralog::DeliveryFuture>, print: bool, out: &mut impl Write) -> anyhow::Result<()> {
    for f in pending.drain(..) {
        let md = f.await?;
        if print {
            writeln!(out, "{} {}", md.partition, md.offset)?;
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct ConsumeArgs {
    pub(crate) log: String,
    /// Read only this partition (default: all).
    #[arg(long)]
    partition: Option<u32>,
    /// Start at this offset.
    #[arg(long, conflicts_with = "from_beginning")]
    offset: Option<u64>,
    /// Start at the beginning (default: the end).
    #[arg(long)]
    pub(crate) from_beginning: bool,
    /// Stop after this many records.
    #[arg(long)]
    pub(crate) max: Option<usize>,
    /// Keep waiting for new records instead of stopping at the end.
    #[arg(long)]
    pub(crate) follow: bool,
    /// Print "key<TAB>" before each value.
    #[arg(long)]
    pub(crate) print_keys: bool,
    /// Print "partition offset<TAB>" before each value.
    #[arg(long)]
    print_offsets: bool,
    /// Read as a member of this consumer group: the group splits the log's
    /// partitions between its members and resumes at its committed offsets
    /// (without any, at the end, or the beginning with --from-beginning).
    #[arg(long, conflicts_with_all = ["partition", "offset"])]
    pub(crate) group: Option<String>,
    /// Group mode: the coordinator expels this consumer after this long
    /// without heartbeats (a crashed consumer's partitions move after it).
    #[arg(long, requires = "group", default_value_t = 10_000)]
    pub(crate) session_timeout_ms: u64,
    /// Group mode: print timestamped events instead of values — records,
    /// commits, and partitions assigned, revoked and lost.
    #[arg(long, requires = "group")]
    pub(crate) trace_group: bool,
}

pub async fn consume(client: &Client, args: ConsumeArgs) -> anyhow::Result<()> {
    if args.group.is_some() {
        return crate::group_consume::run(client, args).await;
    }
    let md = client.get_log_metadata(&args.log).await?;
    let partitions: Vec<u32> = match args.partition {
        Some(p) => vec![p],
        None => (0..md.partition_count).collect(),
    };
    let mut consumer = client.consumer(ConsumerConfig::default());
    let lps: Vec<LogPartition> = partitions.iter().map(|&p| LogPartition::new(&args.log, p)).collect();
    consumer.assign(lps.clone())?;
    for lp in &lps {
        let start = match (args.offset, args.from_beginning) {
            (Some(o), _) => LogOffset(o),
            (None, true) => LogOffset::ZERO,
            (None, false) => LogOffset::MAX,
        };
        if start == LogOffset::ZERO {
            consumer.seek_to_beginning(std::slice::from_ref(lp))?;
        } else {
            consumer.seek(lp, start)?;
        }
    }
    let ends: Vec<u64> =
        partitions.iter().map(|&p| md.partitions.get(p as usize).map_or(0, |m| m.high_watermark)).collect();
    let max = args.max.unwrap_or(usize::MAX);
    let mut seen = 0usize;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while seen < max {
        if !args.follow && caught_up(&mut consumer, &lps, &ends).await? {
            break;
        }
        for r in consumer.poll(FOLLOW_POLL).await? {
            write_record(&mut out, &args, &r)?;
            seen += 1;
            if seen >= max {
                break;
            }
        }
        out.flush()?;
    }
    out.flush()?;
    consumer.close().await;
    Ok(())
}

pub(crate) fn write_record(
    out: &mut impl Write,
    args: &ConsumeArgs,
    r: &pyralog::ConsumerRecord,
) -> std::io::Result<()> {
    if args.print_offsets {
        write!(out, "{} {}\t", r.partition, r.offset)?;
    }
    if args.print_keys {
        out.write_all(r.key.as_deref().unwrap_or_default())?;
        out.write_all(b"\t")?;
    }
    out.write_all(&r.value)?;
    out.write_all(b"\n")
}

async fn caught_up(consumer: &mut pyralog::Consumer, lps: &[LogPartition], ends: &[u64]) -> anyhow::Result<bool> {
    for (lp, end) in lps.iter().zip(ends) {
        if consumer.position(lp).await? < *end {
            return Ok(false);
        }
    }
    Ok(true)
}
