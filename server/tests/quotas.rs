//! Per-principal quotas with `[auth]` on: connections over
//! `connections_per_principal` and requests over
//! `requests_per_second_per_principal` are answered `Throttled` with a wait
//! to retry after; producers ride it out.

mod common;

use std::time::Duration;

use common::auth::{auth_server, cert, connect, records_in, token, with_token};
use common::unique;
use pyralog::{ErrorCode, ProducerConfig, Record};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_throttle_a_principal_with_a_wait_and_producers_ride_it_out() {
    let server = auth_server("[quotas]\nconnections_per_principal = 2\nrequests_per_second_per_principal = 10\n");
    let (alice, admin) = (token(&server, "alice"), token(&server, "admin"));
    let first = connect(&server, with_token(&server, &alice)).await.unwrap();
    let _second = connect(&server, with_token(&server, &alice)).await.unwrap();
    let e = connect(&server, with_token(&server, &alice)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled, "{e}");
    assert!(e.retry_after().is_some_and(|d| d >= Duration::from_millis(100)), "{e:?}");
    connect(&server, with_token(&server, &admin)).await.expect("another principal's quota");

    // 10 requests a second (a full bucket holds 10): of a burst of 30, at
    // least 5 are refused unless the burst takes over 1.5 s, each refusal
    // naming a wait of at most a second.
    let began = std::time::Instant::now();
    let mut throttled = 0u32;
    for _ in 0..30 {
        match first.list_logs().await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::Throttled, "{e}");
                assert!(e.retry_after().is_some_and(|d| d <= Duration::from_secs(1)), "{e:?}");
                throttled += 1;
            }
        }
    }
    // At most 10 + 10/s x elapsed requests fit the bucket.
    let fit = 10.0 + 10.0 * began.elapsed().as_secs_f64();
    assert!(f64::from(throttled) >= (30.0 - fit).floor(), "{throttled} of 30 throttled in {:?}", began.elapsed());

    // A producer retries throttled batches after the advised wait: every record lands once.
    let admin = connect(&server, with_token(&server, &admin)).await.unwrap();
    let log = unique("throttled");
    admin.create_log(&log, 1).await.unwrap();
    admin.add_acl("alice", "write", &format!("log:{log}")).await.unwrap();
    let producer =
        first.producer(ProducerConfig { batch_size: 1, linger: Duration::ZERO, ..ProducerConfig::default() }).unwrap();
    let mut deliveries = Vec::new();
    for i in 0..30 {
        deliveries.push(producer.send(&log, Record::new(format!("v{i}"))).await.unwrap());
    }
    for d in deliveries {
        d.await.expect("delivered despite throttling");
    }
    producer.close().await.unwrap();
    assert_eq!(records_in(&admin, &log).await, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_connection_over_its_quota_is_closed_throttled_at_the_deadline() {
    let server = auth_server("[quotas]\nconnections_per_principal = 1\n");
    let identity = cert(&server, "alice");
    let endpoint = common::raw_endpoint_as(&server, Some(&identity));
    let first = endpoint.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap();
    let second = endpoint.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap();
    // The server may set up either first: one takes the permit, the other is closed.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            c = first.closed() => (c, &second),
            c = second.closed() => (c, &first),
        }
    });
    let (reason, kept) = closed.await.expect("one connection closed in time");
    match reason {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(c.error_code.into_inner(), u64::from(ErrorCode::Throttled.as_u16()));
        }
        other => panic!("closed by {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(kept.close_reason().is_none(), "the connection within the quota stays");
}
