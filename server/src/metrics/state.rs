//! Gauges read at scrape time: per local partition (segments, bytes,
//! offsets), per partition this node leads (leader epoch, ISR), and per
//! consumer group this node coordinates (lag).

use std::sync::{Arc, OnceLock, Weak};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use crate::broker::Broker;

#[derive(Debug)]
pub(super) struct StateCollector {
    pub(super) broker: Arc<OnceLock<Weak<Broker>>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    log: String,
    partition: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LagLabels {
    group: String,
    log: String,
    partition: u32,
}

/// One gauge family: its name, help, and a value per label set.
struct Gauges<L> {
    name: &'static str,
    help: &'static str,
    values: Vec<(L, i64)>,
}

impl<L: EncodeLabelSet> Gauges<L> {
    fn new(name: &'static str, help: &'static str) -> Self {
        Gauges { name, help, values: Vec::new() }
    }

    fn push(&mut self, labels: L, value: u64) {
        self.values.push((labels, i64::try_from(value).unwrap_or(i64::MAX)));
    }

    fn encode(&self, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let probe = ConstGauge::new(0i64);
        let mut family = encoder.encode_descriptor(self.name, self.help, None, probe.metric_type())?;
        for (labels, value) in &self.values {
            ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

/// A gauge without labels.
fn single(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

fn at(log: &str, partition: u32) -> PartitionLabels {
    PartitionLabels { log: log.to_owned(), partition }
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(broker) = self.broker.get().and_then(Weak::upgrade) else { return Ok(()) };
        let mut segments = Gauges::new("partition_segments", "Segments of a local partition replica");
        let mut size = Gauges::new("partition_size_bytes", "Bytes of a local partition replica's segments");
        let mut start = Gauges::new("partition_log_start_offset", "First offset a local replica holds");
        let mut hw = Gauges::new("partition_high_watermark", "Offset after the last record consumers may read");
        let mut epoch = Gauges::new("partition_leader_epoch", "Leader epoch of a partition this node leads");
        let mut isr = Gauges::new("partition_isr_size", "In-sync replicas of a partition this node leads");
        let mut replicas = Gauges::new("partition_replicas", "Assigned replicas of a partition this node leads");
        let (mut under, mut led) = (0u64, 0u64);
        for md in broker.list() {
            if let Ok(stats) = broker.stats(&md.name) {
                for p in &stats.partitions {
                    segments.push(at(&md.name, p.partition), u64::from(p.segment_count));
                    size.push(at(&md.name, p.partition), p.size_bytes);
                    start.push(at(&md.name, p.partition), p.log_start_offset);
                    hw.push(at(&md.name, p.partition), p.high_watermark);
                }
            }
            for p in md.partitions.iter().filter(|p| p.leader == broker.cfg.node_id) {
                led += 1;
                under += u64::from(p.isr.len() < p.replicas.len());
                epoch.push(at(&md.name, p.partition), p.leader_epoch);
                isr.push(at(&md.name, p.partition), p.isr.len() as u64);
                replicas.push(at(&md.name, p.partition), p.replicas.len() as u64);
            }
        }
        for g in [&segments, &size, &start, &hw, &epoch, &isr, &replicas] {
            g.encode(&mut encoder)?;
        }
        let under_help = "Partitions led here with fewer in-sync replicas than assigned";
        single(&mut encoder, "under_replicated_partitions", under_help, under)?;
        single(&mut encoder, "leader_partitions", "Partitions this node leads", led)?;
        group_lag(&broker).encode(&mut encoder)
    }
}

/// Lag of every committed offset of the groups this node coordinates whose
/// partition has a replica here: high watermark minus committed offset.
fn group_lag(broker: &Broker) -> Gauges<LagLabels> {
    let mut lag = Gauges::new("group_lag", "Records a consumer group has yet to commit, per partition");
    let Ok(groups) = broker.groups() else { return lag };
    let state = broker.state();
    let incarnations = |log: &str| state.logs.get(log).map(|l| l.incarnation);
    for group in groups.names() {
        for c in groups.fetch(&group, &[], &incarnations) {
            if let Ok(p) = broker.partition(&c.log, c.partition) {
                let labels = LagLabels { group: group.clone(), log: c.log.clone(), partition: c.partition };
                lag.push(labels, p.high_watermark().saturating_sub(c.offset));
            }
        }
    }
    lag
}
