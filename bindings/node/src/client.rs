//! `NativeClient`: the core client's operations, each returning a promise
//! (run on the tokio runtime) or, for `producer`/`consumer`, a handle.

use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use pyralog::Client;

use crate::consumer::NativeConsumer;
use crate::convert::{self, Flat, Js, JsLogMetadata, JsLogStats, JsRecordMetadata, RecordColumns};
use crate::errors::{promise, rejected, same, sync};
use crate::producer::NativeProducer;

/// Records `consume`/`consumeFromPartition` return at most when not told.
const DEFAULT_MAX_RECORDS: u32 = 1000;

/// The native half of `Client`.
#[napi]
pub struct NativeClient {
    inner: Client,
}

fn js(u: &Option<Unknown<'_>>) -> Option<Js> {
    u.as_ref().map(Js::of).filter(|j| !j.is_nullish())
}

fn metadata(_: &Env, m: pyralog::LogMetadata) -> napi::Result<JsLogMetadata> {
    Ok(m.into())
}

fn records(_: &Env, v: Flat) -> napi::Result<RecordColumns> {
    Ok(v.into_js())
}

#[napi]
impl NativeClient {
    /// Connects to `addr`; resolves to a `NativeClient`.
    #[napi]
    pub fn connect<'env>(
        env: &'env Env,
        addr: String,
        opts: Option<Unknown<'_>>,
    ) -> napi::Result<PromiseRaw<'env, NativeClient>> {
        let config = match convert::client_config(js(&opts)) {
            Ok(c) => c,
            Err(e) => return rejected(env, e),
        };
        promise(env, async move { Client::connect(&addr, config).await }, |_, inner| Ok(NativeClient { inner }))
    }

    /// Creates a log: `config` is a partition count or an object of
    /// settings with `partitions` and `replicationFactor`.
    #[napi]
    pub fn create_log<'env>(
        &self,
        env: &'env Env,
        name: String,
        config: Option<Unknown<'_>>,
    ) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let spec = match js(&config) {
            Some(c) if c.is_number() => c.u32("partitions").map(pyralog::LogSpec::new),
            other => convert::log_spec(other, true),
        };
        let spec = match spec {
            Ok(s) => s,
            Err(e) => return rejected(env, e),
        };
        let c = self.inner.clone();
        promise(env, async move { c.create_log_with_config(&name, spec).await }, metadata)
    }

    #[napi]
    pub fn list_logs<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Vec<JsLogMetadata>>> {
        let c = self.inner.clone();
        promise(env, async move { c.list_logs().await }, |_, v| Ok(v.into_iter().map(JsLogMetadata::from).collect()))
    }

    #[napi]
    pub fn log_exists<'env>(&self, env: &'env Env, name: String) -> napi::Result<PromiseRaw<'env, bool>> {
        let c = self.inner.clone();
        promise(env, async move { c.log_exists(&name).await }, same)
    }

    #[napi]
    pub fn get_log_metadata<'env>(
        &self,
        env: &'env Env,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let c = self.inner.clone();
        promise(env, async move { c.get_log_metadata(&name).await }, metadata)
    }

    #[napi]
    pub fn get_log_stats<'env>(&self, env: &'env Env, name: String) -> napi::Result<PromiseRaw<'env, JsLogStats>> {
        let c = self.inner.clone();
        promise(env, async move { c.get_log_stats(&name).await }, |_, s| Ok(JsLogStats::from(s)))
    }

    /// Replaces a log's settings with `config` (left-out settings take
    /// their defaults).
    #[napi]
    pub fn update_log_config<'env>(
        &self,
        env: &'env Env,
        name: String,
        config: Unknown<'_>,
    ) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let spec = match convert::log_spec(Some(Js::of(&config)), false) {
            Ok(s) => s,
            Err(e) => return rejected(env, e),
        };
        let c = self.inner.clone();
        promise(env, async move { c.update_log_config(&name, spec.config).await }, metadata)
    }

    #[napi]
    pub fn pause_log<'env>(&self, env: &'env Env, name: String) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let c = self.inner.clone();
        promise(env, async move { c.pause_log(&name).await }, metadata)
    }

    #[napi]
    pub fn resume_log<'env>(&self, env: &'env Env, name: String) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let c = self.inner.clone();
        promise(env, async move { c.resume_log(&name).await }, metadata)
    }

    #[napi]
    pub fn delete_log<'env>(&self, env: &'env Env, name: String) -> napi::Result<PromiseRaw<'env, ()>> {
        let c = self.inner.clone();
        promise(env, async move { c.delete_log(&name).await }, same)
    }

    #[napi]
    pub fn add_partitions<'env>(
        &self,
        env: &'env Env,
        name: String,
        partitions: u32,
    ) -> napi::Result<PromiseRaw<'env, JsLogMetadata>> {
        let c = self.inner.clone();
        promise(env, async move { c.add_partitions(&name, partitions).await }, metadata)
    }

    /// Writes one record and waits for its acknowledgement.
    #[napi]
    pub fn produce<'env>(
        &self,
        env: &'env Env,
        log: String,
        record: Unknown<'_>,
    ) -> napi::Result<PromiseRaw<'env, JsRecordMetadata>> {
        let r = match convert::record(Js::of(&record), None) {
            Ok(r) => r,
            Err(e) => return rejected(env, e),
        };
        let c = self.inner.clone();
        promise(env, async move { c.produce(&log, r).await }, |_, m| Ok(JsRecordMetadata::from(m)))
    }

    /// Up to `maxRecords` records of every partition from `offset`.
    #[napi]
    pub fn consume<'env>(
        &self,
        env: &'env Env,
        log: String,
        offset: Option<Unknown<'_>>,
        max_records: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, RecordColumns>> {
        let offset = match convert::offset(js(&offset)) {
            Ok(o) => o,
            Err(e) => return rejected(env, e),
        };
        let (c, max) = (self.inner.clone(), max_records.unwrap_or(DEFAULT_MAX_RECORDS) as usize);
        promise(env, async move { c.consume(&log, offset, max).await.map(|v| Flat::of(&v)) }, records)
    }

    /// Up to `maxRecords` records of one partition from `offset`.
    #[napi]
    pub fn consume_from_partition<'env>(
        &self,
        env: &'env Env,
        log: String,
        partition: u32,
        offset: Option<Unknown<'_>>,
        max_records: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, RecordColumns>> {
        let offset = match convert::offset(js(&offset)) {
            Ok(o) => o,
            Err(e) => return rejected(env, e),
        };
        let (c, max) = (self.inner.clone(), max_records.unwrap_or(DEFAULT_MAX_RECORDS) as usize);
        promise(
            env,
            async move { c.consume_from_partition(&log, partition, offset, max).await.map(|v| Flat::of(&v)) },
            records,
        )
    }

    /// A batching producer; throws `InvalidArgument` for bad settings.
    #[napi]
    pub fn producer(&self, env: &Env, opts: Option<Unknown<'_>>) -> napi::Result<NativeProducer> {
        let cfg = sync(env, convert::producer_config(js(&opts)))?;
        let inner = sync(env, self.inner.producer(cfg))?;
        Ok(NativeProducer::new(inner))
    }

    /// A consumer; throws `InvalidArgument` for bad settings.
    #[napi]
    pub fn consumer(&self, env: &Env, opts: Option<Unknown<'_>>) -> napi::Result<NativeConsumer> {
        let cfg = sync(env, convert::consumer_config(js(&opts)))?;
        Ok(NativeConsumer::new(self.inner.consumer(cfg)))
    }

    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let c = self.inner.clone();
        promise(
            env,
            async move {
                c.close().await;
                Ok::<_, pyralog::Error>(())
            },
            same,
        )
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }
}
