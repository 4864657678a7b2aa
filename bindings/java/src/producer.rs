//! Producer exports: `send` queues one record under a token; a Java thread
//! takes the outcomes in bulk (`producerTakeReports`) and completes the
//! futures, so no native thread ever calls into the JVM for a delivery.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JObjectArray};
use jni::sys::{jboolean, jint, jlong};
use jni::JNIEnv;
use pyralog::{Acks, Compression, ProducerConfig};
use pyralog_c::error::{block, block_here, outside_runtime, runtime};
use pyralog_c::reporting::ReportingProducer;

use crate::client::{client, record};
use crate::jvm::{free_handle, guard, handle, into_handle, invalid, millis, retry_after_ms, Res};

type Shared = Arc<ReportingProducer>;

fn producer(h: jlong) -> Res<Shared> {
    // SAFETY: Java passes a live producer handle (freed once, after every use).
    unsafe { handle::<Shared>(h) }.cloned()
}

/// Length of the settings array `ProducerConfig.Builder` fills.
const SETTINGS: usize = 11;

/// Settings from Java: `[batchSize, lingerMs, bufferMemory, maxBlockMs,
/// deliveryTimeoutMs, retryBackoffMs, maxInFlight, idempotence (0/1),
/// acks (`Acks` ordinal: 0 all, 1 leader, 2 none), compression
/// (`Compression` ordinal: 0 none, 1 snappy, 2 lz4, 3 zstd),
/// compressionLevel]`, negative for the default, except compressionLevel:
/// any `int` is a level ([`Compression::with_level`] checks it), and
/// `i64::MIN` is the codec's default.
fn config(v: &[i64; SETTINGS]) -> Res<ProducerConfig> {
    let mut c = ProducerConfig::default();
    let size = |x: i64| usize::try_from(x).map_err(|_| invalid("a size out of range"));
    if v[0] >= 0 {
        c.batch_size = size(v[0])?;
    }
    if v[1] >= 0 {
        c.linger = millis(v[1], "linger")?;
    }
    if v[2] >= 0 {
        c.buffer_memory = size(v[2])?;
    }
    if v[3] >= 0 {
        c.max_block = millis(v[3], "maxBlock")?;
    }
    if v[4] >= 0 {
        c.delivery_timeout = millis(v[4], "deliveryTimeout")?;
    }
    if v[5] >= 0 {
        c.retry_backoff = millis(v[5], "retryBackoff")?;
    }
    if v[6] >= 0 {
        c.max_in_flight = size(v[6])?;
    }
    if v[7] >= 0 {
        c.idempotence = v[7] != 0;
    }
    c.acks = match v[8] {
        ..0 => c.acks,
        0 => Acks::All,
        1 => Acks::Leader,
        2 => Acks::None,
        n => return Err(invalid(format!("acks {n} is not an Acks ordinal")).into()),
    };
    let level = match v[10] {
        i64::MIN => None,
        l => Some(i32::try_from(l).map_err(|_| invalid(format!("compression level {l} is not an int")))?),
    };
    if v[9] >= 0 || level.is_some() {
        let name = match v[9] {
            ..=0 => "none",
            1 => "snappy",
            2 => "lz4",
            3 => "zstd",
            n => return Err(invalid(format!("compression {n} is not a Compression ordinal")).into()),
        };
        c.compression = Compression::with_level(name, level).map_err(pyralog::Error::from)?;
    }
    Ok(c)
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_producerNew<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    client_handle: jlong,
    settings: JLongArray<'l>,
) -> jlong {
    guard(&mut env, |env| {
        let mut v = [0i64; SETTINGS];
        env.get_long_array_region(&settings, 0, &mut v)?;
        let (c, cfg) = (client(client_handle)?, config(&v)?);
        let _rt = runtime().enter();
        Ok(into_handle::<Shared>(Arc::new(ReportingProducer::new(&c, cfg)?)))
    })
}

/// Queues one record under `token`; blocks only while the buffer is full.
/// `log` is the name's UTF-8 bytes (Java keeps them per log, so a send
/// converts no string).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_pyralog_internal_Native_producerSend<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    log: JByteArray<'l>,
    key: JByteArray<'l>,
    value: JByteArray<'l>,
    headers: JByteArray<'l>,
    partition: jint,
    timestamp: jlong,
    has_timestamp: jboolean,
    token: jlong,
) {
    guard(&mut env, |env| {
        let mut name = [0u8; LOG_NAME_BYTES_ON_STACK];
        let log = utf8(env, &log, "log", &mut name)?;
        let r = record(env, &key, &value, &headers, partition, timestamp, has_timestamp)?;
        if outside_runtime() {
            // SAFETY: Java passes a live producer handle and frees it only after every call returned.
            let p = unsafe { handle::<Shared>(h) }?;
            return Ok(block_here(p.send_one(&log, r, token as u64))?);
        }
        let (p, log) = (producer(h)?, log.into_owned());
        Ok(block(async move { p.send_one(&log, r, token as u64).await })?)
    })
}

/// Log names up to this long are read without an allocation (every valid
/// name is: `MAX_LOG_ID_BYTES`).
const LOG_NAME_BYTES_ON_STACK: usize = pyralog::limits::MAX_LOG_ID_BYTES;

/// Reads UTF-8 bytes from Java, into `buf` when they fit.
fn utf8<'b>(env: &mut JNIEnv<'_>, bytes: &JByteArray<'_>, what: &str, buf: &'b mut [u8]) -> Res<Cow<'b, str>> {
    if bytes.is_null() {
        return Err(invalid(format!("{what} is null")).into());
    }
    let len = usize::try_from(env.get_array_length(bytes)?).unwrap_or(0);
    let text = match buf.get_mut(..len) {
        Some(dst) => {
            let mut signed = [0i8; LOG_NAME_BYTES_ON_STACK];
            env.get_byte_array_region(bytes, 0, &mut signed[..len])?;
            dst.iter_mut().zip(signed).for_each(|(d, s)| *d = s as u8);
            std::str::from_utf8(dst).map(Cow::Borrowed).ok()
        }
        None => String::from_utf8(env.convert_byte_array(bytes)?).map(Cow::Owned).ok(),
    };
    text.ok_or_else(|| invalid(format!("{what} is not UTF-8")).into())
}

/// Takes up to `tokens.length` reports, waiting up to `timeout_ms` for the
/// first; answers how many (-1 once closed and every report is taken). A
/// failed record has its error code in `codes`, message in `messages` and
/// the server's advised wait before a retry in `retry_afters` (ms, 0: none).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_pyralog_internal_Native_producerTakeReports<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    tokens: JLongArray<'l>,
    partitions: JIntArray<'l>,
    offsets: JLongArray<'l>,
    epochs: JLongArray<'l>,
    timestamps: JLongArray<'l>,
    codes: JIntArray<'l>,
    messages: JObjectArray<'l>,
    retry_afters: JLongArray<'l>,
    timeout_ms: jlong,
) -> jint {
    guard(&mut env, |env| {
        let p = producer(h)?;
        let max = usize::try_from(env.get_array_length(&tokens)?).unwrap_or(0);
        let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let reports = match p.take(max, wait) {
            Ok(r) => r,
            Err(e) if e.code() == pyralog::ErrorCode::Closed => return Ok(-1),
            Err(e) => return Err(e.into()),
        };
        let n = reports.len();
        let (mut tk, mut pa, mut of, mut ep, mut ts, mut co, mut ra) =
            (vec![0i64; n], vec![0i32; n], vec![0i64; n], vec![0i64; n], vec![0i64; n], vec![0i32; n], vec![0i64; n]);
        for (i, r) in reports.into_iter().enumerate() {
            tk[i] = r.token as i64;
            match r.result {
                Ok(md) => {
                    (pa[i], of[i], ep[i], ts[i]) =
                        (md.partition as i32, md.offset as i64, md.epoch as i64, md.timestamp)
                }
                Err(e) => {
                    co[i] = i32::from(e.code().as_u16());
                    ra[i] = retry_after_ms(&e);
                    let msg = env.new_string(e.message())?;
                    env.set_object_array_element(&messages, i as i32, msg)?;
                }
            }
        }
        env.set_long_array_region(&tokens, 0, &tk)?;
        env.set_int_array_region(&partitions, 0, &pa)?;
        env.set_long_array_region(&offsets, 0, &of)?;
        env.set_long_array_region(&epochs, 0, &ep)?;
        env.set_long_array_region(&timestamps, 0, &ts)?;
        env.set_int_array_region(&codes, 0, &co)?;
        env.set_long_array_region(&retry_afters, 0, &ra)?;
        Ok(n as jint)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_producerFlush<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    guard(&mut env, |_| {
        let p = producer(h)?;
        Ok(block(async move { p.producer().flush().await })?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_producerClose<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    guard(&mut env, |_| {
        let p = producer(h)?;
        Ok(block(async move { p.close().await })?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_producerFree<'l>(mut env: JNIEnv<'l>, _c: JClass<'l>, h: jlong) {
    guard(&mut env, |_| {
        // SAFETY: the Java side frees each handle once, after its last use.
        if let Some(p) = unsafe { free_handle::<Shared>(h) } {
            let _ = block(async move { p.close().await });
        }
        Ok(())
    })
}
