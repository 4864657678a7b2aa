//! Client exports: connect, administer logs, produce one record, read.

use std::sync::atomic::{AtomicI64, Ordering};

use jni::objects::{JByteArray, JClass, JLongArray, JString};
use jni::sys::{jboolean, jbyteArray, jint, jlong};
use jni::JNIEnv;
use pyralog::{Client, ClientConfig, LogOffset, LogSpec};
use pyralog_c::error::block;

use crate::codec;
use crate::jvm::{free_handle, guard, handle, into_handle, invalid, millis, optional, string, Res};

/// Native clients not yet freed (for the test that an unclosed client is
/// reclaimed by its `Cleaner`).
static LIVE_CLIENTS: AtomicI64 = AtomicI64::new(0);

pub fn bytes_out(env: &mut JNIEnv<'_>, b: &[u8]) -> Res<jbyteArray> {
    Ok(env.byte_array_from_slice(b)?.into_raw())
}

pub fn client(h: jlong) -> Res<Client> {
    // SAFETY: Java passes a live client handle (it frees it only once, after every use).
    unsafe { handle::<Client>(h) }.cloned()
}

/// Connects with the settings of `ClientConfig` (each string may be null:
/// unset); `certFile`/`keyFile` go together and the core says so otherwise.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_pyralog_internal_Native_clientConnect<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    addr: JString<'l>,
    ca_file: JString<'l>,
    server_name: JString<'l>,
    cert_file: JString<'l>,
    key_file: JString<'l>,
    token: JString<'l>,
    connect_timeout_ms: jlong,
    request_timeout_ms: jlong,
) -> jlong {
    guard(&mut env, |env| {
        let addr = string(env, &addr, "addr")?;
        let mut cfg = ClientConfig {
            ca_file: optional(env, &ca_file, "caFile")?.map(Into::into),
            server_name: optional(env, &server_name, "serverName")?,
            cert_file: optional(env, &cert_file, "certFile")?.map(Into::into),
            key_file: optional(env, &key_file, "keyFile")?.map(Into::into),
            token: optional(env, &token, "token")?,
            ..ClientConfig::default()
        };
        if connect_timeout_ms > 0 {
            cfg.connect_timeout = millis(connect_timeout_ms, "connectTimeout")?;
        }
        if request_timeout_ms > 0 {
            cfg.request_timeout = millis(request_timeout_ms, "requestTimeout")?;
        }
        let c = block(async move { Client::connect(&addr, cfg).await })?;
        LIVE_CLIENTS.fetch_add(1, Ordering::AcqRel);
        Ok(into_handle(c))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_clientClose<'l>(mut env: JNIEnv<'l>, _c: JClass<'l>, h: jlong) {
    guard(&mut env, |_| {
        let c = client(h)?;
        Ok(block(async move {
            c.close().await;
            Ok(())
        })?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_clientFree<'l>(mut env: JNIEnv<'l>, _c: JClass<'l>, h: jlong) {
    guard(&mut env, |_| {
        // SAFETY: the Java side frees each handle once, after its last use.
        if let Some(c) = unsafe { free_handle::<Client>(h) } {
            LIVE_CLIENTS.fetch_sub(1, Ordering::AcqRel);
            let _ = block(async move {
                c.close().await;
                Ok(())
            });
        }
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_liveClients<'l>(_env: JNIEnv<'l>, _c: JClass<'l>) -> jlong {
    LIVE_CLIENTS.load(Ordering::Acquire)
}

/// What an admin call does, by number (keeps the export list short).
const EXISTS: jint = 0;
const METADATA: jint = 1;
const STATS: jint = 2;
const PAUSE: jint = 3;
const RESUME: jint = 4;
const DELETE: jint = 5;

/// A one-name admin call; answers a codec result (or `[1]`/`[0]` for
/// exists, empty for delete).
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_admin<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    op: jint,
    name: JString<'l>,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (c, name) = (client(h)?, string(env, &name, "name")?);
        let out = block(async move {
            Ok(match op {
                EXISTS => vec![u8::from(c.log_exists(&name).await?)],
                METADATA => codec::metadata(&c.get_log_metadata(&name).await?),
                STATS => codec::stats(&c.get_log_stats(&name).await?),
                PAUSE => codec::metadata(&c.pause_log(&name).await?),
                RESUME => codec::metadata(&c.resume_log(&name).await?),
                DELETE => c.delete_log(&name).await.map(|()| Vec::new())?,
                n => return Err(invalid(format!("admin operation {n}"))),
            })
        })?;
        bytes_out(env, &out)
    })
}

/// A log config from the eleven longs of `LogConfig.toNative()`.
fn log_config(env: &mut JNIEnv<'_>, arr: &JLongArray<'_>) -> Res<pyralog::LogConfig> {
    let mut v = [0i64; codec::CONFIG_LEN];
    env.get_long_array_region(arr, 0, &mut v)?;
    Ok(codec::config_from(&v)?)
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_createLog<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    name: JString<'l>,
    partitions: jint,
    replication_factor: jint,
    config: JLongArray<'l>,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (c, name) = (client(h)?, string(env, &name, "name")?);
        let mut spec = LogSpec::new(u32::try_from(partitions).map_err(|_| invalid("partitions must be positive"))?);
        spec.replication_factor =
            u32::try_from(replication_factor).map_err(|_| invalid("replication factor must be >= 0"))?;
        if !config.is_null() {
            spec.config = log_config(env, &config)?;
        }
        let m = block(async move { c.create_log_with_config(&name, spec).await })?;
        bytes_out(env, &codec::metadata(&m))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_updateLogConfig<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    name: JString<'l>,
    config: JLongArray<'l>,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (c, name) = (client(h)?, string(env, &name, "name")?);
        let cfg = log_config(env, &config)?;
        let m = block(async move { c.update_log_config(&name, cfg).await })?;
        bytes_out(env, &codec::metadata(&m))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_addPartitions<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    name: JString<'l>,
    partitions: jint,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (c, name) = (client(h)?, string(env, &name, "name")?);
        let n = u32::try_from(partitions).map_err(|_| invalid("partitions must be positive"))?;
        let m = block(async move { c.add_partitions(&name, n).await })?;
        bytes_out(env, &codec::metadata(&m))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_listLogs<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jbyteArray {
    guard(&mut env, |env| {
        let c = client(h)?;
        let v = block(async move { c.list_logs().await })?;
        bytes_out(env, &codec::metadata_list(&v))
    })
}

/// A record to produce from its Java parts.
#[allow(clippy::too_many_arguments)]
pub fn record<'l>(
    env: &mut JNIEnv<'l>,
    key: &JByteArray<'l>,
    value: &JByteArray<'l>,
    headers: &JByteArray<'l>,
    partition: jint,
    timestamp: jlong,
    has_timestamp: jboolean,
) -> Res<pyralog::Record> {
    if value.is_null() {
        return Err(invalid("value is null").into());
    }
    let mut r = pyralog::Record::new(env.convert_byte_array(value)?);
    if !key.is_null() {
        r.key = Some(env.convert_byte_array(key)?.into());
    }
    if !headers.is_null() {
        r.headers = codec::headers_from(&env.convert_byte_array(headers)?)?;
    }
    r.partition = u32::try_from(partition).ok();
    r.timestamp = (has_timestamp != 0).then_some(timestamp);
    Ok(r)
}

/// Produces one record; answers `[partition, offset, epoch, timestamp]`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_pyralog_internal_Native_produce<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    log: JString<'l>,
    key: JByteArray<'l>,
    value: JByteArray<'l>,
    headers: JByteArray<'l>,
    partition: jint,
    timestamp: jlong,
    has_timestamp: jboolean,
) -> jni::sys::jlongArray {
    guard(&mut env, |env| {
        let (c, log) = (client(h)?, string(env, &log, "log")?);
        let r = record(env, &key, &value, &headers, partition, timestamp, has_timestamp)?;
        let md = block(async move { c.produce(&log, r).await })?;
        let out = env.new_long_array(4)?;
        env.set_long_array_region(
            &out,
            0,
            &[i64::from(md.partition), md.offset as i64, md.epoch as i64, md.timestamp],
        )?;
        Ok(out.into_raw())
    })
}

/// Reads up to `max` records of one partition (`partition` >= 0) or of
/// every partition (-1) from `offset` (-1: the end).
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consume<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    log: JString<'l>,
    partition: jint,
    offset: jlong,
    max: jint,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (c, log) = (client(h)?, string(env, &log, "log")?);
        let max = usize::try_from(max).map_err(|_| invalid("maxRecords must not be negative"))?;
        let offset = LogOffset(offset as u64); // -1 is u64::MAX: the end
        let v = block(async move {
            match u32::try_from(partition) {
                Ok(p) => c.consume_from_partition(&log, p, offset, max).await,
                Err(_) => c.consume(&log, offset, max).await,
            }
        })?;
        bytes_out(env, &codec::records(&v))
    })
}

/// Every error code the library knows, in numeric order.
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_errorCodes<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
) -> jni::sys::jintArray {
    guard(&mut env, |env| {
        let codes: Vec<i32> = pyralog::ErrorCode::ALL.iter().map(|c| i32::from(c.as_u16())).collect();
        let out = env.new_int_array(codes.len() as i32)?;
        env.set_int_array_region(&out, 0, &codes)?;
        Ok(out.into_raw())
    })
}
