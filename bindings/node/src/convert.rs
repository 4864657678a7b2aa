//! Argument conversion between JavaScript values and the core client's
//! types. Settings come as plain objects whose unknown keys are rejected;
//! durations are milliseconds (`...Ms`); offsets are numbers or bigints.
//!
//! Records cross in bulk: a poll's records travel as one `Buffer` of bytes
//! plus one `Float64Array` of fields, and acknowledgements as one
//! `Float64Array`, which `lib/convert.cjs` turns into plain objects (object
//! literals are much cheaper to make in JavaScript than through Node-API).

use std::ffi::CStr;
use std::ptr;
use std::time::Duration;

use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Float64Array, Unknown};
use napi::{sys, JsValue, ValueType};
use napi_derive::napi;
use pyralog::{
    CleanupPolicy, ClientConfig, ConsumerConfig, ConsumerRecord, FlushPolicy, LogConfig, LogPartition, OffsetReset,
    PartitioningMode, ProducerConfig, ProducerIdentity, Record, RecordMetadata, TimestampType,
};

use crate::errors::invalid;

type R<T> = pyralog::Result<T>;

/// A JavaScript value being read.
#[derive(Clone, Copy)]
pub struct Js {
    env: sys::napi_env,
    v: sys::napi_value,
}

impl Js {
    pub fn of(u: &Unknown<'_>) -> Js {
        let v = u.value();
        Js { env: v.env, v: v.value }
    }

    fn type_of(self) -> ValueType {
        let mut t = 0;
        unsafe { sys::napi_typeof(self.env, self.v, &mut t) };
        ValueType::from(t)
    }

    pub fn is_number(self) -> bool {
        self.type_of() == ValueType::Number
    }

    /// `undefined` or `null`.
    pub fn is_nullish(self) -> bool {
        matches!(self.type_of(), ValueType::Undefined | ValueType::Null)
    }

    /// A property, or `None` when it is `undefined` or `null`.
    fn get(self, name: &CStr) -> Option<Js> {
        let mut out = ptr::null_mut();
        let status = unsafe { sys::napi_get_named_property(self.env, self.v, name.as_ptr(), &mut out) };
        let js = Js { env: self.env, v: out };
        (status == sys::Status::napi_ok && !js.is_nullish()).then_some(js)
    }

    fn prop(self, name: &str) -> Option<Js> {
        let name = std::ffi::CString::new(name).ok()?;
        self.get(&name)
    }

    /// A `Buffer` or another typed array.
    fn is_bytes(self) -> bool {
        let (mut buffer, mut typed) = (false, false);
        unsafe {
            sys::napi_is_buffer(self.env, self.v, &mut buffer);
            sys::napi_is_typedarray(self.env, self.v, &mut typed);
        }
        buffer || typed
    }

    /// The bytes of a `Buffer`/`Uint8Array`, or of a string as UTF-8.
    pub fn bytes(self, what: &str) -> R<Bytes> {
        let mut is = false;
        unsafe { sys::napi_is_buffer(self.env, self.v, &mut is) };
        if is {
            let (mut data, mut len) = (ptr::null_mut(), 0usize);
            unsafe { sys::napi_get_buffer_info(self.env, self.v, &mut data, &mut len) };
            if len == 0 {
                return Ok(Bytes::new());
            }
            let slice = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
            return Ok(Bytes::copy_from_slice(slice));
        }
        unsafe { sys::napi_is_typedarray(self.env, self.v, &mut is) };
        if is {
            let (mut kind, mut len, mut data) = (0, 0usize, ptr::null_mut());
            let (mut ab, mut off) = (ptr::null_mut(), 0usize);
            unsafe {
                sys::napi_get_typedarray_info(self.env, self.v, &mut kind, &mut len, &mut data, &mut ab, &mut off)
            };
            if kind == sys::TypedarrayType::uint8_array {
                if len == 0 {
                    return Ok(Bytes::new());
                }
                let slice = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
                return Ok(Bytes::copy_from_slice(slice));
            }
        }
        if self.type_of() == ValueType::String {
            return self.string(what).map(Bytes::from);
        }
        Err(invalid(format!("{what} must be a Buffer, a Uint8Array or a string")))
    }

    pub fn string(self, what: &str) -> R<String> {
        let mut len = 0usize;
        let status = unsafe { sys::napi_get_value_string_utf8(self.env, self.v, ptr::null_mut(), 0, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(invalid(format!("{what} must be a string")));
        }
        let mut buf = vec![0u8; len + 1];
        unsafe { sys::napi_get_value_string_utf8(self.env, self.v, buf.as_mut_ptr().cast(), len + 1, &mut len) };
        buf.truncate(len);
        String::from_utf8(buf).map_err(|_| invalid(format!("{what} is not valid UTF-8")))
    }

    fn number(self, what: &str) -> R<f64> {
        let mut n = 0f64;
        let status = unsafe { sys::napi_get_value_double(self.env, self.v, &mut n) };
        if status != sys::Status::napi_ok || !n.is_finite() {
            return Err(invalid(format!("{what} must be a finite number")));
        }
        Ok(n)
    }

    /// A non-negative integer number or bigint up to `max`.
    pub fn uint(self, what: &str, max: u64) -> R<u64> {
        let v = if self.type_of() == ValueType::BigInt {
            let (mut v, mut lossless) = (0u64, false);
            unsafe { sys::napi_get_value_bigint_uint64(self.env, self.v, &mut v, &mut lossless) };
            if !lossless {
                return Err(invalid(format!("{what} must be an integer in 0..={max}")));
            }
            v
        } else {
            let n = self.number(what)?;
            if n < 0.0 || n.fract() != 0.0 || n > max as f64 {
                return Err(invalid(format!("{what} must be an integer in 0..={max}, not {n}")));
            }
            n as u64
        };
        if v > max {
            return Err(invalid(format!("{what} must be an integer in 0..={max}, not {v}")));
        }
        Ok(v)
    }

    pub fn u32(self, what: &str) -> R<u32> {
        Ok(self.uint(what, u64::from(u32::MAX))? as u32)
    }

    fn usize(self, what: &str) -> R<usize> {
        Ok(self.uint(what, u64::try_from(usize::MAX).unwrap_or(u64::MAX))? as usize)
    }

    fn i64(self, what: &str) -> R<i64> {
        let n = self.number(what)?;
        if n.fract() != 0.0 || n.abs() > 9_007_199_254_740_991.0 {
            return Err(invalid(format!("{what} must be a safe integer, not {n}")));
        }
        Ok(n as i64)
    }

    fn bool(self, what: &str) -> R<bool> {
        let mut b = false;
        let status = unsafe { sys::napi_get_value_bool(self.env, self.v, &mut b) };
        if status != sys::Status::napi_ok {
            return Err(invalid(format!("{what} must be a boolean")));
        }
        Ok(b)
    }

    /// Milliseconds as a `Duration`.
    fn ms(self, what: &str) -> R<Duration> {
        Ok(Duration::from_millis(self.uint(what, u64::from(u32::MAX))?))
    }

    fn array_len(self, what: &str) -> R<u32> {
        let mut is = false;
        unsafe { sys::napi_is_array(self.env, self.v, &mut is) };
        if !is {
            return Err(invalid(format!("{what} must be an array")));
        }
        let mut len = 0u32;
        unsafe { sys::napi_get_array_length(self.env, self.v, &mut len) };
        Ok(len)
    }

    fn at(self, i: u32) -> Js {
        let mut out = ptr::null_mut();
        unsafe { sys::napi_get_element(self.env, self.v, i, &mut out) };
        Js { env: self.env, v: out }
    }

    fn is_object(self) -> bool {
        self.type_of() == ValueType::Object
    }

    /// The own enumerable string keys of an object.
    fn keys(self) -> R<Vec<String>> {
        let mut names = ptr::null_mut();
        let status = unsafe { sys::napi_get_property_names(self.env, self.v, &mut names) };
        if status != sys::Status::napi_ok {
            return Err(invalid("settings must be an object"));
        }
        let names = Js { env: self.env, v: names };
        (0..names.array_len("keys")?).map(|i| names.at(i).string("a setting name")).collect()
    }

    /// Strings from an array.
    fn strings(self, what: &str) -> R<Vec<String>> {
        (0..self.array_len(what)?).map(|i| self.at(i).string(what)).collect()
    }
}

/// Calls `set(key, value)` for every key of a settings object (none when it
/// is `undefined`/`null`); `set` rejects unknown keys.
fn settings(obj: Option<Js>, what: &str, mut set: impl FnMut(&str, Js) -> R<bool>) -> R<()> {
    let Some(obj) = obj.filter(|o| !o.is_nullish()) else { return Ok(()) };
    if !obj.is_object() {
        return Err(invalid(format!("{what} must be an object")));
    }
    for key in obj.keys()? {
        let Some(value) = obj.prop(&key) else { continue };
        if !set(&key, value)? {
            return Err(invalid(format!("unknown {what} setting {key:?}")));
        }
    }
    Ok(())
}

/// `Client.connect` options.
pub fn client_config(opts: Option<Js>) -> R<ClientConfig> {
    let mut c = ClientConfig::default();
    settings(opts, "client", |k, v| {
        match k {
            "caFile" => c.ca_file = Some(v.string(k)?.into()),
            "serverName" => c.server_name = Some(v.string(k)?),
            "certFile" => c.cert_file = Some(v.string(k)?.into()),
            "keyFile" => c.key_file = Some(v.string(k)?.into()),
            "token" => c.token = Some(v.string(k)?),
            "connectTimeoutMs" => c.connect_timeout = v.ms(k)?,
            "requestTimeoutMs" => c.request_timeout = v.ms(k)?,
            "metadataMaxAgeMs" => c.metadata_max_age = v.ms(k)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(c)
}

/// `client.producer()` options.
pub fn producer_config(opts: Option<Js>) -> R<ProducerConfig> {
    let mut c = ProducerConfig::default();
    let (mut compression, mut compression_level) = (None::<String>, None::<i32>);
    settings(opts, "producer", |k, v| {
        match k {
            "batchSize" => c.batch_size = v.usize(k)?,
            "lingerMs" => c.linger = v.ms(k)?,
            "bufferMemory" => c.buffer_memory = v.usize(k)?,
            "maxBlockMs" => c.max_block = v.ms(k)?,
            "deliveryTimeoutMs" => c.delivery_timeout = v.ms(k)?,
            "retryBackoffMs" => c.retry_backoff = v.ms(k)?,
            "idempotence" => c.idempotence = v.bool(k)?,
            "maxInFlight" => c.max_in_flight = v.usize(k)?,
            "acks" => c.acks = v.string(k)?.parse()?,
            "compression" => compression = Some(v.string(k)?),
            "compressionLevel" => {
                let n = v.i64(k)?;
                compression_level = Some(i32::try_from(n).map_err(|_| invalid(format!("{k} {n} is out of range")))?);
            }
            "resume" => {
                let id = v.get(c"id").ok_or_else(|| invalid("resume must be {id, epoch}"))?;
                let epoch = v.get(c"epoch").ok_or_else(|| invalid("resume must be {id, epoch}"))?;
                c.resume = Some(ProducerIdentity {
                    id: id.uint("resume.id", u64::MAX)?,
                    epoch: epoch.uint("resume.epoch", u64::from(u16::MAX))? as u16,
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if compression.is_some() || compression_level.is_some() {
        let name = compression.as_deref().unwrap_or("none");
        c.compression = pyralog::Compression::with_level(name, compression_level)?;
    }
    Ok(c)
}

/// `client.consumer()` options.
pub fn consumer_config(opts: Option<Js>) -> R<ConsumerConfig> {
    let mut c = ConsumerConfig::default();
    settings(opts, "consumer", |k, v| {
        match k {
            "groupId" => c.group_id = Some(v.string(k)?),
            "groupInstanceId" => c.group_instance_id = Some(v.string(k)?),
            "autoOffsetReset" => {
                c.auto_offset_reset = match v.string(k)?.as_str() {
                    "earliest" => OffsetReset::Earliest,
                    "latest" => OffsetReset::Latest,
                    "error" => OffsetReset::Error,
                    other => {
                        return Err(invalid(format!(
                            "autoOffsetReset must be \"earliest\", \"latest\" or \"error\", not {other:?}"
                        )))
                    }
                }
            }
            "maxPollRecords" => c.max_poll_records = v.usize(k)?,
            "fetchMaxBytes" => c.fetch_max_bytes = v.u32(k)?,
            "maxPartitionFetchBytes" => c.max_partition_fetch_bytes = v.u32(k)?,
            "fetchMaxWaitMs" => c.fetch_max_wait = v.ms(k)?,
            "sessionTimeoutMs" => c.session_timeout = v.ms(k)?,
            "heartbeatIntervalMs" => c.heartbeat_interval = v.ms(k)?,
            "rebalanceTimeoutMs" => c.rebalance_timeout = v.ms(k)?,
            "maxPollIntervalMs" => c.max_poll_interval = v.ms(k)?,
            "assignors" => c.assignors = v.strings(k)?,
            "enableAutoCommit" => c.enable_auto_commit = v.bool(k)?,
            "autoCommitIntervalMs" => c.auto_commit_interval = v.ms(k)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(c)
}

const FLUSH_POLICIES: [(&str, FlushPolicy); 4] = [
    ("server_default", FlushPolicy::ServerDefault),
    ("always", FlushPolicy::Always),
    ("interval", FlushPolicy::Interval),
    ("never", FlushPolicy::Never),
];
const TIMESTAMP_TYPES: [(&str, TimestampType); 2] =
    [("create_time", TimestampType::CreateTime), ("log_append_time", TimestampType::LogAppendTime)];
const PARTITIONING_MODES: [(&str, PartitioningMode); 2] =
    [("static", PartitioningMode::Static), ("dynamic", PartitioningMode::Dynamic)];
const CLEANUP_POLICIES: [(&str, CleanupPolicy); 3] = [
    ("delete", CleanupPolicy::Delete),
    ("compact", CleanupPolicy::Compact),
    ("compact,delete", CleanupPolicy::CompactDelete),
];

fn name_of<T: PartialEq + Copy>(table: &[(&'static str, T)], v: T) -> String {
    table.iter().find(|(_, t)| *t == v).map_or("unknown", |(n, _)| n).to_owned()
}

fn value_of<T: Copy>(table: &[(&'static str, T)], field: &str, v: Js) -> R<T> {
    let name = v.string(field)?;
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<_> = table.iter().map(|(n, _)| *n).collect();
        invalid(format!("{field} must be one of {names:?}, not {name:?}"))
    })
}

/// A log's settings from an object: `createLog` also takes `partitions` and
/// `replicationFactor` in it (`with_counts`), `updateLogConfig` does not.
/// Settings left out take their defaults (zero: not set).
pub fn log_spec(opts: Option<Js>, with_counts: bool) -> R<pyralog::LogSpec> {
    let mut spec = pyralog::LogSpec::new(1);
    let c = &mut spec.config;
    settings(opts, "log", |k, v| {
        match k {
            "partitions" if with_counts => spec.partition_count = v.u32(k)?,
            "replicationFactor" if with_counts => spec.replication_factor = v.u32(k)?,
            "retentionMs" => c.retention_ms = v.i64(k)?,
            "retentionBytes" => c.retention_bytes = v.i64(k)?,
            "minInSyncReplicas" => c.min_in_sync_replicas = v.u32(k)?,
            "flushPolicy" => c.flush_policy = value_of(&FLUSH_POLICIES, k, v)?,
            "flushIntervalMs" => c.flush_interval_ms = v.u32(k)?,
            "segmentBytes" => c.segment_bytes = v.uint(k, u64::MAX)?,
            "segmentMs" => c.segment_ms = v.i64(k)?,
            "timestampType" => c.timestamp_type = value_of(&TIMESTAMP_TYPES, k, v)?,
            "partitioningMode" => c.partitioning_mode = value_of(&PARTITIONING_MODES, k, v)?,
            "cleanupPolicy" => c.cleanup_policy = value_of(&CLEANUP_POLICIES, k, v)?,
            "deleteRetentionMs" => c.delete_retention_ms = v.i64(k)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(spec)
}

/// A record to produce: `{value, key?, headers?, partition?, timestamp?}`;
/// `partition` (when given) applies to records that name none.
pub fn record(obj: Js, partition: Option<u32>) -> R<Record> {
    if obj.type_of() == ValueType::String || obj.is_bytes() {
        let mut r = Record::new(obj.bytes("a record's value")?);
        r.partition = partition;
        return Ok(r);
    }
    if !obj.is_object() {
        return Err(invalid(
            "a record must be a value (Buffer, Uint8Array, string) or {value, key?, headers?, partition?, timestamp?}",
        ));
    }
    let value = match obj.get(c"value") {
        Some(v) => v.bytes("value")?,
        None => Bytes::new(),
    };
    let mut r = Record::new(value);
    if let Some(k) = obj.get(c"key") {
        r.key = Some(k.bytes("key")?);
    }
    if let Some(hs) = obj.get(c"headers") {
        let n = hs.array_len("headers (an array of [name, value] pairs)")?;
        r.headers.reserve(n as usize);
        for i in 0..n {
            let h = hs.at(i);
            if h.array_len("a header (a [name, value] pair)")? != 2 {
                return Err(invalid("a header must be a [name, value] pair"));
            }
            r.headers.push((h.at(0).string("a header name")?, h.at(1).bytes("a header value")?));
        }
    }
    r.partition = match obj.get(c"partition") {
        Some(p) => Some(p.u32("partition")?),
        None => partition,
    };
    if let Some(t) = obj.get(c"timestamp") {
        r.timestamp = Some(t.i64("timestamp")?);
    }
    Ok(r)
}

/// An array of records.
pub fn records(arr: Js, partition: Option<u32>) -> R<Vec<Record>> {
    let n = arr.array_len("records")?;
    (0..n).map(|i| record(arr.at(i), partition)).collect()
}

/// An offset: a number or bigint (`OFFSET_END` = 2^64 - 1 is the end).
pub fn offset(v: Option<Js>) -> R<pyralog::LogOffset> {
    match v {
        None => Ok(pyralog::LogOffset::ZERO),
        Some(v) => Ok(pyralog::LogOffset(v.uint("offset", u64::MAX)?)),
    }
}

/// The `offset` of each `{log, partition, offset}` of an array.
pub fn offsets_of(v: Js) -> R<Vec<pyralog::LogOffset>> {
    let n = v.array_len("offsets")?;
    (0..n)
        .map(|i| {
            let o = v.at(i).get(c"offset").ok_or_else(|| invalid("an offset must be {log, partition, offset}"))?;
            Ok(pyralog::LogOffset(o.uint("offset", u64::MAX)?))
        })
        .collect()
}

/// A `{log, partition}` object.
pub fn log_partition(v: Js) -> R<LogPartition> {
    let bad = || invalid("a partition must be an object {log, partition}");
    if !v.is_object() {
        return Err(bad());
    }
    let log = v.get(c"log").ok_or_else(bad)?.string("log")?;
    let partition = v.get(c"partition").ok_or_else(bad)?.u32("partition")?;
    Ok(LogPartition::new(&log, partition))
}

/// An array of `{log, partition}` objects; `None` when left out.
pub fn log_partitions(v: Option<Js>) -> R<Option<Vec<LogPartition>>> {
    let Some(v) = v else { return Ok(None) };
    let n = v.array_len("partitions")?;
    (0..n).map(|i| log_partition(v.at(i))).collect::<R<Vec<_>>>().map(Some)
}

/// A log and one of its partitions.
#[napi(object)]
pub struct JsLogPartition {
    pub log: String,
    pub partition: u32,
}

impl From<&LogPartition> for JsLogPartition {
    fn from(lp: &LogPartition) -> Self {
        JsLogPartition { log: lp.log.to_string(), partition: lp.partition }
    }
}

pub fn to_js_partitions(lps: &[LogPartition]) -> Vec<JsLogPartition> {
    lps.iter().map(JsLogPartition::from).collect()
}

/// Where a produced record was written.
#[napi(object)]
pub struct JsRecordMetadata {
    pub log: String,
    pub partition: u32,
    pub offset: f64,
    pub epoch: f64,
    pub timestamp: f64,
}

impl From<RecordMetadata> for JsRecordMetadata {
    fn from(m: RecordMetadata) -> Self {
        JsRecordMetadata {
            log: m.log.to_string(),
            partition: m.partition,
            offset: m.offset as f64,
            epoch: m.epoch as f64,
            timestamp: m.timestamp as f64,
        }
    }
}

/// A log's settings, as read back.
#[napi(object)]
pub struct JsLogConfig {
    pub retention_ms: f64,
    pub retention_bytes: f64,
    pub min_in_sync_replicas: u32,
    pub flush_policy: String,
    pub flush_interval_ms: u32,
    pub segment_bytes: f64,
    pub segment_ms: f64,
    pub timestamp_type: String,
    pub partitioning_mode: String,
    pub cleanup_policy: String,
    pub delete_retention_ms: f64,
}

impl From<LogConfig> for JsLogConfig {
    fn from(c: LogConfig) -> Self {
        JsLogConfig {
            retention_ms: c.retention_ms as f64,
            retention_bytes: c.retention_bytes as f64,
            min_in_sync_replicas: c.min_in_sync_replicas,
            flush_policy: name_of(&FLUSH_POLICIES, c.flush_policy),
            flush_interval_ms: c.flush_interval_ms,
            segment_bytes: c.segment_bytes as f64,
            segment_ms: c.segment_ms as f64,
            timestamp_type: name_of(&TIMESTAMP_TYPES, c.timestamp_type),
            partitioning_mode: name_of(&PARTITIONING_MODES, c.partitioning_mode),
            cleanup_policy: name_of(&CLEANUP_POLICIES, c.cleanup_policy),
            delete_retention_ms: c.delete_retention_ms as f64,
        }
    }
}

/// One partition's placement and bounds.
#[napi(object)]
pub struct JsPartitionMetadata {
    pub partition: u32,
    pub leader: u32,
    pub replicas: Vec<u32>,
    pub isr: Vec<u32>,
    pub leader_epoch: f64,
    pub log_start_offset: f64,
    pub high_watermark: f64,
}

/// A log's metadata.
#[napi(object)]
pub struct JsLogMetadata {
    pub name: String,
    pub partition_count: u32,
    pub replication_factor: u32,
    pub created_at_ms: f64,
    /// "Active", "Paused" or "Deleting".
    pub state: String,
    pub config: JsLogConfig,
    pub partitions: Vec<JsPartitionMetadata>,
}

impl From<pyralog::LogMetadata> for JsLogMetadata {
    fn from(m: pyralog::LogMetadata) -> Self {
        JsLogMetadata {
            name: m.name,
            partition_count: m.partition_count,
            replication_factor: m.replication_factor,
            created_at_ms: m.created_at_ms as f64,
            state: format!("{:?}", m.state),
            config: m.config.into(),
            partitions: m
                .partitions
                .into_iter()
                .map(|p| JsPartitionMetadata {
                    partition: p.partition,
                    leader: p.leader,
                    replicas: p.replicas,
                    isr: p.isr,
                    leader_epoch: p.leader_epoch as f64,
                    log_start_offset: p.log_start_offset as f64,
                    high_watermark: p.high_watermark as f64,
                })
                .collect(),
        }
    }
}

/// One partition's size and bounds.
#[napi(object)]
pub struct JsPartitionStats {
    pub partition: u32,
    pub log_start_offset: f64,
    pub high_watermark: f64,
    pub size_bytes: f64,
    pub segment_count: u32,
}

/// A log's statistics.
#[napi(object)]
pub struct JsLogStats {
    pub name: String,
    pub record_count: f64,
    pub size_bytes: f64,
    pub write_rate: f64,
    pub partitions: Vec<JsPartitionStats>,
}

impl From<pyralog::LogStats> for JsLogStats {
    fn from(s: pyralog::LogStats) -> Self {
        JsLogStats {
            name: s.name,
            record_count: s.record_count as f64,
            size_bytes: s.size_bytes as f64,
            write_rate: s.write_rate,
            partitions: s
                .partitions
                .into_iter()
                .map(|p| JsPartitionStats {
                    partition: p.partition,
                    log_start_offset: p.log_start_offset as f64,
                    high_watermark: p.high_watermark as f64,
                    size_bytes: p.size_bytes as f64,
                    segment_count: p.segment_count,
                })
                .collect(),
        }
    }
}

/// Fields per record in [`RecordColumns::fields`] before its headers.
pub const RECORD_FIELDS: usize = 8;

/// Records in bulk, flattened off the JavaScript thread by [`Flat::of`].
pub struct Flat {
    logs: Vec<String>,
    fields: Vec<f64>,
    data: Vec<u8>,
}

impl Flat {
    /// Per record: log index, partition, offset, epoch, timestamp, key
    /// length (-1: no key), value length, header count, then per header its
    /// name length and value length. `data` holds key, value, then each
    /// header's name and value, record after record.
    pub fn of(records: &[ConsumerRecord]) -> Flat {
        let mut logs: Vec<String> = Vec::new();
        let mut fields = Vec::with_capacity(records.len() * RECORD_FIELDS);
        let size: usize = records.iter().map(|r| r.key.as_ref().map_or(0, Bytes::len) + r.value.len()).sum();
        let mut data = Vec::with_capacity(size);
        for r in records {
            let log = match logs.iter().position(|l| **l == *r.log) {
                Some(i) => i,
                None => {
                    logs.push(r.log.to_string());
                    logs.len() - 1
                }
            };
            let key_len = r.key.as_ref().map_or(-1.0, |k| k.len() as f64);
            fields.extend_from_slice(&[
                log as f64,
                f64::from(r.partition),
                r.offset as f64,
                r.epoch as f64,
                r.timestamp as f64,
                key_len,
                r.value.len() as f64,
                r.headers.len() as f64,
            ]);
            if let Some(k) = &r.key {
                data.extend_from_slice(k);
            }
            data.extend_from_slice(&r.value);
            for (name, value) in &r.headers {
                fields.push(name.len() as f64);
                fields.push(value.len() as f64);
                data.extend_from_slice(name.as_bytes());
                data.extend_from_slice(value);
            }
        }
        Flat { logs, fields, data }
    }

    /// The JavaScript value: `{logs, fields, data}`.
    pub fn into_js(self) -> RecordColumns {
        RecordColumns { logs: self.logs, fields: Float64Array::new(self.fields), data: Buffer::from(self.data) }
    }
}

/// Records in bulk (see [`Flat::of`]); `lib/convert.cjs` makes objects of them.
#[napi(object)]
pub struct RecordColumns {
    pub logs: Vec<String>,
    pub fields: Float64Array,
    pub data: Buffer,
}

/// Acknowledgements of one `sendBatch`, in order: per record partition,
/// offset, epoch, timestamp.
#[napi(object)]
pub struct AckColumns {
    pub log: String,
    pub fields: Float64Array,
}

impl AckColumns {
    pub fn of(log: String, acks: &[RecordMetadata]) -> AckColumns {
        let mut fields = Vec::with_capacity(acks.len() * 4);
        for m in acks {
            fields.extend_from_slice(&[f64::from(m.partition), m.offset as f64, m.epoch as f64, m.timestamp as f64]);
        }
        AckColumns { log, fields: Float64Array::new(fields) }
    }
}
