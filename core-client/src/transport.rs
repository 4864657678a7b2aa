//! One QUIC connection to the server, re-established on demand; one
//! bidirectional stream per request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::limits::{self, MAX_RESPONSE_BYTES};
use pyralog_protocol::ErrorCode;

use crate::config::ClientConfig;
use crate::error::{Error, Result};

pub(crate) struct Transport {
    endpoint: quinn::Endpoint,
    addr: SocketAddr,
    server_name: String,
    quic: quinn::ClientConfig,
    connect_timeout: Duration,
    /// Sent in an `authenticate` request on every new connection.
    token: Option<String>,
    conn: Mutex<Option<quinn::Connection>>,
    connecting: tokio::sync::Mutex<()>,
    closed: AtomicBool,
    /// When the server last went silent (crashed, stopped, cut off): it is
    /// not redialed within `SILENT_PEER_MS` of that, and a redial gets no
    /// longer than that to answer, so callers move on to another node.
    went_silent: Mutex<Option<tokio::time::Instant>>,
}

fn tls_config(cfg: &ClientConfig) -> Result<quinn::ClientConfig> {
    let ca_file = cfg.ca_file.as_ref().ok_or_else(|| {
        Error::new(ErrorCode::TlsError, "no CA file given: set ca_file (the server writes <data-dir>/tls/ca.pem)")
    })?;
    let pem = std::fs::read(ca_file)
        .map_err(|e| Error::new(ErrorCode::TlsError, format!("reading CA file {}: {e}", ca_file.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| Error::new(ErrorCode::TlsError, format!("parsing {}: {e}", ca_file.display())))?;
        roots.add(cert).map_err(|e| Error::new(ErrorCode::TlsError, format!("CA in {}: {e}", ca_file.display())))?;
    }
    if roots.is_empty() {
        return Err(Error::new(ErrorCode::TlsError, format!("{} holds no certificate", ca_file.display())));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::new(ErrorCode::TlsError, e.to_string()))?
        .with_root_certificates(roots);
    let mut tls = match client_identity(cfg)? {
        Some((certs, key)) => tls
            .with_client_auth_cert(certs, key)
            .map_err(|e| Error::new(ErrorCode::TlsError, format!("client certificate: {e}")))?,
        None => tls.with_no_client_auth(),
    };
    tls.alpn_protocols = vec![pyralog_protocol::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| Error::new(ErrorCode::TlsError, e.to_string()))?;
    let mut quic = quinn::ClientConfig::new(Arc::new(crypto));
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(0u32.into())
        .max_concurrent_uni_streams(0u32.into())
        .stream_receive_window(limits::STREAM_RECEIVE_WINDOW_BYTES.into())
        .receive_window(limits::CONNECTION_RECEIVE_WINDOW_BYTES.into())
        .send_window(limits::SEND_WINDOW_BYTES)
        .max_idle_timeout(Some(quinn::IdleTimeout::from(quinn::VarInt::from_u32(limits::IDLE_TIMEOUT_MS))))
        .keep_alive_interval(Some(Duration::from_millis(limits::KEEP_ALIVE_INTERVAL_MS)))
        .mtu_discovery_config(Some(mtu_discovery()));
    quic.transport_config(Arc::new(t));
    Ok(quic)
}

type Identity = (Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>);

/// The client certificate and key of `cert_file`/`key_file`, if set.
fn client_identity(cfg: &ClientConfig) -> Result<Option<Identity>> {
    let tls_err = |msg: String| Error::new(ErrorCode::TlsError, msg);
    let (cert_file, key_file) = match (&cfg.cert_file, &cfg.key_file) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        _ => return Err(Error::invalid_argument("cert_file and key_file go together: set both or neither")),
    };
    let read =
        |path: &std::path::Path| std::fs::read(path).map_err(|e| tls_err(format!("reading {}: {e}", path.display())));
    let certs = rustls_pemfile::certs(&mut read(cert_file)?.as_slice())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_err(format!("parsing {}: {e}", cert_file.display())))?;
    if certs.is_empty() {
        return Err(tls_err(format!("{} holds no certificate", cert_file.display())));
    }
    let key = rustls_pemfile::private_key(&mut read(key_file)?.as_slice())
        .map_err(|e| tls_err(format!("parsing {}: {e}", key_file.display())))?
        .ok_or_else(|| tls_err(format!("{} holds no private key", key_file.display())))?;
    Ok(Some((certs, key)))
}

/// What the QUIC connections of a client have seen (diagnostics and
/// benchmarks): a falling MTU or lost packets explain a slow client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Open connections (one per node).
    pub connections: usize,
    /// UDP datagrams sent and received.
    pub datagrams_sent: u64,
    pub datagrams_received: u64,
    /// Packets the connections judged lost (and resent).
    pub lost_packets: u64,
    /// Times a connection fell back to 1200-byte packets, suspecting the
    /// path dropped larger ones.
    pub black_holes: u64,
    /// The smallest path MTU (UDP payload bytes) among the connections; 0
    /// with none open.
    pub smallest_mtu: u16,
}

impl NetworkStats {
    pub(crate) fn add(&mut self, conn: &quinn::Connection) {
        let s = conn.stats();
        self.connections += 1;
        self.datagrams_sent += s.udp_tx.datagrams;
        self.datagrams_received += s.udp_rx.datagrams;
        self.lost_packets += s.path.lost_packets;
        self.black_holes += s.path.black_holes_detected;
        self.smallest_mtu = match self.smallest_mtu {
            0 => s.path.current_mtu,
            m => m.min(s.path.current_mtu),
        };
    }
}

/// QUIC's error codes of TLS alerts: `0x100 + alert`.
const CRYPTO_ERRORS: std::ops::Range<u64> = 0x100..0x200;

fn connection_error(e: &quinn::ConnectionError) -> Error {
    match e {
        quinn::ConnectionError::TransportError(t) if CRYPTO_ERRORS.contains(&u64::from(t.code)) => {
            Error::new(ErrorCode::TlsError, format!("TLS handshake failed: {e} (is the CA file the server's?)"))
        }
        // The server refused this client's certificate (not from its client
        // CA, expired, revoked, or none where one is required).
        quinn::ConnectionError::ConnectionClosed(c) if is_certificate_alert(u64::from(c.error_code)) => {
            Error::new(
                ErrorCode::AuthenticationFailed,
                format!("the server refused this client's TLS identity: {e} (is the client certificate from the server's client CA?)"),
            )
        }
        // The server closed the connection with one of its error codes
        // (a quota, an authentication deadline): the reason is its message.
        quinn::ConnectionError::ApplicationClosed(c) if u16::try_from(c.error_code.into_inner()).is_ok_and(|n| n >= 100) => {
            let code = ErrorCode::from_u16(c.error_code.into_inner() as u16);
            Error::new(code, String::from_utf8_lossy(&c.reason).into_owned())
        }
        _ => Error::new(ErrorCode::ConnectionFailed, format!("connection failed: {e}")),
    }
}

/// TLS alerts about the peer's certificate (RFC 8446 6.2): bad_certificate
/// .. certificate_unknown, unknown_ca, access_denied, decrypt_error (a
/// signature on it or by it does not verify), certificate_required.
fn is_certificate_alert(quic_code: u64) -> bool {
    CRYPTO_ERRORS.contains(&quic_code) && matches!(quic_code - CRYPTO_ERRORS.start, 42..=46 | 48 | 49 | 51 | 116)
}

/// A stream's failure, named by its connection's close reason if it has one.
fn lost_on(conn: &quinn::Connection, e: &dyn std::fmt::Display) -> Error {
    match conn.close_reason() {
        Some(reason) => connection_error(&reason),
        None => lost(e),
    }
}

impl Transport {
    pub(crate) async fn connect(addr: &str, cfg: &ClientConfig) -> Result<Transport> {
        let quic = tls_config(cfg)?;
        let (host, _) = addr
            .rsplit_once(':')
            .ok_or_else(|| Error::invalid_argument(format!("address {addr:?} is not HOST:PORT")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let resolved = tokio::time::timeout(cfg.connect_timeout, tokio::net::lookup_host(addr))
            .await
            .map_err(|_| Error::new(ErrorCode::Timeout, format!("resolving {addr} timed out")))?
            .map_err(|e| Error::new(ErrorCode::ConnectionFailed, format!("resolving {addr}: {e}")))?
            .next()
            .ok_or_else(|| Error::new(ErrorCode::ConnectionFailed, format!("{addr} resolved to no address")))?;
        let bind: SocketAddr = if resolved.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().expect("valid");
        let socket = std::net::UdpSocket::bind(bind)
            .and_then(|s| size_socket_buffers(&s).map(|()| s))
            .map_err(|e| Error::new(ErrorCode::ConnectionFailed, format!("opening a UDP socket: {e}")))?;
        let runtime = quinn::default_runtime()
            .ok_or_else(|| Error::new(ErrorCode::ConnectionFailed, "no async runtime: call from within tokio"))?;
        let endpoint = quinn::Endpoint::new(endpoint_config(), None, socket, runtime)
            .map_err(|e| Error::new(ErrorCode::ConnectionFailed, format!("opening a QUIC endpoint: {e}")))?;
        let t = Transport {
            endpoint,
            addr: resolved,
            server_name: cfg.server_name.clone().unwrap_or_else(|| host.to_owned()),
            quic,
            connect_timeout: cfg.connect_timeout,
            token: cfg.token.clone(),
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            closed: AtomicBool::new(false),
            went_silent: Mutex::new(None),
        };
        t.connection().await?;
        Ok(t)
    }

    async fn connection(&self) -> Result<quinn::Connection> {
        if let Some(c) = self.live() {
            return Ok(c);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(c) = self.live() {
            return Ok(c);
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("client"));
        }
        let silent_for = Duration::from_millis(limits::SILENT_PEER_MS);
        let went_silent = *self.went_silent.lock();
        if let Some(at) = went_silent.filter(|at| at.elapsed() < silent_for) {
            return Err(Error::new(
                ErrorCode::ConnectionFailed,
                format!(
                    "{} went silent {} ms ago; not redialed within SILENT_PEER_MS",
                    self.addr,
                    at.elapsed().as_millis()
                ),
            ));
        }
        let limit = if went_silent.is_some() { self.connect_timeout.min(silent_for) } else { self.connect_timeout };
        let connecting = self
            .endpoint
            .connect_with(self.quic.clone(), self.addr, &self.server_name)
            .map_err(|e| Error::new(ErrorCode::ConnectionFailed, format!("connecting to {}: {e}", self.addr)))?;
        let conn = match tokio::time::timeout(limit, connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(connection_error(&e)),
            Err(_) => {
                if went_silent.is_some() {
                    *self.went_silent.lock() = Some(tokio::time::Instant::now());
                }
                return Err(Error::new(
                    ErrorCode::ConnectionFailed,
                    format!("no answer from {} within {limit:?}", self.addr),
                ));
            }
        };
        *self.went_silent.lock() = None;
        if let Some(token) = &self.token {
            let request = crate::wire::request(|r| r.init_authenticate().set_token(token.as_str()));
            let answer = tokio::time::timeout(limit, exchange(&conn, request, None)).await.map_err(|_| {
                Error::new(ErrorCode::Timeout, format!("{} did not answer authenticate within {limit:?}", self.addr))
            });
            let authenticated = answer.and_then(|r| r).and_then(|bytes| {
                crate::wire::response(&bytes, |w| match w {
                    pyralog_protocol::pyralog_capnp::response::Authenticate(_) => Ok(()),
                    _ => Err(crate::wire::unexpected()),
                })
            });
            if let Err(e) = authenticated {
                conn.close(0u32.into(), b"authentication failed");
                return Err(e);
            }
        }
        *self.conn.lock() = Some(conn.clone());
        Ok(conn)
    }

    /// Treats the server as gone silent now (the cluster fenced it): its
    /// connection is dropped and it is not redialed within `SILENT_PEER_MS`.
    pub(crate) fn mark_silent(&self) {
        if let Some(c) = self.conn.lock().take() {
            c.close(0u32.into(), b"fenced by the cluster");
        }
        *self.went_silent.lock() = Some(tokio::time::Instant::now());
    }

    /// Whether the server went silent less than `SILENT_PEER_MS` ago (a
    /// request to it fails at once).
    pub(crate) fn is_silent(&self) -> bool {
        self.went_silent.lock().is_some_and(|at| at.elapsed() < Duration::from_millis(limits::SILENT_PEER_MS))
    }

    fn live(&self) -> Option<quinn::Connection> {
        self.conn.lock().as_ref().filter(|c| c.close_reason().is_none()).cloned()
    }

    /// Sends one request, its payload (a produce batch) following the
    /// message on the stream without being copied into it, and returns the
    /// response bytes.
    ///
    /// A request that times out while the connection received nothing at
    /// all meanwhile means the server is gone (a crashed server never closes
    /// its connections): the connection is dropped, so the next request
    /// reconnects instead of waiting for the idle timeout.
    pub(crate) async fn call_with_payload(
        &self,
        request: Vec<u8>,
        payload: Option<bytes::Bytes>,
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("client"));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || Error::new(ErrorCode::Timeout, format!("no response within request_timeout ({timeout:?})"));
        let conn = tokio::time::timeout_at(deadline, self.connection()).await.map_err(|_| timed_out())??;
        let received_before = conn.stats().udp_rx.datagrams;
        let watched = async {
            tokio::select! {
                r = exchange(&conn, request, payload) => r,
                () = silence(&conn) => {
                    conn.close(0u32.into(), b"server silent");
                    *self.went_silent.lock() = Some(tokio::time::Instant::now());
                    Err(Error::new(
                        ErrorCode::ConnectionFailed,
                        format!("{} sent nothing for SILENT_PEER_MS ({} ms); reconnecting", self.addr, limits::SILENT_PEER_MS),
                    ))
                }
            }
        };
        match tokio::time::timeout_at(deadline, watched).await {
            Ok(r) => r,
            Err(_) => {
                if conn.stats().udp_rx.datagrams == received_before {
                    conn.close(0u32.into(), b"server unresponsive");
                    *self.went_silent.lock() = Some(tokio::time::Instant::now());
                    return Err(Error::new(
                        ErrorCode::ConnectionFailed,
                        format!("server sent nothing within request_timeout ({timeout:?}); reconnecting"),
                    ));
                }
                Err(timed_out())
            }
        }
    }

    /// Adds this transport's open connection, if any, to `stats`.
    pub(crate) fn add_stats(&self, stats: &mut NetworkStats) {
        if let Some(c) = self.live() {
            stats.add(&c);
        }
    }

    pub(crate) async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let conn = self.conn.lock().take();
        if let Some(c) = conn {
            c.close(0u32.into(), b"client closed");
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
    }
}

/// One request and its response on a new stream of `conn`.
async fn exchange(conn: &quinn::Connection, request: Vec<u8>, payload: Option<bytes::Bytes>) -> Result<Vec<u8>> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| connection_error(&e))?;
    // Handing quinn the buffers avoids copying them into the stream.
    let mut chunks: Vec<bytes::Bytes> = std::iter::once(request.into()).chain(payload).collect();
    send.write_all_chunks(&mut chunks).await.map_err(|e| lost_on(conn, &e))?;
    send.finish().map_err(|e| lost_on(conn, &e))?;
    read_response(conn, &mut recv).await
}

/// How often a waiting request checks that its connection hears from the peer.
const SILENCE_CHECK: Duration = Duration::from_millis(limits::KEEP_ALIVE_INTERVAL_MS / 2);

/// Resolves once `conn` has received no datagram for `SILENT_PEER_MS`.
async fn silence(conn: &quinn::Connection) {
    let limit = Duration::from_millis(limits::SILENT_PEER_MS);
    let mut heard = conn.stats().udp_rx.datagrams;
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(SILENCE_CHECK).await;
        let now = conn.stats().udp_rx.datagrams;
        if now != heard {
            (heard, since) = (now, tokio::time::Instant::now());
        } else if since.elapsed() >= limit {
            return;
        }
    }
}

/// Reads a whole response as received chunks, then joins them with one copy
/// into an exact-size (word-aligned) buffer.
async fn read_response(conn: &quinn::Connection, recv: &mut quinn::RecvStream) -> Result<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = recv.read_chunk(usize::MAX, true).await.map_err(|e| lost_on(conn, &e))? {
        total += chunk.bytes.len();
        if total > MAX_RESPONSE_BYTES {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!("response exceeds MAX_RESPONSE_BYTES ({MAX_RESPONSE_BYTES})"),
            ));
        }
        chunks.push(chunk.bytes);
    }
    let mut out = Vec::with_capacity(total);
    for c in chunks {
        out.extend_from_slice(&c);
    }
    Ok(out)
}

fn lost(e: &dyn std::fmt::Display) -> Error {
    Error::new(ErrorCode::ConnectionFailed, format!("request stream failed: {e}"))
}

/// Asks for UDP buffers of [`limits::UDP_SOCKET_BUFFER_BYTES`], so a burst
/// of large responses is not dropped (the kernel may grant less: Linux caps
/// it at twice `net.core.rmem_max`; the server warns about that).
fn size_socket_buffers(socket: &std::net::UdpSocket) -> std::io::Result<()> {
    let s = socket2::SockRef::from(socket);
    s.set_recv_buffer_size(limits::UDP_SOCKET_BUFFER_BYTES)?;
    s.set_send_buffer_size(limits::UDP_SOCKET_BUFFER_BYTES)
}

fn mtu_discovery() -> quinn::MtuDiscoveryConfig {
    let mut m = quinn::MtuDiscoveryConfig::default();
    m.upper_bound(limits::MAX_UDP_PAYLOAD_BYTES);
    m
}

/// Endpoint settings: accept datagrams as large as MTU discovery may reach.
pub(crate) fn endpoint_config() -> quinn::EndpointConfig {
    let mut e = quinn::EndpointConfig::default();
    e.max_udp_payload_size(limits::MAX_UDP_PAYLOAD_BYTES).expect("within the QUIC limit");
    e
}
