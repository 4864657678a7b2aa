//! Data replication, Kafka-style: followers fetch batches from the leader
//! (long-polled, passed through as stored), the leader tracks what each
//! follower holds and keeps the ISR current through the metadata, and the
//! high watermark is the smallest copy in the ISR. Leader epochs fence
//! stale leaders and followers; a follower that learns of a new epoch asks
//! the leader where its own last epoch ends and cuts anything past it
//! before fetching (KIP-101 / KIP-279).

pub mod follower;
pub mod isr;
pub mod leader;

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::broker::Broker;
use crate::cluster::state::Command;

/// Default longest a follower may go without catching up before it leaves the ISR.
pub const DEFAULT_REPLICA_LAG_TIME_MAX_MS: u64 = 5_000;
/// Checks per lag window of whether an ISR should change.
const ISR_CHECKS_PER_LAG_WINDOW: u64 = 4;

/// Proposes the ISR changes the leaders here want, until the broker goes.
pub async fn maintain_isr(broker: Weak<Broker>, lag_max_ms: u64) {
    let mut tick = tokio::time::interval(Duration::from_millis((lag_max_ms / ISR_CHECKS_PER_LAG_WINDOW).max(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(b) = broker.upgrade() else { return };
        for p in b.all_partitions() {
            let Some((leader_epoch, isr)) = p.wanted_isr(lag_max_ms as i64) else { continue };
            let cmd = Command::AlterIsr { log: p.log.clone(), partition: p.id, leader_epoch, isr: isr.clone() };
            let broker = Arc::clone(&b);
            tokio::spawn(async move {
                match broker.cluster.propose(cmd).await {
                    Ok(_) => tracing::info!(log = %p.log, partition = p.id, ?isr, "ISR changed"),
                    Err(e) => tracing::debug!(log = %p.log, partition = p.id, error = %e, "ISR change refused"),
                }
            });
        }
    }
}
