//! Request encoding and response decoding for the client.

use bytes::Bytes;
use capnp::message::{Builder, HeapAllocator};
use pyralog_protocol::batch::{BatchBuilder, BatchIter};
use pyralog_protocol::frame::{self, malformed, text};
use pyralog_protocol::limits::MAX_RESPONSE_BYTES;
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::ErrorCode;

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

/// Decodes the records of fetched batches at or after `from`, verifying each
/// batch's checksum.
///
/// # Errors
/// `CorruptData` on a checksum mismatch or malformed batch.
pub(crate) fn decode_records(
    log: &Arc<str>,
    partition: u32,
    data: Bytes,
    from: u64,
    out: &mut Vec<ConsumerRecord>,
) -> Result<u64> {
    let mut next = from;
    for batch in BatchIter::new(&data) {
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
        let epoch = batch.leader_epoch();
        for rec in batch.records() {
            let rec = rec.map_err(|e| corrupt(log, partition, &e.message))?;
            if rec.offset < from {
                continue;
            }
            out.push(ConsumerRecord {
                log: Arc::clone(log),
                partition,
                offset: rec.offset,
                epoch,
                timestamp: rec.timestamp,
                key: rec.key.map(|k| data.slice_ref(k)),
                value: data.slice_ref(rec.value),
                headers: rec.headers.iter().map(|(k, v)| ((*k).to_owned(), data.slice_ref(v))).collect(),
            });
        }
        next = batch.next_offset();
    }
    Ok(next)
}

fn corrupt(log: &str, partition: u32, detail: &str) -> Error {
    Error::new(ErrorCode::CorruptData, format!("fetched data of {log}/{partition} is corrupt: {detail}"))
}
