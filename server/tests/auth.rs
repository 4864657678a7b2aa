//! Authentication, ACLs and quotas against the real server with `[auth]`
//! on: who may connect (tokens, client certificates), what each principal
//! may do (allow-only ACLs, superusers), and how much (per-principal
//! connection and request-rate quotas answering `Throttled` with a wait).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{unique, TestServer};
use pyralog::{Client, ClientConfig, ErrorCode, LogOffset, LogPartition, ProducerConfig, Record};

const SERVER: &str = env!("CARGO_BIN_EXE_pyralog-server");

/// Authentication on, `admin` a superuser, plus `extra` TOML.
fn auth_server(extra: &str) -> TestServer {
    common::start_with(&format!(
        "[auth]\nenabled = true\nsuperusers = [\"admin\"]\nauthentication_timeout_ms = 1500\n{extra}"
    ))
}

fn admin_cli(server: &TestServer, args: &[&str]) -> String {
    let out = Command::new(SERVER).args(args).arg("--data-dir").arg(&server.data_dir).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `pyralog-server token create NAME` against the server's data directory.
fn token(server: &TestServer, name: &str) -> String {
    admin_cli(server, &["token", "create", name]).trim().to_owned()
}

/// `pyralog-server cert issue --name NAME` under the server's CA.
fn cert(server: &TestServer, name: &str) -> (PathBuf, PathBuf) {
    let out = server.data_dir.join("clients");
    admin_cli(server, &["cert", "issue", "--name", name, "--out", out.to_str().unwrap()]);
    (out.join(format!("{name}.pem")), out.join(format!("{name}-key.pem")))
}

fn with_token(server: &TestServer, token: &str) -> ClientConfig {
    ClientConfig { token: Some(token.to_owned()), ..ClientConfig::with_ca_file(server.ca_file()) }
}

fn with_cert(server: &TestServer, (cert, key): &(PathBuf, PathBuf)) -> ClientConfig {
    ClientConfig {
        cert_file: Some(cert.clone()),
        key_file: Some(key.clone()),
        ..ClientConfig::with_ca_file(server.ca_file())
    }
}

async fn connect(server: &TestServer, config: ClientConfig) -> pyralog::Result<Client> {
    let client = Client::connect(&server.addr, config).await?;
    // The handshake alone proves nothing: a refused certificate shows on the first request.
    client.list_logs().await.map(|_| client)
}

fn code<T: std::fmt::Debug>(r: pyralog::Result<T>) -> ErrorCode {
    r.expect_err("refused").code()
}

async fn records_in(client: &Client, log: &str) -> u64 {
    client.get_log_stats(log).await.unwrap().record_count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_auth_on_only_valid_credentials_connect() {
    let server = auth_server("");
    let admin = token(&server, "admin");
    let bob = token(&server, "bob");

    let anonymous = Client::connect(&server.addr, ClientConfig::with_ca_file(server.ca_file())).await.unwrap();
    let e = anonymous.list_logs().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");
    assert_eq!(code(anonymous.create_log(&unique("x"), 1).await), ErrorCode::AuthenticationFailed);

    let forged = format!("{}0", &admin[..admin.len() - 1]);
    assert_eq!(code(connect(&server, with_token(&server, &forged)).await), ErrorCode::AuthenticationFailed);
    assert_eq!(code(connect(&server, with_token(&server, "pyt_admin_nope")).await), ErrorCode::AuthenticationFailed);

    connect(&server, with_token(&server, &bob)).await.expect("bob's token works");
    assert!(admin_cli(&server, &["token", "list"]).contains("bob"));
    admin_cli(&server, &["token", "revoke", "bob"]);
    assert_eq!(code(connect(&server, with_token(&server, &bob)).await), ErrorCode::AuthenticationFailed);

    connect(&server, with_cert(&server, &cert(&server, "admin"))).await.expect("a certificate of the server's CA");
    // Another server's development CA is another CA.
    let other = common::start();
    let foreign = cert(&other, "admin");
    let e = connect(&server, with_cert(&server, &foreign)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");

    let client = connect(&server, with_token(&server, &admin)).await.unwrap();
    assert!(client.list_logs().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_may_write_orders_but_not_read_payments_and_refusals_change_nothing() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let (orders, payments) = (format!("orders.{}", unique("eu")), unique("payments"));
    admin.create_log(&orders, 2).await.unwrap();
    admin.create_log(&payments, 1).await.unwrap();
    admin.produce(&payments, Record::new("p-1")).await.unwrap();
    admin.add_acl("alice", "write", "log:orders.*").await.unwrap();

    let alice = connect(&server, with_cert(&server, &cert(&server, "alice"))).await.unwrap();
    alice.produce(&orders, Record::new("o-1").key("k")).await.expect("write on orders.*");
    assert_eq!(
        alice.list_logs().await.unwrap().iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&orders)
    );

    let e = alice.consume_from_partition(&payments, 0, LogOffset::ZERO, 10).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotAuthorized);
    // The client's first step, the metadata lookup, is refused already.
    assert!(e.message().contains("principal alice may not describe") && e.message().contains(&payments), "{e}");
    assert_eq!(code(alice.consume_from_partition(&orders, 0, LogOffset::ZERO, 10).await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.produce(&payments, Record::new("stolen")).await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.create_log(&unique("orders.new"), 1).await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.delete_log(&orders).await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.pause_log(&orders).await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.add_acl("alice", "read", "log:*").await), ErrorCode::NotAuthorized);
    assert_eq!(code(alice.list_acls().await), ErrorCode::NotAuthorized);
    assert_eq!(records_in(&admin, &payments).await, 1, "the refused write wrote nothing");
    assert!(admin.log_exists(&orders).await.unwrap());

    // Grants and removals apply to the next request, on open connections.
    admin.add_acl("alice", "read", &format!("log:{payments}")).await.unwrap();
    let read = alice.consume_from_partition(&payments, 0, LogOffset::ZERO, 10).await.unwrap();
    assert_eq!(read.len(), 1);
    admin.add_acl("*", "create", "log:scratch.*").await.unwrap();
    alice.create_log(&unique("scratch.a"), 1).await.expect("`*` covers every principal");
    assert!(admin.remove_acl("alice", "write", "log:orders.*").await.unwrap());
    assert!(!admin.remove_acl("alice", "write", "log:orders.*").await.unwrap());
    assert_eq!(code(alice.produce(&orders, Record::new("o-2")).await), ErrorCode::NotAuthorized);
    let listed: Vec<String> = admin.list_acls().await.unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["* create log:scratch.*".to_owned(), format!("alice read log:{payments}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_without_rights_cannot_be_joined_or_committed_to() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let (log, group) = (unique("orders.g"), unique("billing"));
    admin.create_log(&log, 1).await.unwrap();
    for i in 0..5 {
        admin.produce(&log, Record::new(format!("r{i}"))).await.unwrap();
    }
    admin.add_acl("alice", "read", &format!("log:{log}")).await.unwrap();
    let alice = connect(&server, with_token(&server, &token(&server, "alice"))).await.unwrap();

    let mut consumer =
        alice.consumer(pyralog::ConsumerConfig { group_id: Some(group.clone()), ..pyralog::ConsumerConfig::default() });
    consumer.subscribe(&[&log], None).unwrap();
    let e = consumer.poll(Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotAuthorized, "{e}");
    assert!(e.message().contains(&format!("group:{group}")), "{e}");
    consumer.close().await;
    let committed = alice.alter_group_offsets(&group, &[(LogPartition::new(&log, 0), 3)]).await;
    assert_eq!(code(committed), ErrorCode::NotAuthorized);
    assert!(admin.describe_group(&group).await.map(|d| d.offsets.is_empty()).unwrap_or(true), "nothing committed");
    assert!(alice.list_groups().await.unwrap().is_empty());

    admin.add_acl("alice", "read", &format!("group:{group}")).await.unwrap();
    let mut consumer =
        alice.consumer(pyralog::ConsumerConfig { group_id: Some(group.clone()), ..pyralog::ConsumerConfig::default() });
    consumer.subscribe(&[&log], None).unwrap();
    let mut seen = 0;
    for _ in 0..20 {
        seen += consumer.poll(Duration::from_millis(500)).await.unwrap().len();
        if seen == 5 {
            break;
        }
    }
    assert_eq!(seen, 5);
    consumer.commit().await.unwrap();
    consumer.close().await;
    assert_eq!(alice.list_groups().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_identity_is_closed_after_the_authentication_timeout() {
    let server = auth_server("");
    let conn = common::raw_connect(&server).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await.expect("closed in time");
    match closed {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(c.error_code.into_inner(), u64::from(ErrorCode::AuthenticationFailed.as_u16()));
        }
        other => panic!("closed by {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_throttle_a_principal_with_a_wait_and_producers_ride_it_out() {
    let server = auth_server("[quotas]\nconnections_per_principal = 2\nrequests_per_second_per_principal = 20\n");
    let (alice, admin) = (token(&server, "alice"), token(&server, "admin"));
    let first = connect(&server, with_token(&server, &alice)).await.unwrap();
    let _second = connect(&server, with_token(&server, &alice)).await.unwrap();
    let e = connect(&server, with_token(&server, &alice)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled, "{e}");
    assert!(e.retry_after().is_some_and(|d| d >= Duration::from_millis(100)), "{e:?}");
    connect(&server, with_token(&server, &admin)).await.expect("another principal's quota");

    // 20 requests a second: a burst of 40 is partly refused, each refusal
    // naming a wait of at most a second.
    let mut throttled = 0;
    for _ in 0..40 {
        match first.list_logs().await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::Throttled, "{e}");
                assert!(e.retry_after().is_some_and(|d| d <= Duration::from_secs(1)), "{e:?}");
                throttled += 1;
            }
        }
    }
    assert!(throttled >= 10, "{throttled} of 40 throttled");

    // A producer retries throttled batches after the advised wait: every record lands once.
    let admin = connect(&server, with_token(&server, &admin)).await.unwrap();
    let log = unique("throttled");
    admin.create_log(&log, 1).await.unwrap();
    admin.add_acl("alice", "write", &format!("log:{log}")).await.unwrap();
    let producer =
        first.producer(ProducerConfig { batch_size: 1, linger: Duration::ZERO, ..ProducerConfig::default() }).unwrap();
    let mut deliveries = Vec::new();
    for i in 0..60 {
        deliveries.push(producer.send(&log, Record::new(format!("v{i}"))).await.unwrap());
    }
    for d in deliveries {
        d.await.expect("delivered despite throttling");
    }
    producer.close().await.unwrap();
    assert_eq!(records_in(&admin, &log).await, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_live_in_the_replicated_metadata_and_survive_the_controller() {
    let mut c = common::cluster::start("[auth]\nenabled = true\nsuperusers = [\"admin\"]\n");
    let admin = c.client().await;
    let (orders, payments) = (unique("orders.c"), unique("payments"));
    common::cluster::create_replicated(&admin, &orders, 1).await;
    common::cluster::create_replicated(&admin, &payments, 1).await;
    admin.add_acl("alice", "write", "log:orders.*").await.unwrap();

    // Every node answers with the rule once its metadata applied it.
    let alice_config = |c: &pyralog_testkit::TestCluster, node: usize| {
        let (cert, key) = c.identity("alice");
        (
            c.nodes[node].addr.clone(),
            ClientConfig { cert_file: Some(cert), key_file: Some(key), ..ClientConfig::with_ca_file(c.ca_file()) },
        )
    };
    for node in 0..c.nodes.len() {
        let (addr, config) = alice_config(&c, node);
        let alice = Client::connect(&addr, config).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while alice.list_logs().await.map(|l| l.len()).unwrap_or(0) != 1 {
            assert!(std::time::Instant::now() < deadline, "node {} never applied the ACL", node + 1);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        alice.close().await;
    }

    // SIGKILL the controller: the survivors still hold and enforce the rules.
    let controller = admin.describe_cluster().await.unwrap().controller;
    assert_ne!(controller, pyralog::NO_LEADER);
    c.node(controller).kill();
    let survivor = (0..c.nodes.len()).find(|i| *i as u32 + 1 != controller).unwrap();
    let (addr, config) = alice_config(&c, survivor);
    let alice = Client::connect(&addr, config).await.unwrap();
    // Until the dead node is fenced its partitions may have no reachable leader.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match alice.produce(&orders, Record::new("after the controller died")).await {
            Ok(_) => break,
            Err(e) if e.is_retriable() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("alice's write on orders.* after the controller died: {e}"),
        }
    }
    assert_eq!(code(alice.produce(&payments, Record::new("stolen")).await), ErrorCode::NotAuthorized);
    alice.close().await;
    admin.close().await;
}
