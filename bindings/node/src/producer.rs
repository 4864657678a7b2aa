//! `NativeProducer`: `send` queues one record and resolves with its
//! acknowledgement; `sendBatch` queues many in one call and resolves once
//! with all their acknowledgements (one promise per batch, not per record).

use futures_util::FutureExt;
use napi::bindgen_prelude::{BigInt, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use pyralog::Producer;

use crate::convert::{self, AckColumns, Js, JsRecordMetadata};
use crate::errors::{promise, rejected, same};
use crate::runtime;

/// The native half of `Producer`.
#[napi]
pub struct NativeProducer {
    inner: Producer,
}

impl NativeProducer {
    pub fn new(inner: Producer) -> Self {
        NativeProducer { inner }
    }
}

/// A producer identity as JavaScript sees it.
#[napi(object)]
pub struct JsProducerIdentity {
    pub id: BigInt,
    pub epoch: u32,
}

#[napi]
impl NativeProducer {
    /// Queues one record; resolves with its `RecordMetadata` once
    /// acknowledged. Queueing is tried at once on this thread (it never
    /// waits here); only when it must wait for buffer room or metadata does
    /// it continue on the runtime.
    #[napi]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        log: String,
        record: Unknown<'_>,
    ) -> napi::Result<PromiseRaw<'env, JsRecordMetadata>> {
        let r = match convert::record(Js::of(&record), None) {
            Ok(r) => r,
            Err(e) => return rejected(env, e),
        };
        let p = self.inner.clone();
        let mut queued = Box::pin(async move { p.send(&log, r).await });
        let first = {
            let _runtime = runtime::handle().enter();
            (&mut queued).now_or_never()
        };
        let conv = |_: &Env, m| Ok(JsRecordMetadata::from(m));
        match first {
            Some(Ok(delivery)) => promise(env, delivery, conv),
            Some(Err(e)) => rejected(env, e),
            None => promise(env, async move { queued.await?.await }, conv),
        }
    }

    /// Queues every record of the array (in one call) and resolves once with
    /// their acknowledgements, in order, or rejects with the first error.
    /// `partition` applies to records that name none.
    #[napi]
    pub fn send_batch<'env>(
        &self,
        env: &'env Env,
        log: String,
        records: Unknown<'_>,
        partition: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, AckColumns>> {
        let batch = match convert::records(Js::of(&records), partition) {
            Ok(b) => b,
            Err(e) => return rejected(env, e),
        };
        let p = self.inner.clone();
        promise(
            env,
            async move {
                let deliveries = p.send_batch(&log, batch).await?;
                let mut acks = Vec::with_capacity(deliveries.len());
                for d in deliveries {
                    acks.push(d.await?);
                }
                Ok::<_, pyralog::Error>((log, acks))
            },
            |_, (log, acks)| Ok(AckColumns::of(log, &acks)),
        )
    }

    /// Resolves when every record sent before it is acknowledged or failed.
    #[napi]
    pub fn flush<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let p = self.inner.clone();
        promise(env, async move { p.flush().await }, same)
    }

    /// Flushes, then stops; idempotent.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let p = self.inner.clone();
        promise(env, async move { p.close().await }, same)
    }

    /// Resolves with `{id, epoch}`, or `null` without idempotence.
    #[napi]
    pub fn identity<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Option<JsProducerIdentity>>> {
        let p = self.inner.clone();
        promise(env, async move { p.identity().await }, |_, i| {
            Ok(i.map(|i| JsProducerIdentity { id: BigInt::from(i.id), epoch: u32::from(i.epoch) }))
        })
    }
}
