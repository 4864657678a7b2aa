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

use jni::objects::JClass;
use jni::sys::jstring;
use jni::JNIEnv;

/// This library's version (the repository's one version), which
/// `NativeLibrary` compares with the jar's own at load: a stale library on
/// `java.library.path` is named instead of failing later in some call.
/// Null (with the Java exception pending) if the JVM cannot make the string.
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_NativeLibrary_nativeVersion<'l>(
    env: JNIEnv<'l>,
    _c: JClass<'l>,
) -> jstring {
    env.new_string(env!("CARGO_PKG_VERSION")).map_or(std::ptr::null_mut(), |s| s.into_raw())
}
