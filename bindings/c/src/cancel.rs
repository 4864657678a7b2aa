//! Cancel tokens: a blocking call given one ends with `Cancelled` as soon as
//! another thread triggers it (a Go context that is done).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyralog::{Error, ErrorCode};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

/// A cancel token. Create with `pyralog_cancel_new`, free with
/// `pyralog_cancel_free` once no call uses it.
pub struct pyralog_cancel_t {
    inner: Arc<Inner>,
}

/// What a blocking call keeps of a token: it outlives the caller's pointer.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Option<Arc<Inner>>);

impl Cancel {
    /// The token behind `p` (none for NULL).
    ///
    /// # Safety
    /// `p` is NULL or a live token.
    pub(crate) unsafe fn from_ptr(p: *const pyralog_cancel_t) -> Self {
        // SAFETY: per the contract `p` is NULL or points to a live token.
        Cancel(unsafe { p.as_ref() }.map(|t| Arc::clone(&t.inner)))
    }

    /// `fut`, or `Cancelled` once the token is triggered.
    pub(crate) async fn run<T>(self, fut: impl Future<Output = pyralog::Result<T>>) -> pyralog::Result<T> {
        let Some(inner) = self.0 else { return fut.await };
        let cancelled = async {
            loop {
                let notified = inner.notify.notified();
                if inner.cancelled.load(Ordering::Acquire) {
                    return;
                }
                notified.await;
            }
        };
        tokio::select! {
            r = fut => r,
            () = cancelled => Err(Error::new(ErrorCode::Cancelled, "the wait was cancelled by the caller")),
        }
    }
}

/// A new, untriggered cancel token.
#[no_mangle]
pub extern "C" fn pyralog_cancel_new() -> *mut pyralog_cancel_t {
    Box::into_raw(Box::new(pyralog_cancel_t { inner: Arc::default() }))
}

/// Ends every wait that uses `token`, now and later. Thread-safe.
///
/// # Safety
/// `token` is NULL or a live token.
#[no_mangle]
pub unsafe extern "C" fn pyralog_cancel_trigger(token: *const pyralog_cancel_t) {
    // SAFETY: per the contract.
    if let Some(t) = unsafe { token.as_ref() } {
        t.inner.cancelled.store(true, Ordering::Release);
        t.inner.notify.notify_waiters();
    }
}

/// Frees a token. NULL is ignored.
///
/// # Safety
/// `token` is NULL or a live token no call is still given.
#[no_mangle]
pub unsafe extern "C" fn pyralog_cancel_free(token: *mut pyralog_cancel_t) {
    if !token.is_null() {
        // SAFETY: per the contract, from `pyralog_cancel_new`.
        drop(unsafe { Box::from_raw(token) });
    }
}
