//! `pyralog logs ...`

use clap::{Args, Subcommand, ValueEnum};
use pyralog::{CleanupPolicy, Client, FlushPolicy, LogConfig, LogMetadata, LogSpec};

#[derive(Clone, Copy, ValueEnum)]
pub enum FlushArg {
    Default,
    Always,
    Interval,
    Never,
}

impl From<FlushArg> for FlushPolicy {
    fn from(f: FlushArg) -> Self {
        match f {
            FlushArg::Default => FlushPolicy::ServerDefault,
            FlushArg::Always => FlushPolicy::Always,
            FlushArg::Interval => FlushPolicy::Interval,
            FlushArg::Never => FlushPolicy::Never,
        }
    }
}

#[derive(Args)]
pub struct Retention {
    /// Delete segments older than this many hours.
    #[arg(long)]
    retention_hours: Option<u64>,
    /// Delete the oldest segments beyond this many bytes per partition.
    #[arg(long)]
    retention_bytes: Option<u64>,
    /// fsync policy of this log.
    #[arg(long, value_enum)]
    flush: Option<FlushArg>,
    /// delete (retention), compact (newest record per key), or compact,delete.
    #[arg(long)]
    cleanup_policy: Option<CleanupPolicy>,
    /// How long a compacted log keeps tombstones (records with an empty value).
    #[arg(long)]
    delete_retention_ms: Option<i64>,
}

impl Retention {
    fn apply(&self, mut c: LogConfig) -> LogConfig {
        if let Some(h) = self.retention_hours {
            c.retention_ms = (h * 3_600_000) as i64;
        }
        if let Some(b) = self.retention_bytes {
            c.retention_bytes = b as i64;
        }
        if let Some(f) = self.flush {
            c.flush_policy = f.into();
        }
        if let Some(p) = self.cleanup_policy {
            c.cleanup_policy = p;
        }
        if let Some(ms) = self.delete_retention_ms {
            c.delete_retention_ms = ms;
        }
        c
    }
}

#[derive(Subcommand)]
pub enum LogsCommand {
    /// Create a log.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: u32,
        /// Copies of every partition, on as many nodes (default: the
        /// server's `default_replication_factor`).
        #[arg(long, default_value_t = 0, hide_default_value = true)]
        replication_factor: u32,
        /// In-sync replicas an `acks = all` write needs (default 1).
        #[arg(long)]
        min_insync_replicas: Option<u32>,
        #[command(flatten)]
        retention: Retention,
    },
    /// List logs.
    List,
    /// Show a log's metadata and partitions.
    Describe { name: String },
    /// Show a log's record count, size and write rate.
    Stats { name: String },
    /// Change a log's retention or flush policy.
    Update {
        name: String,
        #[command(flatten)]
        retention: Retention,
    },
    /// Reject writes until resumed.
    Pause { name: String },
    /// Accept writes again.
    Resume { name: String },
    /// Delete a log and its data.
    Delete { name: String },
    /// Grow a log to a new partition count.
    AddPartitions {
        name: String,
        #[arg(long)]
        count: u32,
    },
}

/// A leader id as shown: `none` for an offline partition.
pub fn leader_name(leader: u32) -> String {
    if leader == pyralog::NO_LEADER {
        "none".to_owned()
    } else {
        leader.to_string()
    }
}

pub fn describe(md: &LogMetadata) {
    let c = &md.config;
    println!(
        "log {}  partitions {}  replication {}  state {:?}  retention_ms {}  retention_bytes {}  flush {:?}  cleanup_policy {}",
        md.name,
        md.partition_count,
        md.replication_factor,
        md.state,
        c.retention_ms,
        c.retention_bytes,
        c.flush_policy,
        c.cleanup_policy
    );
    for p in &md.partitions {
        let offline = match p.offline_replicas.is_empty() {
            true => String::new(),
            false => format!("  OFFLINE replicas {:?} (their node could not open them)", p.offline_replicas),
        };
        println!(
            "  partition {:>4}  leader {}  replicas {:?}  isr {:?}  epoch {:>4}  start {:>12}  high_watermark {:>12}{offline}",
            p.partition,
            leader_name(p.leader),
            p.replicas,
            p.isr,
            p.leader_epoch,
            p.log_start_offset,
            p.high_watermark
        );
    }
}

pub async fn run(client: &Client, cmd: LogsCommand) -> anyhow::Result<()> {
    match cmd {
        LogsCommand::Create { name, partitions, replication_factor, min_insync_replicas, retention } => {
            let mut config = retention.apply(LogConfig::default());
            config.min_in_sync_replicas = min_insync_replicas.unwrap_or(config.min_in_sync_replicas);
            let spec = LogSpec { replication_factor, config, ..LogSpec::new(partitions) };
            let md = client.create_log_with_config(&name, spec).await?;
            println!("created log {} with {} partitions", md.name, md.partition_count);
        }
        LogsCommand::List => {
            for md in client.list_logs().await? {
                println!("{}\t{} partitions\t{:?}", md.name, md.partition_count, md.state);
            }
        }
        LogsCommand::Describe { name } => describe(&client.get_log_metadata(&name).await?),
        LogsCommand::Stats { name } => {
            let s = client.get_log_stats(&name).await?;
            println!(
                "log {}  records {}  size_bytes {}  write_rate {:.1}/s",
                s.name, s.record_count, s.size_bytes, s.write_rate
            );
        }
        LogsCommand::Update { name, retention } => {
            let current = client.get_log_metadata(&name).await?.config;
            describe(&client.update_log_config(&name, retention.apply(current)).await?);
        }
        LogsCommand::Pause { name } => {
            client.pause_log(&name).await?;
            println!("paused {name}");
        }
        LogsCommand::Resume { name } => {
            client.resume_log(&name).await?;
            println!("resumed {name}");
        }
        LogsCommand::Delete { name } => {
            client.delete_log(&name).await?;
            println!("deleted {name}");
        }
        LogsCommand::AddPartitions { name, count } => describe(&client.add_partitions(&name, count).await?),
    }
    Ok(())
}
