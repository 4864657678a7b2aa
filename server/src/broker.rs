//! The log catalog: admin operations as metadata commands, lookups of logs
//! and of the local replicas that serve them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::limits::{MAX_LOGS, MAX_PARTITIONS_PER_LOG};
use pyralog_protocol::log_id::{is_internal, validate_log_id};
use pyralog_protocol::model::{
    LogConfig, LogMetadata, LogState, LogStats, PartitionMetadata, PartitionStats, NO_LEADER,
};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::cluster::state::{place, Command, State, StoredLog};
use crate::cluster::Cluster;
use crate::config::ServerConfig;
use crate::coordination::{ensure_offsets_log, Coordination};
use crate::metrics::Metrics;
use crate::partition::{now_ms, Partition};
use crate::producer_ids::{ProducerIdentity, ProducerIds};
use crate::replicas::{not_leader, LogHandle, Replicas};

/// Longest a starting node waits for the quorum to register it.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything the server serves.
pub struct Broker {
    pub cfg: ServerConfig,
    pub cluster: Arc<Cluster>,
    pub replicas: Replicas,
    /// Where clients reach this node.
    pub advertised: String,
    /// Serializes admin changes so validation sees the latest state.
    admin: tokio::sync::Mutex<()>,
    /// Serializes reconciliation of the local replicas.
    reconciling: tokio::sync::Mutex<()>,
    /// Set once the controller registered this node: replicas may lead and follow.
    registered: std::sync::atomic::AtomicBool,
    pub producer_ids: ProducerIds,
    /// Consumer groups, while this node coordinates them (`coordination.rs`).
    groups: Coordination,
    /// Produce responses so far, for `faults.drop_every_nth_produce_response`.
    produce_responses: AtomicU64,
    pub metrics: Arc<Metrics>,
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(code, msg)
}

fn not_found(name: &str) -> ProtocolError {
    err(ErrorCode::LogNotFound, format!("log {name:?} does not exist"))
}

impl Broker {
    /// Opens the local replicas the metadata places here, registers this
    /// node with the controller (which starts a new leader epoch on what it
    /// leads), and creates the logs the config declares.
    ///
    /// # Errors
    /// No quorum within `REGISTER_TIMEOUT`, or a replica that cannot be recovered.
    pub async fn open(
        cfg: ServerConfig,
        cluster: Arc<Cluster>,
        advertised: String,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<Broker>> {
        let broker = Arc::new(Broker {
            replicas: Replicas::new(cfg.clone(), Arc::clone(cluster.peers()), metrics.fsync_histogram())?,
            metrics,
            cfg,
            producer_ids: ProducerIds::default(),
            cluster,
            advertised,
            admin: tokio::sync::Mutex::new(()),
            reconciling: tokio::sync::Mutex::new(()),
            registered: std::sync::atomic::AtomicBool::new(false),
            groups: Coordination::default(),
            produce_responses: AtomicU64::new(0),
        });
        broker.reconcile().await;
        tokio::spawn(reconciler(Arc::downgrade(&broker)));
        broker.register().await?;
        tokio::spawn(Arc::clone(&broker.cluster).run_liveness(broker.advertised.clone()));
        broker.create_declared_logs().await?;
        tokio::spawn(ensure_offsets_log(Arc::downgrade(&broker)));
        Ok(broker)
    }

    async fn register(&self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + REGISTER_TIMEOUT;
        let cmd = Command::RegisterNode {
            node_id: self.cfg.node_id,
            addr: self.advertised.clone(),
            unclean: self.cfg.cluster.unclean_leader_election,
        };
        loop {
            match self.cluster.propose(cmd.clone()).await {
                Ok(_) => break,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::info!(error = %e, "waiting for the metadata quorum to register this node");
                }
                Err(e) => anyhow::bail!("registering node {} failed: {e}", self.cfg.node_id),
            }
        }
        self.registered.store(true, Ordering::Release);
        self.reconcile().await;
        Ok(())
    }

    /// Applies the latest metadata to the local replicas.
    pub async fn reconcile(&self) {
        let _one = self.reconciling.lock().await;
        let state = self.cluster.applied().state;
        let (removed, reports) = self.replicas.reconcile(&state, self.registered.load(Ordering::Acquire)).await;
        // A log gone from here takes its metric series with it.
        for name in removed {
            self.metrics.forget_log(&name);
        }
        // Replicas that could not be opened (or were opened again) are
        // reported in the background: the metadata change reconciles again.
        for report in reports {
            let cluster = Arc::clone(&self.cluster);
            tokio::spawn(async move {
                if let Err(e) = cluster.propose(report).await {
                    tracing::warn!(error = %e, "reporting a replica's state to the metadata failed; retried at the next change");
                }
            });
        }
        self.follow_offsets_leadership();
    }

    pub(crate) fn groups_slot(&self) -> &Coordination {
        &self.groups
    }

    async fn create_declared_logs(&self) -> anyhow::Result<()> {
        for (name, d) in &self.cfg.logs {
            if self.state().logs.contains_key(name) {
                continue;
            }
            let config = LogConfig {
                retention_bytes: d.retention_bytes.unwrap_or(0) as i64,
                retention_ms: d.retention_hours.map_or(0, |h| (h * 3_600_000) as i64),
                min_in_sync_replicas: d.min_in_sync_replicas,
                ..LogConfig::default()
            };
            match self.create_log(name, d.partition_count, d.replication_factor, config, true).await {
                Ok(_) => tracing::info!(log = %name, partitions = d.partition_count, "created declared log"),
                Err(e) if e.code == ErrorCode::LogAlreadyExists => {}
                Err(e) => anyhow::bail!("creating declared log {name}: {e}"),
            }
        }
        Ok(())
    }

    /// The applied metadata.
    pub fn state(&self) -> Arc<State> {
        self.cluster.applied().state
    }

    /// The stored log.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub fn stored(&self, name: &str) -> Result<StoredLog, ProtocolError> {
        self.state().logs.get(name).cloned().ok_or_else(|| not_found(name))
    }

    /// The local handle of a log with replicas here.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub fn log(&self, name: &str) -> Result<Arc<LogHandle>, ProtocolError> {
        self.replicas.get(name).ok_or_else(|| not_found(name))
    }

    /// The local replica of `log`/`partition`.
    ///
    /// # Errors
    /// `LogNotFound`, `PartitionNotFound`, `NotLeader` (no replica here).
    pub fn partition(&self, log: &str, partition: u32) -> Result<Arc<Partition>, ProtocolError> {
        if let Some(h) = self.replicas.get(log) {
            return h.partition(partition);
        }
        let stored = self.stored(log)?;
        match stored.partitions.get(partition as usize) {
            Some(a) => Err(not_leader(log, partition, a)),
            None => Err(err(
                ErrorCode::PartitionNotFound,
                format!("log {log} has {} partitions; no partition {partition}", stored.partition_count()),
            )),
        }
    }

    /// Hands out a producer id, or bumps the epoch of `resume`'s id.
    ///
    /// # Errors
    /// As [`ProducerIds::init`].
    pub async fn init_producer(
        &self,
        access: &crate::auth::Access,
        resume: Option<ProducerIdentity>,
    ) -> Result<ProducerIdentity, ProtocolError> {
        self.producer_ids.init(&self.cluster, access, resume).await
    }

    /// Whether fault injection drops the response of this produce.
    pub fn drop_this_produce_response(&self) -> bool {
        let n = self.cfg.faults.drop_every_nth_produce_response;
        if n == 0 {
            return false;
        }
        let count = self.produce_responses.fetch_add(1, Ordering::Relaxed) + 1;
        let drop = count % n == 0;
        if drop {
            tracing::info!(count, "fault injection: dropping a produce response");
        }
        drop
    }

    /// Every log's metadata, sorted by name. Internal logs (`__` names) are left out.
    pub fn list(&self) -> Vec<LogMetadata> {
        self.state().logs.values().filter(|l| !is_internal(&l.name)).map(|l| self.metadata(l)).collect()
    }

    /// A log's metadata: placement from the metadata, offsets from the
    /// local replicas.
    pub fn metadata(&self, s: &StoredLog) -> LogMetadata {
        let local = self.replicas.get(&s.name).filter(|h| h.stored.read().incarnation == s.incarnation);
        let partitions = s
            .partitions
            .iter()
            .enumerate()
            .map(|(id, a)| {
                let id = id as u32;
                let p = local.as_ref().and_then(|h| h.partitions.read().get(&id).cloned());
                PartitionMetadata {
                    offline_replicas: a.offline.keys().copied().collect(),
                    partition: id,
                    leader: a.leader.unwrap_or(NO_LEADER),
                    replicas: a.replicas.clone(),
                    isr: a.isr.clone(),
                    leader_epoch: a.leader_epoch,
                    log_start_offset: p.as_ref().map_or(0, |p| p.log_start_offset()),
                    high_watermark: p.as_ref().map_or(0, |p| p.high_watermark()),
                }
            })
            .collect::<Vec<_>>();
        LogMetadata {
            name: s.name.clone(),
            partition_count: partitions.len() as u32,
            replication_factor: s.replication_factor,
            config: s.config,
            created_at_ms: s.created_at_ms,
            state: s.state,
            partitions,
        }
    }

    /// Statistics of one log, from its local replicas.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub fn stats(&self, name: &str) -> Result<LogStats, ProtocolError> {
        self.stored(name)?;
        let mut stats = LogStats { name: name.to_owned(), ..LogStats::default() };
        let Some(h) = self.replicas.get(name) else { return Ok(stats) };
        for p in h.partitions.read().values() {
            let (start, size, segments, rate) = p.stats();
            let hw = p.high_watermark();
            stats.record_count += hw.saturating_sub(start);
            stats.size_bytes += size;
            stats.write_rate += rate;
            stats.partitions.push(PartitionStats {
                partition: p.id,
                log_start_offset: start,
                high_watermark: hw,
                size_bytes: size,
                segment_count: segments as u32,
            });
        }
        Ok(stats)
    }

    /// Proposes a command that changes or creates a log, then brings the
    /// local replicas in line before answering.
    async fn change(&self, cmd: Command) -> Result<LogMetadata, ProtocolError> {
        let outcome = self.cluster.propose(cmd).await?;
        self.reconcile().await;
        let log = outcome.log.ok_or_else(|| err(ErrorCode::Unknown, "the change returned no log"))?;
        Ok(self.metadata(&log))
    }

    /// Creates a log.
    ///
    /// # Errors
    /// `InvalidLogId`, `ReservedLogName`, `LogAlreadyExists`,
    /// `InvalidPartitions`, `InvalidConfig`, `QuorumUnavailable`.
    pub async fn create_log(
        &self,
        name: &str,
        partition_count: u32,
        replication_factor: u32,
        config: LogConfig,
        allow_internal: bool,
    ) -> Result<LogMetadata, ProtocolError> {
        validate_log_id(name)?;
        if is_internal(name) && !allow_internal {
            return Err(err(ErrorCode::ReservedLogName, format!("log names starting with __ are reserved ({name:?})")));
        }
        check_partitions(partition_count)?;
        let replication_factor = match replication_factor {
            0 => self.cfg.default_replication_factor,
            rf => rf,
        };
        validate_config(&config, replication_factor)?;
        let _admin = self.admin.lock().await;
        let state = self.state();
        if state.logs.contains_key(name) {
            return Err(err(ErrorCode::LogAlreadyExists, format!("log {name:?} already exists")));
        }
        if state.logs.len() >= MAX_LOGS {
            return Err(err(ErrorCode::InvalidConfig, format!("the cluster holds MAX_LOGS ({MAX_LOGS}) logs")));
        }
        let live: Vec<_> = state.live_nodes().collect();
        let assignments = place(&live, 0, partition_count, replication_factor)?;
        self.check_disk(&assignments, &config)?;
        self.change(Command::CreateLog {
            name: name.to_owned(),
            replication_factor,
            config,
            created_at_ms: now_ms(),
            assignments,
        })
        .await
    }

    /// Changes retention and other settings.
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidConfig`.
    pub async fn update_config(&self, name: &str, config: LogConfig) -> Result<LogMetadata, ProtocolError> {
        let _admin = self.admin.lock().await;
        let stored = self.stored(name)?;
        validate_config(&config, stored.replication_factor)?;
        self.change(Command::UpdateConfig { name: name.to_owned(), config }).await
    }

    /// Pauses or resumes writes.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub async fn set_state(&self, name: &str, state: LogState) -> Result<LogMetadata, ProtocolError> {
        let _admin = self.admin.lock().await;
        self.stored(name)?;
        self.change(Command::SetState { name: name.to_owned(), state }).await
    }

    /// Deletes a log: reads and writes stop at once; data is removed in the background.
    ///
    /// # Errors
    /// `LogNotFound`, `ReservedLogName`.
    pub async fn delete_log(&self, name: &str) -> Result<(), ProtocolError> {
        if is_internal(name) {
            return Err(err(ErrorCode::ReservedLogName, format!("internal log {name:?} cannot be deleted")));
        }
        let _admin = self.admin.lock().await;
        self.stored(name)?;
        if let Some(h) = self.replicas.get(name) {
            h.stored.write().state = LogState::Deleting;
        }
        self.cluster.propose(Command::DeleteLog { name: name.to_owned() }).await?;
        self.reconcile().await;
        Ok(())
    }

    /// Grows a log to `partition_count` partitions.
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidPartitions`.
    pub async fn add_partitions(&self, name: &str, partition_count: u32) -> Result<LogMetadata, ProtocolError> {
        check_partitions(partition_count)?;
        let _admin = self.admin.lock().await;
        let stored = self.stored(name)?;
        let current = stored.partition_count();
        if partition_count <= current {
            return Err(err(
                ErrorCode::InvalidPartitions,
                format!("log {name} has {current} partitions; the new count must be larger (got {partition_count})"),
            ));
        }
        let live: Vec<_> = self.state().live_nodes().collect();
        let assignments = place(&live, current, partition_count - current, stored.replication_factor)?;
        self.check_disk(&assignments, &stored.config)?;
        self.change(Command::AddPartitions { name: name.to_owned(), assignments }).await
    }

    /// Refuses new partitions whose replicas here would take more disk at
    /// once than is free beyond `disk_reserve_bytes` (the other nodes'
    /// disks are taken to be alike; a node that still cannot open a replica
    /// reports it offline).
    ///
    /// # Errors
    /// `StorageFull` naming the figures; `StorageError` when the disk cannot be asked.
    fn check_disk(&self, assignments: &[Vec<u32>], config: &LogConfig) -> Result<(), ProtocolError> {
        let here = assignments.iter().filter(|r| r.contains(&self.cfg.node_id)).count() as u64;
        if here == 0 {
            return Ok(());
        }
        let need = here.saturating_mul(self.replicas.storage_config(config).initial_disk_bytes());
        let free = crate::storage::available_disk_bytes(&self.cfg.data_dir)
            .map_err(|e| err(ErrorCode::StorageError, e.to_string()))?;
        if need.saturating_add(self.cfg.disk_reserve_bytes) > free {
            return Err(err(
                ErrorCode::StorageFull,
                format!(
                    "{here} new replica(s) here take {need} bytes of disk at once; {free} bytes are free and \
                     disk_reserve_bytes keeps {} of them: nothing was created",
                    self.cfg.disk_reserve_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Every local replica (for retention and shutdown).
    pub fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.replicas.all()
    }

    /// Syncs and closes every replica, and leaves the quorum.
    pub async fn shutdown(&self) {
        self.replicas.shutdown().await;
        self.cluster.shutdown().await;
    }
}

/// Reconciles the local replicas on every metadata change, until the broker is dropped.
async fn reconciler(broker: std::sync::Weak<Broker>) {
    let Some(mut rx) = broker.upgrade().map(|b| b.cluster.subscribe()) else { return };
    while rx.changed().await.is_ok() {
        let Some(b) = broker.upgrade() else { return };
        b.reconcile().await;
    }
}

fn check_partitions(n: u32) -> Result<(), ProtocolError> {
    if n == 0 || n > MAX_PARTITIONS_PER_LOG {
        return Err(err(
            ErrorCode::InvalidPartitions,
            format!("partition count {n} outside 1..={MAX_PARTITIONS_PER_LOG} (MAX_PARTITIONS_PER_LOG)"),
        ));
    }
    Ok(())
}

fn validate_config(c: &LogConfig, replication_factor: u32) -> Result<(), ProtocolError> {
    use crate::config::{MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES};
    if c.retention_ms < 0 || c.retention_bytes < 0 || c.segment_ms < 0 || c.delete_retention_ms < 0 {
        return Err(err(
            ErrorCode::InvalidConfig,
            "retention_ms, retention_bytes, segment_ms and delete_retention_ms must be >= 0",
        ));
    }
    if c.segment_bytes != 0 && !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&c.segment_bytes) {
        return Err(err(
            ErrorCode::InvalidConfig,
            format!("segment_bytes must be in {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}"),
        ));
    }
    if c.min_in_sync_replicas > replication_factor {
        return Err(err(
            ErrorCode::InvalidConfig,
            format!(
                "min_in_sync_replicas {} exceeds the replication factor {replication_factor}",
                c.min_in_sync_replicas
            ),
        ));
    }
    Ok(())
}
