//! The Pyralog wire protocol, sans-IO: the Cap'n Proto schema and its
//! generated code, the record-batch codec, stable error codes, and every
//! limit as a named constant. No sockets, no clocks, no runtime.

#![forbid(unsafe_code)]

pub mod acl;
pub mod batch;
pub mod compression;
pub mod error;
pub mod frame;
pub mod group;
pub mod limits;
pub mod log_id;
pub mod model;

#[allow(clippy::all, clippy::pedantic, unused, missing_docs)]
#[rustfmt::skip]
pub mod pyralog_capnp;

pub use error::{ErrorCode, ProtocolError};

/// ALPN protocol identifier of version 1.
pub const ALPN: &[u8] = b"pyralog/1";
/// Default server port.
pub const DEFAULT_PORT: u16 = 9092;
