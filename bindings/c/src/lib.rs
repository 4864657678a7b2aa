//! The C ABI of the Pyralog core client: `pyralog_<noun>_<verb>` functions
//! over opaque handles, the base of the Go binding. Conversion, error
//! mapping and blocking waits only; every behaviour lives in the core client.
//!
//! Conventions (also in `include/pyralog.h`):
//! - A fallible function returns `pyralog_error_t *`: NULL on success, else
//!   an error with a stable `code` (the numbers of `pyralog::ErrorCode`) and
//!   a message, freed with `pyralog_error_free`. Outputs are written only on
//!   success.
//! - Strings are `pyralog_str_t` (pointer + length, UTF-8, not necessarily
//!   NUL-terminated); bytes are pointer + length.
//! - Blocking calls take an optional `pyralog_cancel_t *`; triggering it from
//!   another thread ends the wait with `PYRALOG_CANCELLED` (905).
//! - Every allocation handed out has a NULL-safe `_free`.
//! - No panic crosses the boundary: one becomes an `Unknown` (100) error.

#![allow(non_camel_case_types)]
// Every exported function documents its contract in its `# Safety` section;
// raw pointers are checked for NULL where NULL is meaningful.
#![allow(clippy::missing_safety_doc)]

mod cancel;
mod client;
mod consumer;
pub mod error;
mod producer;
pub mod reporting;
mod types;

pub use cancel::*;
pub use client::*;
pub use consumer::*;
pub use error::*;
pub use producer::*;
pub use reporting::MAX_UNREPORTED_RECORDS;
pub use types::*;

use std::ffi::c_char;

/// This library's version, the repository's one version (`Cargo.toml`'s
/// `[workspace.package] version`): a static NUL-terminated string. Every
/// package built over this library compares it with its own version when it
/// loads, so a stale library left beside a newer package is named at once.
#[no_mangle]
pub extern "C" fn pyralog_version() -> *const c_char {
    VERSION.as_ptr()
}

const VERSION: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version has no NUL"),
    };
