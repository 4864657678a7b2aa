//! The client: connection, metadata cache, admin operations, and the
//! convenience `produce` / `consume` calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use pyralog_protocol::batch::NO_PRODUCER_ID;
use pyralog_protocol::log_id::validate_log_id;
use pyralog_protocol::model::{LogConfig, LogMetadata};
use pyralog_protocol::pyralog_capnp::{response, OffsetSpec};
use pyralog_protocol::ErrorCode;

use crate::config::{Acks, ClientConfig, ConsumerConfig, ProducerConfig};
use crate::consumer::Consumer;
use crate::error::{Error, Result};
use crate::nodes::Nodes;
use crate::producer::{DeliverySink, Producer};
use crate::record::{ConsumerRecord, LogOffset, ProducerIdentity, Record, RecordMetadata};
use crate::transport::{NetworkStats, Transport};
use crate::wire::{self, capnp_err, unexpected};

/// What to create: partitions, replication and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSpec {
    pub partition_count: u32,
    /// Copies of each partition; 0: the server's `default_replication_factor`.
    pub replication_factor: u32,
    pub config: LogConfig,
}

impl LogSpec {
    pub fn new(partition_count: u32) -> Self {
        LogSpec { partition_count, replication_factor: 0, config: LogConfig::default() }
    }
}

/// One partition's slice of a fetch response.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub error: Option<Error>,
    pub high_watermark: u64,
    pub records: Bytes,
}

impl Fetched {
    fn failed(e: Error) -> Fetched {
        Fetched { error: Some(e), high_watermark: 0, records: Bytes::new() }
    }
}

/// A partition to fetch.
#[derive(Debug, Clone)]
pub(crate) struct FetchSpec {
    pub log: Arc<str>,
    pub partition: u32,
    pub offset: u64,
    pub max_bytes: u32,
}

/// The internal log whose partition 0's leader coordinates the groups.
const GROUPS_LOG: &str = "__consumer_offsets";
/// Pause between attempts of a convenience call that failed retriably.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Which node a request goes to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    /// Any node (admin, metadata).
    Any,
    /// The leader of a partition.
    Leader(&'a str, u32),
    /// The consumer groups' coordinator.
    Coordinator,
}

pub(crate) struct Inner {
    pub nodes: Nodes,
    pub config: ClientConfig,
    metadata: Mutex<HashMap<String, (Arc<LogMetadata>, Instant)>>,
    /// The last leader probe per log (`Client::leader_moved`): its answer
    /// and when it was asked, shared by every request waiting on that log.
    pub(crate) probes: Mutex<HashMap<String, Probe>>,
}

/// A leader probe's answer (none when no other node answered) and its time.
pub(crate) type Probe = (Option<Arc<LogMetadata>>, Instant);

/// A connection to a Pyralog server. Cheap to clone; clones share the
/// connection. Call [`Client::close`] when done.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the cluster through `servers` (`HOST:PORT`, or several
    /// comma-separated: the first that answers is used, the others when it
    /// cannot be reached), verifying every node against the configured CA file.
    ///
    /// # Errors
    /// `TlsError` (missing or wrong CA), `ConnectionFailed` (no answer within
    /// `connect_timeout`), `InvalidArgument` (bad address).
    pub async fn connect(servers: &str, config: ClientConfig) -> Result<Client> {
        config.validate()?;
        let nodes = Nodes::connect(servers, &config).await?;
        let (metadata, probes) = (Mutex::new(HashMap::new()), Mutex::new(HashMap::new()));
        Ok(Client { inner: Arc::new(Inner { nodes, config, metadata, probes }) })
    }

    /// The connection a routed request takes (boxed: finding the leader
    /// may itself send a metadata request).
    fn transport<'a>(
        &'a self,
        log: &'a str,
        partition: u32,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Arc<Transport>>> + Send + 'a>> {
        Box::pin(self.leader_transport(log, partition))
    }

    async fn leader_transport(&self, log: &str, partition: u32) -> Result<Arc<Transport>> {
        let md = self.cached_metadata(log).await?;
        let p = md.partitions.get(partition as usize).ok_or_else(|| {
            Error::new(ErrorCode::PartitionNotFound, format!("log {log} has no partition {partition}"))
        })?;
        if p.leader == pyralog_protocol::model::NO_LEADER {
            self.forget(log);
            return Err(no_leader(log, p));
        }
        if !self.inner.nodes.knows(p.leader) {
            // Metadata cached from an admin answer names no node addresses.
            self.refresh_metadata(log).await?;
        }
        let t = self.inner.nodes.node(p.leader).await;
        if t.is_err() {
            self.forget(log);
        }
        t
    }

    /// Sends a request along `route`; any-node requests move to another
    /// node when theirs cannot be reached, routed ones drop the metadata
    /// that routed them when the node is gone or no longer leads.
    pub(crate) async fn send(
        &self,
        route: Route<'_>,
        req: Vec<u8>,
        payload: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        // One deadline for finding the node, failing over and the exchange:
        // a caller's timeout (a producer's delivery timeout) bounds them all.
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || Error::new(ErrorCode::Timeout, format!("no answer within {timeout:?}"));
        let resolve = async {
            match route {
                Route::Any => Ok(self.inner.nodes.any()),
                Route::Leader(log, p) => self.transport(log, p).await,
                Route::Coordinator => self.transport(GROUPS_LOG, 0).await,
            }
        };
        let mut t = tokio::time::timeout_at(deadline, resolve).await.map_err(|_| timed_out())??;
        for _ in 0..self.inner.nodes.reach() {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(timed_out());
            }
            match t.call_with_payload(req.clone(), payload.clone(), remaining).await {
                Err(e) if e.code() == ErrorCode::ConnectionFailed && matches!(route, Route::Any) => {
                    match tokio::time::timeout_at(deadline, self.inner.nodes.fail_over(&t)).await {
                        Ok(Some(next)) => t = next,
                        Ok(None) | Err(_) => return Err(e),
                    }
                }
                Err(e) => {
                    self.forget_route(route, &e);
                    return Err(e);
                }
                Ok(bytes) => return Ok(bytes),
            }
        }
        Err(Error::new(ErrorCode::ConnectionFailed, "no node of the cluster answered"))
    }

    /// Forgets the metadata that routed a request its answer says is stale.
    fn forget_route(&self, route: Route<'_>, e: &Error) {
        let stale = matches!(
            e.code(),
            ErrorCode::ConnectionFailed | ErrorCode::NotLeader | ErrorCode::FencedEpoch | ErrorCode::NotCoordinator
        );
        match route {
            Route::Leader(log, _) if stale => self.forget(log),
            Route::Coordinator if stale => self.forget(GROUPS_LOG),
            _ => {}
        }
    }

    /// Sends along `route` and decodes the answer; an error answer about
    /// stale routing drops the metadata behind it.
    pub(crate) async fn call_routed<T>(
        &self,
        route: Route<'_>,
        req: Vec<u8>,
        timeout: Duration,
        read: impl FnOnce(response::WhichReader<'_>) -> Result<T>,
    ) -> Result<T> {
        let bytes = self.send(route, req, None, timeout).await?;
        let res = wire::response(&bytes, read);
        if let Err(e) = &res {
            self.forget_route(route, e);
        }
        res
    }

    pub(crate) async fn call<T>(
        &self,
        req: Vec<u8>,
        read: impl FnOnce(response::WhichReader<'_>) -> Result<T>,
    ) -> Result<T> {
        self.call_within(req, self.inner.config.request_timeout, read).await
    }

    /// A request to the consumer groups' coordinator.
    pub(crate) async fn call_coordinator<T>(
        &self,
        req: Vec<u8>,
        read: impl FnOnce(response::WhichReader<'_>) -> Result<T>,
    ) -> Result<T> {
        self.call_routed(Route::Coordinator, req, self.inner.config.request_timeout, read).await
    }

    pub(crate) async fn call_within<T>(
        &self,
        req: Vec<u8>,
        timeout: Duration,
        read: impl FnOnce(response::WhichReader<'_>) -> Result<T>,
    ) -> Result<T> {
        self.call_routed(Route::Any, req, timeout, read).await
    }

    async fn call_metadata(&self, req: Vec<u8>) -> Result<LogMetadata> {
        let md = self
            .call(req, |w| {
                let r = match w {
                    response::CreateLog(r)
                    | response::DescribeLog(r)
                    | response::UpdateLogConfig(r)
                    | response::PauseLog(r)
                    | response::ResumeLog(r)
                    | response::AddPartitions(r) => r.map_err(capnp_err)?,
                    _ => return Err(unexpected()),
                };
                Ok(LogMetadata::read(r)?)
            })
            .await?;
        self.cache(&md);
        Ok(md)
    }

    pub(crate) fn cache(&self, md: &LogMetadata) {
        self.inner.metadata.lock().insert(md.name.clone(), (Arc::new(md.clone()), Instant::now()));
    }

    pub(crate) fn forget(&self, log: &str) {
        self.inner.metadata.lock().remove(log);
    }

    /// Metadata from the cache, refreshed when older than `metadata_max_age`.
    pub(crate) async fn cached_metadata(&self, log: &str) -> Result<Arc<LogMetadata>> {
        let max_age = self.inner.config.metadata_max_age;
        if let Some((md, at)) = self.inner.metadata.lock().get(log) {
            if at.elapsed() < max_age {
                return Ok(Arc::clone(md));
            }
        }
        let md = self.refresh_metadata(log).await?;
        Ok(Arc::new(md))
    }

    /// One log's metadata and the nodes' addresses, from any node.
    async fn refresh_metadata(&self, log: &str) -> Result<LogMetadata> {
        let mut d = self.metadata_of(&[log]).await?;
        let md =
            d.logs.pop().ok_or_else(|| Error::new(ErrorCode::LogNotFound, format!("log {log:?} does not exist")))?;
        self.cache(&md);
        Ok(md)
    }

    /// The nodes the metadata names.
    pub(crate) fn learn_nodes(&self, nodes: impl IntoIterator<Item = (u32, String)>) {
        self.inner.nodes.learn(nodes);
    }

    /// Drops cached metadata after an error that suggests it is stale.
    pub(crate) fn invalidate(&self, log: &str, e: &Error) {
        if matches!(
            e.code(),
            ErrorCode::LogNotFound
                | ErrorCode::PartitionNotFound
                | ErrorCode::NotLeader
                | ErrorCode::FencedEpoch
                | ErrorCode::ConnectionFailed
        ) {
            self.forget(log);
        }
    }

    /// Creates a log with default settings.
    ///
    /// # Errors
    /// `InvalidLogId`, `LogAlreadyExists`, `InvalidPartitions`, connection errors.
    pub async fn create_log(&self, name: &str, partition_count: u32) -> Result<LogMetadata> {
        self.create_log_with_config(name, LogSpec::new(partition_count)).await
    }

    /// Creates a log with explicit settings.
    ///
    /// # Errors
    /// As [`Client::create_log`], plus `InvalidConfig`.
    pub async fn create_log_with_config(&self, name: &str, spec: LogSpec) -> Result<LogMetadata> {
        validate_log_id(name)?;
        let req = wire::request(|r| {
            let mut c = r.init_create_log();
            c.set_name(name);
            c.set_partition_count(spec.partition_count);
            c.set_replication_factor(spec.replication_factor);
            spec.config.write(c.init_config());
        });
        self.call_metadata(req).await
    }

    /// Every log, sorted by name.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn list_logs(&self) -> Result<Vec<LogMetadata>> {
        let req = wire::request(|mut r| r.set_list_logs(()));
        self.call(req, |w| match w {
            response::ListLogs(l) => l.map_err(capnp_err)?.iter().map(|m| Ok(LogMetadata::read(m)?)).collect(),
            _ => Err(unexpected()),
        })
        .await
    }

    /// The metrics of the server this client asks (the first reachable of
    /// its bootstrap list) in the Prometheus text format: what the server's
    /// `/metrics` endpoint serves. `pyralog top` reads them.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn server_metrics(&self) -> Result<String> {
        let req = wire::request(|mut r| r.set_metrics(()));
        self.call(req, |w| match w {
            response::Metrics(d) => String::from_utf8(d.map_err(capnp_err)?.to_vec())
                .map_err(|_| Error::new(ErrorCode::Unknown, "malformed response from server: metrics are not UTF-8")),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Whether a log of that name exists.
    ///
    /// # Errors
    /// Connection errors (a missing log is `Ok(false)`).
    pub async fn log_exists(&self, name: &str) -> Result<bool> {
        match self.get_log_metadata(name).await {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.code(), ErrorCode::LogNotFound | ErrorCode::InvalidLogId) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A log's metadata, fresh from the server.
    ///
    /// # Errors
    /// `LogNotFound`, connection errors.
    pub async fn get_log_metadata(&self, name: &str) -> Result<LogMetadata> {
        let req = wire::request(|r| r.init_describe_log().set_name(name));
        let res = self.call_metadata(req).await;
        if let Err(e) = &res {
            self.invalidate(name, e);
        }
        res
    }

    /// Replaces a log's settings.
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidConfig`.
    pub async fn update_log_config(&self, name: &str, config: LogConfig) -> Result<LogMetadata> {
        let req = wire::request(|r| {
            let mut u = r.init_update_log_config();
            u.set_name(name);
            config.write(u.init_config());
        });
        self.call_metadata(req).await
    }

    /// Rejects writes with `LogPaused` until resumed; reads go on.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub async fn pause_log(&self, name: &str) -> Result<LogMetadata> {
        self.call_metadata(wire::request(|r| r.init_pause_log().set_name(name))).await
    }

    /// Accepts writes again.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub async fn resume_log(&self, name: &str) -> Result<LogMetadata> {
        self.call_metadata(wire::request(|r| r.init_resume_log().set_name(name))).await
    }

    /// Deletes a log: reads and writes stop at once.
    ///
    /// # Errors
    /// `LogNotFound`.
    pub async fn delete_log(&self, name: &str) -> Result<()> {
        self.forget(name);
        let req = wire::request(|r| r.init_delete_log().set_name(name));
        self.call(req, |w| match w {
            response::DeleteLog(()) => Ok(()),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Grows a log to `partition_count` partitions (existing keys may move).
    ///
    /// # Errors
    /// `LogNotFound`, `InvalidPartitions`.
    pub async fn add_partitions(&self, name: &str, partition_count: u32) -> Result<LogMetadata> {
        let req = wire::request(|r| {
            let mut a = r.init_add_partitions();
            a.set_name(name);
            a.set_partition_count(partition_count);
        });
        self.call_metadata(req).await
    }

    /// Produces one record and waits for its acknowledgement. For many
    /// records use [`Client::producer`], which batches.
    ///
    /// # Errors
    /// `LogNotFound`, `LogPaused`, `RecordTooLarge`, `PartitionNotFound`, ...
    pub async fn produce(&self, log: &str, mut record: Record) -> Result<RecordMetadata> {
        let md = self.cached_metadata(log).await?;
        let count = md.partition_count;
        let partition = crate::producer::choose_partition(&record, log, count, &Default::default(), || {
            rand::random::<u32>() % count
        })?;
        let ts = *record.timestamp.get_or_insert_with(crate::record::now_ms);
        let batch = Bytes::from(wire::encode_batch([&record], 256)?);
        let timeout = self.inner.config.request_timeout;
        let deadline = Instant::now() + timeout;
        // Without a producer id a retry may write twice; only what surely
        // wrote nothing is retried (no leader, or not this one).
        let ack = loop {
            match self.produce_batch(log, partition, &batch, timeout, Acks::All).await {
                Err(e) if wrote_nothing(&e) && Instant::now() + RETRY_BACKOFF < deadline => {
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                r => break r?,
            }
        };
        Ok(RecordMetadata {
            log: Arc::from(log),
            partition,
            offset: ack.base_offset,
            epoch: ack.epoch,
            timestamp: ack.append_time_for(&md.config).unwrap_or(ts),
        })
    }

    /// Alias of [`Client::produce`] (the seed's name).
    ///
    /// # Errors
    /// As [`Client::produce`].
    pub async fn produce_to_log(&self, log: &str, record: Record) -> Result<RecordMetadata> {
        self.produce(log, record).await
    }

    pub(crate) async fn produce_batch(
        &self,
        log: &str,
        partition: u32,
        batch: &Bytes,
        timeout: Duration,
        acks: Acks,
    ) -> Result<Ack> {
        let timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        // MAX_BATCH_BYTES keeps a batch's length within u32.
        let batch_bytes = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let req = wire::request(|r| {
            let mut p = r.init_produce();
            p.set_log(log);
            p.set_partition(partition);
            p.set_batch_bytes(batch_bytes);
            p.set_timeout_ms(timeout_ms);
            p.set_acks(acks.into());
        });
        let res = self.send(Route::Leader(log, partition), req, Some(batch.clone()), timeout).await;
        let res = res.and_then(|bytes| {
            wire::response(&bytes, |w| match w {
                response::Produce(p) => {
                    let p = p.map_err(capnp_err)?;
                    Ok(Ack {
                        base_offset: p.get_base_offset(),
                        epoch: p.get_leader_epoch(),
                        append_time_ms: p.get_append_time_ms(),
                    })
                }
                _ => Err(unexpected()),
            })
        });
        if let Err(e) = &res {
            self.invalidate(log, e);
        }
        res
    }

    /// A new producer identity, or the next epoch of `resume`.
    pub(crate) async fn init_producer(&self, resume: Option<ProducerIdentity>) -> Result<ProducerIdentity> {
        let req = wire::request(|r| {
            let mut b = r.init_init_producer();
            b.set_producer_id(resume.map_or(NO_PRODUCER_ID, |p| p.id));
            b.set_producer_epoch(resume.map_or(0, |p| p.epoch));
        });
        self.call(req, |w| match w {
            response::InitProducer(r) => {
                let r = r.map_err(capnp_err)?;
                Ok(ProducerIdentity { id: r.get_producer_id(), epoch: r.get_producer_epoch() })
            }
            _ => Err(unexpected()),
        })
        .await
    }

    /// Fetches `specs` from their leaders, one request per leader at once;
    /// a partition whose leader cannot be found or reached carries the error.
    pub(crate) async fn fetch(
        &self,
        specs: &[FetchSpec],
        max_wait: Duration,
        min_bytes: u32,
        max_bytes: u32,
    ) -> Result<Vec<Fetched>> {
        let mut by_leader: Vec<(u32, Vec<usize>)> = Vec::new();
        let mut out: Vec<Option<Fetched>> = specs.iter().map(|_| None).collect();
        for (i, s) in specs.iter().enumerate() {
            match self.leader_of(&s.log, s.partition).await {
                Ok(leader) => match by_leader.iter_mut().find(|(l, _)| *l == leader) {
                    Some((_, v)) => v.push(i),
                    None => by_leader.push((leader, vec![i])),
                },
                Err(e) => out[i] = Some(Fetched::failed(e)),
            }
        }
        let calls = by_leader.iter().map(|(_, idx)| {
            let group: Vec<FetchSpec> = idx.iter().map(|i| specs[*i].clone()).collect();
            let first = &specs[idx[0]];
            async move {
                let route = Route::Leader(&first.log, first.partition);
                self.fetch_from(route, &group, max_wait, min_bytes, max_bytes).await
            }
        });
        let results = futures_util::future::join_all(calls).await;
        for ((_, idx), result) in by_leader.iter().zip(results) {
            match result {
                Ok(fetched) => {
                    for (i, f) in idx.iter().zip(fetched) {
                        out[*i] = Some(f);
                    }
                }
                Err(e) => {
                    for i in idx {
                        out[*i] = Some(Fetched::failed(e.clone()));
                    }
                }
            }
        }
        Ok(out.into_iter().map(|f| f.unwrap_or_else(|| Fetched::failed(unexpected()))).collect())
    }

    /// The node leading a partition, from the metadata.
    pub(crate) async fn leader_of(&self, log: &str, partition: u32) -> Result<u32> {
        let md = self.cached_metadata(log).await?;
        match md.partitions.get(partition as usize) {
            Some(p) if p.leader != pyralog_protocol::model::NO_LEADER => Ok(p.leader),
            Some(p) => {
                self.forget(log);
                Err(no_leader(log, p))
            }
            None => Err(Error::new(ErrorCode::PartitionNotFound, format!("log {log} has no partition {partition}"))),
        }
    }

    async fn fetch_from(
        &self,
        route: Route<'_>,
        specs: &[FetchSpec],
        max_wait: Duration,
        min_bytes: u32,
        max_bytes: u32,
    ) -> Result<Vec<Fetched>> {
        let req = wire::request(|r| {
            let mut f = r.init_fetch();
            f.set_max_wait_ms(u32::try_from(max_wait.as_millis()).unwrap_or(u32::MAX));
            f.set_min_bytes(min_bytes);
            f.set_max_bytes(max_bytes);
            let mut list = f.init_partitions(specs.len() as u32);
            for (i, s) in specs.iter().enumerate() {
                let mut p = list.reborrow().get(i as u32);
                p.set_log(&*s.log);
                p.set_partition(s.partition);
                p.set_offset(s.offset);
                p.set_max_bytes(s.max_bytes);
            }
        });
        let timeout = self.inner.config.request_timeout + max_wait;
        let bytes = Bytes::from(self.send(route, req, None, timeout).await?);
        let fetched = read_fetch(bytes, specs.len())?;
        for (f, s) in fetched.iter().zip(specs) {
            if let Some(e) = &f.error {
                self.invalidate(&s.log, e);
            }
        }
        Ok(fetched)
    }

    /// The offset for `spec` in one partition: (offset, timestamp of that record or -1).
    pub(crate) async fn list_offset(&self, log: &str, partition: u32, spec: OffsetSpec, ts: i64) -> Result<(u64, i64)> {
        let timeout = self.inner.config.request_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let req = wire::request(|r| {
                let mut l = r.init_list_offsets();
                l.set_log(log);
                l.set_partition(partition);
                l.set_spec(spec);
                l.set_timestamp_ms(ts);
            });
            let answer = self
                .call_routed(Route::Leader(log, partition), req, timeout, |w| match w {
                    response::ListOffsets(l) => {
                        let l = l.map_err(capnp_err)?;
                        Ok((l.get_offset(), l.get_timestamp_ms()))
                    }
                    _ => Err(unexpected()),
                })
                .await;
            match answer {
                Err(e) if leadership_moving(&e, deadline) => tokio::time::sleep(LEADER_RETRY_BACKOFF).await,
                other => return other,
            }
        }
    }

    /// Earliest offset still stored in a partition.
    ///
    /// # Errors
    /// `LogNotFound`, `PartitionNotFound`.
    pub async fn earliest_offset(&self, log: &str, partition: u32) -> Result<u64> {
        Ok(self.list_offset(log, partition, OffsetSpec::Earliest, 0).await?.0)
    }

    /// The end of a partition (next offset to be written and readable).
    ///
    /// # Errors
    /// `LogNotFound`, `PartitionNotFound`.
    pub async fn latest_offset(&self, log: &str, partition: u32) -> Result<u64> {
        Ok(self.list_offset(log, partition, OffsetSpec::Latest, 0).await?.0)
    }

    /// First offset whose timestamp is >= `timestamp_ms`, or the end if none.
    ///
    /// # Errors
    /// `LogNotFound`, `PartitionNotFound`.
    pub async fn offset_for_timestamp(&self, log: &str, partition: u32, timestamp_ms: i64) -> Result<u64> {
        Ok(self.list_offset(log, partition, OffsetSpec::Timestamp, timestamp_ms).await?.0)
    }

    /// Reads up to `max` records from one partition starting at `offset`,
    /// without waiting for new ones. Records before a batch that cannot be
    /// decoded are returned; a read that starts at that batch fails.
    ///
    /// # Errors
    /// `OffsetOutOfRange` for an offset past the end or below the log start
    /// (`LogOffset::ZERO` means the log start), `LogNotFound`,
    /// `PartitionNotFound`, `CorruptData` at a batch that cannot be decoded
    /// ([`Error::corrupt_batch`] says where it ends: read on after it).
    pub async fn consume_from_partition(
        &self,
        log: &str,
        partition: u32,
        offset: LogOffset,
        max: usize,
    ) -> Result<Vec<ConsumerRecord>> {
        let start = match offset {
            LogOffset::ZERO => self.earliest_offset(log, partition).await?,
            LogOffset::MAX => return Ok(Vec::new()),
            LogOffset(o) => o,
        };
        let log: Arc<str> = Arc::from(log);
        let mut out = Vec::new();
        let mut next = start;
        let deadline = tokio::time::Instant::now() + self.inner.config.request_timeout;
        while out.len() < max {
            let spec = FetchSpec { log: Arc::clone(&log), partition, offset: next, max_bytes: 4 << 20 };
            let mut f = self.fetch(&[spec], Duration::ZERO, 0, 4 << 20).await?;
            let f = f.pop().ok_or_else(unexpected)?;
            match f.error.map(|e| wire::locate_fetch_error(e, &log, partition, next)) {
                // A batch the server refuses as corrupt (its framing on
                // disk), after records were read: those are returned; a
                // read from it reports it.
                Some(e) if e.corrupt_batch().is_some() && !out.is_empty() => break,
                Some(e) if leadership_moving(&e, deadline) => {
                    tokio::time::sleep(LEADER_RETRY_BACKOFF).await;
                    continue;
                }
                Some(e) => return Err(e),
                None => {}
            }
            let before = out.len();
            let from = next;
            let scanned = wire::scan_batches(&log, partition, &f.records, from);
            next = scanned.next;
            let decoded = wire::decode_records(&log, partition, &f.records, (from, next), |r| out.push(r));
            // Corrupt data is reported once the records before it are taken.
            match decoded.err().or(scanned.corrupt) {
                Some(e) if out.is_empty() => return Err(e),
                Some(_) => break,
                None => {}
            }
            if out.len() == before || next >= f.high_watermark {
                break;
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// Reads up to `max` records from every partition of a log, each from
    /// `offset`, ordered by partition then offset.
    ///
    /// # Errors
    /// As [`Client::consume_from_partition`].
    pub async fn consume(&self, log: &str, offset: LogOffset, max: usize) -> Result<Vec<ConsumerRecord>> {
        let md = self.get_log_metadata(log).await?;
        let mut out = Vec::new();
        for p in 0..md.partition_count {
            if out.len() >= max {
                break;
            }
            let got = self.consume_from_partition(log, p, offset, max - out.len()).await?;
            out.extend(got);
        }
        Ok(out)
    }

    /// A batching producer, idempotent unless configured otherwise.
    ///
    /// # Errors
    /// `InvalidArgument` for settings out of range (`max_in_flight`).
    pub fn producer(&self, config: ProducerConfig) -> Result<Producer> {
        Producer::new(self.clone(), config, None)
    }

    /// A producer like [`Client::producer`] whose [`Producer::send_reported`]
    /// hands outcomes to `sink` in bulk instead of a future per record: the
    /// delivery path of bindings that report to another runtime.
    ///
    /// # Errors
    /// As [`Client::producer`].
    pub fn producer_with_sink(&self, config: ProducerConfig, sink: Arc<dyn DeliverySink>) -> Result<Producer> {
        Producer::new(self.clone(), config, Some(sink))
    }

    /// What this client's connections have seen: packets, losses, MTU.
    pub fn network_stats(&self) -> NetworkStats {
        self.inner.nodes.network_stats()
    }

    /// A consumer (assign partitions, then poll).
    pub fn consumer(&self, config: ConsumerConfig) -> Consumer {
        Consumer::new(self.clone(), config)
    }

    /// Closes every connection. Idempotent; later calls fail with `Closed`.
    pub async fn close(&self) {
        self.inner.nodes.close().await;
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.nodes.is_closed()
    }
}

/// Whether a failed produce surely wrote nothing (so sending it again
/// cannot write it twice).
fn wrote_nothing(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::NotLeader
            | ErrorCode::FencedEpoch
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::Busy
            | ErrorCode::NodeStarting
    )
}

/// A produce acknowledgement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ack {
    pub base_offset: u64,
    pub epoch: u64,
    pub append_time_ms: i64,
}

impl Ack {
    /// The timestamp a record reads back with: the producer's (`None`), or
    /// the server's append time on an append-time log.
    pub(crate) fn append_time_for(&self, config: &LogConfig) -> Option<i64> {
        match config.timestamp_type {
            pyralog_protocol::model::TimestampType::CreateTime => None,
            pyralog_protocol::model::TimestampType::LogAppendTime => Some(self.append_time_ms),
        }
    }
}

/// Reads a fetch response of `partitions` partitions, each one's batches
/// taken from the payload (or the inline `records`) without copying.
fn read_fetch(bytes: Bytes, partitions: usize) -> Result<Vec<Fetched>> {
    wire::response_shared(bytes, |w, share, mut payload| match w {
        response::Fetch(f) => {
            let parts = f.map_err(capnp_err)?.get_partitions().map_err(capnp_err)?;
            if parts.len() as usize != partitions {
                return Err(Error::new(ErrorCode::Unknown, "fetch response does not match the request's partitions"));
            }
            let mut out = Vec::with_capacity(parts.len() as usize);
            for p in parts.iter() {
                let code = p.get_error_code();
                let error = (code != 0).then(|| {
                    let msg = p.get_error_message().ok().and_then(|m| m.to_str().ok()).unwrap_or("");
                    Error::new(ErrorCode::from_u16(code), msg)
                });
                let in_payload = p.get_records_bytes() as usize;
                let records = if in_payload == 0 {
                    share(p.get_records().map_err(capnp_err)?)
                } else if in_payload <= payload.len() {
                    payload.split_to(in_payload)
                } else {
                    return Err(wire::bad_payload(format!(
                        "a partition declares {in_payload} payload bytes, {} remain",
                        payload.len()
                    )));
                };
                out.push(Fetched { error, high_watermark: p.get_high_watermark(), records });
            }
            if !payload.is_empty() {
                return Err(wire::bad_payload(format!("{} payload bytes no partition declares", payload.len())));
            }
            Ok(out)
        }
        _ => Err(unexpected()),
    })
}

/// Waits between asks of a partition whose leadership is moving.
const LEADER_RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// Whether `e` says the partition's leadership is moving (a node that has
/// not taken it up yet, or has just handed it over) and there is time to
/// ask again before `deadline` (the metadata was forgotten: the next ask
/// goes where it now says).
fn leadership_moving(e: &Error, deadline: tokio::time::Instant) -> bool {
    e.code() == ErrorCode::NotLeader && tokio::time::Instant::now() + LEADER_RETRY_BACKOFF < deadline
}

/// Why a partition has no leader: a moment's election (`NotLeader`, retried)
/// or replicas their nodes could not open (`StorageError`, an operator's matter).
fn no_leader(log: &str, p: &pyralog_protocol::model::PartitionMetadata) -> Error {
    match p.is_offline() {
        true => Error::new(
            ErrorCode::StorageError,
            format!(
                "{log}/{} is offline: nodes {:?} could not open its replicas (see pyralog logs describe {log})",
                p.partition, p.offline_replicas
            ),
        ),
        false => Error::new(ErrorCode::NotLeader, format!("{log}/{} has no leader now", p.partition)),
    }
}

#[cfg(test)]
mod fetch_tests {
    use super::*;
    use capnp::message::Builder;
    use pyralog_protocol::frame;

    /// A fetch response declaring `declared` payload bytes per partition,
    /// followed by `payload`.
    fn response_bytes(declared: &[u32], payload: &[u8]) -> Bytes {
        let mut m = Builder::new_default();
        let mut list = m.init_root::<response::Builder>().init_fetch().init_partitions(declared.len() as u32);
        for (i, n) in declared.iter().enumerate() {
            let mut p = list.reborrow().get(i as u32);
            p.set_partition(i as u32);
            p.set_records_bytes(*n);
        }
        let mut bytes = frame::encode(&m);
        bytes.extend_from_slice(payload);
        Bytes::from(bytes)
    }

    #[test]
    fn each_partition_takes_its_declared_share_of_the_payload() {
        let fetched = read_fetch(response_bytes(&[3, 0, 2], b"abcde"), 3).unwrap();
        let records: Vec<&[u8]> = fetched.iter().map(|f| &f.records[..]).collect();
        assert_eq!(records, [&b"abc"[..], b"", b"de"]);
    }

    #[test]
    fn a_payload_that_disagrees_with_the_message_is_a_malformed_response() {
        for (declared, payload) in [(&[3u32, 3][..], &b"abcde"[..]), (&[2, 2][..], b"abcde"), (&[0][..], b"x")] {
            let e = read_fetch(response_bytes(declared, payload), declared.len()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Unknown, "{declared:?}");
            assert!(e.message().contains("malformed response"), "{e}");
        }
    }
}
