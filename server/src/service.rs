//! The QUIC service: accepts connections (bounded), accepts one bidirectional
//! stream per request (bounded per connection by QUIC's stream limit), reads
//! the whole request within a deadline, answers, and finishes the stream.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::limits::MAX_REQUEST_BYTES;
use pyralog_protocol::{ErrorCode, ProtocolError};
use tokio::sync::{watch, Notify, Semaphore};

use crate::broker::Broker;
use crate::handlers::{error_response, handle, Response};

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
    broker: Arc<Broker>,
    endpoint: quinn::Endpoint,
    in_flight: Arc<InFlight>,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(broker.cfg.max_connections));
    loop {
        let incoming = tokio::select! {
            i = endpoint.accept() => match i { Some(i) => i, None => break },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(remote = %incoming.remote_address(), limit = broker.cfg.max_connections, "connection refused: max_connections reached");
            incoming.refuse();
            continue;
        };
        let broker = Arc::clone(&broker);
        let in_flight = Arc::clone(&in_flight);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match incoming.await {
                Ok(conn) => connection(broker, conn, in_flight, shutdown).await,
                Err(e) => tracing::debug!(error = %e, "handshake failed"),
            }
        });
    }
}

async fn connection(
    broker: Arc<Broker>,
    conn: quinn::Connection,
    in_flight: Arc<InFlight>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (send, recv) = tokio::select! {
            s = conn.accept_bi() => match s {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(remote = %conn.remote_address(), error = %e, "connection ended");
                    return;
                }
            },
            _ = shutdown.changed() => return,
        };
        let guard = in_flight.enter();
        let broker = Arc::clone(&broker);
        tokio::spawn(async move {
            let _guard = guard;
            stream(broker, send, recv).await;
        });
    }
}

fn failure(e: &ProtocolError) -> Response {
    Response { message: error_response(e), payload: Vec::new() }
}

async fn stream(broker: Arc<Broker>, mut send: quinn::SendStream, mut recv: quinn::RecvStream) {
    let deadline = Duration::from_millis(broker.cfg.request_read_timeout_ms);
    let response = match tokio::time::timeout(deadline, recv.read_to_end(MAX_REQUEST_BYTES)).await {
        Ok(Ok(bytes)) => match handle(&broker, bytes).await {
            Some(response) => response,
            None => {
                let _ = send.reset(0u32.into());
                return;
            }
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
