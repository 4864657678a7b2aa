//! Plain C structs in and out, and their conversions.

use std::ffi::{c_char, c_void, CString};

use bytes::Bytes;
use pyralog::{CleanupPolicy, ConsumerRecord, FlushPolicy, LogState, PartitioningMode, TimestampType};

use crate::error::invalid;

/// A UTF-8 string: pointer and length in bytes (no NUL needed).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_str_t {
    pub ptr: *const c_char,
    pub len: usize,
}

impl pyralog_str_t {
    /// The string, or `InvalidArgument` for NULL with a length or bad UTF-8.
    ///
    /// # Safety
    /// `ptr` is valid for `len` bytes (or `len` is 0).
    pub(crate) unsafe fn to_str<'a>(self) -> pyralog::Result<&'a str> {
        // SAFETY: per the contract.
        let bytes = unsafe { raw_bytes(self.ptr.cast(), self.len) }?;
        std::str::from_utf8(bytes).map_err(|_| invalid("a string is not valid UTF-8"))
    }

    fn borrowed(s: &str) -> Self {
        pyralog_str_t { ptr: s.as_ptr().cast(), len: s.len() }
    }
}

/// # Safety
/// `ptr` is valid for `len` bytes, or `len` is 0.
pub(crate) unsafe fn raw_bytes<'a>(ptr: *const u8, len: usize) -> pyralog::Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid("a NULL pointer was given with a non-zero length"));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A `pyralog_str_t` over a NUL-terminated string (NULL gives an empty one).
///
/// # Safety
/// `s` is NULL or a NUL-terminated string that outlives the result's use.
#[no_mangle]
pub unsafe extern "C" fn pyralog_str(s: *const c_char) -> pyralog_str_t {
    if s.is_null() {
        return pyralog_str_t { ptr: std::ptr::null(), len: 0 };
    }
    // SAFETY: per the contract.
    let len = unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes().len();
    pyralog_str_t { ptr: s, len }
}

/// One record to produce, as offsets into a batch's data buffer (so a
/// binding can pass one buffer without pointers inside it).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_record_in_t {
    /// Key offset in `data`; a negative `key_len` means no key.
    pub key_offset: usize,
    pub key_len: i64,
    pub value_offset: usize,
    pub value_len: usize,
    /// The record's headers: `headers[header_start .. header_start + header_count]`.
    pub header_start: usize,
    pub header_count: usize,
    /// Explicit partition, or negative to let the partitioner choose.
    pub partition: i64,
    /// Timestamp in ms since the Unix epoch, used when `has_timestamp`.
    pub timestamp_ms: i64,
    pub has_timestamp: bool,
}

/// A header of a record to produce: name and value as offsets into `data`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_header_in_t {
    pub name_offset: usize,
    pub name_len: usize,
    pub value_offset: usize,
    pub value_len: usize,
}

/// Records to produce: `count` records whose keys, values and header names
/// and values are slices of `data`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_batch_in_t {
    pub data: *const u8,
    pub data_len: usize,
    pub records: *const pyralog_record_in_t,
    pub count: usize,
    pub headers: *const pyralog_header_in_t,
    pub header_count: usize,
}

fn slice(data: &Bytes, offset: usize, len: usize) -> pyralog::Result<Bytes> {
    let end = offset.checked_add(len).filter(|e| *e <= data.len());
    end.map(|e| data.slice(offset..e)).ok_or_else(|| invalid("a record points outside its batch's data"))
}

impl pyralog_batch_in_t {
    /// Core records (copying `data` once).
    ///
    /// # Safety
    /// The pointers are valid for their lengths.
    pub(crate) unsafe fn to_records(self) -> pyralog::Result<Vec<pyralog::Record>> {
        // SAFETY: per the contract.
        let (data, recs, hdrs) = unsafe {
            (
                Bytes::copy_from_slice(raw_bytes(self.data, self.data_len)?),
                raw_slice(self.records, self.count)?,
                raw_slice(self.headers, self.header_count)?,
            )
        };
        recs.iter().map(|r| record(&data, r, hdrs)).collect()
    }
}

fn record(data: &Bytes, r: &pyralog_record_in_t, hdrs: &[pyralog_header_in_t]) -> pyralog::Result<pyralog::Record> {
    let mut out = pyralog::Record::new(slice(data, r.value_offset, r.value_len)?);
    if let Ok(len) = usize::try_from(r.key_len) {
        out.key = Some(slice(data, r.key_offset, len)?);
    }
    let end = r.header_start.checked_add(r.header_count).filter(|e| *e <= hdrs.len());
    let hs = end.map(|e| &hdrs[r.header_start..e]).ok_or_else(|| invalid("a record's headers are out of range"))?;
    for h in hs {
        let name = slice(data, h.name_offset, h.name_len)?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| invalid("a header name is not UTF-8"))?;
        out.headers.push((name, slice(data, h.value_offset, h.value_len)?));
    }
    out.partition = u32::try_from(r.partition).ok();
    out.timestamp = r.has_timestamp.then_some(r.timestamp_ms);
    Ok(out)
}

/// # Safety
/// `ptr` is valid for `len` elements, or `len` is 0.
pub(crate) unsafe fn raw_slice<'a, T>(ptr: *const T, len: usize) -> pyralog::Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid("a NULL array was given with a non-zero length"));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A header of a record read back (borrowed from its `pyralog_records_t`).
#[repr(C)]
pub struct pyralog_header_t {
    pub name: pyralog_str_t,
    pub value: *const u8,
    pub value_len: usize,
}

/// A record read back; its pointers live as long as its `pyralog_records_t`.
#[repr(C)]
pub struct pyralog_record_t {
    pub log: pyralog_str_t,
    pub partition: u32,
    pub offset: u64,
    pub epoch: u64,
    pub timestamp_ms: i64,
    /// NULL when the record has no key.
    pub key: *const u8,
    pub key_len: usize,
    pub value: *const u8,
    pub value_len: usize,
    pub headers: *const pyralog_header_t,
    pub header_count: usize,
}

/// Records read back: `items[0 .. len]`. Free with `pyralog_records_free`.
#[repr(C)]
pub struct pyralog_records_t {
    pub items: *const pyralog_record_t,
    pub len: usize,
    /// Private to the library.
    pub owner: *mut c_void,
}

struct RecordsOwner {
    _records: Vec<ConsumerRecord>,
    _views: Vec<pyralog_record_t>,
    _headers: Vec<Vec<pyralog_header_t>>,
}

pub(crate) fn records_ptr(records: Vec<ConsumerRecord>) -> *mut pyralog_records_t {
    let headers: Vec<Vec<pyralog_header_t>> = records
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .map(|(n, v)| pyralog_header_t {
                    name: pyralog_str_t::borrowed(n),
                    value: v.as_ptr(),
                    value_len: v.len(),
                })
                .collect()
        })
        .collect();
    let views: Vec<pyralog_record_t> = records
        .iter()
        .zip(&headers)
        .map(|(r, h)| pyralog_record_t {
            log: pyralog_str_t::borrowed(&r.log),
            partition: r.partition,
            offset: r.offset,
            epoch: r.epoch,
            timestamp_ms: r.timestamp,
            key: r.key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
            key_len: r.key.as_ref().map_or(0, Bytes::len),
            value: r.value.as_ptr(),
            value_len: r.value.len(),
            headers: h.as_ptr(),
            header_count: h.len(),
        })
        .collect();
    let (items, len) = (views.as_ptr(), views.len());
    let owner = Box::into_raw(Box::new(RecordsOwner { _records: records, _views: views, _headers: headers })).cast();
    Box::into_raw(Box::new(pyralog_records_t { items, len, owner }))
}

/// Frees records read back. NULL is ignored.
///
/// # Safety
/// `r` is NULL or came from this library and is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_records_free(r: *mut pyralog_records_t) {
    if r.is_null() {
        return;
    }
    // SAFETY: per the contract, both boxes came from `records_ptr`.
    unsafe {
        let r = Box::from_raw(r);
        drop(Box::from_raw(r.owner.cast::<RecordsOwner>()));
    }
}

/// Where a produced record was written.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct pyralog_record_metadata_t {
    pub partition: u32,
    pub offset: u64,
    pub epoch: u64,
    pub timestamp_ms: i64,
}

impl From<pyralog::RecordMetadata> for pyralog_record_metadata_t {
    fn from(m: pyralog::RecordMetadata) -> Self {
        pyralog_record_metadata_t {
            partition: m.partition,
            offset: m.offset,
            epoch: m.epoch,
            timestamp_ms: m.timestamp,
        }
    }
}

/// A log's settings; zero means "not set". `flush_policy` (when appended
/// data is fsynced relative to the acknowledgement): 0 server default,
/// 1 always, 2 interval, 3 never. `timestamp_type`: 0 create time, 1
/// log-append time. `partitioning_mode`: 0 static, 1 dynamic.
/// `cleanup_policy`: 0 delete, 1 compact (the newest record of each key is
/// kept; an empty value is a tombstone), 2 compact and delete.
/// `delete_retention_ms`: how long a compacted log keeps tombstones (0:
/// server default).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_log_config_t {
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub min_in_sync_replicas: u32,
    pub flush_policy: i32,
    pub flush_interval_ms: u32,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub timestamp_type: i32,
    pub partitioning_mode: i32,
    pub cleanup_policy: i32,
    pub delete_retention_ms: i64,
}

impl From<pyralog::LogConfig> for pyralog_log_config_t {
    fn from(c: pyralog::LogConfig) -> Self {
        pyralog_log_config_t {
            retention_ms: c.retention_ms,
            retention_bytes: c.retention_bytes,
            min_in_sync_replicas: c.min_in_sync_replicas,
            flush_policy: match c.flush_policy {
                FlushPolicy::ServerDefault => 0,
                FlushPolicy::Always => 1,
                FlushPolicy::Interval => 2,
                FlushPolicy::Never => 3,
            },
            flush_interval_ms: c.flush_interval_ms,
            segment_bytes: c.segment_bytes,
            segment_ms: c.segment_ms,
            timestamp_type: i32::from(c.timestamp_type == TimestampType::LogAppendTime),
            partitioning_mode: i32::from(c.partitioning_mode == PartitioningMode::Dynamic),
            cleanup_policy: match c.cleanup_policy {
                CleanupPolicy::Delete => 0,
                CleanupPolicy::Compact => 1,
                CleanupPolicy::CompactDelete => 2,
            },
            delete_retention_ms: c.delete_retention_ms,
        }
    }
}

impl pyralog_log_config_t {
    pub(crate) fn to_core(self) -> pyralog::Result<pyralog::LogConfig> {
        Ok(pyralog::LogConfig {
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            min_in_sync_replicas: self.min_in_sync_replicas,
            flush_policy: match self.flush_policy {
                0 => FlushPolicy::ServerDefault,
                1 => FlushPolicy::Always,
                2 => FlushPolicy::Interval,
                3 => FlushPolicy::Never,
                n => return Err(invalid(format!("flush_policy {n} is not 0..=3"))),
            },
            flush_interval_ms: self.flush_interval_ms,
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            timestamp_type: match self.timestamp_type {
                0 => TimestampType::CreateTime,
                1 => TimestampType::LogAppendTime,
                n => return Err(invalid(format!("timestamp_type {n} is not 0 or 1"))),
            },
            partitioning_mode: match self.partitioning_mode {
                0 => PartitioningMode::Static,
                1 => PartitioningMode::Dynamic,
                n => return Err(invalid(format!("partitioning_mode {n} is not 0 or 1"))),
            },
            cleanup_policy: match self.cleanup_policy {
                0 => CleanupPolicy::Delete,
                1 => CleanupPolicy::Compact,
                2 => CleanupPolicy::CompactDelete,
                n => return Err(invalid(format!("cleanup_policy {n} is not 0..=2"))),
            },
            delete_retention_ms: self.delete_retention_ms,
        })
    }
}

/// One partition's placement, leader epoch and bounds. `leader`, `replicas`
/// and `isr` are node ids (`leader` is `UINT32_MAX` when the partition has
/// none); the arrays are freed with the metadata.
#[repr(C)]
pub struct pyralog_partition_metadata_t {
    pub partition: u32,
    /// The leader's node id.
    pub leader: u32,
    /// The node ids holding the partition: `replicas[0 .. replicas_len]`.
    pub replicas: *mut u32,
    pub replicas_len: usize,
    /// The in-sync replicas' node ids: `isr[0 .. isr_len]`.
    pub isr: *mut u32,
    pub isr_len: usize,
    pub leader_epoch: u64,
    pub log_start_offset: u64,
    pub high_watermark: u64,
}

/// A log's metadata. `state`: 0 active, 1 paused, 2 deleting. Free with
/// `pyralog_log_metadata_free`.
#[repr(C)]
pub struct pyralog_log_metadata_t {
    /// NUL-terminated.
    pub name: *mut c_char,
    pub partition_count: u32,
    pub replication_factor: u32,
    pub created_at_ms: i64,
    pub state: i32,
    pub config: pyralog_log_config_t,
    pub partitions: *mut pyralog_partition_metadata_t,
    pub partitions_len: usize,
}

pub(crate) fn log_metadata(m: pyralog::LogMetadata) -> pyralog_log_metadata_t {
    let parts: Box<[pyralog_partition_metadata_t]> = m
        .partitions
        .iter()
        .map(|p| {
            let (replicas, replicas_len) = node_ids(&p.replicas);
            let (isr, isr_len) = node_ids(&p.isr);
            pyralog_partition_metadata_t {
                partition: p.partition,
                leader: p.leader,
                replicas,
                replicas_len,
                isr,
                isr_len,
                leader_epoch: p.leader_epoch,
                log_start_offset: p.log_start_offset,
                high_watermark: p.high_watermark,
            }
        })
        .collect();
    let partitions_len = parts.len();
    pyralog_log_metadata_t {
        name: CString::new(m.name).unwrap_or_default().into_raw(),
        partition_count: m.partition_count,
        replication_factor: m.replication_factor,
        created_at_ms: m.created_at_ms,
        state: match m.state {
            LogState::Active => 0,
            LogState::Paused => 1,
            LogState::Deleting => 2,
        },
        config: m.config.into(),
        partitions: Box::into_raw(parts).cast(),
        partitions_len,
    }
}

/// Node ids as a boxed slice handed to C: pointer and length.
fn node_ids(ids: &[u32]) -> (*mut u32, usize) {
    let b: Box<[u32]> = ids.into();
    let len = b.len();
    (Box::into_raw(b).cast(), len)
}

/// # Safety
/// `ptr`, `len` came from `node_ids` and are dropped once.
unsafe fn drop_node_ids(ptr: *mut u32, len: usize) {
    if !ptr.is_null() {
        // SAFETY: per the contract, a boxed slice of `len` ids.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
    }
}

/// # Safety
/// `m` came from `log_metadata` and is dropped once.
unsafe fn drop_log_metadata(m: &mut pyralog_log_metadata_t) {
    // SAFETY: every allocation came from `log_metadata`.
    unsafe {
        if !m.name.is_null() {
            drop(CString::from_raw(m.name));
        }
        if !m.partitions.is_null() {
            let parts = Box::from_raw(std::ptr::slice_from_raw_parts_mut(m.partitions, m.partitions_len));
            for p in parts.iter() {
                drop_node_ids(p.replicas, p.replicas_len);
                drop_node_ids(p.isr, p.isr_len);
            }
            drop(parts);
        }
    }
}

/// Frees one log's metadata. NULL is ignored.
///
/// # Safety
/// `m` is NULL or came from this library (not from a list) and is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_log_metadata_free(m: *mut pyralog_log_metadata_t) {
    if !m.is_null() {
        // SAFETY: per the contract.
        unsafe {
            let mut b = Box::from_raw(m);
            drop_log_metadata(&mut b);
        }
    }
}

/// Many logs' metadata: `items[0 .. len]`. Free with `pyralog_log_list_free`.
#[repr(C)]
pub struct pyralog_log_list_t {
    pub items: *mut pyralog_log_metadata_t,
    pub len: usize,
}

pub(crate) fn log_list(v: Vec<pyralog::LogMetadata>) -> pyralog_log_list_t {
    let items: Box<[pyralog_log_metadata_t]> = v.into_iter().map(log_metadata).collect();
    let len = items.len();
    pyralog_log_list_t { items: Box::into_raw(items).cast(), len }
}

/// Frees a list of logs' metadata. NULL is ignored.
///
/// # Safety
/// `l` is NULL or came from this library and is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_log_list_free(l: *mut pyralog_log_list_t) {
    if l.is_null() {
        return;
    }
    // SAFETY: per the contract, from `log_list` boxed by the caller of it.
    unsafe {
        let l = Box::from_raw(l);
        let mut items = Box::from_raw(std::ptr::slice_from_raw_parts_mut(l.items, l.len));
        for m in items.iter_mut() {
            drop_log_metadata(m);
        }
    }
}

/// One partition's size and bounds.
#[repr(C)]
pub struct pyralog_partition_stats_t {
    pub partition: u32,
    pub log_start_offset: u64,
    pub high_watermark: u64,
    pub size_bytes: u64,
    pub segment_count: u32,
}

/// A log's statistics; `write_rate` is records per second over the last
/// minute. Free with `pyralog_log_stats_free`.
#[repr(C)]
pub struct pyralog_log_stats_t {
    pub record_count: u64,
    pub size_bytes: u64,
    pub write_rate: f64,
    pub partitions: *mut pyralog_partition_stats_t,
    pub partitions_len: usize,
}

pub(crate) fn log_stats(s: pyralog::LogStats) -> pyralog_log_stats_t {
    let parts: Box<[pyralog_partition_stats_t]> = s
        .partitions
        .iter()
        .map(|p| pyralog_partition_stats_t {
            partition: p.partition,
            log_start_offset: p.log_start_offset,
            high_watermark: p.high_watermark,
            size_bytes: p.size_bytes,
            segment_count: p.segment_count,
        })
        .collect();
    let partitions_len = parts.len();
    pyralog_log_stats_t {
        record_count: s.record_count,
        size_bytes: s.size_bytes,
        write_rate: s.write_rate,
        partitions: Box::into_raw(parts).cast(),
        partitions_len,
    }
}

/// Frees a log's statistics. NULL is ignored.
///
/// # Safety
/// `s` is NULL or came from this library and is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_log_stats_free(s: *mut pyralog_log_stats_t) {
    if s.is_null() {
        return;
    }
    // SAFETY: per the contract, from `log_stats`.
    unsafe {
        let s = Box::from_raw(s);
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(s.partitions, s.partitions_len)));
    }
}

/// A log and one of its partitions (the string is borrowed: valid for the
/// call it is passed to or from).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_log_partition_t {
    pub log: pyralog_str_t,
    pub partition: u32,
}

impl pyralog_log_partition_t {
    /// # Safety
    /// `log` is valid.
    pub(crate) unsafe fn to_core(self) -> pyralog::Result<pyralog::LogPartition> {
        // SAFETY: per the contract.
        Ok(pyralog::LogPartition::new(unsafe { self.log.to_str() }?, self.partition))
    }

    pub(crate) fn borrowed(lp: &pyralog::LogPartition) -> Self {
        pyralog_log_partition_t { log: pyralog_str_t::borrowed(&lp.log), partition: lp.partition }
    }
}

/// # Safety
/// `ptr` is valid for `len` elements whose strings are valid.
pub(crate) unsafe fn log_partitions(
    ptr: *const pyralog_log_partition_t,
    len: usize,
) -> pyralog::Result<Vec<pyralog::LogPartition>> {
    // SAFETY: per the contract.
    unsafe { raw_slice(ptr, len)? }.iter().map(|lp| unsafe { lp.to_core() }).collect()
}

/// A partition and an offset (a commit, a committed offset, a position).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pyralog_partition_offset_t {
    pub partition: pyralog_log_partition_t,
    pub offset: u64,
}

/// Partitions with offsets (committed offsets, an assignment with offset 0):
/// `items[0 .. len]`, strings owned by it. Free with `pyralog_offsets_free`.
#[repr(C)]
pub struct pyralog_offsets_t {
    pub items: *const pyralog_partition_offset_t,
    pub len: usize,
    /// Private to the library.
    pub owner: *mut c_void,
}

type OffsetsOwner = (Vec<pyralog::LogPartition>, Vec<pyralog_partition_offset_t>);

pub(crate) fn offsets_ptr(v: Vec<(pyralog::LogPartition, u64)>) -> *mut pyralog_offsets_t {
    let (lps, offs): (Vec<_>, Vec<_>) = v.into_iter().unzip();
    let items: Vec<pyralog_partition_offset_t> = lps
        .iter()
        .zip(offs)
        .map(|(lp, offset)| pyralog_partition_offset_t { partition: pyralog_log_partition_t::borrowed(lp), offset })
        .collect();
    let (ptr, len) = (items.as_ptr(), items.len());
    let owner = Box::into_raw(Box::new((lps, items) as OffsetsOwner)).cast();
    Box::into_raw(Box::new(pyralog_offsets_t { items: ptr, len, owner }))
}

/// Frees partitions with offsets. NULL is ignored.
///
/// # Safety
/// `o` is NULL or came from this library and is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_offsets_free(o: *mut pyralog_offsets_t) {
    if o.is_null() {
        return;
    }
    // SAFETY: per the contract, from `offsets_ptr`.
    unsafe {
        let o = Box::from_raw(o);
        drop(Box::from_raw(o.owner.cast::<OffsetsOwner>()));
    }
}
