//! Server configuration: embedded defaults, overridden by `pyralog.toml`,
//! overridden by command-line flags.
//!
//! ```toml
//! data_dir = "./pyralog-data"
//! listen = "127.0.0.1:9092"
//! flush = "always"            # always | interval | never
//! flush_interval_ms = 1000
//! segment_bytes = 134217728
//! disk_reserve_bytes = 268435456   # createLog/addPartitions keep this much disk free
//! default_replication_factor = 1   # copies of a log created without one
//!
//! [tls]                       # absent: a self-signed CA in <data_dir>/tls
//! cert_file = "server.pem"
//! key_file = "server-key.pem"
//!
//! node_id = 1                 # this node's id in the cluster (default 0)
//!
//! [cluster]                   # absent: a one-node cluster of this server
//! voters = "1@127.0.0.1:9092,2@127.0.0.1:9192,3@127.0.0.1:9292"
//! tls_dir = "./cluster-tls"   # from `pyralog-server init-cluster`: CA, node certificates, cluster id
//!
//! [auth]                      # absent: off on loopback (the server warns loudly), else required; auth/config.rs
//! enabled = true
//! superusers = ["admin"]
//!
//! [quotas]                    # per principal; 0: unlimited
//! connections_per_principal = 64
//! requests_per_second_per_principal = 5000
//!
//! [faults]                    # testing only: deliberate failures
//! drop_every_nth_produce_response = 0   # 0: never
//!
//! [logs.user_events]          # created at start if missing
//! partition_count = 10
//! replication_factor = 1
//! retention_bytes = 1073741824
//! retention_hours = 168
//! min_in_sync_replicas = 1
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./pyralog-data";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9092";
/// Default segment size.
pub const DEFAULT_SEGMENT_BYTES: u64 = 128 * 1024 * 1024;
/// Smallest segment size accepted.
pub const MIN_SEGMENT_BYTES: u64 = 64 * 1024;
/// Largest segment size accepted (index entries hold u32 positions).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 31;
/// Default disk space that creating logs and partitions leaves free.
pub const DEFAULT_DISK_RESERVE_BYTES: u64 = 256 * 1024 * 1024;
/// Default fsync interval for `flush = "interval"`.
pub const DEFAULT_FLUSH_INTERVAL_MS: u32 = 1000;
/// Most concurrent client connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Most requests one connection may have in flight (QUIC concurrent streams).
pub const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION: u32 = 256;
/// How long a client may take to send a whole request on a stream.
pub const DEFAULT_REQUEST_READ_TIMEOUT_MS: u64 = 10_000;
/// How often retention runs by default.
pub const DEFAULT_RETENTION_CHECK_INTERVAL_MS: u64 = 5_000;
/// Committed offsets between two snapshots of the group offsets.
pub const DEFAULT_GROUP_OFFSETS_SNAPSHOT_EVERY: u64 = 100_000;
/// Segment size of the internal offsets log (small, so snapshots free space soon).
pub const DEFAULT_GROUP_OFFSETS_SEGMENT_BYTES: u64 = 16 * 1024 * 1024;
/// Longest a graceful shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE_MS: u64 = 10_000;

/// Server-wide fsync policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Flush {
    #[default]
    Always,
    Interval,
    Never,
}

/// TLS files; absent means a generated self-signed CA in the data dir.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// A log declared in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredLog {
    pub partition_count: u32,
    #[serde(default = "one")]
    pub replication_factor: u32,
    #[serde(default)]
    pub retention_bytes: Option<u64>,
    #[serde(default)]
    pub retention_hours: Option<u64>,
    #[serde(default = "one")]
    pub min_in_sync_replicas: u32,
}

fn one() -> u32 {
    1
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub flush: Flush,
    pub flush_interval_ms: u32,
    pub segment_bytes: u64,
    pub preallocate: bool,
    /// Creating logs or partitions is refused (`StorageFull`) when what
    /// their replicas here take at once would leave less free disk than this.
    pub disk_reserve_bytes: u64,
    pub max_connections: usize,
    pub max_in_flight_per_connection: u32,
    pub request_read_timeout_ms: u64,
    pub retention_check_interval_ms: u64,
    pub node_id: u32,
    pub cluster: ClusterConfig,
    pub tls: Option<TlsFiles>,
    pub logs: BTreeMap<String, DeclaredLog>,
    pub faults: Faults,
    /// After this many committed offsets the group offsets are snapshotted
    /// and the offsets log's segments below the snapshot are deleted.
    pub group_offsets_snapshot_every: u64,
    pub group_offsets_segment_bytes: u64,
    /// Copies of each partition of a log created without a replication
    /// factor (the request says 0).
    pub default_replication_factor: u32,
    /// Serve Prometheus metrics over HTTP at `http://<this>/metrics`; off
    /// when unset. Keep it on loopback or a management network: it has no
    /// authentication.
    pub metrics_listen: Option<SocketAddr>,
    pub compaction: CompactionConfig,
    pub auth: crate::auth::config::AuthConfig,
    pub quotas: crate::auth::config::QuotaConfig,
}

/// How often each partition's high watermark is checkpointed to disk.
pub const HIGH_WATERMARK_CHECKPOINT_MS: u64 = 1_000;
/// Default Raft heartbeat of the metadata quorum.
pub const DEFAULT_RAFT_HEARTBEAT_MS: u64 = 100;
/// Default shortest Raft election timeout (the longest is twice it).
pub const DEFAULT_RAFT_ELECTION_TIMEOUT_MS: u64 = 400;
/// Default longest wait for an admin change to commit before
/// `QuorumUnavailable`.
pub const DEFAULT_ADMIN_TIMEOUT_MS: u64 = 10_000;
/// Most voters a cluster may have.
pub const MAX_VOTERS: usize = 9;

/// The cluster this node belongs to; the default is a one-node cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// `id@host:port` of every voter, comma-separated; empty: this node alone.
    pub voters: String,
    /// The cluster's CA, node certificates and id (`pyralog-server
    /// init-cluster`); required with more than one voter.
    pub tls_dir: Option<PathBuf>,
    pub raft_heartbeat_ms: u64,
    pub raft_election_timeout_ms: u64,
    pub admin_timeout_ms: u64,
    /// A follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// How often a node heartbeats the controller.
    pub node_heartbeat_ms: u64,
    /// A node silent for this long is fenced: its leaderships move.
    pub node_session_timeout_ms: u64,
    /// Lets a replica outside the ISR lead when no in-sync one is alive:
    /// the partition is writable again but loses what only the ISR held.
    pub unclean_leader_election: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            voters: String::new(),
            tls_dir: None,
            raft_heartbeat_ms: DEFAULT_RAFT_HEARTBEAT_MS,
            raft_election_timeout_ms: DEFAULT_RAFT_ELECTION_TIMEOUT_MS,
            admin_timeout_ms: DEFAULT_ADMIN_TIMEOUT_MS,
            replica_lag_time_max_ms: crate::replication::DEFAULT_REPLICA_LAG_TIME_MAX_MS,
            node_heartbeat_ms: crate::cluster::liveness::DEFAULT_NODE_HEARTBEAT_MS,
            node_session_timeout_ms: crate::cluster::liveness::DEFAULT_NODE_SESSION_TIMEOUT_MS,
            unclean_leader_election: false,
        }
    }
}

/// Parses a voter list `id@host:port,...` into id -> address.
///
/// # Errors
/// A malformed entry, or an id or address listed twice.
pub fn parse_voters(list: &str) -> anyhow::Result<BTreeMap<u32, String>> {
    let mut voters = BTreeMap::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, addr) = entry.split_once('@').with_context(|| format!("voter {entry:?} is not id@host:port"))?;
        let id: u32 = id.parse().with_context(|| format!("voter {entry:?}: the id is not a number"))?;
        if addr.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()).is_none() {
            bail!("voter {entry:?}: {addr:?} is not host:port");
        }
        if voters.values().any(|a: &String| a == addr) {
            bail!("voter list names the address {addr} twice");
        }
        if voters.insert(id, addr.to_owned()).is_some() {
            bail!("voter list names node {id} twice");
        }
    }
    if voters.len() > MAX_VOTERS {
        bail!("{} voters; at most MAX_VOTERS ({MAX_VOTERS})", voters.len());
    }
    Ok(voters)
}

/// The canonical form of a voter list (sorted by id), as peers compare it.
pub fn canonical_voters(voters: &BTreeMap<u32, String>) -> String {
    voters.iter().map(|(id, a)| format!("{id}@{a}")).collect::<Vec<_>>().join(",")
}

/// Default pause between compaction rounds.
pub const DEFAULT_COMPACTION_INTERVAL_MS: u64 = 15_000;
/// Default memory of the compactor's offset map (per partition being compacted).
pub const DEFAULT_COMPACTION_OFFSET_MAP_BYTES: u64 = 64 * 1024 * 1024;
/// Smallest offset map accepted (a few hundred keys).
pub const MIN_COMPACTION_OFFSET_MAP_BYTES: u64 = 16 * 1024;
/// Largest offset map accepted.
pub const MAX_COMPACTION_OFFSET_MAP_BYTES: u64 = 16 * 1024 * 1024 * 1024;

/// The compactor of logs with `cleanup_policy` compact.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompactionConfig {
    /// Pause between two rounds over the compacted partitions.
    pub interval_ms: u64,
    /// Memory of the offset map (key hash -> newest offset) of one round;
    /// a round cleans only the segments whose keys fit in it.
    pub offset_map_bytes: u64,
    /// A partition is compacted again once the bytes sealed since its last
    /// round are at least this share of its sealed bytes (0.0..=1.0).
    pub min_dirty_ratio: f64,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            interval_ms: DEFAULT_COMPACTION_INTERVAL_MS,
            offset_map_bytes: DEFAULT_COMPACTION_OFFSET_MAP_BYTES,
            min_dirty_ratio: 0.5,
        }
    }
}

/// Deliberate failures for fault-injection tests; all off by default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Write every n-th produce request (n > 0), then drop its response by
    /// resetting the stream, as if the acknowledgement were lost on the way.
    pub drop_every_nth_produce_response: u64,
    /// The compactor waits this long between writing cleaned segments and
    /// swapping them in (a window for killing it mid-compaction).
    pub compaction_stall_before_swap_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            flush: Flush::Always,
            flush_interval_ms: DEFAULT_FLUSH_INTERVAL_MS,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            preallocate: true,
            disk_reserve_bytes: DEFAULT_DISK_RESERVE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight_per_connection: DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
            request_read_timeout_ms: DEFAULT_REQUEST_READ_TIMEOUT_MS,
            retention_check_interval_ms: DEFAULT_RETENTION_CHECK_INTERVAL_MS,
            node_id: 0,
            cluster: ClusterConfig::default(),
            tls: None,
            logs: BTreeMap::new(),
            faults: Faults::default(),
            group_offsets_snapshot_every: DEFAULT_GROUP_OFFSETS_SNAPSHOT_EVERY,
            group_offsets_segment_bytes: DEFAULT_GROUP_OFFSETS_SEGMENT_BYTES,
            default_replication_factor: 1,
            metrics_listen: None,
            compaction: CompactionConfig::default(),
            auth: crate::auth::config::AuthConfig::default(),
            quotas: crate::auth::config::QuotaConfig::default(),
        }
    }
}

impl ServerConfig {
    /// Reads a TOML file over the defaults.
    ///
    /// # Errors
    /// Unreadable file, unknown keys, or values out of range.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses TOML over the defaults and validates it.
    ///
    /// # Errors
    /// Malformed TOML, unknown keys, or values out of range.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let cfg: ServerConfig = toml::from_str(text).context("parsing")?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// A message naming the setting and its bounds.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&self.segment_bytes) {
            bail!("segment_bytes must be in {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}");
        }
        if self.flush == Flush::Interval && self.flush_interval_ms == 0 {
            bail!("flush_interval_ms must be > 0 with flush = \"interval\"");
        }
        if self.retention_check_interval_ms == 0 || self.request_read_timeout_ms == 0 {
            bail!("retention_check_interval_ms and request_read_timeout_ms must be > 0");
        }
        if self.group_offsets_snapshot_every == 0 {
            bail!("group_offsets_snapshot_every must be > 0");
        }
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&self.group_offsets_segment_bytes) {
            bail!("group_offsets_segment_bytes must be in {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}");
        }
        if self.default_replication_factor == 0 {
            bail!("default_replication_factor must be > 0");
        }
        if self.max_connections == 0 || self.max_in_flight_per_connection == 0 {
            bail!("max_connections and max_in_flight_per_connection must be > 0");
        }
        self.validate_cluster()?;
        self.auth.validate(self.listen)?;
        let c = &self.compaction;
        if c.interval_ms == 0 || !(0.0..=1.0).contains(&c.min_dirty_ratio) {
            bail!("[compaction] interval_ms must be > 0 and min_dirty_ratio in 0.0..=1.0");
        }
        if !(MIN_COMPACTION_OFFSET_MAP_BYTES..=MAX_COMPACTION_OFFSET_MAP_BYTES).contains(&c.offset_map_bytes) {
            bail!(
                "[compaction] offset_map_bytes must be in {MIN_COMPACTION_OFFSET_MAP_BYTES}..={MAX_COMPACTION_OFFSET_MAP_BYTES}"
            );
        }
        for (name, log) in &self.logs {
            pyralog_protocol::log_id::validate_log_id(name).with_context(|| format!("[logs.{name}]"))?;
            if log.partition_count == 0 {
                bail!("[logs.{name}] partition_count must be > 0");
            }
        }
        Ok(())
    }
}

impl ServerConfig {
    /// The voters; a one-node cluster of this node when none are configured.
    ///
    /// # Errors
    /// As [`parse_voters`].
    pub fn voters(&self) -> anyhow::Result<BTreeMap<u32, String>> {
        let voters = parse_voters(&self.cluster.voters)?;
        if voters.is_empty() {
            return Ok(BTreeMap::from([(self.node_id, self.listen.to_string())]));
        }
        Ok(voters)
    }

    /// More than one voter.
    pub fn is_multi_node(&self) -> bool {
        parse_voters(&self.cluster.voters).is_ok_and(|v| v.len() > 1)
    }

    fn validate_cluster(&self) -> anyhow::Result<()> {
        let c = &self.cluster;
        if c.raft_heartbeat_ms == 0 || c.raft_election_timeout_ms <= 2 * c.raft_heartbeat_ms {
            bail!("[cluster] raft_election_timeout_ms must exceed twice raft_heartbeat_ms (> 0)");
        }
        if c.admin_timeout_ms == 0 || c.replica_lag_time_max_ms == 0 {
            bail!("[cluster] admin_timeout_ms and replica_lag_time_max_ms must be > 0");
        }
        if c.node_heartbeat_ms == 0 || c.node_session_timeout_ms <= 2 * c.node_heartbeat_ms {
            bail!("[cluster] node_session_timeout_ms must exceed twice node_heartbeat_ms (> 0)");
        }
        let voters = parse_voters(&c.voters).context("[cluster] voters")?;
        if voters.is_empty() {
            return Ok(());
        }
        let Some(mine) = voters.get(&self.node_id) else {
            bail!(
                "node_id {} is not in the voter list ({}); start each node with its own id",
                self.node_id,
                canonical_voters(&voters)
            );
        };
        let port = mine.rsplit_once(':').map(|(_, p)| p);
        if !self.listen.ip().is_unspecified() && Some(self.listen.to_string().as_str()) != Some(mine.as_str()) {
            bail!(
                "node_id {} is voter {mine} but this node listens on {}: wrong node_id or listen address",
                self.node_id,
                self.listen
            );
        }
        if self.listen.ip().is_unspecified() && port != Some(self.listen.port().to_string().as_str()) {
            bail!("node_id {} is voter {mine} but this node listens on port {}", self.node_id, self.listen.port());
        }
        if voters.len() > 1 && c.tls_dir.is_none() {
            bail!("[cluster] tls_dir is required with more than one voter (pyralog-server init-cluster creates it)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_log_declaration() {
        let cfg: ServerConfig = toml::from_str(
            r#"
            flush = "never"
            [logs.user_events]
            partition_count = 10
            replication_factor = 1
            retention_bytes = 1073741824
            retention_hours = 168
            min_in_sync_replicas = 1
            "#,
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.flush, Flush::Never);
        assert_eq!(cfg.logs["user_events"].partition_count, 10);
        assert_eq!(cfg.logs["user_events"].retention_hours, Some(168));
        assert_eq!(cfg.listen, DEFAULT_LISTEN.parse().unwrap());
    }

    #[test]
    fn voter_lists_are_parsed_and_bad_ones_refused() {
        let v = parse_voters("2@127.0.0.1:9192, 1@127.0.0.1:9092").unwrap();
        assert_eq!(canonical_voters(&v), "1@127.0.0.1:9092,2@127.0.0.1:9192");
        for bad in ["1@a:1,1@b:2", "1@a:1,2@a:1", "x@a:1", "1@a", "1-a:1"] {
            assert!(parse_voters(bad).is_err(), "{bad}");
        }
        let cluster = |node_id: u32, listen: &str| ServerConfig {
            node_id,
            listen: listen.parse().unwrap(),
            cluster: ClusterConfig {
                voters: "1@127.0.0.1:9092,2@127.0.0.1:9192".into(),
                tls_dir: Some("tls".into()),
                ..ClusterConfig::default()
            },
            ..ServerConfig::default()
        };
        cluster(2, "127.0.0.1:9192").validate().unwrap();
        let mut open_wide = cluster(2, "0.0.0.0:9192");
        assert!(open_wide.validate().unwrap_err().to_string().contains("[auth] enabled is not set"));
        open_wide.auth.enabled = Some(false);
        open_wide.validate().unwrap();
        open_wide.auth.enabled = Some(true);
        open_wide.validate().unwrap();
        assert!(cluster(3, "127.0.0.1:9192").validate().is_err(), "not a voter");
        assert!(cluster(1, "127.0.0.1:9192").validate().is_err(), "another voter's address");
        let mut no_tls = cluster(2, "127.0.0.1:9192");
        no_tls.cluster.tls_dir = None;
        assert!(no_tls.validate().is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_names() {
        assert!(toml::from_str::<ServerConfig>("bogus = 1").is_err());
        let cfg: ServerConfig = toml::from_str("[logs.\"a b\"]\npartition_count = 1").unwrap();
        assert!(cfg.validate().is_err());
    }
}
