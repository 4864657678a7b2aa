//! The one tokio runtime of the process, shared with napi-rs: every
//! promise's work runs on its worker threads, never on the libuv thread pool.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

/// Worker threads of the runtime (the machine class this targets has two
/// cores; the JavaScript thread is the third busy thread).
const RUNTIME_THREADS: usize = 2;

static HANDLE: OnceLock<Handle> = OnceLock::new();

/// Builds the runtime and hands it to napi-rs; called once when the addon
/// is loaded.
pub fn install() {
    let rt = Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .thread_name("pyralog")
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _ = HANDLE.set(rt.handle().clone());
    napi::bindgen_prelude::create_custom_tokio_runtime(rt);
}

/// The runtime, for calls made on the JavaScript thread that start tasks.
pub fn handle() -> &'static Handle {
    HANDLE.get().expect("the runtime is installed when the addon loads")
}
