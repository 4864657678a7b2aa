//! Runtime bridging: one tokio runtime per process, typed errors, and a
//! clear error after `fork`. Waiting is in `delivery.rs`.

use std::sync::OnceLock;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::runtime::Runtime;

/// Longest the GIL stays released before signals are checked.
pub const WAIT_SLICE: Duration = Duration::from_millis(100);
/// Worker threads of the shared runtime.
const RUNTIME_THREADS: usize = 2;

pub struct Shared {
    pub runtime: Runtime,
    pid: u32,
}

static SHARED: OnceLock<Shared> = OnceLock::new();
/// Error code -> Python exception class, registered by `pyralog.errors`.
static ERRORS: OnceLock<Py<PyDict>> = OnceLock::new();
/// The exception class for use after `fork`, registered by `pyralog.errors`.
static FORKED: OnceLock<PyObject> = OnceLock::new();

const FORK_MESSAGE: &str =
    "pyralog was used in a child process after fork(): its threads do not survive fork; create clients in the child";

pub fn shared() -> PyResult<&'static Shared> {
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
        return Err(Python::with_gil(|py| match FORKED.get() {
            Some(cls) => match cls.call1(py, (pyralog::ErrorCode::Closed.as_u16(), FORK_MESSAGE)) {
                Ok(exc) => PyErr::from_value(exc.into_bound(py)),
                Err(e) => e,
            },
            None => PyRuntimeError::new_err(FORK_MESSAGE),
        }));
    }
    Ok(s)
}

/// Called once by `pyralog.errors` with `{code: exception class}` and the
/// class for use after `fork`.
#[pyfunction]
pub fn _register_errors(classes: Bound<'_, PyDict>, forked: PyObject) {
    let _ = ERRORS.set(classes.unbind());
    let _ = FORKED.set(forked);
}

/// Every error code and its name, for `pyralog.errors` to check itself against.
#[pyfunction]
pub fn error_codes() -> Vec<(u16, &'static str)> {
    pyralog::ErrorCode::ALL.iter().map(|c| (c.as_u16(), c.name())).collect()
}

/// The typed Python exception for a core error: `code`, `message` and
/// `retry_after_ms` (the server's advised wait, or `None`); a `CorruptData`
/// naming its batch also gets `log`, `partition`, `first_offset` and
/// `last_offset` (keywords only its class takes).
pub fn to_py_err(e: pyralog::Error) -> PyErr {
    Python::with_gil(|py| {
        let code = e.code().as_u16();
        let retry_after_ms = e.retry_after_ms();
        let class = ERRORS.get().and_then(|d| d.bind(py).get_item(code).ok().flatten());
        let made = class.map(|cls| {
            let kwargs = corrupt_batch_kwargs(py, &e)?;
            cls.call((code, e.message().to_owned(), retry_after_ms), kwargs.as_ref())
        });
        match made {
            Some(Ok(exc)) => PyErr::from_value(exc),
            _ => PyRuntimeError::new_err(format!("{}: {}", e.code().name(), e.message())),
        }
    })
}

/// Where the batch of a `CorruptData` error lies, as its exception's
/// keyword arguments; `None` for every other error.
fn corrupt_batch_kwargs<'py>(py: Python<'py>, e: &pyralog::Error) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(at) = e.corrupt_batch() else {
        return Ok(None);
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("log", &at.log)?;
    kwargs.set_item("partition", at.partition)?;
    kwargs.set_item("first_offset", at.first_offset)?;
    kwargs.set_item("last_offset", at.last_offset)?;
    Ok(Some(kwargs))
}
