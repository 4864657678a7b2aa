//! Where consumer groups are coordinated: on the node leading partition 0
//! of `__consumer_offsets`, a replicated log like any other. The node that
//! becomes its leader replays the committed offsets from its copy and
//! serves the groups; a node that stops leading drops them (members then
//! get `NotCoordinator`, refresh the metadata and rejoin the new one).

use std::sync::{Arc, Weak};
use std::time::Duration;

use pyralog_protocol::model::{FlushPolicy, LogConfig};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::broker::Broker;
use crate::groups::{Groups, OFFSETS_LOG};

/// Copies of the offsets log, at most (fewer in a smaller cluster).
pub const OFFSETS_REPLICATION_FACTOR_MAX: u32 = 3;
/// In-sync copies a commit needs, at most.
const OFFSETS_MIN_ISR_MAX: u32 = 2;
/// Pause between attempts to create the offsets log (it waits for enough
/// live nodes to place its replicas).
const CREATE_RETRY: Duration = Duration::from_millis(500);

/// Consumer groups served here, with the leader epoch they were loaded under.
pub type Coordination = parking_lot::RwLock<Option<(u64, Arc<Groups>)>>;

impl Broker {
    /// The consumer groups this node coordinates.
    ///
    /// # Errors
    /// `NotCoordinator` unless this node leads the offsets log now.
    pub fn groups(&self) -> Result<Arc<Groups>, ProtocolError> {
        self.groups_slot().read().as_ref().map(|(_, g)| Arc::clone(g)).ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::NotCoordinator,
                format!("node {} does not coordinate consumer groups now; refresh the metadata", self.cfg.node_id),
            )
        })
    }

    /// Serves the groups while this node leads the offsets log's partition
    /// 0 (loading them anew under every new leader epoch), drops them otherwise.
    pub(crate) fn follow_offsets_leadership(&self) {
        let led = self.partition(OFFSETS_LOG, 0).ok().filter(|p| p.is_leader());
        let Some(partition) = led else {
            if self.groups_slot().write().take().is_some() {
                tracing::info!("no longer coordinating consumer groups");
            }
            return;
        };
        let epoch = partition.leader_epoch();
        if self.groups_slot().read().as_ref().is_some_and(|(e, _)| *e == epoch) {
            return;
        }
        let dir = self.cfg.data_dir.join("groups");
        match Groups::open(partition, &dir, self.cfg.group_offsets_snapshot_every) {
            Ok(groups) => {
                tracing::info!(epoch, "coordinating consumer groups");
                *self.groups_slot().write() = Some((epoch, groups));
            }
            Err(e) => tracing::error!(error = %e, "replaying {OFFSETS_LOG} failed; not coordinating groups"),
        }
    }
}

/// Creates the offsets log once enough nodes are live to place it, until it
/// exists or the broker goes.
pub async fn ensure_offsets_log(broker: Weak<Broker>) {
    loop {
        let Some(b) = broker.upgrade() else { return };
        if b.state().logs.contains_key(OFFSETS_LOG) {
            return;
        }
        let rf = b.cluster.voter_count().min(OFFSETS_REPLICATION_FACTOR_MAX);
        let config = LogConfig {
            flush_policy: FlushPolicy::Always,
            segment_bytes: b.cfg.group_offsets_segment_bytes,
            min_in_sync_replicas: rf.min(OFFSETS_MIN_ISR_MAX),
            ..LogConfig::default()
        };
        match b.create_log(OFFSETS_LOG, 1, rf, config, true).await {
            Ok(_) => return,
            Err(e) if e.code == ErrorCode::LogAlreadyExists => return,
            Err(e) => tracing::debug!(error = %e, "creating {OFFSETS_LOG} later"),
        }
        drop(b);
        tokio::time::sleep(CREATE_RETRY).await;
    }
}
