//! Bad input on a raw QUIC stream: each answers a typed error or is cut off
//! by a limit, and the server keeps serving everyone else.

mod common;

use std::time::{Duration, Instant};

use capnp::message::Builder;
use common::{unique, TestServer};
use pyralog::{Compression, LogOffset, Record};
use pyralog_protocol::batch::BatchBuilder;
use pyralog_protocol::frame;
use pyralog_protocol::limits::{MAX_BATCH_BYTES, MAX_RECORD_BYTES, MAX_REQUEST_BYTES};
use pyralog_protocol::pyralog_capnp::{request, response};
use pyralog_protocol::ErrorCode;

use common::raw::{one_record_batch, produce_request, raw_error, refusal_of};
use common::{raw_connect, raw_endpoint};

async fn still_serves(server: &TestServer, log: &str) {
    let c = server.client().await;
    c.produce(log, Record::new("ok").partition(0)).await.unwrap();
    c.close().await;
}

#[tokio::test]
async fn malformed_truncated_and_oversized_requests_get_typed_errors() {
    let server = common::start();
    let log = unique("bad-input");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let conn = raw_connect(&server).await;

    assert_eq!(raw_error(&conn, b"definitely not capnp").await, ErrorCode::InvalidRequest);
    assert_eq!(raw_error(&conn, &[]).await, ErrorCode::InvalidRequest);
    let good = produce_request(&log, &one_record_batch(b"v"));
    for cut in [3, 8, good.len() / 2, good.len() - 1] {
        assert_eq!(raw_error(&conn, &good[..cut]).await, ErrorCode::InvalidRequest, "cut at {cut}");
    }
    assert_eq!(raw_error(&conn, &[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]).await, ErrorCode::InvalidRequest);
    let huge = vec![0u8; MAX_REQUEST_BYTES + 1];
    assert_eq!(raw_error(&conn, &huge).await, ErrorCode::RequestTooLarge);

    // A valid request frame with an unknown union discriminant.
    let mut unknown = produce_request(&log, &one_record_batch(b"v"));
    unknown[8 + 8..8 + 10].copy_from_slice(&999u16.to_le_bytes());
    let code = raw_error(&conn, &unknown).await;
    assert!(matches!(code, ErrorCode::InvalidRequest), "{code:?}");

    // Nothing above was written.
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 0);
    still_serves(&server, &log).await;
}

/// A produce request declaring a `declared`-byte payload, with `inline` in
/// its `batch` field, followed by `payload`.
fn produce_with_payload(log: &str, declared: u32, inline: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut m = Builder::new_default();
    let mut p = m.init_root::<request::Builder>().init_produce();
    p.set_log(log);
    p.set_partition(0);
    p.set_batch(inline);
    p.set_batch_bytes(declared);
    let mut bytes = frame::encode(&m);
    bytes.extend_from_slice(payload);
    bytes
}

#[tokio::test]
async fn a_payload_that_disagrees_with_its_message_is_refused_and_writes_nothing() {
    let server = common::start();
    let log = unique("bad-payload");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let conn = raw_connect(&server).await;
    let batch = one_record_batch(b"v");
    let n = batch.len() as u32;

    let short = produce_with_payload(&log, n + 1, &[], &batch);
    assert_eq!(raw_error(&conn, &short).await, ErrorCode::InvalidRequest, "declared more than sent");
    let long = produce_with_payload(&log, n - 1, &[], &batch);
    assert_eq!(raw_error(&conn, &long).await, ErrorCode::InvalidRequest, "sent more than declared");
    let undeclared = produce_with_payload(&log, 0, &[], &batch);
    assert_eq!(raw_error(&conn, &undeclared).await, ErrorCode::InvalidRequest, "payload not declared");
    let both = produce_with_payload(&log, n, &batch, &batch);
    assert_eq!(raw_error(&conn, &both).await, ErrorCode::InvalidRequest, "inline and payload");
    let mut describe = {
        let mut m = Builder::new_default();
        m.init_root::<request::Builder>().init_describe_log().set_name(&log);
        frame::encode(&m)
    };
    describe.extend_from_slice(b"trailing");
    assert_eq!(raw_error(&conn, &describe).await, ErrorCode::InvalidRequest, "payload after a describe");
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 0);

    // The same batch as a well-formed payload is written.
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&produce_with_payload(&log, n, &[], &batch)).await.unwrap();
    send.finish().unwrap();
    let resp = recv.read_to_end(1 << 20).await.unwrap();
    let msg = frame::decode(&resp, 1 << 20).unwrap();
    assert!(matches!(msg.get_root::<response::Reader>().unwrap().which().unwrap(), response::Produce(_)));
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 1);
    still_serves(&server, &log).await;
}

#[tokio::test]
async fn corrupt_invalid_and_oversized_batches_write_nothing() {
    let server = common::start();
    let log = unique("bad-batch");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let conn = raw_connect(&server).await;

    let mut flipped = one_record_batch(b"hello");
    let last = flipped.len() - 2;
    flipped[last] ^= 0x20;
    assert_eq!(raw_error(&conn, &produce_request(&log, &flipped)).await, ErrorCode::CorruptBatch);

    let mut short = one_record_batch(b"hello");
    short.truncate(short.len() - 1);
    assert_eq!(raw_error(&conn, &produce_request(&log, &short)).await, ErrorCode::InvalidBatch);

    // A record over MAX_RECORD_BYTES, encoded by hand per docs/FORMAT.md
    // (the client refuses to build one), after a valid small record.
    let oversized = hand_made_batch(&[b"small".to_vec(), vec![7u8; MAX_RECORD_BYTES + 1]]);
    assert_eq!(raw_error(&conn, &produce_request(&log, &oversized)).await, ErrorCode::RecordTooLarge);
    // The same encoding with a small record is accepted: the hand encoding is right.
    let fine = hand_made_batch(&[b"small".to_vec()]);
    let ok = {
        let (mut send, mut recv) = conn.open_bi().await.unwrap();
        send.write_all(&produce_request(&log, &fine)).await.unwrap();
        send.finish().unwrap();
        recv.read_to_end(1 << 16).await.unwrap()
    };
    let msg = frame::decode(&ok, 1 << 16).unwrap();
    assert!(matches!(msg.get_root::<response::Reader>().unwrap().which().unwrap(), response::Produce(_)));

    let mut many = BatchBuilder::new(0);
    let chunk = vec![1u8; 1 << 19];
    while many.size_bytes() <= MAX_BATCH_BYTES {
        many.push(1, None, &chunk, &[]).unwrap();
    }
    let code = raw_error(&conn, &produce_request(&log, &many.finish())).await;
    assert!(matches!(code, ErrorCode::BatchTooLarge | ErrorCode::RequestTooLarge), "{code:?}");

    assert_eq!(
        raw_error(&conn, &produce_request("no/such log", &one_record_batch(b"x"))).await,
        ErrorCode::LogNotFound
    );
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 1, "only the valid hand-made batch");
    still_serves(&server, &log).await;
}

/// Replaces a batch's records section and attributes, keeping the checksum valid.
fn with_section(batch: &[u8], attributes: u16, section: &[u8]) -> Vec<u8> {
    let mut b = batch[..80].to_vec();
    b.extend_from_slice(section);
    let len = (b.len() - 12) as u32;
    b[8..12].copy_from_slice(&len.to_le_bytes());
    b[36..38].copy_from_slice(&attributes.to_le_bytes());
    let crc = crc32fast::hash(&b[36..]);
    b[32..36].copy_from_slice(&crc.to_le_bytes());
    b
}

#[tokio::test]
async fn hostile_compressed_batches_are_refused_or_fail_only_their_consumer() {
    let server = common::start();
    let log = unique("bad-codec");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let conn = raw_connect(&server).await;
    let zstd = Compression::Zstd { level: 3 }.attribute_bits();
    let plain = one_record_batch(b"hello");

    let mut huge = Compression::Zstd { level: 3 }.compress(b"hello").unwrap();
    huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    let code = raw_error(&conn, &produce_request(&log, &with_section(&plain, zstd, &huge))).await;
    assert_eq!(code, ErrorCode::InvalidBatch, "a length over MAX_UNCOMPRESSED_RECORDS_BYTES is refused");
    let code = raw_error(&conn, &produce_request(&log, &with_section(&plain, 1, &plain[80..]))).await;
    assert_eq!(code, ErrorCode::InvalidBatch, "gzip (codec 1) is not supported");
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 0);

    // A bomb: 8 MiB of zeros announced as 1 KiB; a payload of noise; one
    // record claiming to be a million. The server decompresses each (off
    // its workers) and refuses it: nothing is stored, the high watermark
    // does not move, and the log keeps serving.
    let mut bomb = Compression::Zstd { level: 3 }.compress(&vec![0u8; MAX_BATCH_BYTES - 80]).unwrap();
    bomb[..4].copy_from_slice(&1024u32.to_le_bytes());
    let mut noise = 1024u32.to_le_bytes().to_vec();
    noise.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let liar = lying_count(&Compression::Zstd { level: 3 }.compress(&plain[80..]).unwrap(), zstd);
    for batch in [with_section(&plain, zstd, &bomb), with_section(&plain, zstd, &noise), liar] {
        assert_eq!(raw_error(&conn, &produce_request(&log, &batch)).await, ErrorCode::InvalidBatch);
    }
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 0);
    assert_eq!(c.latest_offset(&log, 0).await.unwrap(), 0, "no refused batch moved the high watermark");
    still_serves(&server, &log).await;
    let good = c.consume_from_partition(&log, 0, LogOffset(0), 10).await.unwrap();
    assert_eq!(good.iter().map(|r| &r.value[..]).collect::<Vec<_>>(), [&b"ok"[..]]);
}

/// `plain`'s one record under `attributes`' codec (`section` compressed),
/// with a header that claims 1,000,000 records.
fn lying_count(section: &[u8], attributes: u16) -> Vec<u8> {
    let mut b = with_section(&one_record_batch(b"hello"), attributes, section);
    let claimed = 1_000_000u32;
    b[38..42].copy_from_slice(&(claimed - 1).to_le_bytes());
    b[76..80].copy_from_slice(&claimed.to_le_bytes());
    let crc = crc32fast::hash(&b[36..]);
    b[32..36].copy_from_slice(&crc.to_le_bytes());
    b
}

#[tokio::test]
async fn internal_logs_and_disordered_compressed_records_are_refused() {
    let server = common::start();
    let c = server.client().await;
    let conn = raw_connect(&server).await;
    // Straight to the server (a client would first look the log up, which
    // may not exist yet while the server starts).
    let internal = produce_request("__consumer_offsets", &one_record_batch(b"x"));
    assert_eq!(raw_error(&conn, &internal).await, ErrorCode::ReservedLogName);

    // A compressed batch whose records claim offsets out of order: the
    // server decompresses it and refuses it.
    let log = unique("disordered");
    c.create_log(&log, 1).await.unwrap();
    let disordered = hand_made_batch(&[b"a".to_vec(), b"b".to_vec()]);
    let mut records = disordered[80..].to_vec();
    // Swap the two records' offset deltas: byte 3 of each record (length,
    // attributes, timestamp delta, offset delta, ...).
    let second = 1 + records[0] as usize;
    records[3] = 1;
    records[second + 3] = 0;
    let lz4 = Compression::Lz4;
    let packed = lz4.compress(&records).unwrap();
    let batch = with_section(&disordered, lz4.attribute_bits(), &packed);
    assert_eq!(raw_error(&conn, &produce_request(&log, &batch)).await, ErrorCode::InvalidBatch);
    assert_eq!(c.get_log_stats(&log).await.unwrap().record_count, 0);
}

/// Found by the `request_decode` fuzz target: a 72-byte offset fetch whose
/// list of (empty) entries claims millions of them took over 10 s to decode.
#[tokio::test]
async fn a_list_claiming_millions_of_empty_entries_is_refused_at_once() {
    let server = common::start();
    let conn = raw_connect(&server).await;
    let bytes = include_bytes!("../../fuzz/corpus/request_decode/regression-empty-list-amplification");
    let started = Instant::now();
    assert_eq!(raw_error(&conn, bytes).await, ErrorCode::InvalidRequest);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

/// Encodes a batch byte by byte from the layout in docs/FORMAT.md.
fn hand_made_batch(values: &[Vec<u8>]) -> Vec<u8> {
    use pyralog_protocol::batch::put_varint;
    let mut records = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let mut body = vec![0u8]; // attributes
        put_varint(&mut body, 0); // timestamp delta (zigzag 0)
        put_varint(&mut body, i as u64); // offset delta
        put_varint(&mut body, 0); // no key
        put_varint(&mut body, v.len() as u64);
        body.extend_from_slice(v);
        put_varint(&mut body, 0); // no headers
        put_varint(&mut records, body.len() as u64);
        records.extend_from_slice(&body);
    }
    let mut b = vec![0u8; 80];
    let total = 80 + records.len();
    b[8..12].copy_from_slice(&((total - 12) as u32).to_le_bytes());
    b[29] = 1; // magic
    b[38..42].copy_from_slice(&(values.len() as u32 - 1).to_le_bytes());
    b[42..50].copy_from_slice(&1i64.to_le_bytes());
    b[50..58].copy_from_slice(&1i64.to_le_bytes());
    b[58..66].copy_from_slice(&u64::MAX.to_le_bytes());
    b[68..76].copy_from_slice(&u64::MAX.to_le_bytes());
    b[76..80].copy_from_slice(&(values.len() as u32).to_le_bytes());
    b.extend_from_slice(&records);
    let crc = crc32fast::hash(&b[36..]);
    b[32..36].copy_from_slice(&crc.to_le_bytes());
    b
}

#[tokio::test]
async fn unknown_log_bad_partition_and_out_of_range_offsets_are_typed() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("bad-offsets");
    c.create_log(&log, 2).await.unwrap();
    c.produce(&log, Record::new("a").partition(0)).await.unwrap();
    let missing = unique("missing");
    assert_eq!(c.get_log_metadata(&missing).await.unwrap_err().code(), ErrorCode::LogNotFound);
    assert_eq!(c.get_log_stats(&missing).await.unwrap_err().code(), ErrorCode::LogNotFound);
    assert_eq!(c.delete_log(&missing).await.unwrap_err().code(), ErrorCode::LogNotFound);
    assert_eq!(c.produce(&log, Record::new("x").partition(9)).await.unwrap_err().code(), ErrorCode::PartitionNotFound);
    let e = c.consume_from_partition(&log, 0, LogOffset(5), 1).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::OffsetOutOfRange);
    assert_eq!(c.add_partitions(&log, 1).await.unwrap_err().code(), ErrorCode::InvalidPartitions);
    assert_eq!(c.create_log(&unique("zero"), 0).await.unwrap_err().code(), ErrorCode::InvalidPartitions);
    assert_eq!(c.create_log("__internal", 1).await.unwrap_err().code(), ErrorCode::ReservedLogName);
}

#[tokio::test]
async fn a_stream_never_finished_is_cut_off_and_others_are_served() {
    let server = common::start_with("request_read_timeout_ms = 500\n");
    let log = unique("slow");
    let c = server.client().await;
    c.create_log(&log, 1).await.unwrap();
    let conn = raw_connect(&server).await;
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let (mut send, recv) = conn.open_bi().await.unwrap();
        send.write_all(&[1, 2, 3]).await.unwrap();
        stalled.push((send, recv));
    }
    // Meanwhile another client is served at once.
    let t = Instant::now();
    c.produce(&log, Record::new("served").partition(0)).await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(400));
    // Each stalled stream is answered Timeout once the read deadline passes.
    for (_send, mut recv) in stalled {
        let resp = tokio::time::timeout(Duration::from_secs(5), recv.read_to_end(1 << 16)).await.unwrap().unwrap();
        assert_eq!(refusal_of(&resp).0, ErrorCode::Timeout);
    }
    still_serves(&server, &log).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_refused_and_others_keep_working() {
    let server = common::start_with("max_connections = 2\n");
    let a = server.client().await;
    let b = server.client().await;
    let third = pyralog::Client::connect(&server.addr, pyralog::ClientConfig::with_ca_file(server.ca_file())).await;
    assert_eq!(third.unwrap_err().code(), ErrorCode::ConnectionFailed);
    a.list_logs().await.unwrap();
    b.list_logs().await.unwrap();
    // A slot frees when a client leaves.
    a.close().await;
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(c) =
            pyralog::Client::connect(&server.addr, pyralog::ClientConfig::with_ca_file(server.ca_file())).await
        {
            c.list_logs().await.unwrap();
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "a freed connection slot is reused");
}

/// Resident memory of a process, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Server memory per idle connection stays small: 1,000 connections that
/// each opened a request stream and never finished it.
const IDLE_CONNECTIONS: usize = 1_000;
/// Resident memory the server may reach with them (it starts near 15 MiB).
const IDLE_CONNECTIONS_RSS_KIB_MAX: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_with_unfinished_streams_keep_memory_bounded() {
    let server = common::start_with("max_connections = 1100\nrequest_read_timeout_ms = 60000\n");
    let pid = server.pid().unwrap();
    let before = rss_kib(pid);
    let endpoint = raw_endpoint(&server);
    let addr = server.addr.parse().unwrap();
    let mut held = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        let conn = endpoint.connect(addr, "localhost").unwrap().await.unwrap();
        // A request started and never finished: its first bytes, then nothing.
        let (mut send, recv) = conn.open_bi().await.unwrap();
        send.write_all(&[0u8; 16]).await.unwrap();
        held.push((conn, send, recv));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_idle = rss_kib(pid);
    println!(
        "server RSS: {} MiB before, {} MiB with {IDLE_CONNECTIONS} idle connections holding unfinished streams ({} KiB each)",
        before / 1024,
        with_idle / 1024,
        with_idle.saturating_sub(before) / IDLE_CONNECTIONS as u64
    );
    assert!(with_idle < IDLE_CONNECTIONS_RSS_KIB_MAX, "server RSS {with_idle} KiB");
    // Everyone else is still served.
    let c = server.client().await;
    c.list_logs().await.unwrap();
    drop(held);
}
