//! `NativeProducer`: `send` queues one record and resolves with its
//! acknowledgement; `sendBatch` queues many in one call and resolves once
//! with all their acknowledgements (one promise per batch, not per record).
//!
//! Records are queued in call order. A `send` is queued at once on the
//! JavaScript thread when the core can take it without waiting (no thread
//! hop); otherwise (buffer full, metadata not known yet), and for every
//! `sendBatch`, the queueing goes to the producer's one *queueing task*,
//! which finishes them strictly in order; while it has work, every later
//! call goes there too, so no record overtakes an earlier one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use napi::bindgen_prelude::{BigInt, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use pyralog::{DeliveryFuture, Error, ErrorCode, Producer};
use tokio::sync::{mpsc, oneshot};

use crate::convert::{self, AckColumns, Js, JsRecordMetadata};
use crate::errors::{promise, rejected, same};
use crate::runtime;

/// Calls (`send`, `sendBatch`) waiting for the queueing task, at most:
/// beyond it a call rejects `BufferFull` at once, so a caller that never
/// awaits cannot pile records up without bound (once queued, records are
/// bounded by `buffer_memory`).
pub const MAX_WAITING_CALLS: usize = 1024;

/// What the queueing task finishes: one send's or one batch's queueing.
type Queueing = Pin<Box<dyn Future<Output = pyralog::Result<Queued>> + Send>>;
/// The deliveries of a queued send or batch.
enum Queued {
    One(DeliveryFuture),
    Many(Vec<DeliveryFuture>),
}
type Job = (Queueing, oneshot::Sender<pyralog::Result<Queued>>);

/// The queueing task's inbox and how many jobs it has not finished.
struct Backlog {
    jobs: mpsc::UnboundedSender<Job>,
    pending: Arc<AtomicUsize>,
}

/// The native half of `Producer`.
#[napi]
pub struct NativeProducer {
    inner: Producer,
    backlog: OnceLock<Backlog>,
}

impl NativeProducer {
    pub fn new(inner: Producer) -> Self {
        NativeProducer { inner, backlog: OnceLock::new() }
    }

    fn backlog(&self) -> &Backlog {
        self.backlog.get_or_init(|| {
            let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
            let pending = Arc::new(AtomicUsize::new(0));
            let left = Arc::clone(&pending);
            runtime::handle().spawn(async move {
                while let Some((queueing, done)) = rx.recv().await {
                    let out = queueing.await;
                    left.fetch_sub(1, Ordering::AcqRel);
                    let _ = done.send(out);
                }
            });
            Backlog { jobs, pending }
        })
    }

    /// Queues `queueing` behind every earlier unfinished one; the receiver
    /// gets its outcome. A `bounded` call finds `BufferFull` instead when
    /// `MAX_WAITING_CALLS` are waiting.
    fn enqueue(&self, queueing: Queueing, bounded: bool) -> oneshot::Receiver<pyralog::Result<Queued>> {
        let b = self.backlog();
        let (done, rx) = oneshot::channel();
        if bounded && b.pending.load(Ordering::Acquire) >= MAX_WAITING_CALLS {
            let _ = done.send(Err(Error::new(
                ErrorCode::BufferFull,
                format!("{MAX_WAITING_CALLS} sends are already waiting to be queued; await them before sending more"),
            )));
            return rx;
        }
        b.pending.fetch_add(1, Ordering::AcqRel);
        if let Err(mpsc::error::SendError((_, done))) = b.jobs.send((queueing, done)) {
            b.pending.fetch_sub(1, Ordering::AcqRel);
            let _ = done.send(Err(Error::closed("producer")));
        }
        rx
    }

    /// Resolves once every queueing started before this call has finished.
    fn after_queueing(&self) -> impl Future<Output = ()> + Send + 'static {
        let earlier = self.busy().then(|| self.enqueue(Box::pin(async { Ok(Queued::Many(Vec::new())) }), false));
        async move {
            if let Some(rx) = earlier {
                let _ = rx.await;
            }
        }
    }

    /// Whether earlier queueing is still unfinished.
    fn busy(&self) -> bool {
        self.backlog.get().is_some_and(|b| b.pending.load(Ordering::Acquire) > 0)
    }
}

fn lost() -> Error {
    Error::closed("producer (its queueing task ended)")
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
    /// acknowledged.
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
        let mut queueing: Queueing = Box::pin(async move { p.send(&log, r).await.map(Queued::One) });
        let conv = |_: &Env, m| Ok(JsRecordMetadata::from(m));
        if !self.busy() {
            let first = {
                let _runtime = runtime::handle().enter();
                (&mut queueing).now_or_never()
            };
            match first {
                Some(Ok(Queued::One(delivery))) => return promise(env, delivery, conv),
                Some(Ok(Queued::Many(_))) => unreachable!("a send queues one record"),
                Some(Err(e)) => return rejected(env, e),
                None => {}
            }
        }
        let queued = self.enqueue(queueing, true);
        promise(
            env,
            async move {
                match queued.await.unwrap_or_else(|_| Err(lost()))? {
                    Queued::One(delivery) => delivery.await,
                    Queued::Many(_) => unreachable!("a send queues one record"),
                }
            },
            conv,
        )
    }

    /// Queues every record of the array (converted here, in one call) and
    /// resolves once with their acknowledgements, in order, or rejects with
    /// the first error. `partition` applies to records that name none.
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
        let name = log.clone();
        let queued = self.enqueue(Box::pin(async move { p.send_batch(&name, batch).await.map(Queued::Many) }), true);
        promise(
            env,
            async move {
                let Queued::Many(deliveries) = queued.await.unwrap_or_else(|_| Err(lost()))? else {
                    unreachable!("a batch queues many records")
                };
                let mut acks = Vec::with_capacity(deliveries.len());
                for d in deliveries {
                    acks.push(d.await?);
                }
                Ok::<_, Error>((log, acks))
            },
            |_, (log, acks)| Ok(AckColumns::of(log, &acks)),
        )
    }

    /// Resolves when every record sent before it is acknowledged or failed
    /// (records still being queued are queued first).
    #[napi]
    pub fn flush<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let (p, earlier) = (self.inner.clone(), self.after_queueing());
        promise(
            env,
            async move {
                earlier.await;
                p.flush().await
            },
            same,
        )
    }

    /// Flushes, then stops; idempotent.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let (p, earlier) = (self.inner.clone(), self.after_queueing());
        promise(
            env,
            async move {
                earlier.await;
                p.close().await
            },
            same,
        )
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
