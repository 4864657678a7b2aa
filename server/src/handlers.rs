//! Request dispatch: decode a request into owned data (Cap'n Proto readers
//! are not `Send`, so nothing borrowed from the message lives across an
//! await), execute it, encode the response. Every failure becomes an `Error`
//! response; nothing here panics on input.

use std::sync::Arc;
use std::time::{Duration, Instant};

use capnp::message::{Builder, HeapAllocator};
use futures_util::future::select_all;
use pyralog_protocol::acl::Acl;
use pyralog_protocol::batch::{BatchView, FLAG_LOG_APPEND_TIME};
use pyralog_protocol::compression::CODEC_MASK;
use pyralog_protocol::frame::{self, malformed, text};
use pyralog_protocol::limits::{
    MAX_BATCH_BYTES, MAX_FETCH_BYTES, MAX_FETCH_PARTITIONS, MAX_FETCH_WAIT_MS, MAX_PRODUCE_TIMEOUT_MS,
    MAX_REQUEST_BYTES,
};
use pyralog_protocol::model::{LogConfig, LogMetadata, LogState, LogStats, TimestampType};
use pyralog_protocol::pyralog_capnp::{request, response, OffsetSpec};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::auth::{Access, Session};
use crate::broker::Broker;
use crate::group_handlers::{self, GroupReq, GroupResp};
use crate::partition::{Acks, Appended, Partition};
use crate::producer_ids::{ProducerIdentity, ProducerIds};
use crate::storage::producers::BatchProducer;
use crate::storage::ReadSlice;

type Result<T> = std::result::Result<T, ProtocolError>;

/// Produce durability wait when the request gives none.
const DEFAULT_PRODUCE_TIMEOUT_MS: u32 = 30_000;

fn err(code: ErrorCode, msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(code, msg)
}

/// A decoded request, owning its data.
enum Req {
    Metadata(Vec<String>),
    CreateLog {
        name: String,
        partitions: u32,
        replication: u32,
        config: LogConfig,
    },
    ListLogs,
    DescribeLog(String),
    UpdateConfig {
        name: String,
        config: LogConfig,
    },
    Pause(String),
    Resume(String),
    Delete(String),
    AddPartitions {
        name: String,
        count: u32,
    },
    Stats(String),
    /// The batch is `request[batch_start..]`: the request's payload, or a
    /// copy of the inline `batch` field (then `batch_start` is 0).
    Produce {
        log: String,
        partition: u32,
        request: Vec<u8>,
        batch_start: usize,
        timeout_ms: u32,
        acks: Acks,
    },
    Fetch(FetchReq),
    ListOffsets {
        log: String,
        partition: u32,
        spec: OffsetSpec,
        timestamp_ms: i64,
    },
    InitProducer(ProducerIdentity),
    /// The server's metrics in the Prometheus text format.
    Metrics,
    Group(GroupReq),
    Authenticate(String),
    AclAdd(Acl),
    AclRemove(Acl),
    AclList,
}

impl Req {
    /// The request's kind, as metrics label it.
    fn kind(&self) -> &'static str {
        match self {
            Req::Metadata(_) => "metadata",
            Req::CreateLog { .. } => "create_log",
            Req::ListLogs => "list_logs",
            Req::DescribeLog(_) => "describe_log",
            Req::UpdateConfig { .. } => "update_log_config",
            Req::Pause(_) => "pause_log",
            Req::Resume(_) => "resume_log",
            Req::Delete(_) => "delete_log",
            Req::AddPartitions { .. } => "add_partitions",
            Req::Stats(_) => "log_stats",
            Req::Produce { .. } => "produce",
            Req::Fetch(_) => "fetch",
            Req::ListOffsets { .. } => "list_offsets",
            Req::InitProducer(_) => "init_producer",
            Req::Metrics => "metrics",
            Req::Group(g) => g.kind(),
            Req::Authenticate(_) => "authenticate",
            Req::AclAdd(_) => "acl_add",
            Req::AclRemove(_) => "acl_remove",
            Req::AclList => "acl_list",
        }
    }
}

struct FetchReq {
    targets: Vec<(String, u32, u64, u32)>,
    max_wait_ms: u32,
    min_bytes: u32,
    max_bytes: u32,
}

/// A response before encoding.
enum Resp {
    Metadata(Vec<LogMetadata>),
    CreateLog(LogMetadata),
    ListLogs(Vec<LogMetadata>),
    DescribeLog(LogMetadata),
    UpdateConfig(LogMetadata),
    Pause(LogMetadata),
    Resume(LogMetadata),
    Deleted,
    AddPartitions(LogMetadata),
    Stats(LogStats),
    Produce(Appended),
    Fetch(Vec<Fetched>),
    ListOffsets { offset: u64, epoch: u64, timestamp_ms: i64 },
    InitProducer(ProducerIdentity),
    Metrics(String),
    Group(GroupResp),
    Authenticated(String),
    AclAdded,
    AclRemoved(bool),
    AclList(Vec<Acl>),
}

struct Fetched {
    log: String,
    partition: u32,
    error: Option<ProtocolError>,
    hw: u64,
    start: u64,
    records: Option<ReadSlice>,
}

/// Encodes an error response.
pub fn error_response(e: &ProtocolError) -> Vec<u8> {
    let mut m = Builder::new_default();
    let mut eb = m.init_root::<response::Builder>().init_error();
    eb.set_code(e.code.as_u16());
    eb.set_message(e.message.as_str());
    eb.set_retry_after_ms(e.retry_after_ms);
    frame::encode(&m)
}

/// A response: the message, then its payload (a fetch's record batches,
/// straight from the segments) in order.
pub struct Response {
    pub message: Vec<u8>,
    pub payload: Vec<bytes::Bytes>,
}

/// Handles one request's bytes and returns the response; `None` when fault
/// injection drops this response.
pub async fn handle(broker: &Arc<Broker>, session: &Session, bytes: Vec<u8>) -> Option<Response> {
    let began = Instant::now();
    let (kind, result) = match decode(bytes) {
        Ok(req) => (req.kind(), admit_and_execute(broker, session, req).await),
        Err(e) => ("undecodable", Err(e)),
    };
    broker.metrics.request(kind, began.elapsed(), result.as_ref().err().map(|e| e.code));
    if matches!(result, Ok(Resp::Produce(_))) && broker.drop_this_produce_response() {
        return None;
    }
    Some(match result {
        Ok(resp) => {
            let (message, payload) = encode(broker, resp);
            Response { message: frame::encode(&message), payload }
        }
        Err(e) => {
            if matches!(e.code, ErrorCode::StorageError | ErrorCode::CorruptData | ErrorCode::Unknown) {
                tracing::error!(error = %e, "request failed");
            }
            Response { message: error_response(&e), payload: Vec::new() }
        }
    })
}

/// Decodes a request as the service does and names its kind (the request
/// decoder's fuzz target drives this).
///
/// # Errors
/// The typed error the service would answer.
pub fn decode_request_kind(bytes: Vec<u8>) -> Result<&'static str> {
    decode(bytes).map(|r| r.kind())
}

/// Authentication first, then quotas, then authorization, then the request.
async fn admit_and_execute(broker: &Arc<Broker>, session: &Session, req: Req) -> Result<Resp> {
    if let Req::Authenticate(token) = req {
        return Ok(Resp::Authenticated(session.authenticate(token).await?));
    }
    let access = Access::new(session.admit()?, &broker.state());
    authorize(&access, &req)?;
    execute(broker, &access, req).await
}

/// Refuses a request touching a resource the principal may not use that
/// way. Requests over several resources (metadata of every log, log and
/// group lists, fetches) are filtered or answered per resource instead.
fn authorize(access: &Access, req: &Req) -> Result<()> {
    use pyralog_protocol::acl::{Operation::*, Resource};
    let log = |op, name: &str| access.check(op, Resource::Log(name));
    match req {
        Req::Metadata(names) => names.iter().try_for_each(|n| log(Describe, n)),
        Req::CreateLog { name, .. } => match access.allows(Create, Resource::Cluster) {
            true => Ok(()),
            false => log(Create, name),
        },
        Req::DescribeLog(name) | Req::Stats(name) | Req::ListOffsets { log: name, .. } => log(Describe, name),
        Req::UpdateConfig { name, .. } | Req::Pause(name) | Req::Resume(name) | Req::AddPartitions { name, .. } => {
            log(Alter, name)
        }
        Req::Delete(name) => log(Delete, name),
        Req::Produce { log: name, .. } => log(Write, name),
        Req::Metrics | Req::AclList => access.check(Describe, Resource::Cluster),
        Req::AclAdd(_) | Req::AclRemove(_) => access.check(Alter, Resource::Cluster),
        Req::Group(g) => g.authorize(access),
        // A new producer id is free; resuming another principal's (and so
        // fencing its holder) takes `write` on the cluster, like Kafka's
        // IdempotentWrite (`producer_ids.rs` checks, knowing the owner).
        Req::ListLogs | Req::Fetch(_) | Req::InitProducer(_) | Req::Authenticate(_) => Ok(()),
    }
}

fn name_of(r: capnp::Result<pyralog_protocol::pyralog_capnp::log_name::Reader<'_>>) -> Result<String> {
    Ok(text(r.map_err(malformed)?.get_name(), "name")?.to_owned())
}

/// Decodes a request; only a produce request may carry a payload (its batch).
fn decode(bytes: Vec<u8>) -> Result<Req> {
    let (message, payload) = frame::split_payload(&bytes)?;
    let (message_len, payload_len) = (message.len(), payload.len());
    let msg = frame::decode(message, MAX_REQUEST_BYTES)?;
    let req = msg.get_root::<request::Reader>().map_err(malformed)?;
    let which = req.which().map_err(|e| err(ErrorCode::InvalidRequest, format!("unknown request type {}", e.0)))?;
    let request::Produce(r) = which else {
        if payload_len > 0 {
            return Err(err(ErrorCode::InvalidRequest, format!("{payload_len} bytes after the end of the message")));
        }
        return decode_other(which);
    };
    let r = r.map_err(malformed)?;
    let (log, partition, timeout_ms) = (text(r.get_log(), "log")?.to_owned(), r.get_partition(), r.get_timeout_ms());
    let acks = match r.get_acks().map_err(|e| err(ErrorCode::InvalidRequest, format!("unknown acks {}", e.0)))? {
        pyralog_protocol::pyralog_capnp::Acks::All => Acks::All,
        pyralog_protocol::pyralog_capnp::Acks::Leader => Acks::Leader,
        pyralog_protocol::pyralog_capnp::Acks::None => Acks::None,
    };
    let inline = r.get_batch().map_err(malformed)?;
    let (declared, batch_len) = (r.get_batch_bytes() as usize, inline.len().max(payload_len));
    if batch_len > MAX_BATCH_BYTES {
        return Err(err(
            ErrorCode::BatchTooLarge,
            format!("batch of {batch_len} bytes; MAX_BATCH_BYTES is {MAX_BATCH_BYTES}"),
        ));
    }
    if declared != payload_len || (payload_len > 0 && !inline.is_empty()) {
        return Err(err(
            ErrorCode::InvalidRequest,
            format!(
                "produce request declares a {declared}-byte batch payload and carries {payload_len} bytes after \
                 the message ({} inline); send the batch in one of the two",
                inline.len()
            ),
        ));
    }
    let (request, batch_start) = if payload_len > 0 { (None, message_len) } else { (Some(inline.to_vec()), 0) };
    drop(msg);
    Ok(Req::Produce { log, partition, request: request.unwrap_or(bytes), batch_start, timeout_ms, acks })
}

fn decode_other(which: request::WhichReader<'_>) -> Result<Req> {
    Ok(match which {
        request::Metadata(r) => {
            let names = r.map_err(malformed)?.get_logs().map_err(malformed)?;
            frame::bounded_len(
                names.len(),
                pyralog_protocol::limits::MAX_LOGS,
                "MAX_LOGS",
                "a metadata request's logs",
            )?;
            Req::Metadata(names.iter().map(|n| text(n, "logs").map(str::to_owned)).collect::<Result<_>>()?)
        }
        request::CreateLog(r) => {
            let r = r.map_err(malformed)?;
            Req::CreateLog {
                name: text(r.get_name(), "name")?.to_owned(),
                partitions: r.get_partition_count(),
                replication: r.get_replication_factor(),
                config: LogConfig::read(r.get_config().map_err(malformed)?)?,
            }
        }
        request::ListLogs(()) => Req::ListLogs,
        request::DescribeLog(r) => Req::DescribeLog(name_of(r)?),
        request::UpdateLogConfig(r) => {
            let r = r.map_err(malformed)?;
            Req::UpdateConfig {
                name: text(r.get_name(), "name")?.to_owned(),
                config: LogConfig::read(r.get_config().map_err(malformed)?)?,
            }
        }
        request::PauseLog(r) => Req::Pause(name_of(r)?),
        request::ResumeLog(r) => Req::Resume(name_of(r)?),
        request::DeleteLog(r) => Req::Delete(name_of(r)?),
        request::AddPartitions(r) => {
            let r = r.map_err(malformed)?;
            Req::AddPartitions { name: text(r.get_name(), "name")?.to_owned(), count: r.get_partition_count() }
        }
        request::LogStats(r) => Req::Stats(name_of(r)?),
        request::Produce(_) => return Err(err(ErrorCode::Unknown, "a produce request reached decode_other")),
        request::Fetch(r) => {
            let r = r.map_err(malformed)?;
            let list = r.get_partitions().map_err(malformed)?;
            if list.len() as usize > MAX_FETCH_PARTITIONS {
                return Err(err(
                    ErrorCode::InvalidRequest,
                    format!("fetch names {} partitions; MAX_FETCH_PARTITIONS is {MAX_FETCH_PARTITIONS}", list.len()),
                ));
            }
            let mut targets = Vec::with_capacity(list.len() as usize);
            for p in list.iter() {
                targets.push((
                    text(p.get_log(), "log")?.to_owned(),
                    p.get_partition(),
                    p.get_offset(),
                    p.get_max_bytes(),
                ));
            }
            Req::Fetch(FetchReq {
                targets,
                max_wait_ms: r.get_max_wait_ms(),
                min_bytes: r.get_min_bytes(),
                max_bytes: r.get_max_bytes(),
            })
        }
        request::ListOffsets(r) => {
            let r = r.map_err(malformed)?;
            Req::ListOffsets {
                log: text(r.get_log(), "log")?.to_owned(),
                partition: r.get_partition(),
                spec: r
                    .get_spec()
                    .map_err(|e| err(ErrorCode::InvalidRequest, format!("unknown offset spec {}", e.0)))?,
                timestamp_ms: r.get_timestamp_ms(),
            }
        }
        request::InitProducer(r) => {
            let r = r.map_err(malformed)?;
            Req::InitProducer(ProducerIdentity { id: r.get_producer_id(), epoch: r.get_producer_epoch() })
        }
        request::Metrics(()) => Req::Metrics,
        request::Authenticate(r) => Req::Authenticate(text(r.map_err(malformed)?.get_token(), "token")?.to_owned()),
        request::AclAdd(r) => Req::AclAdd(Acl::read(r.map_err(malformed)?)?),
        request::AclRemove(r) => Req::AclRemove(Acl::read(r.map_err(malformed)?)?),
        request::AclList(()) => Req::AclList,
        other => match group_handlers::decode(other)? {
            Some(g) => Req::Group(g),
            None => return Err(err(ErrorCode::InvalidRequest, "request type not served")),
        },
    })
}

async fn execute(broker: &Arc<Broker>, access: &Access, req: Req) -> Result<Resp> {
    let describable = |md: &LogMetadata| {
        access.allows(pyralog_protocol::acl::Operation::Describe, pyralog_protocol::acl::Resource::Log(&md.name))
    };
    Ok(match req {
        Req::Metadata(names) if names.is_empty() => {
            Resp::Metadata(broker.list().into_iter().filter(describable).collect())
        }
        Req::Metadata(names) => {
            let mut v = Vec::with_capacity(names.len());
            for n in names {
                v.push(broker.metadata(&broker.stored(&n)?));
            }
            Resp::Metadata(v)
        }
        Req::CreateLog { name, partitions, replication, config } => {
            Resp::CreateLog(broker.create_log(&name, partitions, replication, config, false).await?)
        }
        Req::ListLogs => Resp::ListLogs(broker.list().into_iter().filter(describable).collect()),
        Req::DescribeLog(name) => Resp::DescribeLog(broker.metadata(&broker.stored(&name)?)),
        Req::UpdateConfig { name, config } => Resp::UpdateConfig(broker.update_config(&name, config).await?),
        Req::Pause(name) => Resp::Pause(broker.set_state(&name, LogState::Paused).await?),
        Req::Resume(name) => Resp::Resume(broker.set_state(&name, LogState::Active).await?),
        Req::Delete(name) => {
            broker.delete_log(&name).await?;
            Resp::Deleted
        }
        Req::AddPartitions { name, count } => Resp::AddPartitions(broker.add_partitions(&name, count).await?),
        Req::Stats(name) => Resp::Stats(broker.stats(&name)?),
        Req::Produce { log, partition, request, batch_start, timeout_ms, acks } => {
            let mut request = validated(request, batch_start).await?;
            let batch = &mut request[batch_start..];
            Resp::Produce(produce(broker, access.principal(), &log, partition, batch, timeout_ms, acks).await?)
        }
        Req::Fetch(f) => {
            let fetched = fetch(broker, access, &f).await;
            for (r, (_, _, from, _)) in fetched.iter().zip(&f.targets) {
                if let Some(records) = &r.records {
                    broker.metrics.fetched(&r.log, *from, records.bytes());
                }
            }
            Resp::Fetch(fetched)
        }
        Req::Metrics => {
            // Reads every partition's state: off the runtime's workers.
            let metrics = Arc::clone(&broker.metrics);
            let text = tokio::task::spawn_blocking(move || metrics.encode()).await;
            Resp::Metrics(text.map_err(|e| err(ErrorCode::Unknown, format!("encoding the metrics failed: {e}")))?)
        }
        Req::ListOffsets { log, partition, spec, timestamp_ms } => {
            let p = broker.partition(&log, partition)?;
            p.check_leader()?;
            let (offset, ts) = match spec {
                OffsetSpec::Earliest => (p.log_start_offset(), -1),
                OffsetSpec::Latest => (p.high_watermark(), -1),
                OffsetSpec::Timestamp => p.offset_for_timestamp(timestamp_ms)?.unwrap_or((p.high_watermark(), -1)),
            };
            Resp::ListOffsets { offset, epoch: p.leader_epoch(), timestamp_ms: ts }
        }
        Req::InitProducer(resume) => Resp::InitProducer(broker.init_producer(access, Some(resume)).await?),
        Req::Group(g) => Resp::Group(group_handlers::execute(broker, access, g).await?),
        Req::Authenticate(_) => return Err(err(ErrorCode::Unknown, "authenticate reached execute")),
        Req::AclAdd(acl) => {
            broker.cluster.propose(crate::cluster::state::Command::AddAcl { acl }).await?;
            Resp::AclAdded
        }
        Req::AclRemove(acl) => {
            let out = broker.cluster.propose(crate::cluster::state::Command::RemoveAcl { acl }).await?;
            Resp::AclRemoved(out.acl_existed.unwrap_or(false))
        }
        Req::AclList => Resp::AclList(broker.state().acls.iter().cloned().collect()),
    })
}

async fn produce(
    broker: &Broker,
    principal: &crate::auth::Principal,
    log: &str,
    partition: u32,
    batch: &mut [u8],
    timeout_ms: u32,
    acks: Acks,
) -> Result<Appended> {
    if pyralog_protocol::log_id::is_internal(log) {
        return Err(err(ErrorCode::ReservedLogName, format!("internal log {log:?} is written by the server only")));
    }
    let h = broker.log(log).map_err(|e| broker.partition(log, partition).err().unwrap_or(e))?;
    let (state, timestamp_type) = {
        let s = h.stored.read();
        (s.state, s.config.timestamp_type)
    };
    match state {
        LogState::Active => {}
        LogState::Paused => return Err(err(ErrorCode::LogPaused, format!("log {log} is paused; resume it to write"))),
        LogState::Deleting => return Err(err(ErrorCode::LogNotFound, format!("log {log} is being deleted"))),
    }
    let p = h.partition(partition)?;
    let view = BatchView::new(batch)?;
    let producer = BatchProducer::of(&view);
    ProducerIds::check(&broker.cluster, principal, &producer).await?;
    let flags = match timestamp_type {
        TimestampType::CreateTime => 0,
        TimestampType::LogAppendTime => FLAG_LOG_APPEND_TIME,
    };
    let timeout_ms = match timeout_ms {
        0 => DEFAULT_PRODUCE_TIMEOUT_MS,
        t => t.min(MAX_PRODUCE_TIMEOUT_MS),
    };
    let (records, bytes) = (view.record_count(), batch.len());
    let appended = p.append(batch, producer, flags, Duration::from_millis(u64::from(timeout_ms)), acks).await?;
    if !appended.duplicate {
        broker.metrics.produced(log, records, bytes);
    }
    Ok(appended)
}

/// Checks the batch at `request[batch_start..]` in full (`BatchView::validate`)
/// before anything else looks at it. A compressed batch is decompressed to
/// check its records: on the blocking pool, not on the runtime's workers.
///
/// # Errors
/// `InvalidBatch`, `CorruptBatch`, `RecordTooLarge`: nothing is written.
async fn validated(request: Vec<u8>, batch_start: usize) -> Result<Vec<u8>> {
    let compressed = BatchView::new(&request[batch_start..])?.attributes() & CODEC_MASK != 0;
    let check = move || BatchView::new(&request[batch_start..])?.validate().map(|_| request);
    if !compressed {
        return check();
    }
    tokio::task::spawn_blocking(check)
        .await
        .map_err(|e| err(ErrorCode::Unknown, format!("validating the batch failed: {e}")))?
}

async fn fetch(broker: &Broker, access: &Access, f: &FetchReq) -> Vec<Fetched> {
    let read =
        |log: &str| access.check(pyralog_protocol::acl::Operation::Read, pyralog_protocol::acl::Resource::Log(log));
    let parts: Vec<Result<Arc<Partition>>> =
        f.targets.iter().map(|(log, p, _, _)| read(log).and_then(|()| broker.partition(log, *p))).collect();
    let total_max = f.max_bytes.clamp(1, MAX_FETCH_BYTES) as usize;
    let deadline = Instant::now() + Duration::from_millis(u64::from(f.max_wait_ms.min(MAX_FETCH_WAIT_MS)));
    loop {
        // Subscribe before reading so an append between the read and the wait wakes us.
        let mut watchers: Vec<_> =
            parts.iter().filter_map(|p| p.as_ref().ok().map(|p| p.watch_high_watermark())).collect();
        let (results, total, any_error) = read_all(f, &parts, total_max);
        if total >= f.min_bytes as usize || any_error || watchers.is_empty() || Instant::now() >= deadline {
            return results;
        }
        let changed = select_all(watchers.iter_mut().map(|w| Box::pin(w.changed())));
        if tokio::time::timeout_at(deadline.into(), changed).await.is_err() {
            return read_all(f, &parts, total_max).0;
        }
    }
}

fn read_all(f: &FetchReq, parts: &[Result<Arc<Partition>>], total_max: usize) -> (Vec<Fetched>, usize, bool) {
    let mut total = 0usize;
    let mut any_error = false;
    let results = f
        .targets
        .iter()
        .zip(parts)
        .map(|((log, partition, offset, max_bytes), part)| {
            let mut out =
                Fetched { log: log.clone(), partition: *partition, error: None, hw: 0, start: 0, records: None };
            let p = match part {
                Ok(p) => p,
                Err(e) => {
                    any_error = true;
                    out.error = Some(e.clone());
                    return out;
                }
            };
            out.hw = p.high_watermark();
            out.start = p.log_start_offset();
            let max_bytes = (*max_bytes).clamp(1, MAX_FETCH_BYTES) as usize;
            // The first data always gets at least one whole batch; the rest stay within the total.
            let budget = if total == 0 { max_bytes } else { max_bytes.min(total_max.saturating_sub(total)) };
            if budget == 0 {
                return out;
            }
            match p.read(*offset, budget) {
                Ok(slice) => {
                    total += slice.bytes().len();
                    out.records = Some(slice);
                }
                Err(e) => {
                    any_error = true;
                    out.error = Some(e);
                }
            }
            out
        })
        .collect();
    (results, total, any_error)
}

/// Encodes a response message and its payload.
fn encode(broker: &Broker, resp: Resp) -> (Builder<HeapAllocator>, Vec<bytes::Bytes>) {
    let mut m = Builder::new_default();
    let mut payload = Vec::new();
    let mut root = m.init_root::<response::Builder>();
    let write_list = |logs: &[LogMetadata], mut l: capnp::struct_list::Builder<'_, _>| {
        for (i, md) in logs.iter().enumerate() {
            md.write(l.reborrow().get(i as u32));
        }
    };
    match resp {
        Resp::Metadata(logs) => {
            let mut mb = root.init_metadata();
            let state = broker.state();
            let mut nodes = mb.reborrow().init_brokers(state.nodes.len() as u32);
            for (i, (id, n)) in state.nodes.iter().enumerate() {
                let mut b = nodes.reborrow().get(i as u32);
                b.set_node_id(*id);
                b.set_address(n.addr.as_str());
                b.set_fenced(n.fenced);
            }
            mb.set_controller_id(broker.cluster.controller().unwrap_or(pyralog_protocol::model::NO_LEADER));
            mb.set_cluster_id(broker.cluster.cluster_id());
            write_list(&logs, mb.init_logs(logs.len() as u32));
        }
        Resp::ListLogs(logs) => write_list(&logs, root.init_list_logs(logs.len() as u32)),
        Resp::CreateLog(md) => md.write(root.init_create_log()),
        Resp::DescribeLog(md) => md.write(root.init_describe_log()),
        Resp::UpdateConfig(md) => md.write(root.init_update_log_config()),
        Resp::Pause(md) => md.write(root.init_pause_log()),
        Resp::Resume(md) => md.write(root.init_resume_log()),
        Resp::AddPartitions(md) => md.write(root.init_add_partitions()),
        Resp::Deleted => {
            let mut root = root;
            root.set_delete_log(());
        }
        Resp::Stats(s) => s.write(root.init_log_stats()),
        Resp::Produce(a) => {
            let mut pb = root.init_produce();
            pb.set_base_offset(a.base_offset);
            pb.set_leader_epoch(a.epoch);
            pb.set_append_time_ms(a.append_time_ms);
            pb.set_log_start_offset(a.log_start_offset);
            pb.set_duplicate(a.duplicate);
        }
        Resp::Fetch(results) => {
            let mut list = root.init_fetch().init_partitions(results.len() as u32);
            for (i, r) in results.into_iter().enumerate() {
                let mut b = list.reborrow().get(i as u32);
                b.set_log(r.log.as_str());
                b.set_partition(r.partition);
                b.set_high_watermark(r.hw);
                b.set_log_start_offset(r.start);
                if let Some(e) = &r.error {
                    b.set_error_code(e.code.as_u16());
                    b.set_error_message(e.message.as_str());
                }
                if let Some(slice) = r.records {
                    // The payload's bounds: every fetch stays within MAX_FETCH_BYTES (u32).
                    b.set_records_bytes(slice.bytes().len() as u32);
                    // Straight from the segment's mapping: nothing is copied
                    // until QUIC packs it.
                    payload.push(bytes::Bytes::from_owner(slice));
                }
            }
        }
        Resp::ListOffsets { offset, epoch, timestamp_ms } => {
            let mut b = root.init_list_offsets();
            b.set_offset(offset);
            b.set_leader_epoch(epoch);
            b.set_timestamp_ms(timestamp_ms);
        }
        Resp::Group(g) => group_handlers::encode(g, root),
        Resp::InitProducer(id) => {
            let mut b = root.init_init_producer();
            b.set_producer_id(id.id);
            b.set_producer_epoch(id.epoch);
        }
        Resp::Metrics(text) => root.set_metrics(text.as_bytes()),
        Resp::Authenticated(principal) => root.init_authenticate().set_principal(principal.as_str()),
        Resp::AclAdded => root.set_acl_add(()),
        Resp::AclRemoved(existed) => root.set_acl_remove(existed),
        Resp::AclList(acls) => {
            let mut list = root.init_acl_list(acls.len() as u32);
            for (i, a) in acls.iter().enumerate() {
                a.write(list.reborrow().get(i as u32));
            }
        }
    }
    (m, payload)
}
