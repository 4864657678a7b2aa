//! `pyralog top`: a server's live rates, from the metrics it serves
//! (`Client::server_metrics`, the same text `/metrics` gives Prometheus).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::Args;
use pyralog::Client;

/// Shortest refresh interval.
const MIN_INTERVAL_MS: u64 = 100;

#[derive(Args)]
pub struct TopArgs {
    /// Refresh interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Stop after this many refreshes (default: until interrupted).
    #[arg(long)]
    iterations: Option<u64>,
}

/// A series' labels.
type Labels = BTreeMap<String, String>;

/// One scrape: every sample by metric name, then its labels.
#[derive(Default)]
struct Sample {
    at: Option<Instant>,
    values: BTreeMap<String, Vec<(Labels, f64)>>,
}

impl Sample {
    fn parse(text: &str, at: Instant) -> Sample {
        let mut s = Sample { at: Some(at), values: BTreeMap::new() };
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let Some((series, value)) = line.rsplit_once(' ') else { continue };
            let Ok(value) = value.parse::<f64>() else { continue };
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, labels(rest.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            s.values.entry(name.to_owned()).or_default().push((labels, value));
        }
        s
    }

    /// The sum of `name`'s samples whose `label` is `value` (all with `None`).
    fn sum(&self, name: &str, by: Option<(&str, &str)>) -> f64 {
        let all = self.values.get(name).map(Vec::as_slice).unwrap_or_default();
        all.iter().filter(|(l, _)| by.is_none_or(|(k, v)| l.get(k).is_some_and(|x| x == v))).map(|(_, v)| v).sum()
    }

    /// The distinct values of `label` in `name`'s samples.
    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut v: Vec<String> =
            self.values.get(name).into_iter().flatten().filter_map(|(l, _)| l.get(label).cloned()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// `k="v",k2="v2"` (values without escaped quotes: log and group names).
fn labels(s: &str) -> Labels {
    s.split("\",")
        .filter_map(|kv| kv.split_once("=\""))
        .map(|(k, v)| (k.to_owned(), v.trim_end_matches('"').to_owned()))
        .collect()
}

pub async fn run(client: &Client, args: TopArgs) -> anyhow::Result<()> {
    let interval = Duration::from_millis(args.interval_ms.max(MIN_INTERVAL_MS));
    let clear = std::io::stdout().is_terminal();
    let mut before = Sample::parse(&client.server_metrics().await?, Instant::now());
    let mut shown = 0u64;
    while args.iterations.is_none_or(|n| shown < n) {
        tokio::time::sleep(interval).await;
        let now = Sample::parse(&client.server_metrics().await?, Instant::now());
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        print!("{}", render(&before, &now));
        before = now;
        shown += 1;
    }
    Ok(())
}

/// The screen: totals, a line per log, the groups' lag.
fn render(before: &Sample, now: &Sample) -> String {
    let secs = match (before.at, now.at) {
        (Some(a), Some(b)) => (b - a).as_secs_f64().max(1e-3),
        _ => 1.0,
    };
    let rate = |name: &str, by: Option<(&str, &str)>| (now.sum(name, by) - before.sum(name, by)).max(0.0) / secs;
    let fsyncs = now.sum("pyralog_fsync_duration_seconds_count", None)
        - before.sum("pyralog_fsync_duration_seconds_count", None);
    let fsync_secs =
        now.sum("pyralog_fsync_duration_seconds_sum", None) - before.sum("pyralog_fsync_duration_seconds_sum", None);
    let mut out = format!(
        "connections {:.0}  requests/s {:.0}  errors/s {:.0}  fsyncs/s {:.0} (avg {:.3} ms)  leading {:.0}  under-replicated {:.0}\n",
        now.sum("pyralog_connections_open", None),
        rate("pyralog_request_duration_seconds_count", None),
        rate("pyralog_errors_total", None),
        fsyncs / secs,
        if fsyncs > 0.0 { fsync_secs / fsyncs * 1e3 } else { 0.0 },
        now.sum("pyralog_leader_partitions", None),
        now.sum("pyralog_under_replicated_partitions", None),
    );
    out.push_str(&format!(
        "{:<32} {:>14} {:>12} {:>14} {:>12} {:>10}\n",
        "log", "produce msg/s", "produce MB/s", "consume msg/s", "consume MB/s", "stored MB"
    ));
    let mut logs = now.label_values("pyralog_partition_size_bytes", "log");
    logs.extend(now.label_values("pyralog_produced_records_total", "log"));
    logs.sort();
    logs.dedup();
    for log in logs {
        let by = Some(("log", log.as_str()));
        out.push_str(&format!(
            "{:<32} {:>14.0} {:>12.2} {:>14.0} {:>12.2} {:>10.1}\n",
            log,
            rate("pyralog_produced_records_total", by),
            rate("pyralog_produced_bytes_total", by) / 1e6,
            rate("pyralog_fetched_records_total", by),
            rate("pyralog_fetched_bytes_total", by) / 1e6,
            now.sum("pyralog_partition_size_bytes", by) / 1e6,
        ));
    }
    for group in now.label_values("pyralog_group_lag", "group") {
        out.push_str(&format!(
            "group {group}: lag {:.0} records\n",
            now.sum("pyralog_group_lag", Some(("group", group.as_str())))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP pyralog_produced_records Records\n# TYPE pyralog_produced_records counter\n\
        pyralog_produced_records_total{log=\"orders\"} 100\n\
        pyralog_produced_records_total{log=\"audit\"} 5\n\
        pyralog_group_lag{group=\"billing\",log=\"orders\",partition=\"0\"} 7\n\
        pyralog_connections_open 2\n# EOF\n";

    #[test]
    fn parses_series_with_and_without_labels_and_renders_rates() {
        let t0 = Instant::now();
        let a = Sample::parse(TEXT, t0);
        assert_eq!(a.sum("pyralog_produced_records_total", None), 105.0);
        assert_eq!(a.sum("pyralog_produced_records_total", Some(("log", "orders"))), 100.0);
        assert_eq!(a.label_values("pyralog_group_lag", "partition"), ["0"]);
        let b = Sample::parse(&TEXT.replace("} 100", "} 300"), t0 + Duration::from_secs(2));
        let screen = render(&a, &b);
        assert!(screen.contains("connections 2"), "{screen}");
        let orders = screen.lines().find(|l| l.starts_with("orders")).unwrap();
        assert_eq!(orders.split_whitespace().nth(1), Some("100"), "(300 - 100) / 2 s: {screen}");
        assert!(screen.contains("group billing: lag 7 records"), "{screen}");
    }
}
