//! What each principal may do, with `[auth]` on: allow-only ACLs over logs,
//! groups and the cluster; refusals are `NotAuthorized` and change nothing;
//! internal logs stay out of reach of `log:*`; producer ids are not taken
//! over; ACLs replicate with the metadata.

mod common;

use std::time::Duration;

use common::auth::{auth_server, cert, code, connect, records_in, token, with_cert, with_token};
use common::unique;
use pyralog::{Client, ClientConfig, ErrorCode, LogOffset, LogPartition, ProducerConfig, Record};

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
    match admin.describe_group(&group).await {
        Ok(d) => assert!(d.offsets.is_empty(), "nothing committed: {:?}", d.offsets),
        Err(e) => assert_eq!(e.code(), ErrorCode::GroupNotFound, "{e}"),
    }
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

    // A node's certificate is no client identity.
    let node_cert = (c.tls_dir.join("node-3.pem"), c.tls_dir.join("node-3-key.pem"));
    let as_node = ClientConfig {
        cert_file: Some(node_cert.0),
        key_file: Some(node_cert.1),
        ..ClientConfig::with_ca_file(c.ca_file())
    };
    let posing = Client::connect(&c.nodes[0].addr, as_node).await.unwrap();
    assert_eq!(code(posing.list_logs().await), ErrorCode::AuthenticationFailed);

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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_need_the_logs_too_and_group_answers_show_only_describable_logs() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let (visible, hidden, group) = (unique("visible"), unique("hidden"), unique("g"));
    admin.create_log(&visible, 1).await.unwrap();
    admin.create_log(&hidden, 1).await.unwrap();
    let offsets = [(LogPartition::new(&visible, 0), 0), (LogPartition::new(&hidden, 0), 0)];
    admin.alter_group_offsets(&group, &offsets).await.unwrap();
    admin.add_acl("alice", "read", &format!("group:{group}")).await.unwrap();
    admin.add_acl("alice", "read", &format!("log:{visible}")).await.unwrap();
    let alice = connect(&server, with_token(&server, &token(&server, "alice"))).await.unwrap();

    let e = alice.alter_group_offsets(&group, &[(LogPartition::new(&hidden, 0), 7)]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotAuthorized);
    assert!(e.message().contains(&format!("read log:{hidden}")), "{e}");
    alice.alter_group_offsets(&group, &[(LogPartition::new(&visible, 0), 0)]).await.expect("read on both");
    let seen: Vec<String> = alice.describe_group(&group).await.unwrap().offsets.iter().map(|o| o.log.clone()).collect();
    assert_eq!(seen, std::slice::from_ref(&visible), "the hidden log's offset is not shown");
    assert_eq!(admin.describe_group(&group).await.unwrap().offsets.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_logs_are_out_of_reach_of_wildcard_acls() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let (log, group) = (unique("l"), unique("g"));
    admin.create_log(&log, 1).await.unwrap();
    admin.alter_group_offsets(&group, &[(LogPartition::new(&log, 0), 0)]).await.unwrap();
    for op in ["read", "write", "alter", "delete"] {
        admin.add_acl("mallory", op, "log:*").await.unwrap();
    }
    let mallory = connect(&server, with_token(&server, &token(&server, "mallory"))).await.unwrap();
    let offsets_log = "__consumer_offsets";
    assert!(mallory.log_exists(offsets_log).await.unwrap(), "describing internal logs stays open");
    let e = mallory.consume_from_partition(offsets_log, 0, LogOffset::ZERO, 10).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotAuthorized, "{e}");
    assert_eq!(code(mallory.pause_log(offsets_log).await), ErrorCode::NotAuthorized);
    assert_eq!(code(mallory.add_partitions(offsets_log, 64).await), ErrorCode::NotAuthorized);
    assert_eq!(mallory.consume_from_partition(&log, 0, LogOffset::ZERO, 10).await.unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_another_principals_producer_id_needs_write_on_the_cluster() {
    let server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let log = unique("ids");
    admin.create_log(&log, 1).await.unwrap();
    admin.add_acl("*", "write", &format!("log:{log}")).await.unwrap();
    let alice = connect(&server, with_token(&server, &token(&server, "alice"))).await.unwrap();
    let producer = alice.producer(ProducerConfig::default()).unwrap();
    producer.send(&log, Record::new("a")).await.unwrap().await.unwrap();
    let id = producer.identity().await.unwrap().expect("an idempotent producer has an id");

    let bob = connect(&server, with_token(&server, &token(&server, "bob"))).await.unwrap();
    let resume = |c: &Client| c.producer(ProducerConfig { resume: Some(id), ..ProducerConfig::default() }).unwrap();
    let taken = resume(&bob).send(&log, Record::new("b")).await;
    let e = match taken {
        Ok(d) => d.await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.code(), ErrorCode::NotAuthorized, "{e}");
    producer.send(&log, Record::new("a2")).await.unwrap().await.expect("alice's producer is not fenced");
    producer.close().await.unwrap();
    assert_eq!(records_in(&admin, &log).await, 2);

    admin.add_acl("bob", "write", "cluster").await.unwrap();
    let resumed = resume(&bob);
    resumed.send(&log, Record::new("b")).await.unwrap().await.expect("with write on the cluster");
    resumed.close().await.unwrap();
}
