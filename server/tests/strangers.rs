//! Strangers — anyone who can reach the UDP port, with no credentials —
//! get nothing: a peer-ALPN connection without a node certificate is closed
//! as its handshake completes, a flood of them keeps no client out, what an
//! unauthenticated connection can make the server hold is small and
//! bounded, and a revoked client certificate is refused and its open
//! connection closed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::auth::{auth_server, cert, connect, token, with_cert, with_token};
use pyralog::{ErrorCode, Record};
use pyralog_testkit::{unique, TestServer};

/// Peer-ALPN connections the flood opens (more than `max_connections`).
const PEER_FLOOD: usize = 1_100;
/// Of them at once.
const PEER_FLOOD_WAVE: usize = 100;
/// Longest one refusal may take.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Unauthenticated streams sent on each ALPN, each trying to send...
const STRANGER_STREAMS: usize = 64;
/// ...this much, never finished.
const STRANGER_STREAM_BYTES: usize = 8 * 1024 * 1024;
/// How long the strangers keep pushing.
const STRANGERS_PUSH_FOR: Duration = Duration::from_secs(3);
/// What the strangers may add to the server's resident memory (docs/SECURITY.md).
const STRANGERS_RSS_GROWTH_MAX_KIB: u64 = 32 * 1024;

/// A client endpoint that trusts the server's CA and speaks `alpn`, with no
/// client certificate.
fn stranger_endpoint(server: &TestServer, alpn: &[u8]) -> quinn::Endpoint {
    let pem = std::fs::read(server.ca_file()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![alpn.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    // Keep-alives make a close lost on the way show as a stateless reset.
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(Duration::from_millis(250)));
    config.transport_config(Arc::new(transport));
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(config);
    endpoint
}

/// How a stranger's peer connection ended: the server's close code (a
/// stateless reset when the close itself was lost and the server had
/// forgotten the connection: `None`), or the handshake's failure.
async fn peer_refusal(endpoint: &quinn::Endpoint, addr: std::net::SocketAddr) -> Result<Option<u64>, String> {
    let connecting = endpoint.connect(addr, "localhost").map_err(|e| e.to_string())?;
    let conn = tokio::time::timeout(REFUSAL_TIMEOUT, connecting).await.map_err(|_| "handshake hung")?;
    let conn = conn.map_err(|e| e.to_string())?;
    match tokio::time::timeout(REFUSAL_TIMEOUT, conn.closed()).await {
        Ok(quinn::ConnectionError::ApplicationClosed(c)) => Ok(Some(c.error_code.into_inner())),
        Ok(quinn::ConnectionError::Reset) => Ok(None),
        Ok(other) => Err(other.to_string()),
        Err(_) => Err("a peer connection without a certificate stayed open".into()),
    }
}

/// Produces one record as `client` every 50 ms until `stop` turns true; how many landed.
async fn keep_producing(client: pyralog::Client, log: String, mut stop: tokio::sync::watch::Receiver<bool>) -> usize {
    let mut landed = 0;
    while !*stop.borrow_and_update() {
        client.produce(&log, Record::new("served")).await.expect("a legitimate client is served during the flood");
        landed += 1;
        let _ = tokio::time::timeout(Duration::from_millis(50), stop.changed()).await;
    }
    landed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_peer_connections_without_a_certificate_is_refused_and_clients_are_served() {
    let server = auth_server("");
    let admin_token = token(&server, "admin");
    let admin = connect(&server, with_token(&server, &admin_token)).await.unwrap();
    let log = unique("flood");
    admin.create_log(&log, 1).await.unwrap();
    let by_token = connect(&server, with_token(&server, &admin_token)).await.unwrap();
    let by_cert = connect(&server, with_cert(&server, &cert(&server, "admin"))).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writers = [by_token, by_cert].map(|c| tokio::spawn(keep_producing(c, log.clone(), stopped.clone())));

    let endpoint = stranger_endpoint(&server, pyralog_server::tls::PEER_ALPN);
    let addr = server.addr.parse().unwrap();
    let began = Instant::now();
    for _ in 0..PEER_FLOOD / PEER_FLOOD_WAVE {
        let wave: Vec<_> = (0..PEER_FLOOD_WAVE).map(|_| peer_refusal(&endpoint, addr)).collect();
        for refusal in futures_util::future::join_all(wave).await {
            if let Some(code) = refusal.expect("closed by the server") {
                assert_eq!(code, u64::from(ErrorCode::AuthenticationFailed.as_u16()));
            }
        }
    }
    println!("{PEER_FLOOD} peer connections without a certificate refused in {:?}", began.elapsed());
    // A client arriving after the flood connects at once.
    connect(&server, with_token(&server, &admin_token)).await.expect("a new client is let in");
    stop.send(true).unwrap();
    for w in writers {
        assert!(w.await.unwrap() > 0);
    }
}

/// Resident memory of a process, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Opens streams on `conn` and pushes `STRANGER_STREAM_BYTES` into each
/// without finishing it, reopening what the server stops, until `until`.
async fn push_unfinished(conn: quinn::Connection, streams: usize, until: Instant) -> usize {
    let mut opened = 0;
    let chunk = vec![0x5au8; 64 * 1024];
    let push = |mut send: quinn::SendStream| {
        let chunk = chunk.clone();
        async move {
            let mut sent = 0;
            while sent < STRANGER_STREAM_BYTES && send.write_all(&chunk).await.is_ok() {
                sent += chunk.len();
            }
            std::future::pending::<()>().await;
        }
    };
    let mut pushing = Vec::new();
    while Instant::now() < until && opened < 10 * streams {
        let open = tokio::time::timeout(until.saturating_duration_since(Instant::now()), conn.open_bi()).await;
        let Ok(Ok((send, recv))) = open else { break };
        opened += 1;
        pushing.push((tokio::spawn(push(send)), recv));
        if pushing.len() >= streams {
            let (task, _) = pushing.remove(0);
            task.abort();
        }
    }
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_streams_cannot_make_the_server_hold_memory() {
    // Strangers may wait the whole push to authenticate.
    let server =
        common::start_with("[auth]\nenabled = true\nsuperusers = [\"admin\"]\nauthentication_timeout_ms = 20000\n");
    let admin_token = token(&server, "admin");
    let admin = connect(&server, with_token(&server, &admin_token)).await.unwrap();
    let log = unique("strangers");
    admin.create_log(&log, 1).await.unwrap();
    let pid = server.pid().unwrap();
    let before = rss_kib(pid);
    let addr = server.addr.parse().unwrap();
    let until = Instant::now() + STRANGERS_PUSH_FOR;
    // The client ALPN: as many waiting connections as one address may hold,
    // their streams together STRANGER_STREAMS at a time.
    let client_alpn = stranger_endpoint(&server, pyralog_protocol::ALPN);
    let per_connection = STRANGER_STREAMS / pyralog_server::auth::MAX_UNAUTHENTICATED_PER_ADDRESS;
    let mut pushers = Vec::new();
    for _ in 0..pyralog_server::auth::MAX_UNAUTHENTICATED_PER_ADDRESS {
        let conn = client_alpn.connect(addr, "localhost").unwrap().await.unwrap();
        pushers.push(tokio::spawn(push_unfinished(conn, per_connection, until)));
    }
    // The peer ALPN: every connection is closed before a stream is read.
    let peer_alpn = stranger_endpoint(&server, pyralog_server::tls::PEER_ALPN);
    for _ in 0..STRANGER_STREAMS {
        if let Ok(conn) = peer_alpn.connect(addr, "localhost").unwrap().await {
            pushers.push(tokio::spawn(push_unfinished(conn, 1, until)));
        }
    }
    let mut opened = 0;
    for p in pushers {
        opened += p.await.unwrap();
    }
    let during = rss_kib(pid);
    println!(
        "server RSS {} KiB before, {} KiB after {opened} unauthenticated streams pushing {} MiB each for {:?}",
        before,
        during,
        STRANGER_STREAM_BYTES >> 20,
        STRANGERS_PUSH_FOR
    );
    assert!(opened >= STRANGER_STREAMS, "the strangers opened {opened} streams");
    assert!(
        during.saturating_sub(before) <= STRANGERS_RSS_GROWTH_MAX_KIB,
        "the server grew by {} KiB for strangers",
        during.saturating_sub(before)
    );
    admin.produce(&log, Record::new("still served")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_is_refused_and_its_open_connection_closed() {
    let server = auth_server("");
    let alice = cert(&server, "alice");
    let open = common::raw_endpoint_as(&server, Some(&alice));
    let conn = open.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap();
    connect(&server, with_cert(&server, &alice)).await.expect("a valid certificate");
    let out = server.admin(&["cert", "revoke", "--cert", alice.0.to_str().unwrap()]);
    assert!(out.contains("revoked the certificate with serial"), "{out}");
    let revoked_at = Instant::now();
    match tokio::time::timeout(Duration::from_secs(5), conn.closed()).await.expect("closed after the revocation") {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(c.error_code.into_inner(), u64::from(ErrorCode::AuthenticationFailed.as_u16()));
            assert!(String::from_utf8_lossy(&c.reason).contains("revoked"), "{c:?}");
        }
        other => panic!("closed by {other:?}"),
    }
    let within = revoked_at.elapsed();
    println!("the open connection was closed {within:?} after the revocation");
    assert!(within < Duration::from_millis(1_500), "closed within a second or so: {within:?}");
    let e = connect(&server, with_cert(&server, &alice)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");
    assert!(server.admin(&["cert", "revoked"]).contains("alice"));
    // Another certificate of the same CA still works.
    connect(&server, with_cert(&server, &cert(&server, "bob"))).await.expect("bob is not revoked");
}
