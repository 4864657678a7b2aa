//! Every bound in `protocol/src/limits.rs` is held where it is documented.
//! One row per constant: a bound a request can cross is sent to a real
//! server at the limit (not refused for it) and one past it (refused with
//! the typed error, whose message names the constant); a capacity bound is
//! filled to the limit and past it by a named unit test; clamps and
//! transport settings say why no request crosses them. A constant added to
//! `limits.rs` without a row fails `every_limit_has_a_row`.

mod common;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use capnp::message::Builder;
use common::auth::{auth_server, token};
use common::raw::{exchange, raw_authenticate};
use pyralog_protocol::batch::{put_varint, BatchBuilder};
use pyralog_protocol::frame;
use pyralog_protocol::limits::*;
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::ErrorCode;
use pyralog_testkit::TestServer;

/// What a request was answered: fine, or refused with a code and message.
type Answer = Result<(), (ErrorCode, String)>;
type Probe = for<'a> fn(&'a Env) -> Pin<Box<dyn Future<Output = (Answer, Answer)> + 'a>>;

/// How a limit is held to.
enum Held {
    /// Sent at the limit and one past it; the refusal's code.
    Sent(Probe, ErrorCode),
    /// A unit test of this name fills its component to the limit and past it.
    UnitTest(&'static str),
    /// Requests asking for more are served with the limit (never refused).
    Clamped(&'static str),
    /// Not a bound a request crosses.
    NotAnInput(&'static str),
}

/// The server, an admin connection, and a log to write to.
struct Env {
    server: TestServer,
    admin: quinn::Connection,
    log: String,
}

macro_rules! probe {
    ($f:ident) => {
        |env| Box::pin($f(env))
    };
}

fn table() -> Vec<(&'static str, Held)> {
    use Held::*;
    vec![
        ("MAX_LOG_ID_BYTES", Sent(probe!(log_id_bytes), ErrorCode::InvalidLogId)),
        ("MAX_PARTITIONS_PER_LOG", Sent(probe!(partitions_per_log), ErrorCode::InvalidPartitions)),
        ("MAX_LOGS", Sent(probe!(logs_named), ErrorCode::InvalidRequest)),
        ("MAX_RECORD_BYTES", Sent(probe!(record_bytes), ErrorCode::RecordTooLarge)),
        ("MAX_BATCH_BYTES", Sent(probe!(batch_bytes), ErrorCode::BatchTooLarge)),
        ("MAX_BATCH_RECORDS", Sent(probe!(batch_records), ErrorCode::InvalidBatch)),
        ("MAX_HEADERS_PER_RECORD", Sent(probe!(headers_per_record), ErrorCode::InvalidBatch)),
        ("MAX_HEADER_KEY_BYTES", Sent(probe!(header_key_bytes), ErrorCode::InvalidBatch)),
        ("MAX_REQUEST_BYTES", Sent(probe!(request_bytes), ErrorCode::RequestTooLarge)),
        ("MAX_RESPONSE_BYTES", NotAnInput("the client's bound on what it reads from a server (transport.rs)")),
        (
            "MAX_DECODED_BYTES_PER_PARTITION_FETCH",
            UnitTest("small_compressed_batches_that_expand_a_lot_are_decoded_a_bounded_piece_at_a_time"),
        ),
        ("MAX_FETCH_BYTES", Clamped("a fetch asking for more gets at most this much")),
        ("MAX_FETCH_PARTITIONS", Sent(probe!(fetch_partitions), ErrorCode::InvalidRequest)),
        ("MAX_FETCH_WAIT_MS", Clamped("a longer long-poll waits this long")),
        ("MAX_PRODUCE_TIMEOUT_MS", Clamped("a longer durability wait waits this long")),
        ("DECODE_TRAVERSAL_LIMIT_WORDS", NotAnInput("decoder work bound, below it MAX_REQUEST_BYTES decides")),
        ("DECODE_NESTING_LIMIT", NotAnInput("decoder depth bound; the schema nests less deeply")),
        ("MAX_MESSAGE_SEGMENTS", UnitTest("huge_segment_table_is_refused")),
        ("MAX_TEXT_BYTES", Sent(probe!(text_bytes), ErrorCode::InvalidRequest)),
        ("STREAM_RECEIVE_WINDOW_BYTES", NotAnInput("QUIC flow control")),
        ("CONNECTION_RECEIVE_WINDOW_BYTES", NotAnInput("QUIC flow control (strangers get less: strangers.rs)")),
        ("SEND_WINDOW_BYTES", NotAnInput("QUIC flow control")),
        ("UDP_SOCKET_BUFFER_BYTES", NotAnInput("socket sizing")),
        ("IDLE_TIMEOUT_MS", NotAnInput("QUIC liveness")),
        ("KEEP_ALIVE_INTERVAL_MS", NotAnInput("QUIC liveness")),
        ("SILENT_PEER_MS", NotAnInput("client liveness")),
        ("MAX_UDP_PAYLOAD_BYTES", NotAnInput("path MTU ceiling")),
        ("MAX_GSO_SEGMENTS", NotAnInput("segment offload batch")),
        (
            "MAX_IN_FLIGHT_BATCHES_PER_PARTITION",
            UnitTest("given_more_batches_than_remembered_when_oldest_retried_should_refuse_it"),
        ),
        (
            "MAX_PRODUCERS_PER_PARTITION",
            UnitTest("given_more_producers_than_remembered_the_least_recently_writing_is_forgotten"),
        ),
        ("MAX_GROUP_PROTOCOLS", Sent(probe!(group_protocols), ErrorCode::InvalidRequest)),
        ("MAX_GROUP_MEMBERS", UnitTest("a_server_holds_at_most_max_groups_groups_of_at_most_max_group_members")),
        ("MAX_GROUPS", UnitTest("a_server_holds_at_most_max_groups_groups_of_at_most_max_group_members")),
        ("MIN_SESSION_TIMEOUT_MS", Sent(probe!(min_session_timeout), ErrorCode::InvalidSessionTimeout)),
        ("MAX_SESSION_TIMEOUT_MS", Sent(probe!(max_session_timeout), ErrorCode::InvalidSessionTimeout)),
        ("MAX_REBALANCE_TIMEOUT_MS", Sent(probe!(rebalance_timeout), ErrorCode::InvalidSessionTimeout)),
        ("MAX_OFFSET_COMMIT_PARTITIONS", Sent(probe!(commit_partitions), ErrorCode::InvalidRequest)),
        ("MAX_COMMIT_METADATA_BYTES", Sent(probe!(commit_metadata), ErrorCode::InvalidRequest)),
        ("MAX_PRINCIPAL_BYTES", Sent(probe!(principal_bytes), ErrorCode::InvalidRequest)),
        ("MAX_TOKEN_BYTES", Sent(probe!(token_bytes), ErrorCode::AuthenticationFailed)),
        ("MAX_ACLS", UnitTest("the_metadata_holds_at_most_max_logs_logs_and_max_acls_acls")),
    ]
}

/// The constants `limits.rs` declares.
fn declared() -> BTreeSet<String> {
    include_str!("../../protocol/src/limits.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub const "))
        .map(|l| l.split(':').next().unwrap().trim().to_owned())
        .collect()
}

#[test]
fn every_limit_has_a_row() {
    let rows: BTreeSet<String> = table().iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(table().len(), rows.len(), "one row per limit");
    let declared = declared();
    assert_eq!(
        declared.difference(&rows).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "limits without a row in tests/limits.rs"
    );
    assert_eq!(rows.difference(&declared).collect::<Vec<_>>(), Vec::<&String>::new(), "rows of no limit");
    for (limit, held) in table() {
        if let Held::Clamped(why) | Held::NotAnInput(why) | Held::UnitTest(why) = held {
            assert!(!why.is_empty(), "{limit}: say why no request is sent");
        }
    }
}

/// Every `.rs` file under `dir`, as text.
fn sources(dir: &std::path::Path, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() && !p.ends_with("target") {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
}

#[test]
fn every_unit_test_a_row_names_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut all = String::new();
    for crate_dir in ["protocol", "server", "core-client"] {
        sources(&root.join(crate_dir).join("src"), &mut all);
    }
    for (limit, held) in table() {
        if let Held::UnitTest(name) = held {
            assert!(all.contains(&format!("fn {name}()")), "{limit}: no unit test named {name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_a_request_can_cross_is_refused_one_past_it_and_not_at_it() {
    let server = auth_server("");
    let admin = common::raw_connect(&server).await;
    raw_authenticate(&admin, &token(&server, "admin")).await.unwrap();
    let env = Env { server, admin, log: pyralog_testkit::unique("limits") };
    assert_eq!(answer(&env.admin, create_log(&env.log, 1, 1)).await, Ok(()));
    for (limit, held) in table() {
        let Held::Sent(probe, code) = held else { continue };
        let (at, over) = probe(&env).await;
        if let Err((_, message)) = &at {
            assert!(!message.contains(limit), "{limit}: refused at the limit: {message}");
        }
        let (got, message) = over.expect_err(&format!("{limit}: one past the limit was accepted"));
        assert_eq!(got, code, "{limit}: {message}");
        assert!(message.contains(limit), "{limit}: the refusal does not name it: {message}");
    }
}

/// Sends one request; `Ok` unless the answer is an error.
async fn answer(conn: &quinn::Connection, bytes: Vec<u8>) -> Answer {
    let resp = exchange(conn, &bytes).await;
    let msg = frame::decode(&resp, 1 << 24).unwrap();
    match msg.get_root::<response::Reader>().unwrap().which().unwrap() {
        response::Error(e) => {
            let e = e.unwrap();
            Err((ErrorCode::from_u16(e.get_code()), e.get_message().unwrap().to_str().unwrap().to_owned()))
        }
        _ => Ok(()),
    }
}

fn message(fill: impl FnOnce(request::Builder<'_>)) -> Vec<u8> {
    let mut m = Builder::new_default();
    fill(m.init_root::<request::Builder>());
    frame::encode(&m)
}

fn create_log(name: &str, partitions: u32, replication: u32) -> Vec<u8> {
    message(|r| {
        let mut c = r.init_create_log();
        c.set_name(name);
        c.set_partition_count(partitions);
        c.set_replication_factor(replication);
        c.init_config();
    })
}

fn produce(log: &str, batch: &[u8]) -> Vec<u8> {
    common::raw::produce_request(log, batch)
}

/// Both requests, answered in turn.
async fn both(env: &Env, at: Vec<u8>, over: Vec<u8>) -> (Answer, Answer) {
    (answer(&env.admin, at).await, answer(&env.admin, over).await)
}

async fn log_id_bytes(env: &Env) -> (Answer, Answer) {
    let name = |n| "l".repeat(n);
    both(env, create_log(&name(MAX_LOG_ID_BYTES), 1, 1), create_log(&name(MAX_LOG_ID_BYTES + 1), 1, 1)).await
}

/// At the limit a replication factor this node cannot give refuses it.
async fn partitions_per_log(env: &Env) -> (Answer, Answer) {
    let n = MAX_PARTITIONS_PER_LOG;
    both(env, create_log("p-at", n, 5), create_log("p-over", n + 1, 5)).await
}

fn metadata(names: usize) -> Vec<u8> {
    message(|r| {
        let mut l = r.init_metadata().init_logs(names as u32);
        for i in 0..names {
            l.set(i as u32, format!("m{i}").as_str());
        }
    })
}

async fn logs_named(env: &Env) -> (Answer, Answer) {
    both(env, metadata(MAX_LOGS), metadata(MAX_LOGS + 1)).await
}

/// A batch of one record whose value makes its encoding (length prefix
/// included, as the server measures it) exactly `size` bytes.
fn record_of_size(size: usize) -> Vec<u8> {
    let mut v = size;
    while encode_record(&vec![0u8; v], &[]).len() > size {
        v -= 1;
    }
    let record = encode_record(&vec![7u8; v], &[]);
    assert_eq!(record.len(), size);
    batch_of(&[record])
}

/// Encodes one record (offset delta `0`) as the batch format does, without
/// the builder's checks.
fn encode_record(value: &[u8], headers: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut body = vec![0u8, 0, 0, 0]; // attributes, timestamp delta 0, offset delta 0, no key
    put_varint(&mut body, value.len() as u64);
    body.extend_from_slice(value);
    put_varint(&mut body, headers.len() as u64);
    for (k, v) in headers {
        put_varint(&mut body, k.len() as u64);
        body.extend_from_slice(k);
        put_varint(&mut body, v.len() as u64);
        body.extend_from_slice(v);
    }
    let mut rec = Vec::with_capacity(body.len() + 4);
    put_varint(&mut rec, body.len() as u64);
    rec.extend_from_slice(&body);
    rec
}

/// A batch whose records section is `records` (one record each).
fn batch_of(records: &[Vec<u8>]) -> Vec<u8> {
    with_records(records.concat(), records.len() as u32)
}

/// A batch header (from the builder) over `section`, claiming `count`
/// records, length and checksum made right.
fn with_records(section: Vec<u8>, count: u32) -> Vec<u8> {
    let mut b = BatchBuilder::new(128);
    b.push(1, None, b"x", &[]).unwrap();
    let mut batch = b.finish()[..80].to_vec();
    batch.extend_from_slice(&section);
    let len = (batch.len() - 12) as u32;
    batch[8..12].copy_from_slice(&len.to_le_bytes());
    batch[38..42].copy_from_slice(&count.saturating_sub(1).to_le_bytes());
    batch[76..80].copy_from_slice(&count.to_le_bytes());
    let crc = crc32fast::hash(&batch[36..]);
    batch[32..36].copy_from_slice(&crc.to_le_bytes());
    batch
}

async fn record_bytes(env: &Env) -> (Answer, Answer) {
    let log = &env.log;
    both(env, produce(log, &record_of_size(MAX_RECORD_BYTES)), produce(log, &record_of_size(MAX_RECORD_BYTES + 1)))
        .await
}

/// Junk of exactly that many bytes with a batch's length field: at the
/// limit it fails its checksum, past it its size.
async fn batch_bytes(env: &Env) -> (Answer, Answer) {
    let junk = |n: usize| {
        let mut b = vec![1u8; n];
        b[8..12].copy_from_slice(&((n - 12) as u32).to_le_bytes());
        b
    };
    both(env, produce(&env.log, &junk(MAX_BATCH_BYTES)), produce(&env.log, &junk(MAX_BATCH_BYTES + 1))).await
}

/// One record claiming to be that many: at the limit it fails the count, past it the limit.
async fn batch_records(env: &Env) -> (Answer, Answer) {
    let one = encode_record(b"v", &[]);
    let claim = |n| produce(&env.log, &with_records(one.clone(), n));
    both(env, claim(MAX_BATCH_RECORDS), claim(MAX_BATCH_RECORDS + 1)).await
}

async fn headers_per_record(env: &Env) -> (Answer, Answer) {
    let with = |n: usize| {
        let headers: Vec<(&[u8], &[u8])> = vec![(&b"h"[..], &b""[..]); n];
        produce(&env.log, &batch_of(&[encode_record(b"v", &headers)]))
    };
    both(env, with(MAX_HEADERS_PER_RECORD), with(MAX_HEADERS_PER_RECORD + 1)).await
}

async fn header_key_bytes(env: &Env) -> (Answer, Answer) {
    let with = |n: usize| {
        let key = vec![b'k'; n];
        produce(&env.log, &batch_of(&[encode_record(b"v", &[(&key, b"")])]))
    };
    both(env, with(MAX_HEADER_KEY_BYTES), with(MAX_HEADER_KEY_BYTES + 1)).await
}

/// Junk of exactly that many bytes: at the limit it is read and refused
/// as malformed, past it for its size.
async fn request_bytes(env: &Env) -> (Answer, Answer) {
    both(env, vec![0xffu8; MAX_REQUEST_BYTES], vec![0xffu8; MAX_REQUEST_BYTES + 1]).await
}

fn fetch(partitions: usize) -> Vec<u8> {
    message(|r| {
        let mut f = r.init_fetch();
        let mut l = f.reborrow().init_partitions(partitions as u32);
        for i in 0..partitions {
            let mut p = l.reborrow().get(i as u32);
            p.set_log("no-such-log");
            p.set_partition(i as u32);
        }
        f.set_max_wait_ms(0);
    })
}

async fn fetch_partitions(env: &Env) -> (Answer, Answer) {
    both(env, fetch(MAX_FETCH_PARTITIONS), fetch(MAX_FETCH_PARTITIONS + 1)).await
}

async fn text_bytes(env: &Env) -> (Answer, Answer) {
    let describe = |n: usize| message(|r| r.init_describe_log().set_name("t".repeat(n).as_str()));
    both(env, describe(MAX_TEXT_BYTES), describe(MAX_TEXT_BYTES + 1)).await
}

/// A join of group `g`; with no assignor it is refused once its bounds pass.
fn join(protocols: usize, session_timeout_ms: u32, rebalance_timeout_ms: u32) -> Vec<u8> {
    message(|r| {
        let mut j = r.init_join_group();
        j.set_group("limits-group");
        j.set_session_timeout_ms(session_timeout_ms);
        j.set_rebalance_timeout_ms(rebalance_timeout_ms);
        let mut l = j.init_protocols(protocols as u32);
        for i in 0..protocols {
            l.reborrow().get(i as u32).set_name(format!("assignor-{i}").as_str());
        }
    })
}

async fn group_protocols(env: &Env) -> (Answer, Answer) {
    // At the limit the bad session timeout refuses it.
    both(env, join(MAX_GROUP_PROTOCOLS, 0, 0), join(MAX_GROUP_PROTOCOLS + 1, 0, 0)).await
}

async fn min_session_timeout(env: &Env) -> (Answer, Answer) {
    both(env, join(0, MIN_SESSION_TIMEOUT_MS, 0), join(0, MIN_SESSION_TIMEOUT_MS - 1, 0)).await
}

async fn max_session_timeout(env: &Env) -> (Answer, Answer) {
    both(env, join(0, MAX_SESSION_TIMEOUT_MS, 0), join(0, MAX_SESSION_TIMEOUT_MS + 1, 0)).await
}

async fn rebalance_timeout(env: &Env) -> (Answer, Answer) {
    let session = MIN_SESSION_TIMEOUT_MS;
    both(env, join(0, session, MAX_REBALANCE_TIMEOUT_MS), join(0, session, MAX_REBALANCE_TIMEOUT_MS + 1)).await
}

/// A manual commit (no generation) to `limits-commits` of `partitions`
/// offsets, each with `metadata` bytes.
fn commit(log: &str, partitions: usize, metadata: usize) -> Vec<u8> {
    message(|r| {
        let mut c = r.init_offset_commit();
        c.set_group("limits-commits");
        c.set_generation(-1);
        let mut l = c.init_offsets(partitions as u32);
        for i in 0..partitions {
            let mut o = l.reborrow().get(i as u32);
            o.set_log(log);
            o.set_partition(i as u32);
            o.set_metadata("d".repeat(metadata).as_str());
        }
    })
}

async fn commit_partitions(env: &Env) -> (Answer, Answer) {
    both(
        env,
        commit("no-such-log", MAX_OFFSET_COMMIT_PARTITIONS, 0),
        commit("no-such-log", MAX_OFFSET_COMMIT_PARTITIONS + 1, 0),
    )
    .await
}

async fn commit_metadata(env: &Env) -> (Answer, Answer) {
    both(env, commit(&env.log, 1, MAX_COMMIT_METADATA_BYTES), commit(&env.log, 1, MAX_COMMIT_METADATA_BYTES + 1)).await
}

async fn principal_bytes(env: &Env) -> (Answer, Answer) {
    let acl = |n: usize| {
        message(|r| {
            let mut a = r.init_acl_add();
            a.set_principal("p".repeat(n).as_str());
            a.set_operation("read");
            a.set_resource("log:limits");
        })
    };
    both(env, acl(MAX_PRINCIPAL_BYTES), acl(MAX_PRINCIPAL_BYTES + 1)).await
}

/// Each on a fresh connection (a connection gets three failed attempts).
async fn token_bytes(env: &Env) -> (Answer, Answer) {
    let authenticate = |n: usize| message(|r| r.init_authenticate().set_token("t".repeat(n).as_str()));
    let at = answer(&common::raw_connect(&env.server).await, authenticate(MAX_TOKEN_BYTES)).await;
    let over = answer(&common::raw_connect(&env.server).await, authenticate(MAX_TOKEN_BYTES + 1)).await;
    (at, over)
}
