//! What the cluster looks like: its nodes, the controller, and the logs
//! with each partition's leader, replicas, ISR, leader epoch and high
//! watermark (one metadata request to any node).

use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::model::{LogMetadata, NO_LEADER};
use pyralog_protocol::pyralog_capnp::response;
use pyralog_protocol::ErrorCode;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::wire::{self, capnp_err, unexpected};

/// A produce request unanswered this long (normally it takes milliseconds)
/// starts asking another node whether the partition's leader changed.
pub(crate) const LEADER_PROBE_AFTER: Duration = Duration::from_millis(200);
/// How often the waiting request asks again.
pub(crate) const LEADER_PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// How long one such question may take.
const LEADER_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A node of the cluster as the metadata names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    pub node_id: u32,
    /// Where clients reach it.
    pub address: String,
    /// The controller lost its heartbeats: it leads nothing until it returns.
    pub fenced: bool,
}

/// The cluster as one node's applied metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    pub cluster_id: String,
    /// The node leading the metadata quorum; [`crate::NO_LEADER`] if none is known.
    pub controller: u32,
    pub nodes: Vec<NodeDescription>,
    pub logs: Vec<LogMetadata>,
}

impl Client {
    /// The cluster's nodes, controller and every log's partitions.
    ///
    /// # Errors
    /// Connection errors; `Closed` after [`Client::close`].
    pub async fn describe_cluster(&self) -> Result<ClusterDescription> {
        self.metadata_of(&[]).await
    }

    /// The metadata of `logs` (every log when empty); learns the nodes'
    /// addresses on the way.
    pub(crate) async fn metadata_of(&self, logs: &[&str]) -> Result<ClusterDescription> {
        let req = wire::request(|r| {
            let mut list = r.init_metadata().init_logs(logs.len() as u32);
            for (i, l) in logs.iter().enumerate() {
                list.set(i as u32, l);
            }
        });
        let d = self.call(req, read_metadata).await?;
        self.learn(&d);
        Ok(d)
    }

    /// Learns the nodes' addresses, and drops the connections of those the
    /// cluster fenced.
    fn learn(&self, d: &ClusterDescription) {
        self.learn_nodes(d.nodes.iter().map(|n| (n.node_id, n.address.clone())));
        self.inner.nodes.fenced(d.nodes.iter().filter(|n| n.fenced).map(|n| n.node_id));
    }

    /// Resolves once a node other than `leader` names another leader of
    /// `log`/`partition` (asked every `LEADER_PROBE_INTERVAL` from
    /// `LEADER_PROBE_AFTER` on): a request to `leader` that waits that long
    /// may be waiting on a dead node, which QUIC cannot tell at once.
    pub(crate) async fn leader_moved(&self, log: &str, partition: u32, leader: u32) -> Error {
        tokio::time::sleep(LEADER_PROBE_AFTER).await;
        loop {
            let seen = self.probe(log, leader).await;
            let now = seen.as_ref().and_then(|md| md.partitions.get(partition as usize)).map(|p| p.leader);
            match (now, seen) {
                (Some(now), Some(md)) if now != leader && now != NO_LEADER => {
                    // The next attempt goes straight there, asking nobody.
                    self.cache(&md);
                    let msg = format!("{log}/{partition} is led by node {now} now, not node {leader}");
                    return Error::new(ErrorCode::NotLeader, msg);
                }
                _ => tokio::time::sleep(LEADER_PROBE_INTERVAL).await,
            }
        }
    }

    /// `log`'s metadata as a node other than `avoid` knows it, asked at most
    /// once per `LEADER_PROBE_INTERVAL` however many requests wait.
    async fn probe(&self, log: &str, avoid: u32) -> Option<Arc<LogMetadata>> {
        if let Some((md, at)) = self.inner.probes.lock().get(log) {
            if at.elapsed() < LEADER_PROBE_INTERVAL {
                return md.clone();
            }
        }
        let md = self.metadata_elsewhere(log, avoid).await.map(Arc::new);
        self.inner.probes.lock().insert(log.to_owned(), (md.clone(), std::time::Instant::now()));
        md
    }

    /// `log`'s metadata as the first node other than `avoid` to answer knows it.
    async fn metadata_elsewhere(&self, log: &str, avoid: u32) -> Option<LogMetadata> {
        for addr in self.inner.nodes.other_than(avoid) {
            let Ok(t) = self.inner.nodes.at(&addr).await else { continue };
            let req = wire::request(|r| r.init_metadata().init_logs(1).set(0, log));
            let Ok(bytes) = t.call_with_payload(req, None, LEADER_PROBE_TIMEOUT).await else { continue };
            let Ok(mut d) = wire::response(&bytes, read_metadata) else { continue };
            self.learn(&d);
            return d.logs.pop();
        }
        None
    }
}

fn read_metadata(w: response::WhichReader<'_>) -> Result<ClusterDescription> {
    let response::Metadata(m) = w else { return Err(unexpected()) };
    let m = m.map_err(capnp_err)?;
    let text = |t: capnp::Result<capnp::text::Reader<'_>>| -> Result<String> {
        Ok(t.map_err(capnp_err)?.to_str().map_err(|e| capnp_err(e.into()))?.to_owned())
    };
    let mut nodes = Vec::new();
    for b in m.get_brokers().map_err(capnp_err)?.iter() {
        nodes.push(NodeDescription {
            node_id: b.get_node_id(),
            address: text(b.get_address())?,
            fenced: b.get_fenced(),
        });
    }
    let logs = m.get_logs().map_err(capnp_err)?.iter().map(|l| Ok(LogMetadata::read(l)?)).collect::<Result<_>>()?;
    Ok(ClusterDescription { cluster_id: text(m.get_cluster_id())?, controller: m.get_controller_id(), nodes, logs })
}
