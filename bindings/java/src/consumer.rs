//! Consumer exports. A consumer serves one caller at a time: a call made
//! while another runs (another thread, or its own rebalance listener)
//! throws `BusyException` at once instead of waiting.

use std::sync::Arc;
use std::time::Duration;

use jni::objects::{GlobalRef, JClass, JIntArray, JLongArray, JObject, JObjectArray, JString, JValue};
use jni::sys::{jboolean, jbyteArray, jint, jlong};
use jni::{JNIEnv, JavaVM};
use pyralog::{Consumer, ConsumerConfig, Error, ErrorCode, LogOffset, LogPartition, OffsetReset};
use pyralog_c::error::{block, runtime};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::client::{bytes_out, client};
use crate::codec;
use crate::jvm::{free_handle, guard, handle, into_handle, invalid, millis, string, Res};

/// How long `close` waits for a running call (a poll ends within its timeout).
const CLOSE_WAIT: Duration = Duration::from_secs(30);

type Shared = Arc<AsyncMutex<Consumer>>;
type Guard = OwnedMutexGuard<Consumer>;

fn shared(h: jlong) -> Res<Shared> {
    // SAFETY: Java passes a live consumer handle (freed once, after every use).
    unsafe { handle::<Shared>(h) }.cloned()
}

fn lock(h: jlong) -> Res<Guard> {
    shared(h)?.try_lock_owned().map_err(|_| {
        Error::new(
            ErrorCode::ConcurrentCall,
            "the consumer is running another call (from another thread or its rebalance listener); \
             a consumer serves one caller at a time",
        )
        .into()
    })
}

/// Settings from Java: `[autoOffsetReset, maxPollRecords, fetchMaxBytes,
/// maxPartitionFetchBytes, fetchMaxWaitMs, sessionTimeoutMs,
/// heartbeatIntervalMs, rebalanceTimeoutMs, maxPollIntervalMs,
/// enableAutoCommit (0/1), autoCommitIntervalMs]`, negative for the default.
fn config(v: &[i64; 11]) -> Res<ConsumerConfig> {
    let mut c = ConsumerConfig::default();
    let num = |x: i64| u32::try_from(x).map_err(|_| invalid("a setting out of range"));
    if v[0] >= 0 {
        c.auto_offset_reset = match v[0] {
            0 => OffsetReset::Earliest,
            1 => OffsetReset::Latest,
            _ => OffsetReset::Error,
        };
    }
    if v[1] >= 0 {
        c.max_poll_records = num(v[1])? as usize;
    }
    if v[2] >= 0 {
        c.fetch_max_bytes = num(v[2])?;
    }
    if v[3] >= 0 {
        c.max_partition_fetch_bytes = num(v[3])?;
    }
    let durations = [
        &mut c.fetch_max_wait,
        &mut c.session_timeout,
        &mut c.heartbeat_interval,
        &mut c.rebalance_timeout,
        &mut c.max_poll_interval,
    ];
    for (d, ms) in durations.into_iter().zip(&v[4..9]) {
        if *ms >= 0 {
            *d = millis(*ms, "a duration")?;
        }
    }
    if v[9] >= 0 {
        c.enable_auto_commit = v[9] != 0;
    }
    if v[10] >= 0 {
        c.auto_commit_interval = millis(v[10], "autoCommitInterval")?;
    }
    Ok(c)
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerNew<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    client_handle: jlong,
    group_id: JString<'l>,
    instance_id: JString<'l>,
    assignors: JObjectArray<'l>,
    settings: JLongArray<'l>,
) -> jlong {
    guard(&mut env, |env| {
        let mut v = [0i64; 11];
        env.get_long_array_region(&settings, 0, &mut v)?;
        let mut cfg = config(&v)?;
        if !group_id.is_null() {
            cfg.group_id = Some(string(env, &group_id, "groupId")?);
        }
        if !instance_id.is_null() {
            cfg.group_instance_id = Some(string(env, &instance_id, "groupInstanceId")?);
        }
        if !assignors.is_null() && env.get_array_length(&assignors)? > 0 {
            cfg.assignors = strings(env, &assignors)?;
        }
        Ok(into_handle::<Shared>(Arc::new(AsyncMutex::new(client(client_handle)?.consumer(cfg)))))
    })
}

fn strings(env: &mut JNIEnv<'_>, arr: &JObjectArray<'_>) -> Res<Vec<String>> {
    let n = env.get_array_length(arr)?;
    (0..n)
        .map(|i| {
            let s = JString::from(env.get_object_array_element(arr, i)?);
            string(env, &s, "a name")
        })
        .collect()
}

/// Partitions from parallel arrays of log names and partition numbers.
fn partitions(env: &mut JNIEnv<'_>, logs: &JObjectArray<'_>, parts: &JIntArray<'_>) -> Res<Vec<LogPartition>> {
    let names = strings(env, logs)?;
    let mut nums = vec![0i32; names.len()];
    env.get_int_array_region(parts, 0, &mut nums)?;
    names
        .iter()
        .zip(nums)
        .map(|(l, p)| Ok(LogPartition::new(l, u32::try_from(p).map_err(|_| invalid("a negative partition"))?)))
        .collect()
}

/// Calls `RebalanceBridge.onRebalance(kind, logs, partitions)`, which never throws.
struct Listener {
    vm: JavaVM,
    bridge: GlobalRef,
}

impl Listener {
    fn call(&self, kind: i32, lps: &[LogPartition]) {
        let Ok(mut env) = self.vm.attach_current_thread_permanently() else { return };
        let _ = (|| -> jni::errors::Result<()> {
            let logs = env.new_object_array(lps.len() as i32, "java/lang/String", JObject::null())?;
            for (i, lp) in lps.iter().enumerate() {
                let s = env.new_string(&*lp.log)?;
                env.set_object_array_element(&logs, i as i32, s)?;
            }
            let parts = env.new_int_array(lps.len() as i32)?;
            let nums: Vec<i32> = lps.iter().map(|lp| lp.partition as i32).collect();
            env.set_int_array_region(&parts, 0, &nums)?;
            env.call_method(
                self.bridge.as_obj(),
                "onRebalance",
                "(I[Ljava/lang/String;[I)V",
                &[JValue::Int(kind), JValue::Object(&logs), JValue::Object(&parts)],
            )?;
            Ok(())
        })();
    }
}

impl pyralog::RebalanceListener for Listener {
    fn on_partitions_assigned(&self, p: &[LogPartition]) {
        self.call(0, p);
    }
    fn on_partitions_revoked(&self, p: &[LogPartition]) {
        self.call(1, p);
    }
    fn on_partitions_lost(&self, p: &[LogPartition]) {
        self.call(2, p);
    }
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerSubscribe<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    logs: JObjectArray<'l>,
    bridge: JObject<'l>,
) {
    guard(&mut env, |env| {
        let names = strings(env, &logs)?;
        let listener = Arc::new(Listener { vm: env.get_java_vm()?, bridge: env.new_global_ref(bridge)? });
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let _rt = runtime().enter();
        Ok(lock(h)?.subscribe(&refs, Some(listener))?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerAssign<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    logs: JObjectArray<'l>,
    parts: JIntArray<'l>,
) {
    guard(&mut env, |env| {
        let lps = partitions(env, &logs, &parts)?;
        let _rt = runtime().enter();
        Ok(lock(h)?.assign(lps)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerAssignment<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jbyteArray {
    guard(&mut env, |env| {
        let lps = lock(h)?.assignment();
        bytes_out(env, &codec::offsets(lps.iter().map(|lp| (lp, 0))))
    })
}

/// `whence`: 0 to `offset`, 1 beginning, 2 end, 3 timestamp `offset`; no
/// partitions means the assignment. `pause`: 4 pause, 5 resume.
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerPosition<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    logs: JObjectArray<'l>,
    parts: JIntArray<'l>,
    whence: jint,
    offset: jlong,
) {
    guard(&mut env, |env| {
        let lps = partitions(env, &logs, &parts)?;
        let _rt = runtime().enter();
        let mut k = lock(h)?;
        let lps = if lps.is_empty() { k.assignment() } else { lps };
        match whence {
            0 => lps.iter().try_for_each(|lp| k.seek(lp, LogOffset(offset as u64)))?,
            1 => k.seek_to_beginning(&lps)?,
            2 => k.seek_to_end(&lps)?,
            3 => k.seek_to_timestamp(&lps, offset)?,
            4 => k.pause(&lps)?,
            5 => k.resume(&lps)?,
            n => return Err(invalid(format!("position operation {n}")).into()),
        }
        Ok(())
    })
}

/// The next records (codec), or none after `timeout_ms`.
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerPoll<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    timeout_ms: jlong,
) -> jbyteArray {
    guard(&mut env, |env| {
        let (mut k, t) = (lock(h)?, millis(timeout_ms, "timeout")?);
        let v = block(async move { k.poll(t).await })?;
        bytes_out(env, &codec::records(&v))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerNextOffset<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    log: JString<'l>,
    partition: jint,
) -> jlong {
    guard(&mut env, |env| {
        let lp =
            LogPartition::new(&string(env, &log, "log")?, u32::try_from(partition).map_err(|_| invalid("partition"))?);
        let mut k = lock(h)?;
        Ok(block(async move { k.position(&lp).await })? as i64)
    })
}

/// Commits the positions (no partitions) or the given next offsets; with
/// `wait` false starts committing the positions and returns.
#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerCommit<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    logs: JObjectArray<'l>,
    parts: JIntArray<'l>,
    offsets: JLongArray<'l>,
    wait: jboolean,
) {
    guard(&mut env, |env| {
        let lps = partitions(env, &logs, &parts)?;
        let mut offs = vec![0i64; lps.len()];
        env.get_long_array_region(&offsets, 0, &mut offs)?;
        let _rt = runtime().enter();
        let mut k = lock(h)?;
        if wait == 0 {
            return Ok(k.commit_async().map(drop)?);
        }
        let list: Vec<(LogPartition, u64)> = lps.into_iter().zip(offs.into_iter().map(|o| o as u64)).collect();
        Ok(block(async move {
            if list.is_empty() {
                k.commit().await
            } else {
                k.commit_offsets(&list).await
            }
        })?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerCommitted<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
    logs: JObjectArray<'l>,
    parts: JIntArray<'l>,
) -> jbyteArray {
    guard(&mut env, |env| {
        let lps = partitions(env, &logs, &parts)?;
        let k = lock(h)?;
        let m = block(async move {
            let lps = if lps.is_empty() { k.assignment() } else { lps };
            k.committed(&lps).await
        })?;
        bytes_out(env, &codec::offsets(m.iter().map(|(lp, o)| (lp, *o))))
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerClose<'l>(
    mut env: JNIEnv<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    guard(&mut env, |_| {
        let k = shared(h)?;
        Ok(block(async move {
            let mut k = tokio::time::timeout(CLOSE_WAIT, k.lock_owned())
                .await
                .map_err(|_| Error::new(ErrorCode::Timeout, "a running call did not end in time to close"))?;
            k.close().await;
            Ok(())
        })?)
    })
}

#[no_mangle]
pub extern "system" fn Java_io_pyralog_internal_Native_consumerFree<'l>(mut env: JNIEnv<'l>, _c: JClass<'l>, h: jlong) {
    guard(&mut env, |_| {
        // SAFETY: the Java side frees each handle once, after its last use.
        if let Some(k) = unsafe { free_handle::<Shared>(h) } {
            let _ = block(async move {
                if let Ok(mut k) = tokio::time::timeout(CLOSE_WAIT, k.lock_owned()).await {
                    k.close().await;
                }
                Ok(())
            });
        }
        Ok(())
    })
}
