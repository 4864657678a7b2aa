//! `libpyralog_jni`: the native half of the Java SDK (`io.pyralog`).
//! Conversion, error mapping and blocking waits only; every behaviour lives
//! in the core client. Exports are the `native` methods of
//! `io.pyralog.internal.Native`; handles are boxed Rust values passed as
//! `long`, freed exactly once by the Java side (`close` or its `Cleaner`).
//!
//! Threads: a blocking call runs on the calling Java thread (already
//! attached); a rebalance callback runs inside `poll` on that thread too.
//! Should a callback ever arrive on a runtime thread, that thread attaches
//! once, permanently, and detaches when it ends.

mod client;
mod codec;
mod consumer;
mod jvm;
mod producer;
