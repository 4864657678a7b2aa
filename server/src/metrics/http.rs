//! `GET /metrics` over HTTP/1.1 for Prometheus; every other path is 404.
//! Bounded: at most `MAX_METRICS_CONNECTIONS` scrapers at once, one request
//! per connection, its head read within `METRICS_READ_TIMEOUT` and the whole
//! exchange over within `METRICS_CONNECTION_TIMEOUT`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::Metrics;

/// Scrapers served at once; more wait for the accept loop.
pub const MAX_METRICS_CONNECTIONS: usize = 16;
/// A scraper must send its request head within this long.
pub const METRICS_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A scrape (one request per connection) must be over within this long.
pub const METRICS_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// The OpenMetrics text format `prometheus-client` writes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds the metrics address (before the node starts: a taken port stops
/// the start, touching nothing).
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn bind_http(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("binding metrics_listen {addr}"))
}

/// Serves `/metrics` on `listener` until `shutdown` turns true.
pub fn serve_http(listener: TcpListener, metrics: Arc<Metrics>, mut shutdown: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_METRICS_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                p = Arc::clone(&slots).acquire_owned() => p.expect("the semaphore is never closed"),
                _ = shutdown.changed() => return,
            };
            let stream = tokio::select! {
                a = listener.accept() => match a {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let metrics = Arc::clone(&metrics);
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(Arc::clone(&metrics), req));
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(METRICS_READ_TIMEOUT)
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), service);
                // A scraper that never reads its answer is cut off.
                tokio::select! {
                    _ = tokio::time::timeout(METRICS_CONNECTION_TIMEOUT, conn) => {}
                    _ = stop.changed() => {}
                }
                drop(permit);
            });
        }
    });
}

async fn answer(metrics: Arc<Metrics>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = if req.uri().path() != "/metrics" {
        status(StatusCode::NOT_FOUND, "only /metrics is served here\n")
    } else if req.method() != Method::GET && req.method() != Method::HEAD {
        status(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n")
    } else {
        let body = tokio::task::spawn_blocking(move || metrics.encode()).await.unwrap_or_default();
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(CONTENT_TYPE));
        r
    };
    Ok(response)
}

fn status(code: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = code;
    r
}
