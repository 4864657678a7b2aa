//! Runtime bridging: one tokio runtime per process, waits in short slices
//! with the GIL released (so other threads run and Ctrl-C is seen), typed
//! errors, and a clear error after `fork`.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::runtime::Runtime;

/// Longest the GIL stays released before signals are checked.
const WAIT_SLICE: Duration = Duration::from_millis(100);
/// Worker threads of the shared runtime.
const RUNTIME_THREADS: usize = 2;

struct Shared {
    runtime: Runtime,
    pid: u32,
}

static SHARED: OnceLock<Shared> = OnceLock::new();
/// Error code -> Python exception class, registered by `pyralog.errors`.
static ERRORS: OnceLock<Py<PyDict>> = OnceLock::new();

fn shared() -> PyResult<&'static Shared> {
    let s = SHARED.get_or_init(|| Shared {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("pyralog")
            .enable_all()
            .build()
            .expect("a tokio runtime"),
        pid: std::process::id(),
    });
    if s.pid != std::process::id() {
        return Err(PyRuntimeError::new_err(
            "pyralog was used after fork(): its threads do not survive fork; create clients in the child process",
        ));
    }
    Ok(s)
}

/// Called once by `pyralog.errors` with `{code: exception class}`.
#[pyfunction]
pub fn _register_errors(classes: Bound<'_, PyDict>) {
    let _ = ERRORS.set(classes.unbind());
}

/// Every error code and its name, for `pyralog.errors` to check itself against.
#[pyfunction]
pub fn error_codes() -> Vec<(u16, &'static str)> {
    pyralog::ErrorCode::ALL.iter().map(|c| (c.as_u16(), c.name())).collect()
}

/// The typed Python exception for a core error.
pub fn to_py_err(e: pyralog::Error) -> PyErr {
    Python::with_gil(|py| {
        let code = e.code().as_u16();
        let class = ERRORS.get().and_then(|d| d.bind(py).get_item(code).ok().flatten());
        match class.map(|cls| cls.call1((code, e.message().to_owned()))) {
            Some(Ok(exc)) => PyErr::from_value(exc),
            _ => PyRuntimeError::new_err(format!("{}: {}", e.code().name(), e.message())),
        }
    })
}

/// Runs `fut` on the shared runtime and waits for it with the GIL released,
/// in slices; a pending signal (Ctrl-C) cancels the work and raises.
pub fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = pyralog::Result<T>> + Send + 'static,
{
    let s = shared()?;
    let mut handle = s.runtime.spawn(fut);
    loop {
        let done =
            py.allow_threads(|| s.runtime.block_on(async { tokio::time::timeout(WAIT_SLICE, &mut handle).await.ok() }));
        match done {
            Some(Ok(result)) => return result.map_err(to_py_err),
            Some(Err(e)) => return Err(PyRuntimeError::new_err(format!("pyralog task failed: {e}"))),
            None => {
                if let Err(e) = py.check_signals() {
                    handle.abort();
                    return Err(e);
                }
            }
        }
    }
}
