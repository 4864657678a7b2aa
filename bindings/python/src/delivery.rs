//! `Delivery`: the result of a core-client operation, waited for from a
//! thread (`result(timeout)`, GIL released, in slices so Ctrl-C works) or
//! awaited from asyncio (`await`, never blocking the event loop).
//!
//! Two kinds of work sit behind it: *spawned* operations (admin calls,
//! polls, commits) run as a task on the shared runtime and are cancelled
//! when their waiter is interrupted; *observed* outcomes (a record's
//! acknowledgement) are only watched, so an interrupted wait leaves them to
//! finish and they can be waited for again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCFunction;
use pyo3::BoundObject;
use tokio::task::JoinHandle;

use crate::bridge::{shared, to_py_err, WAIT_SLICE};

/// What a finished operation gives Python.
pub type PyOut = PyResult<PyObject>;
type BoxFut = Pin<Box<dyn Future<Output = PyOut> + Send>>;

/// How often a second waiter looks whether the first one has finished.
const SECOND_WAITER_POLL: Duration = Duration::from_millis(1);

enum Work {
    Spawned(JoinHandle<PyOut>),
    Observed(BoxFut),
}

enum State {
    Running(Work),
    /// Another waiter is driving the work.
    Busy,
    Done(PyOut),
}

/// The outcome of an operation: `result(timeout=None)` from a thread,
/// `await` from asyncio, `done()` to look without waiting.
#[pyclass(module = "pyralog")]
pub struct Delivery {
    state: Arc<Mutex<State>>,
}

/// Converts a core result to Python, taking the GIL.
pub fn convert<T>(r: pyralog::Result<T>) -> PyOut
where
    T: for<'py> IntoPyObject<'py>,
{
    let v = r.map_err(to_py_err)?;
    Python::with_gil(|py| v.into_pyobject(py).map(|b| b.into_any().unbind()).map_err(Into::into))
}

impl Delivery {
    /// Runs `fut` on the shared runtime now.
    pub fn spawn<F>(fut: F) -> PyResult<Self>
    where
        F: Future<Output = PyOut> + Send + 'static,
    {
        let handle = shared()?.runtime.spawn(fut);
        Ok(Self::with(State::Running(Work::Spawned(handle))))
    }

    /// Watches `fut`, which needs no driving to make progress (the work
    /// behind it runs elsewhere).
    pub fn observe<F>(fut: F) -> Self
    where
        F: Future<Output = PyOut> + Send + 'static,
    {
        Self::with(State::Running(Work::Observed(Box::pin(fut))))
    }

    /// Already finished with `out`.
    pub fn ready(out: PyOut) -> Self {
        Self::with(State::Done(out))
    }

    fn with(state: State) -> Self {
        Delivery { state: Arc::new(Mutex::new(state)) }
    }

    fn take(&self) -> State {
        std::mem::replace(&mut *self.state.lock().expect("delivery lock"), State::Busy)
    }

    fn put(&self, s: State) {
        *self.state.lock().expect("delivery lock") = s;
    }
}

fn clone_out(py: Python<'_>, out: &PyOut) -> PyOut {
    match out {
        Ok(v) => Ok(v.clone_ref(py)),
        Err(e) => Err(e.clone_ref(py)),
    }
}

async fn drive(work: &mut Work) -> PyOut {
    match work {
        Work::Spawned(h) => h.await.unwrap_or_else(|e| Err(PyRuntimeError::new_err(format!("operation ended: {e}")))),
        Work::Observed(f) => f.await,
    }
}

#[pymethods]
impl Delivery {
    /// Waits for the outcome (at most `timeout` seconds, forever if None)
    /// and returns it or raises its error. `Timeout` if the time ran out;
    /// the operation goes on and can be waited for again.
    #[pyo3(signature = (timeout=None))]
    pub fn result(&self, py: Python<'_>, timeout: Option<f64>) -> PyOut {
        let deadline = match timeout {
            Some(t) => Some(Instant::now() + seconds(t)?),
            None => None,
        };
        let rt = &shared()?.runtime;
        loop {
            let mut work = match self.take() {
                State::Done(out) => {
                    let copy = clone_out(py, &out);
                    self.put(State::Done(out));
                    return copy;
                }
                State::Busy => {
                    py.allow_threads(|| std::thread::sleep(SECOND_WAITER_POLL));
                    check_wait(py, deadline)?;
                    continue;
                }
                State::Running(w) => w,
            };
            let slice = deadline.map_or(WAIT_SLICE, |d| d.saturating_duration_since(Instant::now()).min(WAIT_SLICE));
            let out =
                py.allow_threads(|| rt.block_on(async { tokio::time::timeout(slice, drive(&mut work)).await.ok() }));
            if let Some(out) = out {
                let copy = clone_out(py, &out);
                self.put(State::Done(out));
                return copy;
            }
            if let Err(e) = check_wait(py, deadline) {
                self.interrupted(py, work, &e);
                return Err(e);
            }
            self.put(State::Running(work));
        }
    }

    /// True once the outcome is known.
    pub fn done(&self) -> PyResult<bool> {
        let _guard = shared()?.runtime.enter();
        let mut state = self.state.lock().expect("delivery lock");
        let finished = match &mut *state {
            State::Done(_) => return Ok(true),
            State::Busy => return Ok(false),
            State::Running(Work::Spawned(h)) => h.is_finished(),
            State::Running(Work::Observed(f)) => {
                if let Some(out) = f.now_or_never() {
                    *state = State::Done(out);
                    return Ok(true);
                }
                false
            }
        };
        Ok(finished)
    }

    fn __await__(&self, py: Python<'_>) -> PyResult<PyObject> {
        let asyncio = py.import("asyncio")?;
        let event_loop = asyncio.call_method0("get_running_loop")?.unbind();
        let future = event_loop.call_method0(py, "create_future")?;
        let rt = &shared()?.runtime;
        let state = Arc::clone(&self.state);
        let (fut_ref, loop_ref) = (future.clone_ref(py), event_loop.clone_ref(py));
        let mut work_abort = None;
        self.done()?; // an outcome already there is set without a thread hop
        let task = match self.take() {
            State::Done(out) => {
                let copy = clone_out(py, &out);
                self.put(State::Done(out));
                set_now(py, &future, copy)?;
                None
            }
            State::Running(mut work) => Some(rt.spawn({
                if let Work::Spawned(h) = &work {
                    work_abort = Some(h.abort_handle());
                }
                async move {
                    let out = drive(&mut work).await;
                    Python::with_gil(|py| {
                        resolve(py, &loop_ref, &fut_ref, clone_out(py, &out));
                        *state.lock().expect("delivery lock") = State::Done(out);
                    });
                }
            })),
            State::Busy => Some(rt.spawn(async move {
                // Another waiter drives the work; if it gives the work back
                // (its wait timed out), this one drives it instead.
                let out = loop {
                    tokio::time::sleep(SECOND_WAITER_POLL).await;
                    let taken = std::mem::replace(&mut *state.lock().expect("delivery lock"), State::Busy);
                    match taken {
                        State::Done(out) => break out,
                        State::Running(mut work) => break drive(&mut work).await,
                        State::Busy => {}
                    }
                };
                Python::with_gil(|py| {
                    resolve(py, &loop_ref, &fut_ref, clone_out(py, &out));
                    *state.lock().expect("delivery lock") = State::Done(out);
                });
            })),
        };
        if let Some(task) = task {
            let abort = task.abort_handle();
            let state = Arc::clone(&self.state);
            let on_done = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<()> {
                if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
                    abort.abort();
                    if let Some(work) = &work_abort {
                        work.abort();
                    }
                    let mut state = state.lock().expect("delivery lock");
                    if matches!(*state, State::Busy) {
                        *state = State::Done(Err(PyErr::from_value(
                            args.py().import("asyncio")?.getattr("CancelledError")?.call0()?,
                        )));
                    }
                }
                Ok(())
            })?;
            future.call_method1(py, "add_done_callback", (on_done,))?;
        }
        future.call_method0(py, "__await__")
    }

    fn __repr__(&self) -> &'static str {
        match &*self.state.lock().expect("delivery lock") {
            State::Done(Ok(_)) => "<Delivery done>",
            State::Done(Err(_)) => "<Delivery failed>",
            _ => "<Delivery pending>",
        }
    }
}

impl Delivery {
    /// A wait was cut short by a signal or its deadline: spawned work is
    /// cancelled only on a signal, observed work is always kept.
    fn interrupted(&self, py: Python<'_>, work: Work, e: &PyErr) {
        match work {
            Work::Spawned(h) if !is_timeout(py, e) => {
                h.abort();
                self.put(State::Done(Err(e.clone_ref(py))));
            }
            w => self.put(State::Running(w)),
        }
    }
}

fn is_timeout(py: Python<'_>, e: &PyErr) -> bool {
    e.value(py).getattr("code").and_then(|c| c.extract::<u16>()).ok() == Some(pyralog::ErrorCode::Timeout.as_u16())
}

/// Raises on a pending signal or a passed deadline.
fn check_wait(py: Python<'_>, deadline: Option<Instant>) -> PyResult<()> {
    py.check_signals()?;
    match deadline {
        Some(d) if Instant::now() >= d => Err(to_py_err(pyralog::Error::new(
            pyralog::ErrorCode::Timeout,
            "the operation did not finish within the given timeout; it goes on",
        ))),
        _ => Ok(()),
    }
}

/// Completes an asyncio future on its event loop's thread.
fn set_now(py: Python<'_>, future: &PyObject, out: PyOut) -> PyResult<()> {
    match out {
        Ok(v) => future.call_method1(py, "set_result", (v,))?,
        Err(e) => future.call_method1(py, "set_exception", (e.into_value(py),))?,
    };
    Ok(())
}

/// Completes an asyncio future from any thread, unless it was cancelled.
fn resolve(py: Python<'_>, event_loop: &PyObject, future: &PyObject, out: PyOut) {
    let (ok, value) = match out {
        Ok(v) => (true, v),
        Err(e) => (false, e.into_value(py).into_any()),
    };
    let set = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<()> {
        let (fut, value) = (args.get_item(0)?, args.get_item(1)?);
        if !fut.call_method0("done")?.is_truthy()? {
            fut.call_method1(if ok { "set_result" } else { "set_exception" }, (value,))?;
        }
        Ok(())
    });
    // A closed event loop has no one left to tell.
    if let Ok(set) = set {
        let _ = event_loop.call_method1(py, "call_soon_threadsafe", (set, future, value));
    }
}

/// Seconds as a `Duration`, or `ValueError`.
pub fn seconds(s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| PyValueError::new_err(format!("{s} is not a valid number of seconds")))
}
