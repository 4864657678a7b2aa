//! The server's metrics, in the Prometheus text format: counters and
//! histograms updated where things happen (requests, appends, fetches,
//! fsyncs, connections), and gauges read from the partitions and groups at
//! scrape time (`state.rs`). Served over HTTP at `metrics_listen`
//! (`http.rs`) and to clients by the `metrics` request (`pyralog top`).

mod http;
mod state;

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use pyralog_protocol::batch::BatchIter;
use pyralog_protocol::ErrorCode;

use crate::broker::Broker;

pub use http::{bind_http, serve_http};

/// Request latency buckets: 50 µs doubling to ~6.5 s.
const REQUEST_BUCKETS: (f64, f64, u16) = (50e-6, 2.0, 18);
/// fsync latency buckets: 20 µs doubling to ~0.65 s.
const FSYNC_BUCKETS: (f64, f64, u16) = (20e-6, 2.0, 16);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LogLabel {
    pub log: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

type HistogramFamily = Family<KindLabel, Histogram, fn() -> Histogram>;

/// Every metric the server keeps; cheap to share (each metric is an `Arc`
/// inside).
pub struct Metrics {
    registry: Registry,
    produced_records: Family<LogLabel, Counter>,
    produced_bytes: Family<LogLabel, Counter>,
    fetched_records: Family<LogLabel, Counter>,
    fetched_bytes: Family<LogLabel, Counter>,
    compacted_records: Family<LogLabel, Counter>,
    compacted_bytes: Family<LogLabel, Counter>,
    request_duration: HistogramFamily,
    errors: Family<CodeLabel, Counter>,
    fsync_duration: Histogram,
    connections_open: Gauge,
    connections_accepted: Counter,
    /// Where the scrape-time gauges come from, set once the broker is up.
    broker: Arc<OnceLock<Weak<Broker>>>,
}

fn request_histogram() -> Histogram {
    let (start, factor, n) = REQUEST_BUCKETS;
    Histogram::new(exponential_buckets(start, factor, n))
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let (start, factor, n) = FSYNC_BUCKETS;
        let mut m = Metrics {
            registry: Registry::with_prefix("pyralog"),
            produced_records: Family::default(),
            produced_bytes: Family::default(),
            fetched_records: Family::default(),
            fetched_bytes: Family::default(),
            compacted_records: Family::default(),
            compacted_bytes: Family::default(),
            request_duration: Family::new_with_constructor(request_histogram),
            errors: Family::default(),
            fsync_duration: Histogram::new(exponential_buckets(start, factor, n)),
            connections_open: Gauge::default(),
            connections_accepted: Counter::default(),
            broker: Arc::new(OnceLock::new()),
        };
        // The registry holds clones: each metric is shared state behind an `Arc`.
        let r = &mut m.registry;
        r.register("produced_records", "Records appended by producers, per log", m.produced_records.clone());
        r.register("produced_bytes", "Record-batch bytes appended by producers, per log", m.produced_bytes.clone());
        r.register("fetched_records", "Records sent to consumers, per log", m.fetched_records.clone());
        r.register("fetched_bytes", "Record-batch bytes sent to consumers, per log", m.fetched_bytes.clone());
        r.register("compacted_records", "Records compaction removed, per log", m.compacted_records.clone());
        r.register("compacted_bytes", "Bytes compaction reclaimed, per log", m.compacted_bytes.clone());
        r.register("request_duration_seconds", "Client request latency, per request kind", m.request_duration.clone());
        r.register("errors", "Requests answered with an error, per error code", m.errors.clone());
        r.register("fsync_duration_seconds", "Partition fsync latency", m.fsync_duration.clone());
        r.register("connections_open", "Client connections open now", m.connections_open.clone());
        r.register("connections_accepted", "Client connections accepted", m.connections_accepted.clone());
        r.register_collector(Box::new(state::StateCollector { broker: Arc::clone(&m.broker) }));
        Arc::new(m)
    }

    /// Lets the scrape-time gauges read partitions and groups.
    pub fn attach(&self, broker: &Arc<Broker>) {
        let _ = self.broker.set(Arc::downgrade(broker));
    }

    /// Everything in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// A producer's batch appended to `log` (records and bytes from the
    /// batch header, compressed or not).
    pub fn produced(&self, log: &str, records: u32, bytes: usize) {
        let label = LogLabel { log: log.to_owned() };
        self.produced_records.get_or_create(&label).inc_by(u64::from(records));
        self.produced_bytes.get_or_create(&label).inc_by(bytes as u64);
    }

    /// Batches sent to a consumer of `log` reading from `from`: the records
    /// at or after `from`, and the bytes sent.
    pub fn fetched(&self, log: &str, from: u64, batches: &[u8]) {
        let records: u64 = BatchIter::new(batches)
            .map_while(Result::ok)
            .filter(|b| b.next_offset() > from)
            .map(|b| b.next_offset() - b.base_offset().max(from))
            .sum();
        let label = LogLabel { log: log.to_owned() };
        self.fetched_records.get_or_create(&label).inc_by(records);
        self.fetched_bytes.get_or_create(&label).inc_by(batches.len() as u64);
    }

    /// A compaction round of a partition of `log` removed `records` and reclaimed `bytes`.
    pub fn compacted(&self, log: &str, records: u64, bytes: u64) {
        let label = LogLabel { log: log.to_owned() };
        self.compacted_records.get_or_create(&label).inc_by(records);
        self.compacted_bytes.get_or_create(&label).inc_by(bytes);
    }

    /// One client request of `kind` answered after `elapsed`, with `error`
    /// when it failed.
    pub fn request(&self, kind: &'static str, elapsed: Duration, error: Option<ErrorCode>) {
        self.request_duration.get_or_create(&KindLabel { kind }).observe(elapsed.as_secs_f64());
        if let Some(code) = error {
            self.errors.get_or_create(&CodeLabel { code: format!("{code:?}") }).inc();
        }
    }

    /// A log is gone: its series go too (the label set stays bounded by the
    /// logs that exist).
    pub fn forget_log(&self, log: &str) {
        let label = LogLabel { log: log.to_owned() };
        for f in [
            &self.produced_records,
            &self.produced_bytes,
            &self.fetched_records,
            &self.fetched_bytes,
            &self.compacted_records,
            &self.compacted_bytes,
        ] {
            f.remove(&label);
        }
    }

    /// The fsync latency histogram, for the sync threads.
    pub fn fsync_histogram(&self) -> Histogram {
        self.fsync_duration.clone()
    }

    /// A client connection opened; the guard counts it closed when dropped.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.connections_accepted.inc();
        self.connections_open.inc();
        ConnectionGuard(Arc::clone(self))
    }
}

/// Counts one open connection while it lives.
pub struct ConnectionGuard(Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections_open.dec();
    }
}
