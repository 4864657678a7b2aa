//! A log's statistics, each partition's from its leader: every node holds
//! only some partitions, and a follower's copy may lag its leader.

use pyralog_protocol::model::{LogStats, NO_LEADER};
use pyralog_protocol::pyralog_capnp::response;
use pyralog_protocol::ErrorCode;

use crate::client::{Client, Route};
use crate::error::{Error, Result};
use crate::wire::{self, capnp_err, unexpected};

impl Client {
    /// Record count, size and write rate of a log, and per partition its
    /// start offset, high watermark, size and segment count, as its leader
    /// has them.
    ///
    /// # Errors
    /// `LogNotFound`; `NotLeader` when a partition has no leader now;
    /// connection errors.
    pub async fn get_log_stats(&self, name: &str) -> Result<LogStats> {
        let md = self.get_log_metadata(name).await?;
        let mut by_leader: Vec<(u32, Vec<u32>)> = Vec::new();
        for p in &md.partitions {
            if p.leader == NO_LEADER {
                return Err(Error::new(ErrorCode::NotLeader, format!("{name}/{} has no leader now", p.partition)));
            }
            match by_leader.iter_mut().find(|(l, _)| *l == p.leader) {
                Some((_, ps)) => ps.push(p.partition),
                None => by_leader.push((p.leader, vec![p.partition])),
            }
        }
        let asks = by_leader.iter().map(|(_, ps)| self.stats_from(name, ps));
        let mut total = LogStats { name: name.to_owned(), ..LogStats::default() };
        for (answer, (_, led)) in futures_util::future::try_join_all(asks).await?.into_iter().zip(&by_leader) {
            total.write_rate += answer.write_rate;
            total.partitions.extend(answer.partitions.into_iter().filter(|p| led.contains(&p.partition)));
        }
        total.partitions.sort_by_key(|p| p.partition);
        total.record_count = total.partitions.iter().map(|p| p.high_watermark.saturating_sub(p.log_start_offset)).sum();
        total.size_bytes = total.partitions.iter().map(|p| p.size_bytes).sum();
        Ok(total)
    }

    /// The stats the leader of `partitions` (all led by one node) answers.
    async fn stats_from(&self, name: &str, partitions: &[u32]) -> Result<LogStats> {
        let req = wire::request(|r| r.init_log_stats().set_name(name));
        let route = Route::Leader(name, partitions[0]);
        let timeout = self.inner.config.request_timeout;
        self.call_routed(route, req, timeout, |w| match w {
            response::LogStats(s) => Ok(LogStats::read(s.map_err(capnp_err)?)?),
            _ => Err(unexpected()),
        })
        .await
    }
}
