//! Cap'n Proto message framing with the protocol's decode limits.
//!
//! A request or response is one message in Cap'n Proto's standard stream
//! framing (segment table, then segments). Decoding always sets an explicit
//! traversal and nesting limit, and refuses input over the size limit before
//! parsing.
//!
//! A stream may carry a *payload* after the message: raw bytes whose length
//! the message declares (a produce request's batch, a fetch response's
//! record batches), so bulk data is never copied into or out of a message.
//! [`split_payload`] finds where the message ends.

use capnp::message::{Builder, HeapAllocator, Reader, ReaderOptions};
use capnp::serialize::{BufferSegments, OwnedSegments};

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::{DECODE_NESTING_LIMIT, DECODE_TRAVERSAL_LIMIT_WORDS, MAX_MESSAGE_SEGMENTS};

/// Serializes a message to bytes.
pub fn encode(message: &Builder<HeapAllocator>) -> Vec<u8> {
    capnp::serialize::write_message_to_words(message)
}

/// The reader options every decode uses.
pub fn reader_options() -> ReaderOptions {
    let mut o = ReaderOptions::new();
    o.traversal_limit_in_words(Some(DECODE_TRAVERSAL_LIMIT_WORDS)).nesting_limit(DECODE_NESTING_LIMIT);
    o
}

/// A list's length if at most `max`. Decoders check every list before
/// reading it: a list of empty elements claims any length at no cost to the
/// sender (the traversal limit counts each as a word, which still lets a
/// 72-byte message ask for millions of them).
///
/// # Errors
/// `InvalidRequest` naming the list and the limit.
pub fn bounded_len(len: u32, max: usize, limit: &str, what: &str) -> Result<usize, ProtocolError> {
    let n = len as usize;
    if n > max {
        return Err(ProtocolError::new(ErrorCode::InvalidRequest, format!("{what} has {n} entries; {limit} is {max}")));
    }
    Ok(n)
}

/// Parses one whole message of at most `max_bytes`.
///
/// # Errors
/// `RequestTooLarge` over `max_bytes`; `InvalidRequest` for malformed or
/// truncated framing, or bytes after the message.
pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Reader<OwnedSegments>, ProtocolError> {
    parse(bytes, max_bytes, |slice| capnp::serialize::read_message(slice, options_for(max_bytes)))
}

/// Reader options for a message of at most `max_bytes`: every word readable
/// twice (far pointers, repeated reads), never past the global limit.
fn options_for(max_bytes: usize) -> ReaderOptions {
    let mut o = reader_options();
    o.traversal_limit_in_words(Some((max_bytes / 8 * 2).clamp(1024, DECODE_TRAVERSAL_LIMIT_WORDS)));
    o
}

/// Parses one whole message in place, without copying. `bytes` must be
/// 8-byte aligned (as a buffer from the allocator is); check with
/// [`is_word_aligned`] and use [`decode`] otherwise.
///
/// # Errors
/// As [`decode`], plus `InvalidRequest` for a misaligned buffer.
pub fn decode_flat(bytes: &[u8], max_bytes: usize) -> Result<Reader<BufferSegments<&[u8]>>, ProtocolError> {
    if !is_word_aligned(bytes) {
        return Err(ProtocolError::new(ErrorCode::InvalidRequest, "message buffer is not 8-byte aligned"));
    }
    parse(bytes, max_bytes, |slice| capnp::serialize::read_message_from_flat_slice(slice, options_for(max_bytes)))
}

/// The checks every decode makes around the Cap'n Proto reader: size limit
/// and segment count before parsing, no trailing bytes after.
fn parse<'a, S>(
    bytes: &'a [u8],
    max_bytes: usize,
    read: impl FnOnce(&mut &'a [u8]) -> capnp::Result<Reader<S>>,
) -> Result<Reader<S>, ProtocolError>
where
    S: capnp::message::ReaderSegments,
{
    if bytes.len() > max_bytes {
        return Err(ProtocolError::new(
            ErrorCode::RequestTooLarge,
            format!("message of {} bytes exceeds the limit of {max_bytes}", bytes.len()),
        ));
    }
    check_segment_count(bytes)?;
    let mut slice = bytes;
    let reader = read(&mut slice)
        .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, format!("malformed message: {e}")))?;
    if !slice.is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("{} bytes after the end of the message", slice.len()),
        ));
    }
    Ok(reader)
}

/// Whether `bytes` may be read in place by [`decode_flat`].
pub fn is_word_aligned(bytes: &[u8]) -> bool {
    bytes.as_ptr() as usize % 8 == 0
}

fn check_segment_count(bytes: &[u8]) -> Result<(), ProtocolError> {
    let Some(head) = bytes.get(..4) else {
        return Err(ProtocolError::new(ErrorCode::InvalidRequest, "message truncated in its segment table"));
    };
    let segments = (u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize).saturating_add(1);
    if segments > MAX_MESSAGE_SEGMENTS {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("message has {segments} segments; MAX_MESSAGE_SEGMENTS is {MAX_MESSAGE_SEGMENTS}"),
        ));
    }
    Ok(())
}

/// Splits a stream's bytes into the framed message and the payload after
/// it, reading the message's length from its segment table (all arithmetic
/// checked; nothing is parsed).
///
/// # Errors
/// `InvalidRequest` when the segment table is truncated or too large, or
/// the message is longer than `bytes`.
pub fn split_payload(bytes: &[u8]) -> Result<(&[u8], &[u8]), ProtocolError> {
    let truncated = || ProtocolError::new(ErrorCode::InvalidRequest, "message truncated in its segment table");
    check_segment_count(bytes)?;
    let segments = (u32::from_le_bytes(bytes[..4].try_into().expect("checked above")) as usize).saturating_add(1);
    // The table: the count and one size per segment, 4 bytes each, padded to 8.
    let table_bytes = (4 + 4 * segments).next_multiple_of(8);
    let table = bytes.get(4..4 + 4 * segments).ok_or_else(truncated)?;
    let words = table
        .chunks_exact(4)
        .try_fold(0usize, |sum, w| sum.checked_add(u32::from_le_bytes(w.try_into().expect("4 bytes")) as usize));
    let message_bytes = words
        .and_then(|w| w.checked_mul(8))
        .and_then(|b| b.checked_add(table_bytes))
        .filter(|len| *len <= bytes.len())
        .ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::InvalidRequest,
                format!("message truncated: its segment table declares more than the {} bytes present", bytes.len()),
            )
        })?;
    Ok(bytes.split_at(message_bytes))
}

/// Maps a Cap'n Proto read error (a field of the wrong kind, bad pointer) to
/// `InvalidRequest`.
pub fn malformed(e: capnp::Error) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRequest, format!("malformed message: {e}"))
}

/// Reads a text field as `&str`, refusing invalid UTF-8 and over-long text.
///
/// # Errors
/// `InvalidRequest` naming the field.
pub fn text<'a>(r: capnp::Result<capnp::text::Reader<'a>>, field: &str) -> Result<&'a str, ProtocolError> {
    let t = r.map_err(malformed)?;
    if t.as_bytes().len() > crate::limits::MAX_TEXT_BYTES {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("field {field} exceeds MAX_TEXT_BYTES ({})", crate::limits::MAX_TEXT_BYTES),
        ));
    }
    t.to_str().map_err(|_| ProtocolError::new(ErrorCode::InvalidRequest, format!("field {field} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyralog_capnp::request;

    fn err(bytes: &[u8], max: usize) -> ProtocolError {
        match decode(bytes, max) {
            Ok(_) => panic!("decoded"),
            Err(e) => e,
        }
    }

    fn sample() -> Vec<u8> {
        let mut m = Builder::new_default();
        let r = m.init_root::<request::Builder>();
        r.init_describe_log().set_name("events");
        encode(&m)
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let msg = decode(&bytes, 1 << 20).unwrap();
        let req = msg.get_root::<request::Reader>().unwrap();
        match req.which().unwrap() {
            request::DescribeLog(d) => assert_eq!(text(d.unwrap().get_name(), "name").unwrap(), "events"),
            _ => panic!("wrong variant"),
        }
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = sample();
        for n in 0..bytes.len() {
            let e = err(&bytes[..n], 1 << 20);
            assert_eq!(e.code, ErrorCode::InvalidRequest, "at {n}");
        }
    }

    #[test]
    fn oversized_and_trailing_bytes_are_refused() {
        let mut bytes = sample();
        assert_eq!(err(&bytes, 8).code, ErrorCode::RequestTooLarge);
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(err(&bytes, 1 << 20).code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn flat_decode_agrees_with_owned_decode() {
        let aligned = sample();
        // Heap buffers are word-aligned on every platform we build for.
        assert!(is_word_aligned(&aligned));
        let msg = decode_flat(&aligned, 1 << 20).unwrap();
        assert!(msg.get_root::<request::Reader>().is_ok());
        for n in 0..aligned.len() {
            assert!(decode_flat(&aligned[..n], 1 << 20).is_err());
        }
        assert!(decode_flat(&aligned[1..], 1 << 20).is_err(), "misaligned input is refused");
    }

    #[test]
    fn payload_is_split_off_after_the_message() {
        let message = sample();
        let mut bytes = message.clone();
        bytes.extend_from_slice(b"payload");
        let (m, p) = split_payload(&bytes).unwrap();
        assert_eq!((m, p), (&message[..], &b"payload"[..]));
        assert!(decode(m, 1 << 20).is_ok());
        assert_eq!(split_payload(&message).unwrap().1, b"");
        for n in 0..message.len() {
            assert_eq!(split_payload(&message[..n]).unwrap_err().code, ErrorCode::InvalidRequest, "at {n}");
        }
        let overflowing = [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(split_payload(&overflowing).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn huge_segment_table_is_refused() {
        let bytes = [0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0];
        assert_eq!(err(&bytes, 1 << 20).code, ErrorCode::InvalidRequest);
    }
}
