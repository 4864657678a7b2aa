//! The QUIC service: accepts connections (bounded), accepts one bidirectional
//! stream per request (bounded per connection by QUIC's stream limit), reads
//! the whole request within a deadline, answers, and finishes the stream.
//! Connections on the peer ALPN carry node-to-node requests; the others
//! client requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyralog_protocol::limits::MAX_REQUEST_BYTES;
use pyralog_protocol::{ErrorCode, ProtocolError};
use tokio::sync::{watch, Notify, Semaphore};

use crate::auth::{Auth, Session};
use crate::broker::Broker;
use crate::cluster::wire::{encode_reply, PeerCall, PeerReply, MAX_PEER_MESSAGE_BYTES};
use crate::cluster::Cluster;
use crate::config::ServerConfig;
use crate::handlers::{error_response, handle, Response};
use crate::metrics::Metrics;
use crate::replication;

/// What the service dispatches to, set as the node starts.
pub struct Node {
    pub cluster: OnceLock<Arc<Cluster>>,
    pub broker: OnceLock<Arc<Broker>>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Auth>,
}

impl Node {
    pub fn new(metrics: Arc<Metrics>, auth: Arc<Auth>) -> Node {
        Node { cluster: OnceLock::new(), broker: OnceLock::new(), metrics, auth }
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
        let cfg = Arc::clone(&cfg);
        tokio::spawn(async move {
            let _permit = permit;
            match incoming.await {
                Ok(conn) if crate::tls::is_peer_connection(&conn) => peer_connection(node, conn, shutdown, cfg).await,
                Ok(conn) => connection(node, conn, in_flight, shutdown, cfg).await,
                Err(e) => tracing::debug!(error = %e, "handshake failed"),
            }
        });
    }
}

/// Node-to-node requests; answered once the node's cluster part runs.
async fn peer_connection(
    node: Arc<Node>,
    conn: quinn::Connection,
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
        let (node, conn, cfg) = (Arc::clone(&node), conn.clone(), Arc::clone(&cfg));
        tokio::spawn(async move {
            let deadline = Duration::from_millis(cfg.request_read_timeout_ms);
            let Ok(Ok(bytes)) = tokio::time::timeout(deadline, recv.read_to_end(MAX_PEER_MESSAGE_BYTES)).await else {
                let _ = recv.stop(0u32.into());
                return;
            };
            let (message, payload) = encode_reply(&peer_request(&node, &conn, &bytes).await);
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
async fn peer_request(node: &Node, conn: &quinn::Connection, bytes: &[u8]) -> Result<PeerReply, ProtocolError> {
    let starting = || ProtocolError::new(ErrorCode::Busy, "the node is starting");
    let cluster = node.cluster.get().ok_or_else(starting)?;
    let (header, call) = cluster.admit(conn, bytes)?;
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
    // With authentication on, a connection must have an identity (and fit
    // its quota) by the deadline, or it is closed; until then it holds a
    // place in the bounded waiting room.
    if auth_on && session.deadline_refusal().is_some() {
        match node.auth.waiting.enter(conn.remote_address().ip()) {
            Ok(slot) => session.hold_waiting(slot),
            Err(e) => return close_with(&conn, &e),
        }
    }
    let deadline = tokio::time::sleep(node.auth.authentication_timeout());
    tokio::pin!(deadline);
    let mut must_admit = auth_on;
    // A token identity ends when its token is revoked: checked as often as the file.
    let mut revalidate = tokio::time::interval(Duration::from_millis(crate::auth::TOKEN_REFRESH_MS));
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
            _ = revalidate.tick(), if auth_on => {
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
    let response = match tokio::time::timeout(deadline, recv.read_to_end(MAX_REQUEST_BYTES)).await {
        Ok(Ok(bytes)) => match node.broker.get() {
            None => failure(&ProtocolError::new(ErrorCode::Busy, "the node is starting; retry shortly")),
            Some(broker) => match handle(broker, session, bytes).await {
                Some(response) => response,
                None => {
                    let _ = send.reset(0u32.into());
                    return;
                }
            },
        },
        Ok(Err(quinn::ReadToEndError::TooLong)) => {
            let _ = recv.stop(0u32.into());
            failure(&ProtocolError::new(
                ErrorCode::RequestTooLarge,
                format!("request exceeds MAX_REQUEST_BYTES ({MAX_REQUEST_BYTES})"),
            ))
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request stream failed");
            return;
        }
        Err(_) => {
            let _ = recv.stop(0u32.into());
            failure(&ProtocolError::new(
                ErrorCode::Timeout,
                format!("request not finished within request_read_timeout_ms ({} ms)", deadline.as_millis()),
            ))
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
