//! Errors across the boundary, the shared runtime, and the guard that keeps
//! panics on the Rust side.

use std::ffi::{c_char, CString};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use pyralog::{Error, ErrorCode};
use tokio::runtime::Runtime;

/// Worker threads of the shared runtime.
const RUNTIME_THREADS: usize = 2;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("pyralog")
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// An error: `code` is a stable error code (`pyralog_error_code_name` names
/// it), `message` a NUL-terminated UTF-8 text. Free with `pyralog_error_free`.
#[repr(C)]
pub struct pyralog_error_t {
    pub code: i32,
    pub message: *mut c_char,
    /// How long the server asked to wait before a retry, in ms (`Throttled`,
    /// 702); 0 when it gave no advice.
    pub retry_after_ms: u64,
    /// Where the batch of a `CorruptData` error (305) raised for fetched
    /// data lies; its `log` is NULL on every other error.
    pub corrupt_batch: pyralog_batch_location_t,
}

/// A stored batch that cannot be decoded: records `first_offset` to
/// `last_offset` of `log`/`partition`. Every record before them was
/// delivered; seek the partition to `last_offset + 1` to skip them (after
/// deciding they are lost: a replica may still hold them intact).
#[repr(C)]
pub struct pyralog_batch_location_t {
    /// The log's name, NUL-terminated UTF-8; NULL when there is no batch
    /// (the other fields are 0 then). Freed with its error.
    pub log: *mut c_char,
    pub partition: u32,
    pub first_offset: u64,
    pub last_offset: u64,
}

pub(crate) type Ret = *mut pyralog_error_t;

pub(crate) fn error_ptr(e: Error) -> Ret {
    let message = CString::new(e.message().replace('\0', " ")).unwrap_or_default();
    let retry_after_ms = e.retry_after_ms().map_or(0, u64::from);
    let corrupt_batch = match e.corrupt_batch() {
        Some(at) => pyralog_batch_location_t {
            log: CString::new(at.log.replace('\0', " ")).unwrap_or_default().into_raw(),
            partition: at.partition,
            first_offset: at.first_offset,
            last_offset: at.last_offset,
        },
        None => pyralog_batch_location_t { log: std::ptr::null_mut(), partition: 0, first_offset: 0, last_offset: 0 },
    };
    Box::into_raw(Box::new(pyralog_error_t {
        code: i32::from(e.code().as_u16()),
        message: message.into_raw(),
        retry_after_ms,
        corrupt_batch,
    }))
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// Runs `f`, turning its error or a panic into an error pointer.
pub(crate) fn guard(f: impl FnOnce() -> pyralog::Result<()>) -> Ret {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => error_ptr(e),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            error_ptr(Error::new(ErrorCode::Unknown, format!("internal error in pyralog: {what}")))
        }
    }
}

/// Waits for `fut` on this thread. A call made from inside the runtime (a
/// rebalance callback calling back in) runs `fut` on the runtime's workers
/// instead, since a thread cannot block on the runtime it is driving.
///
/// Work that can finish at once (a send with buffer room) finishes on the
/// first poll, without the cost of parking machinery.
pub fn block<T: Send + 'static>(fut: impl Future<Output = pyralog::Result<T>> + Send + 'static) -> pyralog::Result<T> {
    if outside_runtime() {
        return block_here(fut);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().unwrap_or_else(|_| Err(Error::new(ErrorCode::Unknown, "the operation was dropped")))
}

/// Whether this thread may block on the runtime ([`block_here`]): it is not
/// one of the runtime's own threads.
pub fn outside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_err()
}

/// Runs `fut`, which may borrow the caller's data, to its end on this
/// thread: polled once inside the runtime's context, then blocked on if it
/// must wait. Call it only where [`outside_runtime`] holds (else `block`).
pub fn block_here<T>(fut: impl Future<Output = pyralog::Result<T>>) -> pyralog::Result<T> {
    let mut fut = std::pin::pin!(fut);
    let first = {
        let _rt = runtime().enter();
        futures_util::FutureExt::now_or_never(fut.as_mut())
    };
    match first {
        Some(done) => done,
        None => runtime().block_on(fut),
    }
}

/// Writes `v` to `out`, which must not be NULL.
pub(crate) fn put<T>(out: *mut T, v: T) -> pyralog::Result<()> {
    if out.is_null() {
        return Err(invalid("an output pointer is NULL"));
    }
    // SAFETY: the caller passed a valid, writable, aligned pointer (checked non-NULL).
    unsafe { out.write(v) };
    Ok(())
}

/// Frees an error. NULL is ignored.
///
/// # Safety
/// `e` is NULL or an error returned by this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pyralog_error_free(e: *mut pyralog_error_t) {
    if e.is_null() {
        return;
    }
    // SAFETY: per the contract, `e` came from `Box::into_raw` in `error_ptr`.
    let e = unsafe { Box::from_raw(e) };
    if !e.message.is_null() {
        // SAFETY: `message` came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(e.message) });
    }
    if !e.corrupt_batch.log.is_null() {
        // SAFETY: `corrupt_batch.log` came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(e.corrupt_batch.log) });
    }
}

/// The name of an error code (`"LogNotFound"`), a static NUL-terminated
/// string; `"Unknown"` for numbers without a name.
#[no_mangle]
pub extern "C" fn pyralog_error_code_name(code: i32) -> *const c_char {
    let code = u16::try_from(code).map(ErrorCode::from_u16).unwrap_or(ErrorCode::Unknown);
    NAMES
        .get_or_init(|| ErrorCode::ALL.iter().map(|c| (*c, CString::new(c.name()).expect("no NUL"))).collect())
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(c"Unknown".as_ptr(), |(_, n)| n.as_ptr())
}

static NAMES: OnceLock<Vec<(ErrorCode, CString)>> = OnceLock::new();

/// How many error codes there are; with `pyralog_error_code_at` a binding
/// checks its own list against the library's.
#[no_mangle]
pub extern "C" fn pyralog_error_code_count() -> usize {
    ErrorCode::ALL.len()
}

/// The `index`-th error code in numeric order, or -1 past the end.
#[no_mangle]
pub extern "C" fn pyralog_error_code_at(index: usize) -> i32 {
    ErrorCode::ALL.get(index).map_or(-1, |c| i32::from(c.as_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads and frees an error pointer: (code, message, retry_after_ms).
    fn take(e: Ret) -> (i32, String, u64) {
        assert!(!e.is_null());
        // SAFETY: a live error from `error_ptr`, freed once.
        unsafe {
            let out =
                ((*e).code, std::ffi::CStr::from_ptr((*e).message).to_string_lossy().into_owned(), (*e).retry_after_ms);
            pyralog_error_free(e);
            out
        }
    }

    #[test]
    fn given_a_throttled_error_when_crossing_should_carry_its_retry_after() {
        let e = Error::new(ErrorCode::Throttled, "over quota").with_retry_after_ms(250);
        assert_eq!(take(error_ptr(e)), (702, "over quota".to_owned(), 250));
    }

    #[test]
    fn given_an_error_without_advice_when_crossing_should_carry_zero_retry_after() {
        let (code, _, retry_after_ms) = take(error_ptr(Error::new(ErrorCode::NotAuthorized, "no ACL")));
        assert_eq!((code, retry_after_ms), (701, 0));
    }

    /// Reads and frees an error pointer's corrupt batch: (log, partition,
    /// first_offset, last_offset), `None` when its log is NULL.
    fn take_corrupt_batch(e: Ret) -> Option<(String, u32, u64, u64)> {
        assert!(!e.is_null());
        // SAFETY: a live error from `error_ptr`, freed once.
        unsafe {
            let b = &(*e).corrupt_batch;
            let out = (!b.log.is_null()).then(|| {
                let log = std::ffi::CStr::from_ptr(b.log).to_string_lossy().into_owned();
                (log, b.partition, b.first_offset, b.last_offset)
            });
            pyralog_error_free(e);
            out
        }
    }

    #[test]
    fn given_corrupt_data_naming_its_batch_when_crossing_should_carry_where_it_lies() {
        let at = pyralog::CorruptBatch { log: "events".to_owned(), partition: 2, first_offset: 13, last_offset: 14 };
        let e = Error::corrupt_data(at, "the batch at offset 13 failed its checksum");
        assert_eq!(take_corrupt_batch(error_ptr(e)), Some(("events".to_owned(), 2, 13, 14)));
    }

    #[test]
    fn given_an_error_naming_no_batch_when_crossing_should_carry_a_null_log() {
        let e = Error::new(ErrorCode::CorruptData, "corrupt data in a segment");
        assert_eq!(take_corrupt_batch(error_ptr(e)), None);
    }
}
