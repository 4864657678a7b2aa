//! The test kit bound to this package's server binary.

#![allow(dead_code)]

pub mod cluster;
pub mod ledger;
pub mod target;

#[allow(unused_imports)]
pub use pyralog_testkit::{segments, unique, TestServer};

/// A server on embedded defaults plus `config` (TOML lines).
pub fn start_with(config: &str) -> TestServer {
    TestServer::start_with(env!("CARGO_BIN_EXE_pyralog-server"), config)
}

/// A server on embedded defaults.
pub fn start() -> TestServer {
    start_with("")
}

/// The samples of a metrics text (Prometheus/OpenMetrics): `name{labels}` -> value.
pub fn metric_samples(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, v)| (series.to_owned(), v.parse().unwrap()))
        .collect()
}
