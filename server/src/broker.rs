//! The log manager: the metadata store, every served partition, and the
//! admin operations that change them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use pyralog_protocol::limits::{MAX_LOGS, MAX_PARTITIONS_PER_LOG};
use pyralog_protocol::log_id::{is_internal, validate_log_id};
use pyralog_protocol::model::{
    FlushPolicy, LogConfig, LogMetadata, LogState, LogStats, PartitionMetadata, PartitionStats,
};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::config::{Flush, ServerConfig};
use crate::groups::{Groups, OFFSETS_LOG};
use crate::meta::{Command, MetadataStore, StoredLog};
use crate::partition::{now_ms, FlushMode, Partition};
use crate::producer_ids::{ProducerIdentity, ProducerIds};
use crate::storage::{PartitionLog, StorageConfig};
use crate::syncer::Syncer;

/// A log being served.
pub struct LogHandle {
    pub stored: RwLock<StoredLog>,
    pub partitions: RwLock<Vec<Arc<Partition>>>,
    pub dir: PathBuf,
}

impl LogHandle {
    /// The partition, or `PartitionNotFound`.
    ///
    /// # Errors
    /// `PartitionNotFound` naming the partition count.
    pub fn partition(&self, id: u32) -> Result<Arc<Partition>, ProtocolError> {
        let parts = self.partitions.read();
        parts.get(id as usize).cloned().ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::PartitionNotFound,
                format!("log {} has {} partitions; no partition {id}", self.stored.read().name, parts.len()),
            )
        })
    }
}

/// Everything the server serves.
pub struct Broker {
    pub cfg: ServerConfig,
    meta: Mutex<MetadataStore>,
    logs: RwLock<HashMap<String, Arc<LogHandle>>>,
    /// Serializes admin changes so metadata and open partitions agree.
    admin: tokio::sync::Mutex<()>,
    pub producer_ids: ProducerIds,
    /// Consumer groups, set once the offsets log is open.
    groups: std::sync::OnceLock<Arc<Groups>>,
    /// Produce responses so far, for `faults.drop_every_nth_produce_response`.
    produce_responses: std::sync::atomic::AtomicU64,
    /// The threads that fsync partitions (group commit).
    syncer: Syncer,
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(code, msg)
}

fn internal(e: impl std::fmt::Display) -> ProtocolError {
    err(ErrorCode::StorageError, e.to_string())
}

impl Broker {
    /// Opens the data directory, recovers every partition, starts a new
    /// leader epoch everywhere, and creates the logs the config declares.
    ///
    /// # Errors
    /// Unreadable metadata or a partition that cannot be recovered.
    pub async fn open(cfg: ServerConfig) -> anyhow::Result<Arc<Broker>> {
        std::fs::create_dir_all(cfg.data_dir.join("logs"))?;
        clean_trash(&cfg.data_dir);
        let mut meta = MetadataStore::open(&cfg.data_dir.join("meta"))?;
        meta.apply(Command::BumpAllEpochs)?;
        let producer_ids = ProducerIds::load(&meta);
        let broker = Arc::new(Broker {
            cfg,
            meta: Mutex::new(meta),
            logs: RwLock::new(HashMap::new()),
            admin: tokio::sync::Mutex::new(()),
            producer_ids,
            groups: std::sync::OnceLock::new(),
            produce_responses: std::sync::atomic::AtomicU64::new(0),
            syncer: Syncer::start()?,
        });
        let stored: Vec<StoredLog> = broker.meta.lock().logs().cloned().collect();
        for log in stored {
            let handle = broker.open_log(&log)?;
            broker.logs.write().insert(log.name.clone(), handle);
        }
        broker.create_declared_logs().await?;
        broker.open_groups().await?;
        Ok(broker)
    }

    async fn open_groups(&self) -> anyhow::Result<()> {
        if self.log(OFFSETS_LOG).is_err() {
            let config = LogConfig {
                flush_policy: FlushPolicy::Always,
                segment_bytes: self.cfg.group_offsets_segment_bytes,
                ..LogConfig::default()
            };
            self.create_log(OFFSETS_LOG, 1, 1, config, true)
                .await
                .map_err(|e| anyhow::anyhow!("creating {OFFSETS_LOG}: {e}"))?;
        }
        let partition = self.log(OFFSETS_LOG).and_then(|h| h.partition(0)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = self.cfg.data_dir.join("groups");
        let groups = Groups::open(partition, &dir, self.cfg.group_offsets_snapshot_every)
            .map_err(|e| anyhow::anyhow!("replaying {OFFSETS_LOG}: {e}"))?;
        let _ = self.groups.set(groups);
        Ok(())
    }

    /// The consumer groups.
    pub fn groups(&self) -> &Arc<Groups> {
        self.groups.get().expect("opened with the broker")
    }

    async fn create_declared_logs(&self) -> anyhow::Result<()> {
        for (name, d) in &self.cfg.logs {
            if self.logs.read().contains_key(name) {
                continue;
            }
            let config = LogConfig {
                retention_bytes: d.retention_bytes.unwrap_or(0) as i64,
                retention_ms: d.retention_hours.map_or(0, |h| (h * 3_600_000) as i64),
                min_in_sync_replicas: d.min_in_sync_replicas,
                ..LogConfig::default()
            };
            self.create_log(name, d.partition_count, d.replication_factor, config, true)
                .await
                .map_err(|e| anyhow::anyhow!("creating declared log {name}: {e}"))?;
            tracing::info!(log = %name, partitions = d.partition_count, "created declared log");
        }
        Ok(())
    }

    fn log_dir(&self, log: &StoredLog) -> PathBuf {
        self.cfg.data_dir.join("logs").join(log.dir_name())
    }

    fn storage_config(&self, c: &LogConfig) -> StorageConfig {
        StorageConfig {
            segment_bytes: if c.segment_bytes > 0 { c.segment_bytes } else { self.cfg.segment_bytes },
            segment_ms: c.segment_ms,
            retention_ms: c.retention_ms.max(0),
            retention_bytes: c.retention_bytes.max(0) as u64,
            preallocate: self.cfg.preallocate,
            ..StorageConfig::default()
        }
    }

    fn flush_mode(&self, c: &LogConfig) -> FlushMode {
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

    fn open_partition(&self, log: &StoredLog, dir: &Path, id: u32) -> anyhow::Result<Arc<Partition>> {
        let pdir = dir.join(id.to_string());
        let (mut storage, report) = PartitionLog::open(&pdir, self.storage_config(&log.config))?;
        tracing::debug!(log = %log.name, partition = id, ?report, "partition recovered");
        let mut epoch = log.epochs[id as usize];
        if storage.leader_epoch() >= epoch {
            epoch = storage.leader_epoch() + 1;
        }
        storage.begin_epoch(epoch)?;
        Ok(Partition::start(log.name.clone(), id, storage, epoch, self.flush_mode(&log.config), self.syncer.queue()))
    }

    fn open_log(&self, log: &StoredLog) -> anyhow::Result<Arc<LogHandle>> {
        let dir = self.log_dir(log);
        let parts = (0..log.partition_count())
            .map(|p| self.open_partition(log, &dir, p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Arc::new(LogHandle { stored: RwLock::new(log.clone()), partitions: RwLock::new(parts), dir }))
    }

    /// The served log, or `LogNotFound`.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub fn log(&self, name: &str) -> Result<Arc<LogHandle>, ProtocolError> {
        self.logs
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| err(ErrorCode::LogNotFound, format!("log {name:?} does not exist")))
    }

    /// Hands out a producer id, or bumps the epoch of `resume`'s id.
    ///
    /// # Errors
    /// As [`ProducerIds::init`].
    pub fn init_producer(&self, resume: Option<ProducerIdentity>) -> Result<ProducerIdentity, ProtocolError> {
        self.producer_ids.init(&self.meta, resume)
    }

    /// Whether fault injection drops the response of this produce.
    pub fn drop_this_produce_response(&self) -> bool {
        let n = self.cfg.faults.drop_every_nth_produce_response;
        if n == 0 {
            return false;
        }
        let count = self.produce_responses.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let drop = count % n == 0;
        if drop {
            tracing::info!(count, "fault injection: dropping a produce response");
        }
        drop
    }

    /// Every log's metadata, sorted by name.
    /// Internal logs (`__` names) are left out.
    pub fn list(&self) -> Vec<LogMetadata> {
        let mut v: Vec<_> =
            self.logs.read().iter().filter(|(name, _)| !is_internal(name)).map(|(_, h)| self.metadata(h)).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Metadata of one served log.
    pub fn metadata(&self, h: &LogHandle) -> LogMetadata {
        let s = h.stored.read().clone();
        let node = self.cfg.node_id;
        let partitions = h
            .partitions
            .read()
            .iter()
            .map(|p| PartitionMetadata {
                partition: p.id,
                leader: node,
                replicas: vec![node],
                isr: vec![node],
                leader_epoch: p.leader_epoch(),
                log_start_offset: p.log_start_offset(),
                high_watermark: p.high_watermark(),
            })
            .collect::<Vec<_>>();
        LogMetadata {
            name: s.name,
            partition_count: partitions.len() as u32,
            replication_factor: s.replication_factor,
            config: s.config,
            created_at_ms: s.created_at_ms,
            state: s.state,
            partitions,
        }
    }

    /// Statistics of one log.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub fn stats(&self, name: &str) -> Result<LogStats, ProtocolError> {
        let h = self.log(name)?;
        let mut stats = LogStats { name: name.to_owned(), ..LogStats::default() };
        for p in h.partitions.read().iter() {
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

    /// Creates a log.
    ///
    /// # Errors
    /// `InvalidLogId`, `ReservedLogName`, `LogAlreadyExists`,
    /// `InvalidPartitions`, `InvalidConfig`, `StorageError`.
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
        if replication_factor > 1 {
            return Err(err(
                ErrorCode::InvalidConfig,
                format!("replication_factor {replication_factor} exceeds the 1 server of this cluster"),
            ));
        }
        validate_config(&config)?;
        let _admin = self.admin.lock().await;
        if self.logs.read().contains_key(name) {
            return Err(err(ErrorCode::LogAlreadyExists, format!("log {name:?} already exists")));
        }
        if self.logs.read().len() >= MAX_LOGS {
            return Err(err(ErrorCode::InvalidConfig, format!("server holds MAX_LOGS ({MAX_LOGS}) logs")));
        }
        let stored = self
            .meta
            .lock()
            .apply(Command::CreateLog {
                name: name.to_owned(),
                partition_count,
                replication_factor: replication_factor.max(1),
                config,
                created_at_ms: now_ms(),
            })
            .map_err(internal)?
            .expect("create returns the log");
        let handle = match self.open_log(&stored) {
            Ok(h) => h,
            Err(e) => {
                let _ = self.meta.lock().apply(Command::DeleteLog { name: name.to_owned() });
                return Err(internal(e));
            }
        };
        self.logs.write().insert(name.to_owned(), Arc::clone(&handle));
        Ok(self.metadata(&handle))
    }

    /// Changes retention and other settings.
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidConfig`.
    pub async fn update_config(&self, name: &str, config: LogConfig) -> Result<LogMetadata, ProtocolError> {
        validate_config(&config)?;
        let _admin = self.admin.lock().await;
        let h = self.log(name)?;
        let stored = self
            .meta
            .lock()
            .apply(Command::UpdateConfig { name: name.to_owned(), config })
            .map_err(internal)?
            .ok_or_else(|| err(ErrorCode::LogNotFound, name))?;
        *h.stored.write() = stored;
        for p in h.partitions.read().iter() {
            p.set_storage_config(self.storage_config(&config));
            p.set_mode(self.flush_mode(&config));
        }
        Ok(self.metadata(&h))
    }

    /// Pauses or resumes writes.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub async fn set_state(&self, name: &str, state: LogState) -> Result<LogMetadata, ProtocolError> {
        let _admin = self.admin.lock().await;
        let h = self.log(name)?;
        let stored = self
            .meta
            .lock()
            .apply(Command::SetState { name: name.to_owned(), state })
            .map_err(internal)?
            .ok_or_else(|| err(ErrorCode::LogNotFound, name))?;
        *h.stored.write() = stored;
        Ok(self.metadata(&h))
    }

    /// Deletes a log: reads and writes stop at once; data is removed in the background.
    ///
    /// # Errors
    /// `LogNotFound`, `StorageError`.
    pub async fn delete_log(&self, name: &str) -> Result<(), ProtocolError> {
        if is_internal(name) {
            return Err(err(ErrorCode::ReservedLogName, format!("internal log {name:?} cannot be deleted")));
        }
        let _admin = self.admin.lock().await;
        let h = self.log(name)?;
        h.stored.write().state = LogState::Deleting;
        self.logs.write().remove(name);
        self.meta.lock().apply(Command::DeleteLog { name: name.to_owned() }).map_err(internal)?;
        let parts: Vec<_> = h.partitions.read().clone();
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
        Ok(())
    }

    /// Grows a log to `partition_count` partitions.
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidPartitions`.
    pub async fn add_partitions(&self, name: &str, partition_count: u32) -> Result<LogMetadata, ProtocolError> {
        check_partitions(partition_count)?;
        let _admin = self.admin.lock().await;
        let h = self.log(name)?;
        let current = h.partitions.read().len() as u32;
        if partition_count <= current {
            return Err(err(
                ErrorCode::InvalidPartitions,
                format!("log {name} has {current} partitions; the new count must be larger (got {partition_count})"),
            ));
        }
        let stored = self
            .meta
            .lock()
            .apply(Command::AddPartitions { name: name.to_owned(), partition_count })
            .map_err(internal)?
            .ok_or_else(|| err(ErrorCode::LogNotFound, name))?;
        let new: Vec<_> = (current..partition_count)
            .map(|p| self.open_partition(&stored, &h.dir, p))
            .collect::<anyhow::Result<_>>()
            .map_err(internal)?;
        *h.stored.write() = stored;
        h.partitions.write().extend(new);
        Ok(self.metadata(&h))
    }

    /// Every partition of every log (for retention and shutdown).
    pub fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.logs.read().values().flat_map(|h| h.partitions.read().clone()).collect()
    }

    /// Syncs and closes every partition.
    pub async fn shutdown(&self) {
        for p in self.all_partitions() {
            p.close().await;
        }
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

fn validate_config(c: &LogConfig) -> Result<(), ProtocolError> {
    use crate::config::{MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES};
    if c.retention_ms < 0 || c.retention_bytes < 0 || c.segment_ms < 0 {
        return Err(err(ErrorCode::InvalidConfig, "retention_ms, retention_bytes and segment_ms must be >= 0"));
    }
    if c.segment_bytes != 0 && !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&c.segment_bytes) {
        return Err(err(
            ErrorCode::InvalidConfig,
            format!("segment_bytes must be in {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}"),
        ));
    }
    if c.min_in_sync_replicas > 1 {
        return Err(err(
            ErrorCode::InvalidConfig,
            format!("min_in_sync_replicas {} exceeds the 1 server of this cluster", c.min_in_sync_replicas),
        ));
    }
    Ok(())
}

fn clean_trash(data_dir: &Path) {
    let trash = data_dir.join("trash");
    if trash.exists() {
        if let Err(e) = std::fs::remove_dir_all(&trash) {
            tracing::warn!(dir = %trash.display(), error = %e, "could not empty the trash");
        }
    }
}
