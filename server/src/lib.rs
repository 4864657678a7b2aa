//! The Pyralog server: storage engine, log manager, metadata quorum, QUIC service.

pub mod auth;
pub mod broker;
pub mod cluster;
pub mod config;
pub mod coordination;
pub mod group_handlers;
pub mod groups;
pub mod handlers;
pub mod metrics;
pub mod partition;
pub mod producer_ids;
pub mod replicas;
pub mod replication;
pub mod service;
#[path = "store/mod.rs"]
pub mod storage;
pub mod syncer;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

pub use config::ServerConfig;

/// A running server.
pub struct Server {
    pub broker: Arc<broker::Broker>,
    endpoint: quinn::Endpoint,
    in_flight: Arc<service::InFlight>,
    shutdown: watch::Sender<bool>,
    accept_task: tokio::task::JoinHandle<()>,
    retention_task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds, joins the metadata quorum, recovers the local replicas and
    /// starts serving. Peers are answered from the moment the port is bound
    /// (the quorum needs them); clients once the node is registered.
    ///
    /// # Errors
    /// Config, TLS, storage recovery, cluster identity, or bind failures.
    pub async fn start(cfg: ServerConfig) -> anyhow::Result<Server> {
        cfg.validate()?;
        let metrics_listener = match cfg.metrics_listen {
            Some(addr) => Some(metrics::bind_http(addr).await?),
            None => None,
        };
        let tls = tls::NodeTls::load(&cfg)?;
        let quic = tls::quic_server_config(&tls)?;
        let listen = cfg.listen;
        let socket = std::net::UdpSocket::bind(listen).with_context(|| format!("binding {listen}"))?;
        tls::size_socket_buffers(&socket).with_context(|| format!("sizing the buffers of {listen}"))?;
        let runtime = quinn::default_runtime().context("no async runtime")?;
        let endpoint = quinn::Endpoint::new(tls::endpoint_config(&cfg.data_dir)?, Some(quic), socket, runtime)
            .with_context(|| format!("starting QUIC on {listen}"))?;
        let bound = endpoint.local_addr()?.to_string();
        let voters = match cfg.is_multi_node() {
            true => cfg.voters()?,
            false => std::collections::BTreeMap::from([(cfg.node_id, bound.clone())]),
        };
        let advertised = voters[&cfg.node_id].clone();
        let (shutdown, rx) = watch::channel(false);
        let in_flight = Arc::new(service::InFlight::default());
        let metrics = metrics::Metrics::new();
        let auth = auth::Auth::new(&cfg);
        auth.refresh_identities(rx.clone());
        let node = Arc::new(service::Node::new(Arc::clone(&metrics), auth, tls.peer_verifier().ok()));
        let accept_task = tokio::spawn(service::serve(
            Arc::clone(&node),
            endpoint.clone(),
            Arc::clone(&in_flight),
            rx.clone(),
            cfg.clone(),
        ));
        let started = async {
            let cluster =
                cluster::Cluster::start(&cfg, &cfg.data_dir.join("meta"), endpoint.clone(), &tls, voters).await?;
            let _ = node.cluster.set(Arc::clone(&cluster));
            broker::Broker::open(cfg.clone(), cluster, advertised, Arc::clone(&metrics)).await
        };
        let broker = match started.await {
            Ok(b) => b,
            Err(e) => {
                let _ = shutdown.send(true);
                endpoint.close(0u32.into(), b"start failed");
                return Err(e);
            }
        };
        let _ = node.broker.set(Arc::clone(&broker));
        metrics.attach(&broker);
        if let Some(listener) = metrics_listener {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "serving Prometheus metrics at http://{addr}/metrics");
            }
            metrics::serve_http(listener, Arc::clone(&metrics), rx.clone());
        }
        let retention_task = tokio::spawn(retention_loop(Arc::clone(&broker), rx.clone()));
        tokio::spawn(checkpoint_loop(Arc::clone(&broker), rx.clone()));
        tokio::spawn(replication::maintain_isr(Arc::downgrade(&broker), broker.cfg.cluster.replica_lag_time_max_ms));
        tokio::spawn(compaction_loop(Arc::clone(&broker), rx.clone()));
        tokio::spawn(group_clock(Arc::clone(&broker), rx));
        Ok(Server { broker, endpoint, in_flight, shutdown, accept_task, retention_task })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Graceful stop: no new requests, in-flight ones finish (bounded by
    /// `SHUTDOWN_GRACE_MS`), every partition synced and closed.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept_task.await;
        self.retention_task.abort();
        self.in_flight.wait_idle(Duration::from_millis(config::SHUTDOWN_GRACE_MS)).await;
        self.broker.shutdown().await;
        self.endpoint.close(0u32.into(), b"server shutting down");
        let _ = tokio::time::timeout(Duration::from_secs(2), self.endpoint.wait_idle()).await;
    }
}

/// Drives group session timeouts and rebalance deadlines.
async fn group_clock(broker: Arc<broker::Broker>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(groups::TICK_MS));
    loop {
        tokio::select! {
            _ = tick.tick() => if let Ok(g) = broker.groups() { g.tick() },
            _ = shutdown.changed() => return,
        }
    }
}

/// Writes the partitions' high watermark checkpoints every
/// `HIGH_WATERMARK_CHECKPOINT_MS` (`store/checkpoint.rs`).
async fn checkpoint_loop(broker: Arc<broker::Broker>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(config::HIGH_WATERMARK_CHECKPOINT_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let parts = broker.all_partitions();
        let _ = tokio::task::spawn_blocking(move || parts.iter().for_each(|p| p.checkpoint_high_watermark())).await;
    }
}

/// Compacts the local replicas of logs with a compacting cleanup policy,
/// one partition at a time, every `[compaction] interval_ms`.
async fn compaction_loop(broker: Arc<broker::Broker>, mut shutdown: watch::Receiver<bool>) {
    let cfg = broker.cfg.compaction;
    let mut tick = tokio::time::interval(Duration::from_millis(cfg.interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        for p in broker.all_partitions() {
            let Ok(log) = broker.stored(&p.log) else { continue };
            if !log.config.cleanup_policy.compacts() || p.is_closed() {
                continue;
            }
            let retention = match log.config.delete_retention_ms {
                0 => pyralog_protocol::model::DEFAULT_DELETE_RETENTION_MS,
                ms => ms,
            };
            let settings = partition::CompactionSettings {
                offset_map_bytes: cfg.offset_map_bytes,
                min_dirty_ratio: cfg.min_dirty_ratio,
                tombstones_before_ms: partition::now_ms().saturating_sub(retention),
                stall_before_swap: Duration::from_millis(broker.cfg.faults.compaction_stall_before_swap_ms),
            };
            let part = Arc::clone(&p);
            let done = tokio::task::spawn_blocking(move || part.compact(&settings)).await;
            match done {
                Ok(Ok(Some(r))) if r.segments_rewritten > 0 => {
                    broker.metrics.compacted(&p.log, r.records_removed, r.bytes_reclaimed);
                    tracing::info!(log = %p.log, partition = p.id, ?r, "compacted");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(log = %p.log, partition = p.id, error = %e, "compaction failed"),
                Err(e) => tracing::error!(log = %p.log, partition = p.id, error = %e, "compaction task failed"),
            }
        }
    }
}

async fn retention_loop(broker: Arc<broker::Broker>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(broker.cfg.retention_check_interval_ms));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let parts = broker.all_partitions();
        let _ = tokio::task::spawn_blocking(move || {
            let now = partition::now_ms();
            for p in parts {
                let n = p.apply_retention(now);
                if n > 0 {
                    tracing::info!(log = %p.log, partition = p.id, segments = n, "retention deleted segments");
                }
            }
        })
        .await;
    }
}
