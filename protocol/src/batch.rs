//! The record batch: the unit on disk and on the wire (docs/FORMAT.md).
//!
//! ```text
//! offset size field               set by
//!  0      8   base_offset          server   u64 LE, offset of the first record
//!  8      4   batch_length         client   u32 LE, bytes after this field
//! 12      8   leader_epoch         server   u64 LE
//! 20      8   append_time_ms       server   i64 LE, server clock at append
//! 28      1   server_flags         server   bit 0: timestamps are append time
//! 29      1   magic                client   format version, 1
//! 30      2   reserved             client   zero
//! 32      4   crc                  client   crc32 (IEEE) of bytes [36, end)
//! 36      2   attributes           client   bits 0-2 compression (crate::compression)
//! 38      4   last_offset_delta    client   record_count - 1
//! 42      8   first_timestamp      client   i64 ms
//! 50      8   max_timestamp        client   i64 ms
//! 58      8   producer_id          client   u64, NO_PRODUCER_ID if none
//! 66      2   producer_epoch       client   u16
//! 68      8   base_vlsn            client   u64, NO_VLSN if none
//! 76      4   record_count         client   u32
//! 80      ..  records              client
//! ```
//!
//! Each record: `varint length` of the rest, `u8 attributes`, `zigzag varint
//! timestamp_delta`, `varint offset_delta`, `varint key_len + 1` (0 = no key),
//! key, `varint value_len`, value, `varint header_count`, then per header
//! `varint key_len`, UTF-8 key, `varint value_len`, value. Varints are
//! unsigned LEB128. The CRC excludes the server-assigned fields, so a server
//! validates and stamps a batch without re-encoding it.

use crate::compression::{Compression, CODEC_MASK};
use crate::error::{ErrorCode, ProtocolError};
use crate::limits::{
    MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_HEADERS_PER_RECORD, MAX_HEADER_KEY_BYTES, MAX_RECORD_BYTES,
};

/// Size of the fixed batch header.
pub const HEADER_BYTES: usize = 80;
/// Bytes before `batch_length`'s coverage starts (base_offset + batch_length).
pub const LENGTH_PREFIX_BYTES: usize = 12;
/// Current format version.
pub const MAGIC: u8 = 1;
/// `producer_id` of a batch sent without idempotence.
pub const NO_PRODUCER_ID: u64 = u64::MAX;
/// `base_vlsn` of a batch sent without idempotence.
pub const NO_VLSN: u64 = u64::MAX;
/// `server_flags` bit: record timestamps are the batch's append time.
pub const FLAG_LOG_APPEND_TIME: u8 = 1;

const CRC_START: usize = 36;

mod off {
    pub const BASE_OFFSET: usize = 0;
    pub const LENGTH: usize = 8;
    pub const EPOCH: usize = 12;
    pub const APPEND_TIME: usize = 20;
    pub const FLAGS: usize = 28;
    pub const MAGIC: usize = 29;
    pub const CRC: usize = 32;
    pub const ATTRIBUTES: usize = 36;
    pub const LAST_DELTA: usize = 38;
    pub const FIRST_TS: usize = 42;
    pub const MAX_TS: usize = 50;
    pub const PRODUCER_ID: usize = 58;
    pub const PRODUCER_EPOCH: usize = 66;
    pub const BASE_VLSN: usize = 68;
    pub const RECORD_COUNT: usize = 76;
}

fn invalid(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidBatch, msg)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Appends `v` as unsigned LEB128.
pub fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A cursor over record bytes with checked reads.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint(&mut self) -> Result<u64, ProtocolError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or_else(|| invalid("record truncated inside a varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(invalid("varint longer than 10 bytes"))
    }

    fn len(&mut self) -> Result<usize, ProtocolError> {
        let v = self.varint()?;
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= self.buf.len() - self.pos)
            .ok_or_else(|| invalid("length field runs past the end of the record"))
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        s
    }

    fn byte(&mut self) -> Result<u8, ProtocolError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| invalid("record truncated"))?;
        self.pos += 1;
        Ok(b)
    }
}

/// A header of a record: a UTF-8 key and a byte value.
pub type Header<'a> = (&'a str, &'a [u8]);

/// Builds one batch. The server-assigned fields stay zero.
#[derive(Debug)]
pub struct BatchBuilder {
    buf: Vec<u8>,
    count: u32,
    first_ts: i64,
    max_ts: i64,
}

impl BatchBuilder {
    /// Starts a batch; pass [`NO_PRODUCER_ID`]/[`NO_VLSN`] without idempotence.
    pub fn new(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(HEADER_BYTES));
        buf.resize(HEADER_BYTES, 0);
        buf[off::MAGIC] = MAGIC;
        buf[off::PRODUCER_ID..off::PRODUCER_ID + 8].copy_from_slice(&NO_PRODUCER_ID.to_le_bytes());
        buf[off::BASE_VLSN..off::BASE_VLSN + 8].copy_from_slice(&NO_VLSN.to_le_bytes());
        BatchBuilder { buf, count: 0, first_ts: 0, max_ts: i64::MIN }
    }

    /// Number of records added so far.
    pub fn record_count(&self) -> u32 {
        self.count
    }

    /// Encoded size so far.
    pub fn size_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The encoded size a record would add, used to check limits before pushing.
    pub fn encoded_record_size(key: Option<&[u8]>, value: &[u8], headers: &[Header<'_>]) -> usize {
        let body = record_body_size(0, u64::from(u32::MAX), key, value, headers);
        varint_len(body as u64) + body
    }

    /// Appends a record.
    ///
    /// # Errors
    /// `RecordTooLarge` over `MAX_RECORD_BYTES`, `InvalidBatch` for too many
    /// headers or a header key over `MAX_HEADER_KEY_BYTES`, `BatchTooLarge` past
    /// `MAX_BATCH_RECORDS`. Nothing is appended on error.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: &[u8],
        headers: &[Header<'_>],
    ) -> Result<(), ProtocolError> {
        check_record(key, value, headers)?;
        if self.count >= MAX_BATCH_RECORDS {
            return Err(ProtocolError::new(
                ErrorCode::BatchTooLarge,
                format!("batch holds MAX_BATCH_RECORDS ({MAX_BATCH_RECORDS}) records"),
            ));
        }
        if self.count == 0 {
            self.first_ts = timestamp;
        }
        let ts_delta = zigzag(timestamp.wrapping_sub(self.first_ts));
        let body = record_body_size(ts_delta, u64::from(self.count), key, value, headers);
        let b = &mut self.buf;
        put_varint(b, body as u64);
        b.push(0);
        put_varint(b, ts_delta);
        put_varint(b, u64::from(self.count));
        match key {
            Some(k) => {
                put_varint(b, k.len() as u64 + 1);
                b.extend_from_slice(k);
            }
            None => put_varint(b, 0),
        }
        put_varint(b, value.len() as u64);
        b.extend_from_slice(value);
        put_varint(b, headers.len() as u64);
        for (hk, hv) in headers {
            put_varint(b, hk.len() as u64);
            b.extend_from_slice(hk.as_bytes());
            put_varint(b, hv.len() as u64);
            b.extend_from_slice(hv);
        }
        self.count += 1;
        self.max_ts = self.max_ts.max(timestamp);
        Ok(())
    }

    /// Stamps producer identity and the VLSN of the first record.
    pub fn set_producer(&mut self, producer_id: u64, producer_epoch: u16, base_vlsn: u64) {
        let b = &mut self.buf;
        b[off::PRODUCER_ID..off::PRODUCER_ID + 8].copy_from_slice(&producer_id.to_le_bytes());
        b[off::PRODUCER_EPOCH..off::PRODUCER_EPOCH + 2].copy_from_slice(&producer_epoch.to_le_bytes());
        b[off::BASE_VLSN..off::BASE_VLSN + 8].copy_from_slice(&base_vlsn.to_le_bytes());
    }

    /// Fills in the header and checksum and returns the encoded batch.
    ///
    /// # Panics
    /// If no record was pushed (a batch holds at least one record).
    pub fn finish(self) -> Vec<u8> {
        self.finish_compressed(Compression::None)
    }

    /// Like [`BatchBuilder::finish`], with the records section compressed
    /// (docs/FORMAT.md). Records that do not shrink are stored uncompressed:
    /// a consumer then skips decompressing them.
    ///
    /// # Panics
    /// If no record was pushed (a batch holds at least one record).
    pub fn finish_compressed(mut self, compression: Compression) -> Vec<u8> {
        assert!(self.count > 0, "a batch holds at least one record");
        let packed = compression.compress(&self.buf[HEADER_BYTES..]);
        if let Some(packed) = packed.filter(|p| p.len() < self.buf.len() - HEADER_BYTES) {
            self.buf.truncate(HEADER_BYTES);
            self.buf.extend_from_slice(&packed);
            let attributes = compression.attribute_bits();
            self.buf[off::ATTRIBUTES..off::ATTRIBUTES + 2].copy_from_slice(&attributes.to_le_bytes());
        }
        let b = &mut self.buf;
        b[off::LAST_DELTA..off::LAST_DELTA + 4].copy_from_slice(&(self.count - 1).to_le_bytes());
        b[off::FIRST_TS..off::FIRST_TS + 8].copy_from_slice(&self.first_ts.to_le_bytes());
        b[off::MAX_TS..off::MAX_TS + 8].copy_from_slice(&self.max_ts.to_le_bytes());
        b[off::RECORD_COUNT..off::RECORD_COUNT + 4].copy_from_slice(&self.count.to_le_bytes());
        seal(b);
        self.buf
    }
}

fn record_body_size(
    ts_delta: u64,
    offset_delta: u64,
    key: Option<&[u8]>,
    value: &[u8],
    headers: &[Header<'_>],
) -> usize {
    let key_part = match key {
        Some(k) => varint_len(k.len() as u64 + 1) + k.len(),
        None => 1,
    };
    let headers_part: usize =
        headers.iter().map(|(k, v)| varint_len(k.len() as u64) + k.len() + varint_len(v.len() as u64) + v.len()).sum();
    1 + varint_len(ts_delta)
        + varint_len(offset_delta)
        + key_part
        + varint_len(value.len() as u64)
        + value.len()
        + varint_len(headers.len() as u64)
        + headers_part
}

/// Checks one record against the per-record limits; returns its encoded size.
///
/// # Errors
/// `RecordTooLarge` or `InvalidBatch` naming the limit.
pub fn check_record(key: Option<&[u8]>, value: &[u8], headers: &[Header<'_>]) -> Result<usize, ProtocolError> {
    if headers.len() > MAX_HEADERS_PER_RECORD {
        return Err(invalid(format!(
            "record has {} headers; MAX_HEADERS_PER_RECORD is {MAX_HEADERS_PER_RECORD}",
            headers.len()
        )));
    }
    if let Some((k, _)) = headers.iter().find(|(k, _)| k.len() > MAX_HEADER_KEY_BYTES) {
        return Err(invalid(format!(
            "header key of {} bytes; MAX_HEADER_KEY_BYTES is {MAX_HEADER_KEY_BYTES}",
            k.len()
        )));
    }
    let size = BatchBuilder::encoded_record_size(key, value, headers);
    if size > MAX_RECORD_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::RecordTooLarge,
            format!("record of {size} bytes; MAX_RECORD_BYTES is {MAX_RECORD_BYTES}"),
        ));
    }
    Ok(size)
}

/// A read-only view of one encoded batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchView<'a> {
    bytes: &'a [u8],
}

/// What validating a batch for append learned about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSummary {
    pub record_count: u32,
    pub first_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: u64,
    pub producer_epoch: u16,
    pub base_vlsn: u64,
}

impl<'a> BatchView<'a> {
    /// Splits the first whole batch off `buf`. Returns `Ok(None)` when `buf`
    /// holds less than a whole batch (read more), checking only the framing.
    ///
    /// # Errors
    /// `InvalidBatch` when the length field is impossible.
    pub fn split(buf: &'a [u8]) -> Result<Option<(BatchView<'a>, &'a [u8])>, ProtocolError> {
        if buf.len() < LENGTH_PREFIX_BYTES {
            return Ok(None);
        }
        let len = u32_at(buf, off::LENGTH) as usize;
        let total = len + LENGTH_PREFIX_BYTES;
        if !(HEADER_BYTES..=MAX_BATCH_BYTES).contains(&total) {
            return Err(invalid(format!(
                "batch length {total} outside {HEADER_BYTES}..={MAX_BATCH_BYTES} (MAX_BATCH_BYTES)"
            )));
        }
        if buf.len() < total {
            return Ok(None);
        }
        Ok(Some((BatchView { bytes: &buf[..total] }, &buf[total..])))
    }

    /// A view over exactly one batch.
    ///
    /// # Errors
    /// `InvalidBatch` when `bytes` is not exactly one batch by its framing.
    pub fn new(bytes: &'a [u8]) -> Result<Self, ProtocolError> {
        match Self::split(bytes)? {
            Some((v, [])) => Ok(v),
            Some(_) => Err(invalid("bytes after the end of the batch")),
            None => Err(invalid(format!("batch truncated: {} bytes present", bytes.len()))),
        }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn base_offset(&self) -> u64 {
        u64_at(self.bytes, off::BASE_OFFSET)
    }
    pub fn leader_epoch(&self) -> u64 {
        u64_at(self.bytes, off::EPOCH)
    }
    pub fn append_time_ms(&self) -> i64 {
        u64_at(self.bytes, off::APPEND_TIME) as i64
    }
    pub fn server_flags(&self) -> u8 {
        self.bytes[off::FLAGS]
    }
    pub fn magic(&self) -> u8 {
        self.bytes[off::MAGIC]
    }
    pub fn crc(&self) -> u32 {
        u32_at(self.bytes, off::CRC)
    }
    pub fn attributes(&self) -> u16 {
        u16_at(self.bytes, off::ATTRIBUTES)
    }
    pub fn record_count(&self) -> u32 {
        u32_at(self.bytes, off::RECORD_COUNT)
    }
    pub fn last_offset_delta(&self) -> u32 {
        u32_at(self.bytes, off::LAST_DELTA)
    }
    /// Offset of the last record (saturating: a header claiming offsets
    /// past `u64::MAX` is malformed, and its records fail to decode).
    pub fn last_offset(&self) -> u64 {
        self.base_offset().saturating_add(u64::from(self.last_offset_delta()))
    }
    /// Offset after the last record (saturating, as `last_offset`).
    pub fn next_offset(&self) -> u64 {
        self.last_offset().saturating_add(1)
    }
    pub fn first_timestamp(&self) -> i64 {
        u64_at(self.bytes, off::FIRST_TS) as i64
    }
    pub fn max_timestamp(&self) -> i64 {
        u64_at(self.bytes, off::MAX_TS) as i64
    }
    pub fn producer_id(&self) -> u64 {
        u64_at(self.bytes, off::PRODUCER_ID)
    }
    pub fn producer_epoch(&self) -> u16 {
        u16_at(self.bytes, off::PRODUCER_EPOCH)
    }
    pub fn base_vlsn(&self) -> u64 {
        u64_at(self.bytes, off::BASE_VLSN)
    }
    pub fn uses_append_time(&self) -> bool {
        self.server_flags() & FLAG_LOG_APPEND_TIME != 0
    }
    /// The timestamp readers see as the batch's latest.
    pub fn effective_max_timestamp(&self) -> i64 {
        if self.uses_append_time() {
            self.append_time_ms()
        } else {
            self.max_timestamp()
        }
    }

    /// Whether the stored checksum matches the bytes.
    pub fn crc_ok(&self) -> bool {
        crc32fast::hash(&self.bytes[CRC_START..]) == self.crc()
    }

    /// Full validation of a batch a producer sent: magic, checksum, counts,
    /// every record's framing and the per-record limits — of a compressed
    /// batch too, after decompressing its records (bounded by
    /// `MAX_UNCOMPRESSED_RECORDS_BYTES`: CPU work the caller keeps off its
    /// async workers and out of any lock).
    ///
    /// # Errors
    /// `CorruptBatch` on a checksum mismatch, `RecordTooLarge`, `InvalidBatch`.
    pub fn validate(&self) -> Result<BatchSummary, ProtocolError> {
        if self.magic() != MAGIC {
            return Err(invalid(format!("batch magic {} unsupported (expected {MAGIC})", self.magic())));
        }
        if !self.crc_ok() {
            return Err(ProtocolError::new(ErrorCode::CorruptBatch, "batch checksum does not match its bytes"));
        }
        if self.attributes() & !CODEC_MASK != 0 {
            return Err(invalid(format!("batch attributes {:#x} set bits other than the codec's", self.attributes())));
        }
        let compression = self.compression()?;
        let count = self.record_count();
        if count == 0 || count > MAX_BATCH_RECORDS || self.last_offset_delta() != count - 1 {
            return Err(invalid(format!(
                "record_count {count} / last_offset_delta {} inconsistent (MAX_BATCH_RECORDS {MAX_BATCH_RECORDS})",
                self.last_offset_delta()
            )));
        }
        match compression {
            Compression::None => self.validate_records(self.records_section(), count)?,
            // Records stay compressed on the server; what is inside is
            // checked once here, so no consumer meets a batch that lies.
            c => self.validate_records(&c.decompress(self.records_section())?, count)?,
        }
        Ok(BatchSummary {
            record_count: count,
            first_timestamp: self.first_timestamp(),
            max_timestamp: self.max_timestamp(),
            producer_id: self.producer_id(),
            producer_epoch: self.producer_epoch(),
            base_vlsn: self.base_vlsn(),
        })
    }

    /// Every record of `section` (this batch's records, decompressed):
    /// offset deltas 0, 1, ..; the per-record limits; `count` of them.
    fn validate_records(&self, section: &[u8], count: u32) -> Result<(), ProtocolError> {
        let mut n = 0u32;
        for rec in self.records_in(section) {
            let rec = rec?;
            if rec.offset_delta != n {
                return Err(invalid(format!("record {n} has offset_delta {}", rec.offset_delta)));
            }
            if rec.encoded_len > MAX_RECORD_BYTES {
                return Err(ProtocolError::new(
                    ErrorCode::RecordTooLarge,
                    format!("record of {} bytes; MAX_RECORD_BYTES is {MAX_RECORD_BYTES}", rec.encoded_len),
                ));
            }
            if let Some((k, _)) = rec.headers.iter().find(|(k, _)| k.len() > MAX_HEADER_KEY_BYTES) {
                return Err(invalid(format!(
                    "record {n} has a header key of {} bytes; MAX_HEADER_KEY_BYTES is {MAX_HEADER_KEY_BYTES}",
                    k.len()
                )));
            }
            n += 1;
        }
        if n != count {
            return Err(invalid(format!("batch says {count} records, holds {n}")));
        }
        Ok(())
    }

    /// The codec of the records section.
    ///
    /// # Errors
    /// `InvalidBatch` for codec bits no codec here reads.
    pub fn compression(&self) -> Result<Compression, ProtocolError> {
        Compression::from_attributes(self.attributes())
    }

    /// The bytes after the header: records, or their compressed form.
    pub fn records_section(&self) -> &'a [u8] {
        &self.bytes[HEADER_BYTES..]
    }

    /// The records section decompressed, `None` when it is stored as is.
    ///
    /// # Errors
    /// `InvalidBatch` for an unknown codec or a payload that does not
    /// decompress within `MAX_UNCOMPRESSED_RECORDS_BYTES` to the length it
    /// announces.
    pub fn decompressed(&self) -> Result<Option<Vec<u8>>, ProtocolError> {
        match self.compression()? {
            Compression::None => Ok(None),
            c => c.decompress(self.records_section()).map(Some),
        }
    }

    /// The records section as records: borrowed when stored as is,
    /// decompressed otherwise (decode it with [`BatchView::records_in`]).
    ///
    /// # Errors
    /// As [`BatchView::decompressed`].
    pub fn plain_records(&self) -> Result<std::borrow::Cow<'a, [u8]>, ProtocolError> {
        Ok(match self.decompressed()? {
            Some(records) => std::borrow::Cow::Owned(records),
            None => std::borrow::Cow::Borrowed(self.records_section()),
        })
    }

    /// The records of an uncompressed batch, decoded lazily (a compressed
    /// batch yields one error: decode [`BatchView::decompressed`] with
    /// [`BatchView::records_in`]).
    pub fn records(&self) -> RecordIter<'a> {
        let mut it = self.records_in(self.records_section());
        if self.attributes() & CODEC_MASK != 0 {
            it.cur.pos = it.cur.buf.len();
            it.pending_error = Some(invalid("batch is compressed: decompress its records first"));
        }
        it
    }

    /// The records of this batch's header over `section`, its records
    /// section (decompressed when the batch is compressed).
    pub fn records_in<'b>(&self, section: &'b [u8]) -> RecordIter<'b> {
        RecordIter {
            cur: Cursor { buf: section, pos: 0 },
            base_offset: self.base_offset(),
            first_ts: self.first_timestamp(),
            append_time: self.uses_append_time().then(|| self.append_time_ms()),
            remaining: self.record_count(),
            pending_error: None,
        }
    }
}

/// Writes the server-assigned fields into an encoded batch in place.
///
/// # Panics
/// If `batch` is shorter than a header (callers validate first).
pub fn stamp(batch: &mut [u8], base_offset: u64, leader_epoch: u64, append_time_ms: i64, flags: u8) {
    batch[off::BASE_OFFSET..off::BASE_OFFSET + 8].copy_from_slice(&base_offset.to_le_bytes());
    batch[off::EPOCH..off::EPOCH + 8].copy_from_slice(&leader_epoch.to_le_bytes());
    batch[off::APPEND_TIME..off::APPEND_TIME + 8].copy_from_slice(&append_time_ms.to_le_bytes());
    batch[off::FLAGS] = flags;
}

/// The batch `original` with only some of its records: `records` is the
/// kept records' encodings back to back ([`RecordView::encoded`], in offset
/// order), `count` of them. The header stays as stored — base offset, last
/// offset delta (so the batch still covers its offset range: the dropped
/// records leave holes), epoch, timestamps, producer — with the new count
/// and checksum; the records are compressed again with `compression`.
///
/// # Panics
/// If `count` is 0 or `records` exceeds what a batch holds (a subset of a
/// stored batch never does).
pub fn rebuild(original: &BatchView<'_>, records: &[u8], count: u32, compression: Compression) -> Vec<u8> {
    assert!(count > 0 && count <= original.record_count(), "a rebuilt batch keeps 1..=record_count records");
    let mut b = original.bytes()[..HEADER_BYTES].to_vec();
    let attributes = match compression.compress(records).filter(|p| p.len() < records.len()) {
        Some(packed) => {
            b.extend_from_slice(&packed);
            compression.attribute_bits()
        }
        None => {
            b.extend_from_slice(records);
            0
        }
    };
    b[off::ATTRIBUTES..off::ATTRIBUTES + 2].copy_from_slice(&attributes.to_le_bytes());
    b[off::RECORD_COUNT..off::RECORD_COUNT + 4].copy_from_slice(&count.to_le_bytes());
    seal(&mut b);
    b
}

/// Writes a whole encoded batch's `batch_length` and checksum (the last
/// fields filled in: the checksum covers the others).
fn seal(b: &mut [u8]) {
    let len = (b.len() - LENGTH_PREFIX_BYTES) as u32;
    b[off::LENGTH..off::LENGTH + 4].copy_from_slice(&len.to_le_bytes());
    let crc = crc32fast::hash(&b[CRC_START..]);
    b[off::CRC..off::CRC + 4].copy_from_slice(&crc.to_le_bytes());
}

/// One decoded record, borrowing from the batch bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub offset: u64,
    pub offset_delta: u32,
    pub timestamp: i64,
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    pub headers: Vec<Header<'a>>,
    /// Encoded size including the length prefix.
    pub encoded_len: usize,
    /// The record's encoding, length prefix included (its deltas are
    /// relative to the batch header, so it can move to a rebuilt batch).
    pub encoded: &'a [u8],
}

/// Iterator over a batch's records.
pub struct RecordIter<'a> {
    cur: Cursor<'a>,
    base_offset: u64,
    first_ts: i64,
    append_time: Option<i64>,
    remaining: u32,
    pending_error: Option<ProtocolError>,
}

impl<'a> RecordIter<'a> {
    fn next_record(&mut self) -> Result<RecordView<'a>, ProtocolError> {
        let start = self.cur.pos;
        let len = self.cur.len()?;
        let end = self.cur.pos + len;
        let mut c = Cursor { buf: &self.cur.buf[..end], pos: self.cur.pos };
        let _attributes = c.byte()?;
        let ts_delta = unzigzag(c.varint()?);
        let offset_delta = u32::try_from(c.varint()?).map_err(|_| invalid("record offset_delta exceeds u32"))?;
        let key = match c.varint()? {
            0 => None,
            n => {
                let n = usize::try_from(n - 1)
                    .ok()
                    .filter(|&n| n <= c.buf.len() - c.pos)
                    .ok_or_else(|| invalid("key length runs past the record"))?;
                Some(c.bytes(n))
            }
        };
        let vlen = c.len()?;
        let value = c.bytes(vlen);
        let hcount = c.varint()?;
        if hcount > MAX_HEADERS_PER_RECORD as u64 {
            return Err(invalid(format!(
                "record has {hcount} headers; MAX_HEADERS_PER_RECORD is {MAX_HEADERS_PER_RECORD}"
            )));
        }
        let mut headers = Vec::with_capacity(hcount as usize);
        for _ in 0..hcount {
            let kl = c.len()?;
            let k = std::str::from_utf8(c.bytes(kl)).map_err(|_| invalid("header key is not UTF-8"))?;
            let vl = c.len()?;
            headers.push((k, c.bytes(vl)));
        }
        if c.pos != end {
            return Err(invalid("record length does not match its fields"));
        }
        let offset = self
            .base_offset
            .checked_add(u64::from(offset_delta))
            .ok_or_else(|| invalid(format!("record offset past u64::MAX (base {})", self.base_offset)))?;
        self.cur.pos = end;
        Ok(RecordView {
            offset,
            offset_delta,
            timestamp: self.append_time.unwrap_or_else(|| self.first_ts.wrapping_add(ts_delta)),
            key,
            value,
            headers,
            encoded_len: end - start,
            encoded: &self.cur.buf[start..end],
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordView<'a>, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending_error.take() {
            self.remaining = 0;
            return Some(Err(e));
        }
        if self.remaining == 0 {
            return if self.cur.pos == self.cur.buf.len() {
                None
            } else {
                self.cur.pos = self.cur.buf.len();
                Some(Err(invalid("bytes after the last record")))
            };
        }
        self.remaining -= 1;
        let r = self.next_record();
        if r.is_err() {
            self.remaining = 0;
            self.cur.pos = self.cur.buf.len();
        }
        Some(r)
    }
}

/// Iterates the whole batches of a buffer of concatenated batches (a fetch
/// response or a segment range). Stops at the first incomplete batch.
pub struct BatchIter<'a> {
    rest: &'a [u8],
}

impl<'a> BatchIter<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BatchIter { rest: buf }
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchView<'a>, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        match BatchView::split(self.rest) {
            Ok(Some((b, rest))) => {
                self.rest = rest;
                Some(Ok(b))
            }
            Ok(None) => None,
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = BatchBuilder::new(256);
        b.push(1000, Some(b"k1"), b"v1", &[("h", b"x"), ("h", b"")]).unwrap();
        b.push(990, None, b"", &[]).unwrap();
        b.push(1010, Some(&[0xff, 0x00]), &[0xfe], &[]).unwrap();
        b.finish()
    }

    #[test]
    fn round_trip_preserves_every_field() {
        let mut bytes = sample();
        stamp(&mut bytes, 42, 3, 5000, 0);
        let v = BatchView::new(&bytes).unwrap();
        let s = v.validate().unwrap();
        assert_eq!(s.record_count, 3);
        assert_eq!((v.base_offset(), v.leader_epoch(), v.next_offset()), (42, 3, 45));
        assert_eq!((v.first_timestamp(), v.max_timestamp()), (1000, 1010));
        let recs: Vec<_> = v.records().map(Result::unwrap).collect();
        assert_eq!(recs[0].key, Some(&b"k1"[..]));
        assert_eq!(recs[0].headers, vec![("h", &b"x"[..]), ("h", &b""[..])]);
        assert_eq!((recs[1].key, recs[1].value, recs[1].timestamp), (None, &b""[..], 990));
        assert_eq!((recs[2].offset, recs[2].key), (44, Some(&[0xff, 0x00][..])));
    }

    #[test]
    fn stamping_keeps_the_checksum_valid() {
        let mut bytes = sample();
        let crc = BatchView::new(&bytes).unwrap().crc();
        stamp(&mut bytes, u64::MAX - 10, 9, -1, FLAG_LOG_APPEND_TIME);
        let v = BatchView::new(&bytes).unwrap();
        assert_eq!(v.crc(), crc);
        assert!(v.crc_ok());
        assert!(v.records().all(|r| r.unwrap().timestamp == -1));
    }

    #[test]
    fn flipped_byte_fails_checksum() {
        let mut bytes = sample();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        let e = BatchView::new(&bytes).unwrap().validate().unwrap_err();
        assert_eq!(e.code, ErrorCode::CorruptBatch);
    }

    #[test]
    fn every_truncation_is_incomplete_not_a_panic() {
        let bytes = sample();
        for n in 0..bytes.len() {
            assert!(BatchView::split(&bytes[..n]).unwrap().is_none());
        }
    }

    #[test]
    fn garbage_records_with_valid_crc_are_rejected() {
        let mut bytes = sample();
        for i in HEADER_BYTES..bytes.len() {
            let orig = bytes[i];
            for flip in [0x01u8, 0x80, 0xff] {
                bytes[i] = orig ^ flip;
                let crc = crc32fast::hash(&bytes[CRC_START..]);
                bytes[off::CRC..off::CRC + 4].copy_from_slice(&crc.to_le_bytes());
                // Must not panic; may be valid (value byte changed) or rejected.
                let _ = BatchView::new(&bytes).map(|v| v.validate());
            }
            bytes[i] = orig;
        }
    }

    #[test]
    fn oversized_record_is_refused_before_encoding() {
        let big = vec![0u8; MAX_RECORD_BYTES];
        let mut b = BatchBuilder::new(0);
        let e = b.push(0, None, &big, &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::RecordTooLarge);
        assert_eq!(b.record_count(), 0);
    }

    fn compressible(compression: Compression) -> Vec<u8> {
        let mut b = BatchBuilder::new(64 * 1024);
        for i in 0..500 {
            let value = format!("{{\"order\":{i},\"state\":\"shipped\",\"note\":\"left at the door\"}}");
            b.push(1000 + i, Some(format!("k{i}").as_bytes()), value.as_bytes(), &[("h", b"x")]).unwrap();
        }
        b.finish_compressed(compression)
    }

    #[test]
    fn compressed_batches_validate_without_decoding_and_decompress_to_the_same_records() {
        let plain = compressible(Compression::None);
        let plain_view = BatchView::new(&plain).unwrap();
        let expected: Vec<_> = plain_view.records().map(Result::unwrap).collect();
        for c in [Compression::Snappy, Compression::Lz4, Compression::Zstd { level: 3 }] {
            let mut bytes = compressible(c);
            assert!(bytes.len() < plain.len() / 2, "{c}: {} of {}", bytes.len(), plain.len());
            stamp(&mut bytes, 0, 1, 5, 0);
            let v = BatchView::new(&bytes).unwrap();
            assert_eq!(v.validate().unwrap().record_count, 500);
            assert_eq!(v.compression().unwrap(), Compression::from_attributes(c.attribute_bits()).unwrap());
            assert!(v.records().next().unwrap().is_err(), "{c}: undecompressed records are refused");
            let section = v.decompressed().unwrap().expect("compressed");
            let got: Vec<_> = v.records_in(&section).map(Result::unwrap).collect();
            assert_eq!(got, expected, "{c}");
        }
    }

    #[test]
    fn records_that_do_not_shrink_are_stored_uncompressed() {
        let mut b = BatchBuilder::new(256);
        b.push(0, None, &[0x9c, 0x11, 0xe3, 0x07, 0x5d], &[]).unwrap();
        let bytes = b.finish_compressed(Compression::Zstd { level: 3 });
        let v = BatchView::new(&bytes).unwrap();
        assert_eq!((v.attributes(), v.decompressed().unwrap()), (0, None));
        v.validate().unwrap();
    }

    #[test]
    fn unknown_codecs_and_attribute_bits_are_refused() {
        for attributes in [1u16, 5, 7, 0x10] {
            let mut bytes = sample();
            bytes[off::ATTRIBUTES..off::ATTRIBUTES + 2].copy_from_slice(&attributes.to_le_bytes());
            let crc = crc32fast::hash(&bytes[CRC_START..]);
            bytes[off::CRC..off::CRC + 4].copy_from_slice(&crc.to_le_bytes());
            let e = BatchView::new(&bytes).unwrap().validate().unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidBatch, "attributes {attributes:#x}");
        }
    }

    #[test]
    fn a_rebuilt_batch_keeps_its_offsets_range_and_the_kept_records() {
        for c in [Compression::None, Compression::Lz4] {
            let mut bytes = compressible(c);
            stamp(&mut bytes, 100, 2, 7, 0);
            let v = BatchView::new(&bytes).unwrap();
            let section = v.decompressed().unwrap();
            let section = section.as_deref().unwrap_or(v.records_section());
            let all: Vec<_> = v.records_in(section).map(Result::unwrap).collect();
            let kept: Vec<_> = all.iter().filter(|r| r.offset % 7 == 0).collect();
            let raw: Vec<u8> = kept.iter().flat_map(|r| r.encoded.iter().copied()).collect();
            let rebuilt = rebuild(&v, &raw, kept.len() as u32, c);
            let r = BatchView::new(&rebuilt).unwrap();
            assert!(r.crc_ok());
            assert_eq!((r.base_offset(), r.next_offset(), r.leader_epoch()), (100, 600, 2));
            assert_eq!(r.record_count() as usize, kept.len());
            let section = r.decompressed().unwrap();
            let got: Vec<_> =
                r.records_in(section.as_deref().unwrap_or(r.records_section())).map(Result::unwrap).collect();
            assert_eq!(
                got.iter().map(|x| (x.offset, x.value)).collect::<Vec<_>>(),
                kept.iter().map(|x| (x.offset, x.value)).collect::<Vec<_>>()
            );
        }
    }

    /// Found by the `record_batch` fuzz target.
    #[test]
    fn offsets_past_u64_max_are_an_error_not_an_overflow() {
        let mut bytes = sample();
        stamp(&mut bytes, u64::MAX - 1, 1, 0, 0);
        let v = BatchView::new(&bytes).unwrap();
        assert_eq!((v.last_offset(), v.next_offset()), (u64::MAX, u64::MAX));
        let records: Vec<_> = v.records().collect();
        assert!(records[0].is_ok() && records[1].is_ok());
        assert!(records[2].as_ref().unwrap_err().message.contains("u64::MAX"));
    }

    #[test]
    fn batch_iter_splits_concatenated_batches() {
        let a = sample();
        let mut all = a.clone();
        all.extend_from_slice(&a);
        all.extend_from_slice(&a[..20]);
        assert_eq!(BatchIter::new(&all).count(), 2);
    }
}
