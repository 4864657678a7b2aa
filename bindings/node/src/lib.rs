//! The native half of the `pyralog` npm package: napi-rs glue over the core
//! client. Conversion, error mapping and runtime bridging only; every
//! behaviour lives in the core client. Every I/O call returns a promise
//! whose work runs on one tokio runtime (never on the libuv thread pool and
//! never on the JavaScript thread).

// Under `cfg(test)` napi-derive registers no exports, so exported-only
// functions look unused to `clippy --all-targets`.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod consumer;
mod convert;
mod errors;
mod producer;
mod runtime;

use napi_derive::napi;

#[napi_derive::module_init]
fn init() {
    runtime::install();
}

/// This addon's version (the repository's one version): the loader compares
/// it with the package's own and names a mismatch.
#[napi]
pub fn native_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// "debug" or "release": the profile this addon was built with (the bench
/// refuses to measure a debug build).
#[napi]
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}
