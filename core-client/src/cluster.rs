//! What the cluster looks like: its nodes, the controller, and the logs
//! with each partition's leader, replicas, ISR, leader epoch and high
//! watermark (one metadata request to any node).

use pyralog_protocol::model::LogMetadata;
use pyralog_protocol::pyralog_capnp::response;

use crate::client::Client;
use crate::error::Result;
use crate::wire::{self, capnp_err, unexpected};

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
        self.learn_nodes(d.nodes.iter().map(|n| (n.node_id, n.address.clone())));
        Ok(d)
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
