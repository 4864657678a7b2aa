//! A node started with a configuration that contradicts its cluster is
//! refused at start, with a message naming the problem, and touches no data:
//! an id outside the voter list, an address listed twice, a data directory
//! that belongs to another cluster, a voter list its peers disagree with.

mod common;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pyralog-server");
/// A refused start ends within this; a good one serves within it.
const START_LIMIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn init_cluster(dir: &Path, voters: &str) -> PathBuf {
    let tls = dir.join(format!("tls-{}", dir.read_dir().unwrap().count()));
    let out = Command::new(BIN).args(["init-cluster", "--voters", voters, "--tls-dir"]).arg(&tls).output().unwrap();
    assert!(out.status.success(), "init-cluster: {}", String::from_utf8_lossy(&out.stderr));
    tls
}

fn node(id: u32, voters: &str, tls: &Path, data: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(["--node-id", &id.to_string(), "--voters", voters, "--tls-dir"]).arg(tls).arg("--data-dir").arg(data);
    c
}

/// Runs a start that must fail; returns its standard error.
fn refused(mut cmd: Command) -> String {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + START_LIMIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server neither served nor exited within {START_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    assert!(!status.success(), "the server was expected to refuse to start");
    String::from_utf8_lossy(&stderr).into_owned()
}

#[test]
fn given_a_node_id_outside_the_voter_list_the_node_refuses_to_start_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let voters = format!("1@127.0.0.1:{},2@127.0.0.1:{}", free_port(), free_port());
    let tls = init_cluster(dir.path(), &voters);
    let data = dir.path().join("data");
    let err = refused(node(3, &voters, &tls, &data));
    assert!(err.contains("node_id 3 is not in the voter list"), "{err}");
    assert!(!data.exists(), "a refused start creates no data directory");
}

#[test]
fn given_an_address_listed_twice_the_node_refuses_to_start_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let good = format!("1@127.0.0.1:{port},2@127.0.0.1:{}", free_port());
    let tls = init_cluster(dir.path(), &good);
    let data = dir.path().join("data");
    let twice = format!("1@127.0.0.1:{port},2@127.0.0.1:{port}");
    let err = refused(node(1, &twice, &tls, &data));
    assert!(err.contains("twice"), "{err}");
    assert!(!data.exists(), "a refused start creates no data directory");
}

#[test]
fn given_a_data_directory_of_another_cluster_the_node_refuses_to_start_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let voters = format!("1@{addr}");
    let data = dir.path().join("data");
    // Cluster A's node 1 starts, claims the directory and is SIGKILLed.
    let mut first = node(1, &voters, &init_cluster(dir.path(), &voters), &data)
        .args(["--listen", &addr])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = first.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(START_LIMIT).unwrap_or_default();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(line.contains("listening on"), "cluster A's node served: {line:?}");
    let claimed = std::fs::read(data.join("meta").join("node.json")).unwrap();

    // Cluster B (another CA and cluster id) points its node 1 at the same directory.
    let mut second = node(1, &voters, &init_cluster(dir.path(), &voters), &data);
    second.args(["--listen", &addr]);
    let err = refused(second);
    assert!(err.contains("belongs to node 1 of cluster"), "{err}");
    assert_eq!(std::fs::read(data.join("meta").join("node.json")).unwrap(), claimed, "the directory is untouched");
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

/// Node 3 of a running cluster, started with a voter list naming a fourth node.
fn node3_with_other_voters(c: &pyralog_testkit::TestCluster, data: &Path) -> Command {
    let mut voters: Vec<String> = c.nodes.iter().enumerate().map(|(i, n)| format!("{}@{}", i + 1, n.addr)).collect();
    voters.push(format!("4@127.0.0.1:{}", free_port()));
    let mut cmd = node(3, &voters.join(","), &c.tls_dir, data);
    cmd.args(["--listen", &c.nodes[2].addr]);
    cmd
}

#[test]
fn given_a_voter_list_its_peers_disagree_with_a_restarted_node_refuses_to_start_and_leaves_its_data_alone() {
    let mut c = common::cluster::start("");
    c.node(3).kill();
    let data = c.nodes[2].data_dir.clone();
    let before = snapshot(&data);
    let err = refused(node3_with_other_voters(&c, &data));
    assert!(err.contains("refuses this node") && err.contains("voters"), "{err}");
    assert_eq!(snapshot(&data), before, "the data directory is untouched");
}

#[test]
fn given_a_voter_list_its_peers_disagree_with_a_new_node_refuses_to_start_and_claims_nothing() {
    let mut c = common::cluster::start("");
    c.node(3).kill();
    let fresh = tempfile::tempdir().unwrap();
    let data = fresh.path().join("data");
    let err = refused(node3_with_other_voters(&c, &data));
    assert!(err.contains("refuses this node") && err.contains("voters"), "{err}");
    assert!(!data.join("meta").exists(), "no cluster identity or Raft state is written");
}
