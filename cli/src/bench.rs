//! `pyralog bench produce|consume`: throughput and latency, printed as one
//! human line and (with `--json`) one JSON line for scripts.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use hdrhistogram::Histogram;
use pyralog::{Client, Compression, ConsumerConfig, LogConfig, LogPartition, LogSpec, ProducerConfig, Record};
use tokio::sync::Mutex;

use crate::logs::FlushArg;

/// One in this many records has its latency measured (all in `--one-in-flight`).
const LATENCY_SAMPLE_EVERY: u64 = 64;
/// Poll wait of the consume benchmark.
const CONSUME_POLL: Duration = Duration::from_secs(2);
/// A consume benchmark stops after this long without new records.
const CONSUME_IDLE_LIMIT: Duration = Duration::from_secs(10);

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Produce records as fast as the producer allows.
    Produce(ProduceBench),
    /// Read a log's records from the beginning.
    Consume(ConsumeBench),
    /// Measure the disk alone: write + fdatasync rounds, no server (the
    /// floor of a durable produce's latency).
    Fsync(crate::bench_disk::FsyncBench),
}

#[derive(Args)]
pub struct ProduceBench {
    /// Log to write (created with --partitions and --flush if missing).
    #[arg(long, default_value = "bench")]
    log: String,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    record_size: usize,
    /// Records to send.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// Stop after this many seconds even if --count is not reached.
    #[arg(long)]
    duration: Option<u64>,
    #[arg(long, default_value_t = 4)]
    partitions: u32,
    /// fsync policy of the log, if created.
    #[arg(long, value_enum, default_value = "default")]
    flush: FlushArg,
    /// Copies of each partition, if created (default: the server's
    /// `default_replication_factor`).
    #[arg(long)]
    replication_factor: Option<u32>,
    /// In-sync replicas an `acks = all` write needs, if created.
    #[arg(long)]
    min_insync_replicas: Option<u32>,
    /// When a batch counts as written: all (every in-sync replica), leader, none.
    #[arg(long, default_value = "all")]
    acks: pyralog::Acks,
    /// Producer batch size in bytes.
    #[arg(long, default_value_t = pyralog::ProducerConfig::default().batch_size)]
    batch_size: usize,
    #[arg(long, default_value_t = 5)]
    linger_ms: u64,
    /// Wait for each record before sending the next (latency mode).
    #[arg(long)]
    one_in_flight: bool,
    /// With --one-in-flight: append each acknowledgement's time (Unix µs)
    /// to this file, one a line (bench/cluster.sh measures failovers by it).
    #[arg(long, requires = "one_in_flight")]
    timeline: Option<std::path::PathBuf>,
    /// Send without producer ids and VLSNs (no deduplication of retries).
    #[arg(long)]
    no_idempotence: bool,
    /// Batches in flight per partition (1..=5).
    #[arg(long, default_value_t = pyralog::ProducerConfig::default().max_in_flight)]
    max_in_flight: usize,
    /// Batch compression: none, snappy, lz4, zstd.
    #[arg(long, default_value = "none")]
    compression: String,
    /// zstd level (1..=22; default 3).
    #[arg(long)]
    compression_level: Option<i32>,
    /// Record values: `fill` (one repeated byte) or `json` (varied JSON-like
    /// documents, compressible as real events are).
    #[arg(long, value_enum, default_value = "fill")]
    payload: Payload,
    /// Also print a JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Payload {
    Fill,
    Json,
}

#[derive(Args)]
pub struct ConsumeBench {
    #[arg(long, default_value = "bench")]
    log: String,
    /// Records to read (default: everything up to the end).
    #[arg(long)]
    count: Option<u64>,
    /// Keep reading new records for this many seconds instead (soak).
    #[arg(long, conflicts_with = "count")]
    follow_secs: Option<u64>,
    #[arg(long)]
    json: bool,
}

pub async fn run(client: &Client, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Produce(b) => produce(client, b).await,
        BenchCommand::Consume(b) => consume(client, b).await,
        // `main` runs the probe before connecting; here it is kept off the runtime's workers.
        BenchCommand::Fsync(b) => tokio::task::spawn_blocking(move || crate::bench_disk::fsync(&b)).await?,
    }
}

async fn ensure_log(client: &Client, b: &ProduceBench) -> anyhow::Result<()> {
    if !client.log_exists(&b.log).await? {
        let mut config = LogConfig { flush_policy: b.flush.into(), ..LogConfig::default() };
        config.min_in_sync_replicas = b.min_insync_replicas.unwrap_or(config.min_in_sync_replicas);
        let mut spec = LogSpec { config, ..LogSpec::new(b.partitions) };
        spec.replication_factor = b.replication_factor.unwrap_or(spec.replication_factor);
        client.create_log_with_config(&b.log, spec).await?;
    }
    Ok(())
}

fn unix_micros() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros())
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

async fn produce(client: &Client, b: ProduceBench) -> anyhow::Result<()> {
    let compression = Compression::with_level(&b.compression, b.compression_level)?;
    ensure_log(client, &b).await?;
    let md = client.get_log_metadata(&b.log).await?;
    let cfg = ProducerConfig {
        batch_size: b.batch_size,
        linger: Duration::from_millis(if b.one_in_flight { 0 } else { b.linger_ms }),
        idempotence: !b.no_idempotence,
        max_in_flight: b.max_in_flight,
        acks: b.acks,
        compression,
        ..ProducerConfig::default()
    };
    let stored_before = client.get_log_stats(&b.log).await?.size_bytes;
    let producer = client.producer(cfg)?;
    let values = crate::payload::values(b.payload, b.record_size);
    let hist = Arc::new(Mutex::new(new_histogram()));
    let stop_at = b.duration.map(|s| Instant::now() + Duration::from_secs(s));
    let mut samplers = Vec::new();
    let mut timeline = b.timeline.as_ref().map(std::fs::File::create).transpose()?.map(std::io::BufWriter::new);
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < b.count && (sent % 1024 != 0 || stop_at.is_none_or(|t| Instant::now() < t)) {
        let sampled = b.one_in_flight || sent % LATENCY_SAMPLE_EVERY == 0;
        let t0 = if sampled { Some(Instant::now()) } else { None };
        let value = values[(sent % values.len() as u64) as usize].clone();
        let fut = producer.send(&b.log, Record::new(value)).await?;
        if let (true, Some(t0)) = (b.one_in_flight, t0) {
            fut.await?;
            hist.lock().await.record(t0.elapsed().as_micros() as u64)?;
            if let Some(t) = timeline.as_mut() {
                writeln!(t, "{}", unix_micros())?;
            }
        } else if let Some(t0) = t0 {
            let hist = Arc::clone(&hist);
            samplers.push(tokio::spawn(async move {
                let r = fut.await;
                let _ = hist.lock().await.record(t0.elapsed().as_micros() as u64);
                r.map(|_| ())
            }));
        } else {
            drop(fut);
        }
        sent += 1;
    }
    producer.flush().await?;
    let elapsed = start.elapsed();
    if let Some(t) = timeline.as_mut() {
        t.flush()?;
    }
    for s in samplers {
        s.await??;
    }
    producer.close().await?;
    let stored = client.get_log_stats(&b.log).await?.size_bytes.saturating_sub(stored_before);
    let h = hist.lock().await;
    let rate = sent as f64 / elapsed.as_secs_f64();
    let mbps = rate * b.record_size as f64 / 1e6;
    let flush = format!("{:?}", md.config.flush_policy);
    let codec = cfg_compression(&b);
    println!(
        "produce: {sent} records of {} B, {} partitions, replication {}, acks {}, flush {flush}{}, {} in flight{}, compression {codec}: {rate:.0} msgs/s, {mbps:.1} MB/s, latency p50 {} us, p99 {} us, p99.9 {} us; stored {:.1} MB ({:.0} B/record)",
        b.record_size,
        md.partition_count,
        md.replication_factor,
        b.acks,
        if b.one_in_flight { ", one record at a time" } else { "" },
        b.max_in_flight,
        if b.no_idempotence { ", not idempotent" } else { ", idempotent" },
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        stored as f64 / 1e6,
        stored as f64 / sent.max(1) as f64,
    );
    print_network(client);
    if b.json {
        println!(
            "{{\"bench\":\"produce\",\"records\":{sent},\"record_size\":{},\"partitions\":{},\"replication_factor\":{},\"acks\":\"{}\",\"flush\":\"{flush}\",\"one_in_flight\":{},\"compression\":\"{codec}\",\"stored_bytes\":{stored},\"msgs_per_s\":{rate:.0},\"mb_per_s\":{mbps:.1},\"p50_us\":{},\"p99_us\":{},\"p999_us\":{}}}",
            b.record_size,
            md.partition_count,
            md.replication_factor,
            b.acks,
            b.one_in_flight,
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999)
        );
    }
    Ok(())
}

/// The compression as printed: the codec, and zstd's level.
fn cfg_compression(b: &ProduceBench) -> String {
    match b.compression_level {
        Some(level) => format!("{}-{level}", b.compression),
        None => b.compression.clone(),
    }
}

/// The client's view of its connections: a small MTU or lost packets
/// explain a slow run.
fn print_network(client: &Client) {
    let n = client.network_stats();
    println!(
        "network: {} connections, path MTU {} B, {} datagrams sent, {} received, {} packets lost, {} MTU black holes",
        n.connections, n.smallest_mtu, n.datagrams_sent, n.datagrams_received, n.lost_packets, n.black_holes
    );
}

async fn consume(client: &Client, b: ConsumeBench) -> anyhow::Result<()> {
    let md = client.get_log_metadata(&b.log).await?;
    let available: u64 = md.partitions.iter().map(|p| p.high_watermark - p.log_start_offset).sum();
    let follow_until = b.follow_secs.map(|s| Instant::now() + Duration::from_secs(s));
    let target = match follow_until {
        Some(_) => u64::MAX,
        None => b.count.unwrap_or(available).min(available),
    };
    let mut consumer = client.consumer(ConsumerConfig::default());
    consumer.assign((0..md.partition_count).map(|p| LogPartition::new(&b.log, p)))?;
    consumer.seek_to_beginning(&[])?;
    let start = Instant::now();
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut last_progress = Instant::now();
    while n < target && last_progress.elapsed() < CONSUME_IDLE_LIMIT && follow_until.is_none_or(|t| Instant::now() < t)
    {
        let records = consumer.poll(CONSUME_POLL).await?;
        if !records.is_empty() {
            last_progress = Instant::now();
        }
        n += records.len() as u64;
        bytes += records.iter().map(|r| r.value.len() as u64).sum::<u64>();
    }
    let elapsed = start.elapsed();
    consumer.close().await;
    let rate = n as f64 / elapsed.as_secs_f64();
    let mbps = bytes as f64 / elapsed.as_secs_f64() / 1e6;
    println!(
        "consume: {n} records ({} B avg), {} partitions: {rate:.0} msgs/s, {mbps:.1} MB/s",
        bytes.checked_div(n).unwrap_or(0),
        md.partition_count
    );
    print_network(client);
    if b.json {
        println!("{{\"bench\":\"consume\",\"records\":{n},\"partitions\":{},\"msgs_per_s\":{rate:.0},\"mb_per_s\":{mbps:.1}}}", md.partition_count);
    }
    if follow_until.is_none() && n < target {
        anyhow::bail!("read {n} of {target} records before going idle for {CONSUME_IDLE_LIMIT:?}");
    }
    Ok(())
}
