//! Error mapping: every core error becomes an instance of the JavaScript
//! class of its code (`LogNotFound`, ...), with the server's advised wait
//! (`retryAfterMs`) when there is one and, on `CorruptData`, where its batch
//! lies (`corruptBatch`), made by the factory that `index.cjs` registers per
//! JavaScript environment; and promises that settle with those errors.

use std::future::Future;

use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, Status};
use napi_derive::napi;
use pyralog::{Error, ErrorCode};

/// `(code, message, retryAfterMs, corruptBatch) => PyralogError`, kept per
/// environment (main thread and each worker thread have their own).
/// `retryAfterMs` is `null` when the error advises no wait, `corruptBatch`
/// when it names no batch.
type FactoryArgs = FnArgs<(u32, String, Option<f64>, Option<BatchLocation>)>;

/// A stored batch that cannot be decoded (`CorruptData.corruptBatch`):
/// records `firstOffset` to `lastOffset` of `log`/`partition`.
#[napi(object)]
pub struct BatchLocation {
    pub log: String,
    pub partition: u32,
    pub first_offset: f64,
    pub last_offset: f64,
}

struct Factory(FunctionRef<FactoryArgs, Unknown<'static>>);

/// One error code as the package sees it.
#[napi(object)]
pub struct ErrorCodeInfo {
    pub code: u32,
    pub name: String,
}

/// Every error code of the core client, in numeric order: `lib/errors.cjs`
/// is generated from this list and a test compares the two.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    ErrorCode::ALL.iter().map(|c| ErrorCodeInfo { code: u32::from(c.as_u16()), name: c.name().to_owned() }).collect()
}

/// Registers the function that makes a typed error from
/// `(code, message, retryAfterMs, corruptBatch)`.
#[napi]
pub fn register_error_factory(env: &Env, factory: Function<FactoryArgs, Unknown<'static>>) -> napi::Result<()> {
    let factory = Factory(factory.create_ref()?);
    env.set_instance_data(factory, (), |_| {})
}

/// The typed JavaScript error for a core error, as a `napi::Error` that
/// carries the JavaScript object (so throwing or rejecting with it hands
/// over that very object). Falls back to a plain `Error` naming the code
/// when no factory is registered.
pub fn to_js(env: &Env, e: &Error) -> napi::Error {
    let code = u32::from(e.code().as_u16());
    let made = env.get_instance_data::<Factory>().ok().flatten().and_then(|f| {
        let func = f.0.borrow_back(env).ok()?;
        func.call((code, e.message().to_owned(), retry_after_ms(e), corrupt_batch(e)).into()).ok()
    });
    match made {
        Some(obj) => napi::Error::from(obj),
        None => napi::Error::new(Status::GenericFailure, format!("{}: {}", e.code().name(), e.message())),
    }
}

/// The wait the server advised before a retry (`Throttled`), in
/// milliseconds.
fn retry_after_ms(e: &Error) -> Option<f64> {
    e.retry_after_ms().map(f64::from)
}

/// Where the batch of a `CorruptData` error lies (offsets as numbers, like
/// every offset the package hands out).
fn corrupt_batch(e: &Error) -> Option<BatchLocation> {
    e.corrupt_batch().map(|at| BatchLocation {
        log: at.log.clone(),
        partition: at.partition,
        first_offset: at.first_offset as f64,
        last_offset: at.last_offset as f64,
    })
}

/// A core `InvalidArgument` error.
pub fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

/// Converts a core result for a synchronous method: errors are thrown as
/// their typed JavaScript error.
pub fn sync<T>(env: &Env, r: pyralog::Result<T>) -> napi::Result<T> {
    r.map_err(|e| to_js(env, &e))
}

/// Why a promise rejects: a core error (made into its typed JavaScript
/// error on the JavaScript thread), or an exception JavaScript threw (in a
/// rebalance callback), handed back as it was.
pub enum Failure {
    Core(Error),
    Js(napi::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// Runs `fut` on the runtime and returns a promise of its output, converted
/// on the JavaScript thread by `convert`; a core error rejects the promise
/// with its typed JavaScript error. Never touches the libuv thread pool.
pub fn promise<'env, T, E, V, F, C>(env: &'env Env, fut: F, convert: C) -> napi::Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    E: Into<Failure> + Send + 'static,
    V: ToNapiValue,
    F: Future<Output = Result<T, E>> + Send + 'static,
    C: FnOnce(&Env, T) -> napi::Result<V> + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await.map_err(Into::into)) }, move |env, out| match out {
        Ok(v) => convert(env, v),
        Err(Failure::Core(e)) => Err(to_js(env, &e)),
        Err(Failure::Js(e)) => Err(e),
    })
}

/// A promise that rejects at once with `e` (an argument the caller got
/// wrong): asynchronous methods report every error the same way.
pub fn rejected<'env, V: ToNapiValue + 'static>(env: &'env Env, e: Error) -> napi::Result<PromiseRaw<'env, V>> {
    promise(env, async move { Err::<(), Error>(e) }, |_, ()| -> napi::Result<V> { unreachable!("always rejected") })
}

/// `Ok` of a conversion, for `promise` callbacks that need none.
pub fn same<T>(_: &Env, v: T) -> napi::Result<T> {
    Ok(v)
}
