//! Request encoding and response decoding for the client.

use bytes::Bytes;
use capnp::message::{Builder, HeapAllocator};
use pyralog_protocol::batch::{BatchBuilder, BatchIter, BatchView, RecordView};
use pyralog_protocol::compression::{self, CODEC_MASK, MAX_UNCOMPRESSED_RECORDS_BYTES};
use pyralog_protocol::frame::{self, malformed, text};
use pyralog_protocol::limits::{
    MAX_BATCH_RECORDS, MAX_DECODED_BYTES_PER_PARTITION_FETCH, MAX_RECORD_BYTES, MAX_RESPONSE_BYTES,
};
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::{ErrorCode, ProtocolError};

use std::sync::Arc;

use crate::error::{CorruptBatch, Error, Result};
use crate::record::{now_ms, ConsumerRecord, Record};

/// Builds a request message.
pub(crate) fn request(fill: impl FnOnce(request::Builder<'_>)) -> Vec<u8> {
    let mut m: Builder<HeapAllocator> = Builder::new_default();
    fill(m.init_root::<request::Builder>());
    frame::encode(&m)
}

/// Decodes a response, turning an `Error` response into `Err`, and hands
/// the root to `read`.
pub(crate) fn response<T>(bytes: &[u8], read: impl FnOnce(response::WhichReader<'_>) -> Result<T>) -> Result<T> {
    let msg = frame::decode(bytes, MAX_RESPONSE_BYTES).map_err(bad_response)?;
    with_root(&msg, read)
}

/// Like [`response`] for large responses that may carry a payload after
/// the message: reads the message in place and hands `read` a function
/// turning a slice of it into a shared `Bytes` without copying (copying only
/// when the buffer is not word-aligned), and the payload, also shared.
pub(crate) fn response_shared<T>(
    bytes: Bytes,
    read: impl FnOnce(response::WhichReader<'_>, &dyn Fn(&[u8]) -> Bytes, Bytes) -> Result<T>,
) -> Result<T> {
    let (message, payload) = frame::split_payload(&bytes).map_err(bad_response)?;
    let payload = bytes.slice_ref(payload);
    if frame::is_word_aligned(message) {
        let msg = frame::decode_flat(message, MAX_RESPONSE_BYTES).map_err(bad_response)?;
        with_root(&msg, |w| read(w, &|s: &[u8]| bytes.slice_ref(s), payload))
    } else {
        let msg = frame::decode(message, MAX_RESPONSE_BYTES).map_err(bad_response)?;
        with_root(&msg, |w| read(w, &Bytes::copy_from_slice, payload))
    }
}

/// A response whose payload disagrees with the lengths its message declares.
pub(crate) fn bad_payload(detail: String) -> Error {
    Error::new(ErrorCode::Unknown, format!("malformed response from server: {detail}"))
}

fn with_root<S: capnp::message::ReaderSegments, T>(
    msg: &capnp::message::Reader<S>,
    read: impl FnOnce(response::WhichReader<'_>) -> Result<T>,
) -> Result<T> {
    let root = msg.get_root::<response::Reader>().map_err(|e| bad_response(malformed(e)))?;
    let which = root.which().map_err(|e| Error::new(ErrorCode::Unknown, format!("unknown response type {}", e.0)))?;
    if let response::Error(e) = which {
        let e = e.map_err(|e| bad_response(malformed(e)))?;
        let message = text(e.get_message(), "message").unwrap_or("(unreadable message)");
        return Err(Error::new(ErrorCode::from_u16(e.get_code()), message).with_retry_after_ms(e.get_retry_after_ms()));
    }
    read(which)
}

fn bad_response(e: pyralog_protocol::ProtocolError) -> Error {
    Error::new(ErrorCode::Unknown, format!("malformed response from server: {}", e.message))
}

pub(crate) fn unexpected() -> Error {
    Error::new(ErrorCode::Unknown, "server answered with a response of another request type")
}

/// Maps a capnp read error inside a response.
pub(crate) fn capnp_err(e: capnp::Error) -> Error {
    bad_response(malformed(e))
}

/// Encodes records as one batch.
///
/// # Errors
/// `RecordTooLarge` or `InvalidBatch` from the per-record limits.
pub(crate) fn encode_batch<'a>(records: impl IntoIterator<Item = &'a Record>, capacity: usize) -> Result<Vec<u8>> {
    let mut b = BatchBuilder::new(capacity);
    let now = now_ms();
    for r in records {
        b.push(r.timestamp.unwrap_or(now), r.key.as_deref(), &r.value, &r.header_refs())?;
    }
    if b.record_count() == 0 {
        return Err(Error::invalid_argument("a batch needs at least one record"));
    }
    Ok(b.finish())
}

/// What [`scan_batches`] found in a partition's fetched data.
pub(crate) struct Scanned {
    /// The offset after the last batch to decode (where the next fetch
    /// starts; `from` when there is none).
    pub next: u64,
    /// The first batch at `next` that fails its framing or checksum: it is
    /// reported once the records before it are taken.
    pub corrupt: Option<Error>,
}

/// Checks the framing and checksum of every fetched batch that holds
/// records at or after `from`, up to the first that fails, without decoding
/// a record. Batches past `MAX_DECODED_BYTES_PER_PARTITION_FETCH` of records
/// (as decompressed) are left for the next fetch.
pub(crate) fn scan_batches(log: &str, partition: u32, data: &[u8], from: u64) -> Scanned {
    let mut next = from;
    let mut decoded = 0usize;
    for batch in BatchIter::new(data) {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return Scanned { next, corrupt: Some(corrupt_at(log, partition, next, None, &e.message)) },
        };
        if batch.next_offset() <= from {
            continue;
        }
        if !batch.crc_ok() {
            let detail = format!("the batch at offset {} failed its checksum", batch.base_offset());
            return Scanned { next, corrupt: Some(corrupt_at(log, partition, next, Some(&batch), &detail)) };
        }
        decoded += decoded_size(&batch);
        if next > from && decoded > MAX_DECODED_BYTES_PER_PARTITION_FETCH {
            break;
        }
        next = batch.next_offset();
    }
    Scanned { next, corrupt: None }
}

/// `CorruptData` for the batch read at `first` (`batch`, when its framing
/// held): its range reaches the batch's last offset when the header is
/// plausible (it starts at or before `first`, within a batch's size), else
/// `first` alone, so skipping always moves on.
fn corrupt_at(log: &str, partition: u32, first: u64, batch: Option<&BatchView<'_>>, detail: &str) -> Error {
    let last = batch
        .filter(|b| b.base_offset() <= first && b.last_offset_delta() < MAX_BATCH_RECORDS)
        .map_or(first, |b| b.last_offset().max(first));
    let at = CorruptBatch { log: log.to_owned(), partition, first_offset: first, last_offset: last };
    Error::corrupt_data(at, detail)
}

/// A partition's fetch error, read from `offset`: the server's own
/// `CorruptData` (a stored batch there failed its checksum or framing; the
/// server serves the batches before it and refuses it) names no batch, so it
/// is named here. The server does not say where that batch ends: the range
/// is `offset` alone, so that skipping always moves on (through a batch of
/// several records, one record per seek). Every other error is unchanged.
pub(crate) fn locate_fetch_error(e: Error, log: &str, partition: u32, offset: u64) -> Error {
    if e.code() != ErrorCode::CorruptData || e.corrupt_batch().is_some() {
        return e;
    }
    corrupt_at(log, partition, offset, None, e.message())
}

/// Bytes a batch's records take once decompressed (what it announces; an
/// invalid announcement counts as the most a batch may hold).
fn decoded_size(batch: &BatchView<'_>) -> usize {
    match batch.attributes() & CODEC_MASK {
        0 => batch.records_section().len(),
        _ => compression::announced_length(batch.records_section()).unwrap_or(MAX_UNCOMPRESSED_RECORDS_BYTES),
    }
}

/// Decodes the records in `from..until` of batches [`scan_batches`]
/// checked, handing each to `emit` (keys, values and header values share
/// `data`, or a batch's decompressed records), a whole batch at a time.
/// Records of a compressed batch stored before the server checked them
/// must rise within the batch's range and each fit `MAX_RECORD_BYTES`.
///
/// # Errors
/// `CorruptData` (with [`Error::corrupt_batch`]) for the first batch with a
/// malformed record or compressed payload; the records of every batch
/// before it were emitted, none of its own.
pub(crate) fn decode_records(
    log: &Arc<str>,
    partition: u32,
    data: &Bytes,
    (from, until): (u64, u64),
    mut emit: impl FnMut(ConsumerRecord),
) -> Result<()> {
    let mut decoded = Vec::new();
    for batch in BatchIter::new(data) {
        let batch = batch.map_err(|e| corrupt_at(log, partition, from, None, &e.message))?;
        if batch.base_offset() >= until {
            break;
        }
        if batch.next_offset() <= from {
            continue;
        }
        decode_batch(log, partition, data, &batch, from, &mut decoded).map_err(|e| {
            let first = batch.base_offset().max(from);
            corrupt_at(
                log,
                partition,
                first,
                Some(&batch),
                &format!("the batch at offset {}: {}", batch.base_offset(), e.message),
            )
        })?;
        decoded.drain(..).for_each(&mut emit);
    }
    Ok(())
}

/// The records at or after `from` of one checked batch, into `out` (left
/// partly filled on error: the caller drops it).
fn decode_batch(
    log: &Arc<str>,
    partition: u32,
    data: &Bytes,
    batch: &BatchView<'_>,
    from: u64,
    out: &mut Vec<ConsumerRecord>,
) -> std::result::Result<(), ProtocolError> {
    let epoch = batch.leader_epoch();
    // Records of a compressed batch share its decompressed section.
    let section = match batch.decompressed()? {
        Some(records) => Bytes::from(records),
        None => data.slice_ref(batch.records_section()),
    };
    let mut previous: Option<u32> = None;
    for rec in batch.records_in(&section) {
        let rec = rec?;
        check_record(batch, previous, &rec)?;
        previous = Some(rec.offset_delta);
        if rec.offset < from {
            continue;
        }
        out.push(ConsumerRecord {
            log: Arc::clone(log),
            partition,
            offset: rec.offset,
            epoch,
            timestamp: rec.timestamp,
            key: rec.key.map(|k| section.slice_ref(k)),
            value: section.slice_ref(rec.value),
            headers: rec.headers.iter().map(|(k, v)| ((*k).to_owned(), section.slice_ref(v))).collect(),
        });
    }
    Ok(())
}

/// A record's offset rises within its batch's range, and it fits the
/// record limit (holes are allowed: compaction leaves them).
fn check_record(
    batch: &BatchView<'_>,
    previous: Option<u32>,
    rec: &RecordView<'_>,
) -> std::result::Result<(), ProtocolError> {
    let bad = |what: String| ProtocolError::new(ErrorCode::CorruptData, what);
    if previous.is_some_and(|p| rec.offset_delta <= p) || rec.offset_delta > batch.last_offset_delta() {
        return Err(bad(format!(
            "record offset delta {} out of order or past the batch's last ({})",
            rec.offset_delta,
            batch.last_offset_delta()
        )));
    }
    if rec.encoded_len > MAX_RECORD_BYTES {
        return Err(bad(format!("record of {} bytes; MAX_RECORD_BYTES is {MAX_RECORD_BYTES}", rec.encoded_len)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use pyralog_protocol::batch::stamp;

    use super::*;
    use crate::record::Record;

    /// Two stamped batches, offsets 10..13 and 13..15, as a fetch returns them.
    fn fetched() -> Bytes {
        let mut data = Vec::new();
        for (base, values) in [(10, &["a", "b", "c"][..]), (13, &["d", "e"][..])] {
            let records: Vec<Record> = values.iter().map(|v| Record::new(Bytes::from(*v))).collect();
            let mut batch = encode_batch(&records, 256).unwrap();
            stamp(&mut batch, base, 1, 0, 0);
            data.extend_from_slice(&batch);
        }
        Bytes::from(data)
    }

    #[test]
    fn scan_finds_the_next_fetch_offset_and_decode_starts_at_from() {
        let (log, data) = (Arc::from("events"), fetched());
        assert_eq!(scan_batches(&log, 0, &data, 11).next, 15);
        assert_eq!(scan_batches(&log, 0, &data, 15).next, 15, "nothing at or after 15");
        let mut out = Vec::new();
        decode_records(&log, 0, &data, (11, 15), |r| out.push(r)).unwrap();
        let got: Vec<(u64, &[u8])> = out.iter().map(|r| (r.offset, &r.value[..])).collect();
        assert_eq!(got, [(11, &b"b"[..]), (12, b"c"), (13, b"d"), (14, b"e")]);
    }

    #[test]
    fn scan_stops_before_a_batch_whose_checksum_fails_and_names_its_range() {
        let (log, data) = (Arc::from("events"), fetched());
        let mut bad = data.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let scanned = scan_batches(&log, 2, &bad, 10);
        assert_eq!(scanned.next, 13, "the records before the bad batch are to be taken");
        let e = scanned.corrupt.unwrap();
        assert_eq!(e.code(), ErrorCode::CorruptData);
        assert!(e.to_string().contains("events/2") && e.to_string().contains("offset 13"), "{e}");
        let at = e.corrupt_batch().unwrap();
        assert_eq!((at.partition, at.first_offset, at.last_offset), (2, 13, 14));
        assert!(e.message().contains("seek the partition to 15"), "{e}");
        let scanned = scan_batches(&log, 2, &bad, 13);
        assert_eq!((scanned.next, scanned.corrupt.is_some()), (13, true), "reported again from there");
    }

    #[test]
    fn a_corrupt_data_fetch_error_of_the_server_is_named_at_the_fetch_offset() {
        let server = Error::new(ErrorCode::CorruptData, "corrupt data in 00.log at byte position 282");
        let e = locate_fetch_error(server, "events", 2, 3);
        assert_eq!(e.code(), ErrorCode::CorruptData);
        let at = e.corrupt_batch().unwrap();
        assert_eq!((at.log.as_str(), at.partition, at.first_offset, at.last_offset), ("events", 2, 3, 3));
        assert!(e.message().contains("byte position 282") && e.message().contains("seek the partition to 4"), "{e}");
        let other = Error::new(ErrorCode::NotLeader, "moved");
        assert_eq!(locate_fetch_error(other.clone(), "events", 2, 3), other, "only CorruptData is named");
    }

    #[test]
    fn decoding_delivers_every_batch_before_one_that_does_not_decode_and_none_of_it() {
        let log: Arc<str> = Arc::from("events");
        let mut data = fetched().to_vec();
        // A third batch, 15..17, whose checksum holds but whose records
        // section is noise (stored before the server checked records).
        let records: Vec<Record> = ["f", "g"].iter().map(|v| Record::new(Bytes::from(*v))).collect();
        let mut third = encode_batch(&records, 256).unwrap();
        third[80] = 0x7f;
        let crc = crc32fast::hash(&third[36..]);
        third[32..36].copy_from_slice(&crc.to_le_bytes());
        stamp(&mut third, 15, 1, 0, 0);
        data.extend_from_slice(&third);
        let data = Bytes::from(data);
        let scanned = scan_batches(&log, 0, &data, 10);
        assert_eq!((scanned.next, scanned.corrupt.is_none()), (17, true), "the framing and checksum hold");
        let mut out = Vec::new();
        let e = decode_records(&log, 0, &data, (11, 17), |r| out.push(r.offset)).unwrap_err();
        assert_eq!(out, [11, 12, 13, 14]);
        let at = e.corrupt_batch().unwrap();
        assert_eq!((at.first_offset, at.last_offset), (15, 16));
    }

    #[test]
    fn small_compressed_batches_that_expand_a_lot_are_decoded_a_bounded_piece_at_a_time() {
        use pyralog_protocol::batch::BatchBuilder;
        use pyralog_protocol::compression::Compression;
        let mut data = Vec::new();
        for i in 0..5u64 {
            let mut b = BatchBuilder::new(0);
            for _ in 0..7 {
                b.push(0, None, &vec![0u8; 1_000_000], &[]).unwrap();
            }
            let mut batch = b.finish_compressed(Compression::Zstd { level: 3 });
            stamp(&mut batch, i * 7, 1, 0, 0);
            data.extend_from_slice(&batch);
        }
        assert!(data.len() < 64 * 1024, "35 MB of records in {} bytes", data.len());
        let (log, data) = (Arc::from("bombs"), Bytes::from(data));
        let next = scan_batches(&log, 0, &data, 0).next;
        assert_eq!(next, 14, "two batches (14 MB) fit MAX_DECODED_BYTES_PER_PARTITION_FETCH, the rest waits");
        let mut n = 0;
        decode_records(&log, 0, &data, (0, next), |_| n += 1).unwrap();
        assert_eq!(n, 14);
        assert_eq!(scan_batches(&log, 0, &data, next).next, 28, "the next piece");
    }

    #[test]
    fn a_batch_cut_off_at_the_end_of_a_fetch_is_fetched_again() {
        let (log, data) = (Arc::from("events"), fetched());
        let cut = &data[..data.len() - 1];
        assert_eq!(scan_batches(&log, 0, cut, 10).next, 13, "the next fetch starts at the cut batch");
    }
}
