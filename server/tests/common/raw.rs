//! Raw requests on a bare QUIC connection: what a hostile or home-made
//! client sends, without the core client's checks.

use std::time::Duration;

use capnp::message::Builder;
use pyralog_protocol::batch::BatchBuilder;
use pyralog_protocol::frame;
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::ErrorCode;

/// Longest a raw request waits for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Sends raw bytes as one request; returns the answer's bytes.
pub async fn exchange(conn: &quinn::Connection, bytes: &[u8]) -> Vec<u8> {
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    // The server may stop reading early (oversized input); that is fine.
    let _ = send.write_all(bytes).await;
    let _ = send.finish();
    tokio::time::timeout(ANSWER_TIMEOUT, recv.read_to_end(MAX_ANSWER_BYTES)).await.unwrap().unwrap()
}

/// Sends raw bytes as one request; returns the error answered.
///
/// # Panics
/// When the answer is not an error.
pub async fn raw_refusal(conn: &quinn::Connection, bytes: &[u8]) -> (ErrorCode, String) {
    refusal_of(&exchange(conn, bytes).await)
}

/// Sends raw bytes as one request; returns the error code answered.
pub async fn raw_error(conn: &quinn::Connection, bytes: &[u8]) -> ErrorCode {
    raw_refusal(conn, bytes).await.0
}

/// The error of an answer.
///
/// # Panics
/// When the answer is not an error.
pub fn refusal_of(resp: &[u8]) -> (ErrorCode, String) {
    let msg = frame::decode(resp, MAX_ANSWER_BYTES).unwrap();
    match msg.get_root::<response::Reader>().unwrap().which().unwrap() {
        response::Error(e) => {
            let e = e.unwrap();
            (ErrorCode::from_u16(e.get_code()), e.get_message().unwrap().to_str().unwrap().to_owned())
        }
        _ => panic!("expected an error response"),
    }
}

/// Whether an answer is a produce acknowledgement.
pub fn is_produced(resp: &[u8]) -> bool {
    let msg = frame::decode(resp, MAX_ANSWER_BYTES).unwrap();
    matches!(msg.get_root::<response::Reader>().unwrap().which().unwrap(), response::Produce(_))
}

/// A produce request carrying `batch` inline, to partition 0.
pub fn produce_request(log: &str, batch: &[u8]) -> Vec<u8> {
    let mut m = Builder::new_default();
    let mut p = m.init_root::<request::Builder>().init_produce();
    p.set_log(log);
    p.set_partition(0);
    p.set_batch(batch);
    frame::encode(&m)
}

/// A batch of one keyless record.
pub fn one_record_batch(value: &[u8]) -> Vec<u8> {
    let mut b = BatchBuilder::new(value.len() + 128);
    b.push(1, None, value, &[]).unwrap();
    b.finish()
}

/// Authenticates a bare connection with `token`; the principal, or the error code.
pub async fn raw_authenticate(conn: &quinn::Connection, token: &str) -> Result<String, ErrorCode> {
    let mut m = Builder::new_default();
    m.init_root::<request::Builder>().init_authenticate().set_token(token);
    let bytes = exchange(conn, &frame::encode(&m)).await;
    let msg = frame::decode(&bytes, MAX_ANSWER_BYTES).unwrap();
    match msg.get_root::<response::Reader>().unwrap().which().unwrap() {
        response::Authenticate(a) => Ok(a.unwrap().get_principal().unwrap().to_str().unwrap().to_owned()),
        response::Error(e) => Err(ErrorCode::from_u16(e.unwrap().get_code())),
        _ => panic!("unexpected response"),
    }
}
