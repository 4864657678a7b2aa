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
