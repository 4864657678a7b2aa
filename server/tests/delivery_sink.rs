//! The core producer's bulk delivery path (`Client::producer_with_sink` and
//! `Producer::send_reported`), which the C ABI, Go and Java bindings use:
//! every queued record gets exactly one report, with the offsets a future
//! would have given, and a record that is not queued gets none.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::unique;
use pyralog::{DeliveryReport, DeliverySink, ErrorCode, LogOffset, ProducerConfig, Record};
use pyralog_protocol::limits::MAX_RECORD_BYTES;

/// Collects every report, and counts the calls (reports arrive per batch).
#[derive(Default)]
struct Collected {
    reports: Mutex<Vec<DeliveryReport>>,
    calls: Mutex<usize>,
}

impl DeliverySink for Collected {
    fn deliver(&self, reports: Vec<DeliveryReport>) {
        *self.calls.lock().unwrap() += 1;
        self.reports.lock().unwrap().extend(reports);
    }
}

const RECORDS: u64 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reported_record_gets_one_report_per_batch_with_its_offset() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("sink");
    c.create_log(&log, 4).await.unwrap();
    let sink = Arc::new(Collected::default());
    let p = c.producer_with_sink(ProducerConfig::default(), Arc::clone(&sink) as Arc<dyn DeliverySink>).unwrap();
    for token in 0..RECORDS {
        let record = Record::new(format!("v-{token}")).key(format!("k-{}", token % 64));
        p.send_reported(&log, record, token, (token % 3) as usize).await.unwrap();
    }
    // Not queued: no report follows.
    let too_large = Record::new(vec![0u8; MAX_RECORD_BYTES + 1]);
    assert_eq!(p.send_reported(&log, too_large, RECORDS, 0).await.unwrap_err().code(), ErrorCode::RecordTooLarge);
    p.flush().await.unwrap();
    // Flush returns once every batch is acknowledged; its reports follow at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (sink.reports.lock().unwrap().len() as u64) < RECORDS {
        assert!(tokio::time::Instant::now() < deadline, "reports missing after flush");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    p.close().await.unwrap();

    let reports = std::mem::take(&mut *sink.reports.lock().unwrap());
    assert_eq!(reports.len() as u64, RECORDS, "one report per queued record, none for the refused one");
    let calls = *sink.calls.lock().unwrap();
    assert!(calls * 10 < reports.len(), "reports come in bulk: {calls} calls for {} reports", reports.len());
    let mut at = BTreeMap::new();
    for r in reports {
        assert_eq!(r.index, (r.token % 3) as usize, "the index travels with the token");
        let md = r.result.unwrap();
        assert!(at.insert((md.partition, md.offset), r.token).is_none(), "two records at one position");
    }
    for p in 0..4 {
        let read = c.consume_from_partition(&log, p, LogOffset::ZERO, RECORDS as usize).await.unwrap();
        for r in read {
            let token = at.get(&(p, r.offset)).expect("a reported position");
            assert_eq!(r.value, format!("v-{token}").as_bytes(), "the report names the record written there");
        }
    }
}

#[tokio::test]
async fn send_reported_without_a_sink_is_refused() {
    let server = common::start();
    let c = server.client().await;
    let log = unique("nosink");
    c.create_log(&log, 1).await.unwrap();
    let p = c.producer(ProducerConfig::default()).unwrap();
    let e = p.send_reported(&log, Record::new("v"), 1, 0).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}
