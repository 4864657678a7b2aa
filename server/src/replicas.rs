//! The partitions this node holds, kept in step with the metadata: the
//! reconciler opens a replica when the metadata places one here, closes and
//! removes it when its log is deleted, applies config changes, and makes the
//! replica lead under the epoch the metadata gives it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use prometheus_client::metrics::histogram::Histogram;
use pyralog_protocol::model::{FlushPolicy, LogConfig};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::cluster::network::Peers;
use crate::cluster::state::{Command, NodeId, PartitionAssignment, State, StoredLog};
use crate::cluster::wire::ReplicaKey;
use crate::config::{Flush, ServerConfig};
use crate::partition::{Assignment, FlushMode, Partition};
use crate::replication::follower;
use crate::storage::{PartitionLog, StorageConfig};
use crate::syncer::Syncer;

/// A log with replicas on this node.
pub struct LogHandle {
    pub stored: RwLock<StoredLog>,
    /// This node's replicas, by partition id.
    pub partitions: RwLock<BTreeMap<u32, Arc<Partition>>>,
    /// Replicas placed here that could not be opened, and why (tried again
    /// at every metadata change).
    failed: RwLock<BTreeMap<u32, String>>,
    pub dir: PathBuf,
}

impl LogHandle {
    /// The local replica of partition `id`.
    ///
    /// # Errors
    /// `PartitionNotFound` naming the partition count; `NotLeader` naming
    /// the leader when this node holds no replica of it.
    pub fn partition(&self, id: u32) -> Result<Arc<Partition>, ProtocolError> {
        if let Some(p) = self.partitions.read().get(&id) {
            return Ok(Arc::clone(p));
        }
        let s = self.stored.read();
        if let Some(why) = self.failed.read().get(&id) {
            return Err(ProtocolError::new(
                ErrorCode::StorageError,
                format!("{}/{id} could not be opened on this node: {why}", s.name),
            ));
        }
        match s.partitions.get(id as usize) {
            None => Err(ProtocolError::new(
                ErrorCode::PartitionNotFound,
                format!("log {} has {} partitions; no partition {id}", s.name, s.partition_count()),
            )),
            Some(a) => Err(not_leader(&s.name, id, a)),
        }
    }
}

/// `NotLeader` for a partition this node does not lead; `StorageError`
/// (not retriable) when nobody leads because its replicas could not be opened.
pub fn not_leader(log: &str, partition: u32, a: &PartitionAssignment) -> ProtocolError {
    if a.leader.is_none() && !a.offline.is_empty() {
        let why: Vec<String> = a.offline.iter().map(|(n, why)| format!("node {n}: {why}")).collect();
        return ProtocolError::new(
            ErrorCode::StorageError,
            format!("{log}/{partition} is offline: no in-sync replica could be opened ({})", why.join("; ")),
        );
    }
    let leader = a.leader.map_or_else(|| "no node (offline)".to_owned(), |l| format!("node {l}"));
    ProtocolError::new(ErrorCode::NotLeader, format!("{log}/{partition} is led by {leader}, epoch {}", a.leader_epoch))
}

/// Every local replica, and how to open more.
pub struct Replicas {
    cfg: ServerConfig,
    node_id: NodeId,
    logs: RwLock<HashMap<String, Arc<LogHandle>>>,
    syncer: Syncer,
    peers: Arc<Peers>,
}

impl Replicas {
    /// # Errors
    /// When the sync threads cannot start.
    pub fn new(cfg: ServerConfig, peers: Arc<Peers>, fsync_latency: Histogram) -> anyhow::Result<Replicas> {
        std::fs::create_dir_all(cfg.data_dir.join("logs"))?;
        clean_trash(&cfg.data_dir);
        let syncer = Syncer::start(fsync_latency)?;
        Ok(Replicas { node_id: cfg.node_id, cfg, logs: RwLock::new(HashMap::new()), syncer, peers })
    }

    /// The local handle of `name`, if this node holds replicas of it.
    pub fn get(&self, name: &str) -> Option<Arc<LogHandle>> {
        self.logs.read().get(name).cloned()
    }

    /// Every local replica.
    pub fn all(&self) -> Vec<Arc<Partition>> {
        self.logs.read().values().flat_map(|h| h.partitions.read().values().cloned().collect::<Vec<_>>()).collect()
    }

    /// Brings the local replicas in line with `state`. Idempotent; a replica
    /// that fails to open is logged and retried on the next change.
    /// Until this node is registered (`may_lead`), replicas are opened but
    /// neither lead nor follow: the metadata it starts from may be stale.
    /// Returns the names of the logs whose replicas went, and the changes
    /// to report to the metadata (replicas that could not be opened, or
    /// opened again).
    pub async fn reconcile(&self, state: &State, may_lead: bool) -> (Vec<String>, Vec<Command>) {
        let gone: Vec<Arc<LogHandle>> = {
            let logs = self.logs.read();
            logs.iter()
                .filter(|(name, h)| state.logs.get(*name).is_none_or(|l| l.incarnation != h.stored.read().incarnation))
                .map(|(_, h)| Arc::clone(h))
                .collect()
        };
        let mut removed = Vec::with_capacity(gone.len());
        for h in gone {
            removed.push(h.stored.read().name.clone());
            self.remove(&h).await;
        }
        let mut reports = Vec::new();
        for log in state.logs.values() {
            if log.partitions.iter().any(|p| p.replicas.contains(&self.node_id)) {
                if let Err(e) = self.reconcile_log(log, may_lead, &mut reports) {
                    tracing::error!(log = %log.name, error = %e, "reconciling a replica failed");
                }
            }
        }
        (removed, reports)
    }

    fn reconcile_log(&self, log: &StoredLog, may_lead: bool, reports: &mut Vec<Command>) -> anyhow::Result<()> {
        let handle = self.get(&log.name).unwrap_or_else(|| {
            let h = Arc::new(LogHandle {
                stored: RwLock::new(log.clone()),
                partitions: RwLock::new(BTreeMap::new()),
                failed: RwLock::new(BTreeMap::new()),
                dir: self.cfg.data_dir.join("logs").join(log.dir_name()),
            });
            self.logs.write().insert(log.name.clone(), Arc::clone(&h));
            h
        });
        let config_changed = handle.stored.read().config != log.config;
        *handle.stored.write() = log.clone();
        for (id, a) in log.partitions.iter().enumerate() {
            let id = id as u32;
            if !a.replicas.contains(&self.node_id) {
                continue;
            }
            let existing = handle.partitions.read().get(&id).cloned();
            let p = match existing {
                Some(p) => {
                    if config_changed {
                        p.set_storage_config(self.storage_config(&log.config));
                        p.set_mode(self.flush_mode(&log.config));
                    }
                    p
                }
                None => match self.open_partition(log, &handle.dir, id) {
                    Ok(p) => {
                        handle.failed.write().remove(&id);
                        handle.partitions.write().insert(id, Arc::clone(&p));
                        if a.offline.contains_key(&self.node_id) {
                            let (log, incarnation, node) = (log.name.clone(), log.incarnation, self.node_id);
                            reports.push(Command::MarkReplicaOnline { log, incarnation, partition: id, node });
                        }
                        p
                    }
                    Err(e) => {
                        let reason = format!("{e:#}");
                        tracing::error!(log = %log.name, partition = id, error = %reason, "opening a replica failed");
                        handle.failed.write().insert(id, reason.clone());
                        if !a.offline.contains_key(&self.node_id) {
                            let (log, incarnation, node) = (log.name.clone(), log.incarnation, self.node_id);
                            reports.push(Command::MarkReplicaOffline { log, incarnation, partition: id, node, reason });
                        }
                        continue;
                    }
                },
            };
            if may_lead {
                self.assign(log, id, a, &p)?;
            }
        }
        Ok(())
    }

    /// Leads, or follows the leader (starting a fetcher), as `a` says.
    fn assign(&self, log: &StoredLog, id: u32, a: &PartitionAssignment, p: &Arc<Partition>) -> anyhow::Result<()> {
        p.follow_assignment(&Assignment {
            me: self.node_id,
            leader: a.leader,
            leader_epoch: a.leader_epoch,
            replicas: a.replicas.clone(),
            isr: a.isr.clone(),
            min_isr: log.config.min_in_sync_replicas,
        })?;
        match a.leader {
            Some(leader) if leader != self.node_id => {
                if p.fetching_from() != Some((leader, a.leader_epoch)) {
                    let key = ReplicaKey {
                        log: log.name.clone(),
                        partition: id,
                        incarnation: log.incarnation,
                        leader_epoch: a.leader_epoch,
                    };
                    p.set_fetcher(Some(follower::spawn(Arc::clone(p), Arc::clone(&self.peers), leader, key)));
                }
            }
            _ => p.set_fetcher(None),
        }
        Ok(())
    }

    fn open_partition(&self, log: &StoredLog, dir: &Path, id: u32) -> anyhow::Result<Arc<Partition>> {
        let (storage, report) = PartitionLog::open(&dir.join(id.to_string()), self.storage_config(&log.config))?;
        tracing::debug!(log = %log.name, partition = id, ?report, "partition recovered");
        let epoch = storage.leader_epoch();
        Ok(Partition::start(log.name.clone(), id, storage, epoch, self.flush_mode(&log.config), self.syncer.queue()))
    }

    /// Closes a deleted log's replicas and removes its data in the background.
    async fn remove(&self, h: &Arc<LogHandle>) {
        let name = h.stored.read().name.clone();
        {
            let mut logs = self.logs.write();
            if logs.get(&name).is_some_and(|x| Arc::ptr_eq(x, h)) {
                logs.remove(&name);
            }
        }
        let parts: Vec<_> = h.partitions.read().values().cloned().collect();
        for p in &parts {
            p.close().await;
        }
        let trash = self.cfg.data_dir.join("trash");
        let dir = h.dir.clone();
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::create_dir_all(&trash);
            let target = trash.join(dir.file_name().unwrap_or_default());
            let doomed = if std::fs::rename(&dir, &target).is_ok() { target } else { dir };
            if let Err(e) = std::fs::remove_dir_all(&doomed) {
                tracing::warn!(dir = %doomed.display(), error = %e, "removing deleted log data failed");
            }
        });
    }

    pub fn storage_config(&self, c: &LogConfig) -> StorageConfig {
        StorageConfig {
            segment_bytes: if c.segment_bytes > 0 { c.segment_bytes } else { self.cfg.segment_bytes },
            segment_ms: c.segment_ms,
            // A compact-only log keeps every key's newest record however old.
            retention_ms: if c.cleanup_policy.deletes() { c.retention_ms.max(0) } else { 0 },
            retention_bytes: if c.cleanup_policy.deletes() { c.retention_bytes.max(0) as u64 } else { 0 },
            preallocate: self.cfg.preallocate,
            ..StorageConfig::default()
        }
    }

    pub fn flush_mode(&self, c: &LogConfig) -> FlushMode {
        let interval = if c.flush_interval_ms > 0 { c.flush_interval_ms } else { self.cfg.flush_interval_ms };
        let interval = Duration::from_millis(u64::from(interval));
        match c.flush_policy {
            FlushPolicy::Always => FlushMode::Always,
            FlushPolicy::Interval => FlushMode::Interval(interval),
            FlushPolicy::Never => FlushMode::Never,
            FlushPolicy::ServerDefault => match self.cfg.flush {
                Flush::Always => FlushMode::Always,
                Flush::Interval => FlushMode::Interval(interval),
                Flush::Never => FlushMode::Never,
            },
        }
    }

    /// Syncs and closes every replica.
    pub async fn shutdown(&self) {
        for p in self.all() {
            p.close().await;
        }
    }
}

fn clean_trash(data_dir: &Path) {
    let trash = data_dir.join("trash");
    if trash.exists() {
        if let Err(e) = std::fs::remove_dir_all(&trash) {
            tracing::warn!(dir = %trash.display(), error = %e, "could not empty the trash");
        }
    }
}
