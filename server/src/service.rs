//! The QUIC service: accepts connections (bounded), accepts one bidirectional
//! stream per request (bounded per connection by QUIC's stream limit), reads
//! the whole request within a deadline, answers, and finishes the stream.
//! Connections on the peer ALPN carry node-to-node requests; the others
//! client requests.
//!
//! Nothing is buffered for a stranger. A connection starts with narrow
//! windows (`tls::MAX_UNADMITTED_STREAMS` streams,
//! `tls::UNADMITTED_RECEIVE_WINDOW_BYTES` unread) and is widened only once
//! admitted: a peer when its handshake showed a node certificate of the
//! cluster CA (a peer connection without one is closed as its handshake
//! completes, before any stream is read), a client once it has an identity
//! within its quota. Until then a request is read only up to
//! `MAX_UNADMITTED_REQUEST_BYTES` (an `authenticate` fits). Admitted
//! requests are read in chunks against one process-wide budget,
//! `MAX_REQUEST_BYTES_IN_FLIGHT`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyralog_protocol::limits::MAX_REQUEST_BYTES;
use pyralog_protocol::{ErrorCode, ProtocolError};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::auth::{Auth, Session};
use crate::broker::Broker;
use crate::cluster::wire::{encode_reply, PeerCall, PeerReply, MAX_PEER_MESSAGE_BYTES};
use crate::cluster::Cluster;
use crate::config::ServerConfig;
use crate::handlers::{error_response, handle, Response};
use crate::metrics::Metrics;
use crate::replication;

/// Node-to-node connections open at once (each node dials each peer once;
/// room for redials and restarts), apart from client connections.
pub const MAX_PEER_CONNECTIONS: usize = 64;
/// Largest request read from a connection not admitted yet.
pub const MAX_UNADMITTED_REQUEST_BYTES: usize = 4 * 1024;
/// Request bytes all admitted connections together may have read and not
/// yet answered; a request waits (within `request_read_timeout_ms`) for
/// room beyond it.
pub const MAX_REQUEST_BYTES_IN_FLIGHT: usize = 512 * 1024 * 1024;
/// Most bytes read from a stream at once.
const READ_CHUNK_BYTES: usize = 64 * 1024;
const _: () = assert!(MAX_REQUEST_BYTES_IN_FLIGHT >= MAX_REQUEST_BYTES);

/// What the service dispatches to, set as the node starts.
pub struct Node {
    pub cluster: OnceLock<Arc<Cluster>>,
    pub broker: OnceLock<Arc<Broker>>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Auth>,
    /// Verifies peers' node certificates against the cluster CA (none
    /// without one: no peer is admitted).
    peer_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    /// Room for the request bytes admitted connections have in flight.
    request_bytes: Arc<Semaphore>,
}

impl Node {
    pub fn new(
        metrics: Arc<Metrics>,
        auth: Arc<Auth>,
        peer_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    ) -> Node {
        Node {
            cluster: OnceLock::new(),
            broker: OnceLock::new(),
            metrics,
            auth,
            peer_verifier,
            request_bytes: Arc::new(Semaphore::new(MAX_REQUEST_BYTES_IN_FLIGHT)),
        }
    }

    /// The node a peer connection's certificate proves it is.
    ///
    /// # Errors
    /// Why it is not a node of this cluster (for this node's log only).
    fn admit_peer(&self, conn: &quinn::Connection) -> Result<u32, String> {
        let verifier = self.peer_verifier.as_deref().ok_or("this node has no cluster CA: no peers")?;
        let chain = conn
            .peer_identity()
            .and_then(|i| i.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok())
            .ok_or("no client certificate")?;
        if self.auth.is_revoked(&chain) {
            return Err("its certificate is on the deny-list".into());
        }
        crate::tls::peer_node_of(&chain, verifier)
    }
}

/// Extra time, beyond the request read timeout, a client has to read a response.
const RESPONSE_WRITE_GRACE: Duration = Duration::from_secs(20);

/// Counts requests being handled, so shutdown can wait for them.
#[derive(Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(Arc::clone(self))
    }

    /// Waits until no request is being handled, or `limit` passes.
    pub async fn wait_idle(&self, limit: Duration) {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Accepts connections until `shutdown` turns true.
pub async fn serve(
    node: Arc<Node>,
    endpoint: quinn::Endpoint,
    in_flight: Arc<InFlight>,
    mut shutdown: watch::Receiver<bool>,
    cfg: ServerConfig,
) {
    let cfg = Arc::new(cfg);
    let connections = Arc::new(Semaphore::new(cfg.max_connections));
    let peers = Arc::new(Semaphore::new(MAX_PEER_CONNECTIONS));
    loop {
        let incoming = tokio::select! {
            i = endpoint.accept() => match i { Some(i) => i, None => break },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(remote = %incoming.remote_address(), limit = cfg.max_connections, "connection refused: max_connections reached");
            incoming.refuse();
            continue;
        };
        let node = Arc::clone(&node);
        let in_flight = Arc::clone(&in_flight);
        let shutdown = shutdown.clone();
        let (cfg, peers) = (Arc::clone(&cfg), Arc::clone(&peers));
        tokio::spawn(async move {
            let conn = match incoming.await {
                Ok(conn) => conn,
                Err(e) => return tracing::debug!(error = %e, "handshake failed"),
            };
            if !crate::tls::is_peer_connection(&conn) {
                let _permit = permit;
                return connection(node, conn, in_flight, shutdown, cfg).await;
            }
            // A peer proves itself at the handshake, or is closed before
            // anything it sends is read; it then counts among the peers.
            drop(permit);
            let from = match node.admit_peer(&conn) {
                Ok(id) => id,
                Err(why) => {
                    tracing::info!(remote = %conn.remote_address(), why, "refused a peer connection");
                    let refused = ErrorCode::AuthenticationFailed.as_u16();
                    return conn.close(u32::from(refused).into(), b"peers present a node certificate of this cluster");
                }
            };
            let Ok(_permit) = peers.try_acquire_owned() else {
                tracing::warn!(remote = %conn.remote_address(), limit = MAX_PEER_CONNECTIONS, "peer connection refused: MAX_PEER_CONNECTIONS reached");
                return conn.close(u32::from(ErrorCode::Busy.as_u16()).into(), b"too many peer connections");
            };
            crate::tls::admit_connection(&conn, cfg.max_in_flight_per_connection);
            peer_connection(node, conn, from, shutdown, cfg).await;
        });
    }
}

/// Node-to-node requests of node `from`; answered once the node's cluster part runs.
async fn peer_connection(
    node: Arc<Node>,
    conn: quinn::Connection,
    from: u32,
    mut shutdown: watch::Receiver<bool>,
    cfg: Arc<ServerConfig>,
) {
    loop {
        let (mut send, mut recv) = tokio::select! {
            s = conn.accept_bi() => match s {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(remote = %conn.remote_address(), error = %e, "peer connection ended");
                    return;
                }
            },
            _ = shutdown.changed() => return,
        };
        let (node, cfg) = (Arc::clone(&node), Arc::clone(&cfg));
        tokio::spawn(async move {
            let deadline = Duration::from_millis(cfg.request_read_timeout_ms);
            let Ok(Ok(bytes)) = tokio::time::timeout(deadline, recv.read_to_end(MAX_PEER_MESSAGE_BYTES)).await else {
                let _ = recv.stop(0u32.into());
                return;
            };
            let (message, payload) = encode_reply(&peer_request(&node, from, &bytes).await);
            let mut chunks: Vec<bytes::Bytes> = std::iter::once(bytes::Bytes::from(message)).chain(payload).collect();
            let write = send.write_all_chunks(&mut chunks);
            if tokio::time::timeout(deadline + RESPONSE_WRITE_GRACE, write).await.is_ok_and(|r| r.is_ok()) {
                let _ = send.finish();
            }
        });
    }
}

/// One peer request: the quorum's calls go to the cluster, the followers'
/// fetches to the replicas here.
async fn peer_request(node: &Node, from: u32, bytes: &[u8]) -> Result<PeerReply, ProtocolError> {
    let starting = || ProtocolError::new(ErrorCode::NodeStarting, "the node is starting");
    let cluster = node.cluster.get().ok_or_else(starting)?;
    let (header, call) = cluster.admit(from, bytes)?;
    match call {
        PeerCall::ReplicaFetch(f) => {
            let broker = node.broker.get().ok_or_else(starting)?;
            replication::leader::fetch(broker, header.from, f).await
        }
        PeerCall::EpochEnd(e) => replication::leader::epoch_end(node.broker.get().ok_or_else(starting)?, e),
        PeerCall::Heartbeat { .. } => Ok(cluster.heartbeat(header.from)),
        other => cluster.serve(other).await,
    }
}

async fn connection(
    node: Arc<Node>,
    conn: quinn::Connection,
    in_flight: Arc<InFlight>,
    mut shutdown: watch::Receiver<bool>,
    cfg: Arc<ServerConfig>,
) {
    let _open = node.metrics.connection_opened();
    let session = Arc::new(node.auth.open(&conn));
    let auth_on = node.auth.enabled();
    let max_streams = cfg.max_in_flight_per_connection;
    let widen = conn.clone();
    session.when_admitted(Box::new(move || crate::tls::admit_connection(&widen, max_streams)));
    // With authentication on, a connection must have an identity (and fit
    // its quota) by the deadline, or it is closed; until then it holds a
    // place in the bounded waiting room (which may close it for a newcomer).
    if auth_on && session.deadline_refusal().is_some() {
        let evicted = conn.clone();
        match node.auth.waiting.enter(conn.remote_address().ip(), Box::new(move |e| close_with(&evicted, &e))) {
            Ok(slot) => session.hold_waiting(slot),
            Err(e) => return close_with(&conn, &e),
        }
    }
    let deadline = tokio::time::sleep(node.auth.authentication_timeout());
    tokio::pin!(deadline);
    let mut must_admit = auth_on;
    // An identity ends when its token or certificate is revoked: checked
    // whenever the token file or the deny-list changed.
    let mut revocations = node.auth.changes();
    loop {
        let (send, recv) = tokio::select! {
            s = conn.accept_bi() => match s {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(remote = %conn.remote_address(), error = %e, "connection ended");
                    return;
                }
            },
            () = &mut deadline, if must_admit => {
                if let Some(e) = session.deadline_refusal() {
                    tracing::info!(remote = %conn.remote_address(), error = %e, "closing a connection at the authentication deadline");
                    return close_with(&conn, &e);
                }
                must_admit = false;
                continue;
            }
            Ok(()) = revocations.changed(), if auth_on => {
                if let Err(e) = session.revalidate() {
                    return close_with(&conn, &e);
                }
                continue;
            }
            _ = shutdown.changed() => return,
        };
        let guard = in_flight.enter();
        let (node, cfg, session) = (Arc::clone(&node), Arc::clone(&cfg), Arc::clone(&session));
        tokio::spawn(async move {
            let _guard = guard;
            stream(node, cfg, &session, send, recv).await;
        });
    }
}

/// Closes a client connection with an error code as QUIC application code
/// and its message as the reason (clients map both back to the error).
fn close_with(conn: &quinn::Connection, e: &ProtocolError) {
    conn.close(u32::from(e.code.as_u16()).into(), e.message.as_bytes());
}

fn failure(e: &ProtocolError) -> Response {
    Response { message: error_response(e), payload: Vec::new() }
}

async fn stream(
    node: Arc<Node>,
    cfg: Arc<ServerConfig>,
    session: &Session,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) {
    let deadline = Duration::from_millis(cfg.request_read_timeout_ms);
    let admitted = session.is_admitted();
    let limit = if admitted { MAX_REQUEST_BYTES } else { MAX_UNADMITTED_REQUEST_BYTES };
    // The request's bytes stay counted until it is answered.
    let read = tokio::time::timeout(deadline, read_request(&mut recv, limit, &node.request_bytes)).await;
    let (response, _held) = match read {
        Ok(Ok((bytes, held))) => {
            let response = match node.broker.get() {
                None => failure(&ProtocolError::new(ErrorCode::NodeStarting, "the node is starting; retry shortly")),
                Some(broker) => match handle(broker, session, bytes).await {
                    Some(response) => response,
                    None => {
                        let _ = send.reset(0u32.into());
                        return;
                    }
                },
            };
            (response, Some(held))
        }
        Ok(Err(ReadFailure::TooLong)) => {
            let _ = recv.stop(0u32.into());
            let refusal = match admitted {
                true => ProtocolError::new(
                    ErrorCode::RequestTooLarge,
                    format!("request exceeds MAX_REQUEST_BYTES ({MAX_REQUEST_BYTES})"),
                ),
                false => session.admit().err().unwrap_or_else(|| {
                    ProtocolError::new(ErrorCode::RequestTooLarge, "request sent before the connection was admitted")
                }),
            };
            (failure(&refusal), None)
        }
        Ok(Err(ReadFailure::Stream(e))) => {
            tracing::debug!(error = %e, "request stream failed");
            return;
        }
        Err(_) => {
            let _ = recv.stop(0u32.into());
            let timeout = ProtocolError::new(
                ErrorCode::Timeout,
                format!("request not finished within request_read_timeout_ms ({} ms)", deadline.as_millis()),
            );
            (failure(&timeout), None)
        }
    };
    // A client that stops reading must not hold the request (and its memory) forever.
    let mut chunks: Vec<bytes::Bytes> =
        std::iter::once(bytes::Bytes::from(response.message)).chain(response.payload).collect();
    match tokio::time::timeout(deadline + RESPONSE_WRITE_GRACE, send.write_all_chunks(&mut chunks)).await {
        Ok(Ok(())) => {
            let _ = send.finish();
        }
        Ok(Err(_)) => {}
        Err(_) => {
            tracing::debug!("response not read in time; resetting the stream");
            let _ = send.reset(0u32.into());
        }
    }
}

enum ReadFailure {
    TooLong,
    Stream(quinn::ReadError),
}

/// Reads a request of at most `limit` bytes in chunks, counting the
/// buffer's capacity against `budget` (waiting for room).
async fn read_request(
    recv: &mut quinn::RecvStream,
    limit: usize,
    budget: &Arc<Semaphore>,
) -> Result<(Vec<u8>, OwnedSemaphorePermit), ReadFailure> {
    let mut buf: Vec<u8> = Vec::new();
    let closed = |_| ReadFailure::Stream(quinn::ReadError::ClosedStream);
    let mut held = Arc::clone(budget).acquire_many_owned(0).await.map_err(closed)?;
    while let Some(chunk) = recv.read_chunk(READ_CHUNK_BYTES, true).await.map_err(ReadFailure::Stream)? {
        let need = buf.len() + chunk.bytes.len();
        if need > limit {
            return Err(ReadFailure::TooLong);
        }
        if need > buf.capacity() {
            let capacity = need.max(buf.capacity() * 2).min(limit);
            let more = u32::try_from(capacity - buf.capacity()).unwrap_or(u32::MAX);
            held.merge(Arc::clone(budget).acquire_many_owned(more).await.map_err(closed)?);
            buf.reserve_exact(capacity - buf.len());
        }
        buf.extend_from_slice(&chunk.bytes);
    }
    Ok((buf, held))
}
