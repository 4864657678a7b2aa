//! Request encoding and response decoding for the client.

use bytes::Bytes;
use capnp::message::{Builder, HeapAllocator};
use pyralog_protocol::batch::{BatchBuilder, BatchIter};
use pyralog_protocol::frame::{self, malformed, text};
use pyralog_protocol::limits::MAX_RESPONSE_BYTES;
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::{ErrorCode, ProtocolError};

use std::sync::Arc;

use crate::error::{Error, Result};
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
        return Err(Error::new(ErrorCode::from_u16(e.get_code()), message));
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

/// Checks the framing and checksum of every fetched batch that holds
/// records at or after `from`, and returns the offset after the last one
/// (where the next fetch starts, `from` when there is none) — without
/// decoding a record.
///
/// # Errors
/// `CorruptData` on a checksum mismatch or malformed batch.
pub(crate) fn scan_batches(log: &str, partition: u32, data: &[u8], from: u64) -> Result<u64> {
    let mut next = from;
    for batch in BatchIter::new(data) {
        let batch = batch.map_err(|e| corrupt(log, partition, &e.message))?;
        if batch.next_offset() <= from {
            continue;
        }
        if !batch.crc_ok() {
            return Err(corrupt(
                log,
                partition,
                &format!("batch at offset {} failed its checksum", batch.base_offset()),
            ));
        }
        next = batch.next_offset();
    }
    Ok(next)
}

/// Decodes the records at or after `from` of batches [`scan_batches`]
/// checked, handing each to `emit` (keys, values and header values share
/// `data`).
///
/// # Errors
/// `CorruptData` on a malformed record.
pub(crate) fn decode_records(
    log: &Arc<str>,
    partition: u32,
    data: &Bytes,
    from: u64,
    mut emit: impl FnMut(ConsumerRecord),
) -> Result<()> {
    for batch in BatchIter::new(data) {
        let batch = batch.map_err(|e| corrupt(log, partition, &e.message))?;
        if batch.next_offset() <= from {
            continue;
        }
        let epoch = batch.leader_epoch();
        let at = |e: ProtocolError| {
            corrupt(log, partition, &format!("batch at offset {}: {}", batch.base_offset(), e.message))
        };
        // Records of a compressed batch share its decompressed section.
        let section = match batch.decompressed().map_err(at)? {
            Some(records) => Bytes::from(records),
            None => data.slice_ref(batch.records_section()),
        };
        for rec in batch.records_in(&section) {
            let rec = rec.map_err(at)?;
            if rec.offset < from {
                continue;
            }
            emit(ConsumerRecord {
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
    }
    Ok(())
}

fn corrupt(log: &str, partition: u32, detail: &str) -> Error {
    Error::new(ErrorCode::CorruptData, format!("fetched data of {log}/{partition} is corrupt: {detail}"))
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
        assert_eq!(scan_batches(&log, 0, &data, 11).unwrap(), 15);
        assert_eq!(scan_batches(&log, 0, &data, 15).unwrap(), 15, "nothing at or after 15");
        let mut out = Vec::new();
        decode_records(&log, 0, &data, 11, |r| out.push(r)).unwrap();
        let got: Vec<(u64, &[u8])> = out.iter().map(|r| (r.offset, &r.value[..])).collect();
        assert_eq!(got, [(11, &b"b"[..]), (12, b"c"), (13, b"d"), (14, b"e")]);
    }

    #[test]
    fn scan_reports_a_batch_whose_checksum_fails_with_its_partition_and_offset() {
        let (log, data) = (Arc::from("events"), fetched());
        let mut bad = data.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let e = scan_batches(&log, 2, &bad, 10).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CorruptData);
        assert!(e.to_string().contains("events/2") && e.to_string().contains("offset 13"), "{e}");
    }

    #[test]
    fn a_batch_cut_off_at_the_end_of_a_fetch_is_fetched_again() {
        let (log, data) = (Arc::from("events"), fetched());
        let cut = &data[..data.len() - 1];
        assert_eq!(scan_batches(&log, 0, cut, 10).unwrap(), 13, "the next fetch starts at the cut batch");
    }
}
