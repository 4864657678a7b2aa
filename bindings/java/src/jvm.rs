//! Error mapping into Java exceptions, and the guard every export runs in.

use std::panic::{catch_unwind, AssertUnwindSafe};

use jni::objects::{JObject, JString, JValue};
use jni::JNIEnv;
use pyralog::{Error, ErrorCode};

/// Why an export failed: a core error (thrown as its typed exception) or a
/// JNI failure (usually a Java exception already pending).
pub enum Fail {
    Core(Error),
    Jni(jni::errors::Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

impl From<jni::errors::Error> for Fail {
    fn from(e: jni::errors::Error) -> Self {
        Fail::Jni(e)
    }
}

pub type Res<T> = Result<T, Fail>;

const EXCEPTION_CLASS: &str = "io/pyralog/PyralogException";
const FACTORY_SIG: &str = "(ILjava/lang/String;JLio/pyralog/BatchLocation;)Lio/pyralog/PyralogException;";
const BATCH_LOCATION_CLASS: &str = "io/pyralog/BatchLocation";
const BATCH_LOCATION_SIG: &str = "(Ljava/lang/String;IJJ)V";

/// The server's advised wait before a retry in milliseconds, 0 for none
/// (`PyralogException.retryAfter()` is empty then).
pub fn retry_after_ms(e: &Error) -> i64 {
    e.retry_after_ms().map_or(0, i64::from)
}

/// Where the batch of a `CorruptData` error lies, as a `BatchLocation`
/// (`CorruptDataException.corruptBatch()`); null for every other error.
fn corrupt_batch<'l>(env: &mut JNIEnv<'l>, e: &Error) -> jni::errors::Result<JObject<'l>> {
    let Some(at) = e.corrupt_batch() else {
        return Ok(JObject::null());
    };
    let log = env.new_string(&at.log)?;
    let args = [
        JValue::Object(&log),
        JValue::Int(i32::try_from(at.partition).unwrap_or(i32::MAX)),
        JValue::Long(i64::try_from(at.first_offset).unwrap_or(i64::MAX)),
        JValue::Long(i64::try_from(at.last_offset).unwrap_or(i64::MAX)),
    ];
    env.new_object(BATCH_LOCATION_CLASS, BATCH_LOCATION_SIG, &args)
}

/// Throws the typed exception of `e` (`PyralogException.create(code,
/// message, retryAfterMs, corruptBatch)`).
fn throw_core(env: &mut JNIEnv<'_>, e: &Error) {
    let made = (|| -> jni::errors::Result<JObject<'_>> {
        let msg = env.new_string(e.message())?;
        let batch = corrupt_batch(env, e)?;
        let code = i32::from(e.code().as_u16());
        let args = [JValue::Int(code), JValue::Object(&msg), JValue::Long(retry_after_ms(e)), JValue::Object(&batch)];
        env.call_static_method(EXCEPTION_CLASS, "create", FACTORY_SIG, &args)?.l()
    })();
    match made {
        Ok(exc) => {
            let _ = env.throw(jni::objects::JThrowable::from(exc));
        }
        Err(_) if env.exception_check().unwrap_or(false) => {}
        Err(_) => {
            let _ = env.throw_new("java/lang/RuntimeException", format!("{}: {}", e.code().name(), e.message()));
        }
    }
}

/// Runs an export: its error or panic becomes a pending Java exception and
/// the export returns `T::default()` (which Java never sees).
pub fn guard<'l, T: Default>(env: &mut JNIEnv<'l>, f: impl FnOnce(&mut JNIEnv<'l>) -> Res<T>) -> T {
    match catch_unwind(AssertUnwindSafe(|| f(env))) {
        Ok(Ok(v)) => v,
        Ok(Err(Fail::Core(e))) => {
            throw_core(env, &e);
            T::default()
        }
        Ok(Err(Fail::Jni(e))) => {
            if !env.exception_check().unwrap_or(false) {
                let _ = env.throw_new("java/lang/IllegalStateException", format!("pyralog JNI: {e}"));
            }
            T::default()
        }
        Err(_) => {
            throw_core(env, &Error::new(ErrorCode::Unknown, "internal error in pyralog (a panic); please report it"));
            T::default()
        }
    }
}

/// A Java string (NULL is an `InvalidArgument`).
pub fn string(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &str) -> Res<String> {
    if s.is_null() {
        return Err(invalid(format!("{what} is null")).into());
    }
    // SAFETY: every caller passes a parameter the native method declares as
    // `String`, so the JVM guarantees its class; the checked variant would
    // look the class up on every call (a measurable cost per `send`).
    Ok(unsafe { env.get_string_unchecked(s) }?.into())
}

/// A Java string that may be NULL (unset).
pub fn optional(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &str) -> Res<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    string(env, s, what).map(Some)
}

pub fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// The boxed value behind a handle.
///
/// # Safety
/// `h` is 0 or a live handle of type `T` made by [`into_handle`].
pub unsafe fn handle<'a, T>(h: i64) -> Res<&'a T> {
    // SAFETY: per the contract.
    unsafe { (h as *const T).as_ref() }.ok_or_else(|| Error::closed("the handle").into())
}

pub fn into_handle<T>(v: T) -> i64 {
    Box::into_raw(Box::new(v)) as i64
}

/// Frees a handle made by [`into_handle`]; 0 is ignored.
///
/// # Safety
/// `h` is 0 or a live handle of type `T`, freed once.
pub unsafe fn free_handle<T>(h: i64) -> Option<T> {
    // SAFETY: per the contract.
    (h != 0).then(|| *unsafe { Box::from_raw(h as *mut T) })
}

/// Milliseconds from Java, or `InvalidArgument` if negative.
pub fn millis(ms: i64, what: &str) -> Res<std::time::Duration> {
    u64::try_from(ms)
        .map(std::time::Duration::from_millis)
        .map_err(|_| invalid(format!("{what} must not be negative")).into())
}
