//! The client: connect, administer logs, produce one record, read.

use std::time::Duration;

use crate::cancel::{pyralog_cancel_t, Cancel};
use crate::error::{block, guard, invalid, put, pyralog_error_t};
use crate::types::*;

/// A connection to a Pyralog server. Thread-safe. Close with
/// `pyralog_client_close`, then free with `pyralog_client_free`.
pub struct pyralog_client_t {
    pub(crate) inner: pyralog::Client,
}

/// Connection settings; zero durations take the defaults (connect 5 s,
/// request 30 s), empty (or NULL) strings are "not set".
#[repr(C)]
pub struct pyralog_client_config_t {
    /// The CA certificate (PEM) to trust; empty for the system roots.
    pub ca_file: pyralog_str_t,
    /// The name to verify in the server's certificate; empty for the host.
    pub server_name: pyralog_str_t,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// Client certificate (PEM) and its private key for a server that
    /// authenticates by mTLS (the principal is the certificate's CN): both or
    /// neither, else `InvalidArgument`.
    pub cert_file: pyralog_str_t,
    pub key_file: pyralog_str_t,
    /// Bearer token (`pyralog-server token create NAME`): each connection
    /// authenticates with it before its first request.
    pub token: pyralog_str_t,
}

/// `Some` path or text for a non-empty string.
///
/// # Safety
/// `s` is valid.
unsafe fn set<'a>(s: pyralog_str_t) -> pyralog::Result<Option<&'a str>> {
    // SAFETY: per the contract.
    Ok(Some(unsafe { s.to_str() }?).filter(|s| !s.is_empty()))
}

impl pyralog_client_config_t {
    /// The core settings: the defaults with what is set here.
    ///
    /// # Safety
    /// The strings are valid.
    unsafe fn to_core(&self) -> pyralog::Result<pyralog::ClientConfig> {
        let mut config = pyralog::ClientConfig::default();
        // SAFETY: per the contract.
        unsafe {
            config.ca_file = set(self.ca_file)?.map(Into::into);
            config.server_name = set(self.server_name)?.map(Into::into);
            config.cert_file = set(self.cert_file)?.map(Into::into);
            config.key_file = set(self.key_file)?.map(Into::into);
            config.token = set(self.token)?.map(Into::into);
        }
        config.connect_timeout = ms_or(self.connect_timeout_ms, config.connect_timeout);
        config.request_timeout = ms_or(self.request_timeout_ms, config.request_timeout);
        Ok(config)
    }
}

pub(crate) fn ms_or(ms: u64, default: Duration) -> Duration {
    if ms == 0 {
        default
    } else {
        Duration::from_millis(ms)
    }
}

/// # Safety
/// `c` is NULL or a live client.
unsafe fn client<'a>(c: *const pyralog_client_t) -> pyralog::Result<&'a pyralog::Client> {
    // SAFETY: per the contract.
    unsafe { c.as_ref() }.map(|c| &c.inner).ok_or_else(|| invalid("the client is NULL"))
}

/// Connects to `addr` ("host:port"); writes the client to `*out`.
///
/// # Safety
/// Strings valid; `config` NULL or valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_client_connect(
    addr: pyralog_str_t,
    config: *const pyralog_client_config_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_client_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (addr, cfg, cancel) = unsafe { (addr.to_str()?.to_owned(), config.as_ref(), Cancel::from_ptr(cancel)) };
        let config = match cfg {
            // SAFETY: per the contract.
            Some(c) => unsafe { c.to_core() }?,
            None => pyralog::ClientConfig::default(),
        };
        let inner = block(cancel.run(async move { pyralog::Client::connect(&addr, config).await }))?;
        put(out, Box::into_raw(Box::new(pyralog_client_t { inner })))
    })
}

/// Closes the connection (idempotent); later calls fail with `Closed` (902).
///
/// # Safety
/// `c` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn pyralog_client_close(c: *const pyralog_client_t) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { client(c) }?.clone();
        block(async move {
            c.close().await;
            Ok(())
        })
    })
}

/// Frees a client (closing it first if needed). NULL is ignored.
///
/// # Safety
/// `c` is NULL or a live client no other call is using.
#[no_mangle]
pub unsafe extern "C" fn pyralog_client_free(c: *mut pyralog_client_t) {
    if c.is_null() {
        return;
    }
    // SAFETY: per the contract, from `pyralog_client_connect`.
    let c = unsafe { Box::from_raw(c) };
    let inner = c.inner.clone();
    let _ = block(async move {
        inner.close().await;
        Ok(())
    });
}

/// Runs `op` with the client and the name, waiting with `cancel`.
///
/// # Safety
/// `c` NULL or live; `name` valid; `cancel` NULL or live.
unsafe fn named<T, F, Fut>(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    cancel: *const pyralog_cancel_t,
    op: F,
) -> pyralog::Result<T>
where
    T: Send + 'static,
    F: FnOnce(pyralog::Client, String) -> Fut,
    Fut: std::future::Future<Output = pyralog::Result<T>> + Send + 'static,
{
    // SAFETY: per the contract.
    let (c, name, cancel) = unsafe { (client(c)?.clone(), name.to_str()?.to_owned(), Cancel::from_ptr(cancel)) };
    block(cancel.run(op(c, name)))
}

fn boxed_md(m: pyralog::LogMetadata) -> *mut pyralog_log_metadata_t {
    Box::into_raw(Box::new(log_metadata(m)))
}

/// True in `*out` if the log exists.
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_log_exists(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    cancel: *const pyralog_cancel_t,
    out: *mut bool,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe { put(out, named(c, name, cancel, |c, n| async move { c.log_exists(&n).await })?) })
}

/// The log's metadata (free with `pyralog_log_metadata_free`).
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_get_log_metadata(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_metadata_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe { put(out, boxed_md(named(c, name, cancel, |c, n| async move { c.get_log_metadata(&n).await })?)) })
}

/// The log's statistics (free with `pyralog_log_stats_free`).
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_get_log_stats(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_stats_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let s = named(c, name, cancel, |c, n| async move { c.get_log_stats(&n).await })?;
        put(out, Box::into_raw(Box::new(log_stats(s))))
    })
}

/// Pauses (`pause` true: writes fail `LogPaused`, reads go on) or resumes
/// the log; writes its metadata.
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_pause_log(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    pause: bool,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_metadata_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let m = named(c, name, cancel, |c, n| async move {
            if pause {
                c.pause_log(&n).await
            } else {
                c.resume_log(&n).await
            }
        })?;
        put(out, boxed_md(m))
    })
}

/// Grows the log to `partitions` partitions; writes its metadata.
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_add_partitions(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    partitions: u32,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_metadata_t,
) -> *mut pyralog_error_t {
    // SAFETY: per the contract.
    guard(|| unsafe {
        let m = named(c, name, cancel, |c, n| async move { c.add_partitions(&n, partitions).await })?;
        put(out, boxed_md(m))
    })
}

/// Creates a log (`replication_factor` 0 for the server's
/// `default_replication_factor`, `config` NULL for the defaults); writes its
/// metadata.
///
/// # Safety
/// `c` live; `name` valid; `config` NULL or valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_create_log(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    partitions: u32,
    replication_factor: u32,
    config: *const pyralog_log_config_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_metadata_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, name, cfg, cancel) =
            unsafe { (client(c)?.clone(), name.to_str()?.to_owned(), config.as_ref(), Cancel::from_ptr(cancel)) };
        let spec = pyralog::LogSpec {
            partition_count: partitions,
            replication_factor,
            config: cfg.map(|c| c.to_core()).transpose()?.unwrap_or_default(),
        };
        let m = block(cancel.run(async move { c.create_log_with_config(&name, spec).await }))?;
        put(out, boxed_md(m))
    })
}

/// Replaces the log's settings; writes its metadata.
///
/// # Safety
/// `c` live; `name` valid; `config` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_update_log_config(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    config: *const pyralog_log_config_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_metadata_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, name, cfg, cancel) =
            unsafe { (client(c)?.clone(), name.to_str()?.to_owned(), config.as_ref(), Cancel::from_ptr(cancel)) };
        let config = cfg.ok_or_else(|| invalid("config is NULL"))?.to_core()?;
        let m = block(cancel.run(async move { c.update_log_config(&name, config).await }))?;
        put(out, boxed_md(m))
    })
}

/// Deletes the log and its data.
///
/// # Safety
/// `c` live; `name` valid; `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pyralog_delete_log(
    c: *const pyralog_client_t,
    name: pyralog_str_t,
    cancel: *const pyralog_cancel_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, name, cancel) = unsafe { (client(c)?.clone(), name.to_str()?.to_owned(), Cancel::from_ptr(cancel)) };
        block(cancel.run(async move { c.delete_log(&name).await }))
    })
}

/// Every log (internal logs hidden); free with `pyralog_log_list_free`.
///
/// # Safety
/// `c` live; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_list_logs(
    c: *const pyralog_client_t,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_log_list_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, cancel) = unsafe { (client(c)?.clone(), Cancel::from_ptr(cancel)) };
        let v = block(cancel.run(async move { c.list_logs().await }))?;
        put(out, Box::into_raw(Box::new(log_list(v))))
    })
}

/// Writes the batch's single record and waits for its acknowledgement.
///
/// # Safety
/// `c` live; `log` and `batch` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_produce(
    c: *const pyralog_client_t,
    log: pyralog_str_t,
    batch: *const pyralog_batch_in_t,
    cancel: *const pyralog_cancel_t,
    out: *mut pyralog_record_metadata_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, log, batch, cancel) = unsafe {
            let b = batch.as_ref().ok_or_else(|| invalid("batch is NULL"))?;
            (client(c)?.clone(), log.to_str()?.to_owned(), b.to_records()?, Cancel::from_ptr(cancel))
        };
        let [record]: [pyralog::Record; 1] =
            batch.try_into().map_err(|_| invalid("produce takes exactly one record"))?;
        let md = block(cancel.run(async move { c.produce(&log, record).await }))?;
        put(out, md.into())
    })
}

/// Up to `max` records of every partition from `offset`.
///
/// # Safety
/// `c` live; `log` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consume(
    c: *const pyralog_client_t,
    log: pyralog_str_t,
    offset: u64,
    max: usize,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_records_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, log, cancel) = unsafe { (client(c)?.clone(), log.to_str()?.to_owned(), Cancel::from_ptr(cancel)) };
        let v = block(cancel.run(async move { c.consume(&log, pyralog::LogOffset(offset), max).await }))?;
        put(out, records_ptr(v))
    })
}

/// Up to `max` records of one partition from `offset` (`UINT64_MAX`: only
/// what is newer).
///
/// # Safety
/// `c` live; `log` valid; `cancel` NULL or live; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pyralog_consume_from_partition(
    c: *const pyralog_client_t,
    log: pyralog_str_t,
    partition: u32,
    offset: u64,
    max: usize,
    cancel: *const pyralog_cancel_t,
    out: *mut *mut pyralog_records_t,
) -> *mut pyralog_error_t {
    guard(|| {
        // SAFETY: per the contract.
        let (c, log, cancel) = unsafe { (client(c)?.clone(), log.to_str()?.to_owned(), Cancel::from_ptr(cancel)) };
        let v = block(
            cancel.run(async move { c.consume_from_partition(&log, partition, pyralog::LogOffset(offset), max).await }),
        )?;
        put(out, records_ptr(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> pyralog_str_t {
        pyralog_str_t { ptr: v.as_ptr().cast(), len: v.len() }
    }

    const UNSET: pyralog_str_t = pyralog_str_t { ptr: std::ptr::null(), len: 0 };

    #[test]
    fn given_credentials_when_mapped_should_set_cert_key_and_token() {
        let c = pyralog_client_config_t {
            ca_file: s("ca.pem"),
            server_name: UNSET,
            connect_timeout_ms: 0,
            request_timeout_ms: 1500,
            cert_file: s("alice.pem"),
            key_file: s("alice-key.pem"),
            token: s("pyt_alice_00"),
        };
        // SAFETY: the strings live through the call.
        let core = unsafe { c.to_core() }.expect("valid");
        assert_eq!(core.ca_file.as_deref(), Some(std::path::Path::new("ca.pem")));
        assert_eq!(core.server_name, None);
        assert_eq!(core.cert_file.as_deref(), Some(std::path::Path::new("alice.pem")));
        assert_eq!(core.key_file.as_deref(), Some(std::path::Path::new("alice-key.pem")));
        assert_eq!(core.token.as_deref(), Some("pyt_alice_00"));
        assert_eq!(core.connect_timeout, pyralog::ClientConfig::default().connect_timeout);
        assert_eq!(core.request_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn given_empty_or_null_credentials_when_mapped_should_leave_them_unset() {
        let c = pyralog_client_config_t {
            ca_file: UNSET,
            server_name: UNSET,
            connect_timeout_ms: 0,
            request_timeout_ms: 0,
            cert_file: s(""),
            key_file: UNSET,
            token: s(""),
        };
        // SAFETY: the strings live through the call.
        let core = unsafe { c.to_core() }.expect("valid");
        assert!(core.cert_file.is_none() && core.key_file.is_none() && core.token.is_none());
    }
}
