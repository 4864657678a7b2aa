//! A cluster of real `pyralog-server` processes on loopback: one TLS
//! directory made by `pyralog-server init-cluster`, one data directory and
//! one fixed port per node, node ids 1..=n.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pyralog::{Client, ClientConfig};

use crate::TestServer;

/// Most nodes a test cluster has.
pub const MAX_TEST_NODES: usize = 9;
/// Longest the nodes of a started cluster may take to be registered and
/// unfenced in the metadata.
const LIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Several `pyralog-server` processes forming one cluster.
pub struct TestCluster {
    /// Node `i` has node id `i + 1`.
    pub nodes: Vec<TestServer>,
    pub tls_dir: PathBuf,
    _tmp: tempfile::TempDir,
}

/// The principal of the client certificate the kit's own clients use
/// (make it a superuser in `[auth]` to run a cluster with authentication on).
pub const ADMIN: &str = "admin";

/// `n` loopback UDP ports free at the time of the call.
fn free_ports(n: usize) -> Vec<u16> {
    let sockets: Vec<UdpSocket> = (0..n).map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind a free port")).collect();
    sockets.iter().map(|s| s.local_addr().unwrap().port()).collect()
}

/// Where a node runs: its address and the command it runs under.
pub struct NodeHost {
    /// `ip:port` the node listens on and advertises.
    pub addr: String,
    /// e.g. `ip netns exec NS`; empty to run the binary directly.
    pub launcher: Vec<String>,
}

impl TestCluster {
    /// Starts `n` nodes of the server binary `bin` on loopback, each on
    /// defaults plus `config` (TOML lines), and waits until every one serves
    /// clients.
    ///
    /// # Panics
    /// When `n` is 0 or above `MAX_TEST_NODES`, or a node does not start.
    pub fn start(bin: impl Into<PathBuf>, n: usize, config: &str) -> TestCluster {
        assert!((1..=MAX_TEST_NODES).contains(&n), "a test cluster has 1..={MAX_TEST_NODES} nodes");
        let hosts = free_ports(n)
            .into_iter()
            .map(|port| NodeHost { addr: format!("127.0.0.1:{port}"), launcher: Vec::new() })
            .collect();
        TestCluster::start_on(bin, hosts, config)
    }

    /// Starts one node of `bin` per host (node ids 1..), each on defaults
    /// plus `config`, and waits until every one serves and is live.
    ///
    /// # Panics
    /// When there are no hosts or more than `MAX_TEST_NODES`, or a node does not start.
    pub fn start_on(bin: impl Into<PathBuf>, hosts: Vec<NodeHost>, config: &str) -> TestCluster {
        assert!((1..=MAX_TEST_NODES).contains(&hosts.len()), "a test cluster has 1..={MAX_TEST_NODES} nodes");
        let bin = bin.into();
        assert!(bin.exists(), "{} is missing: build the workspace (cargo test --workspace)", bin.display());
        let tmp = tempfile::tempdir().expect("tempdir");
        let voters: Vec<String> = hosts.iter().enumerate().map(|(i, h)| format!("{}@{}", i + 1, h.addr)).collect();
        let voters = voters.join(",");
        let tls_dir = tmp.path().join("cluster-tls");
        let status = Command::new(&bin)
            .args(["init-cluster", "--voters", &voters, "--tls-dir"])
            .arg(&tls_dir)
            .output()
            .expect("run pyralog-server init-cluster");
        assert!(status.status.success(), "init-cluster failed: {}", String::from_utf8_lossy(&status.stderr));
        let nodes = hosts
            .into_iter()
            .enumerate()
            .map(|(i, h)| node(&bin, tmp.path(), &tls_dir, i as u32 + 1, h, &voters, config))
            .collect();
        let mut c = TestCluster { nodes, tls_dir, _tmp: tmp };
        c.identity(ADMIN);
        c.start_all();
        c
    }

    /// Starts every node that is not running, all at once (a node waits for
    /// a quorum before it serves), and waits until each serves and the
    /// metadata shows every node live (a node fenced while the machine was
    /// busy starting the others registers again).
    pub fn start_all(&mut self) {
        let ready: Vec<_> = self.nodes.iter_mut().map(|n| (!n.is_running()).then(|| n.spawn())).collect();
        for (n, r) in self.nodes.iter_mut().zip(ready) {
            if let Some(r) = r {
                n.wait_ready(r);
            }
        }
        self.wait_all_live();
    }

    /// Waits until the metadata lists every node and fences none; runs on a
    /// thread of its own, so that async tests may call it.
    fn wait_all_live(&self) {
        let (servers, config, n) = (self.bootstrap(), self.client_config(), self.nodes.len());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async {
                let client = Client::connect(&servers, config).await.expect("connect");
                let deadline = Instant::now() + LIVE_TIMEOUT;
                loop {
                    let d = client.describe_cluster().await;
                    if d.as_ref().is_ok_and(|d| d.nodes.len() == n && d.nodes.iter().all(|n| !n.fenced)) {
                        break;
                    }
                    assert!(Instant::now() < deadline, "cluster nodes not all live within {LIVE_TIMEOUT:?}: {d:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                client.close().await;
            });
        })
        .join()
        .expect("every node live");
    }

    /// SIGKILLs every node at once.
    pub fn kill_all(&mut self) {
        for n in &self.nodes {
            n.signal(libc::SIGKILL);
        }
        for n in &mut self.nodes {
            n.kill();
        }
    }

    /// The node with id `id`.
    pub fn node(&mut self, id: u32) -> &mut TestServer {
        &mut self.nodes[id as usize - 1]
    }

    /// Every node's address, comma-separated (the clients' bootstrap list).
    pub fn bootstrap(&self) -> String {
        self.nodes.iter().map(|n| n.addr.as_str()).collect::<Vec<_>>().join(",")
    }

    pub fn ca_file(&self) -> PathBuf {
        self.tls_dir.join("ca.pem")
    }

    /// Trusts the cluster CA and presents the `ADMIN` client certificate.
    pub fn client_config(&self) -> ClientConfig {
        let (cert, key) = self.identity(ADMIN);
        ClientConfig { cert_file: Some(cert), key_file: Some(key), ..ClientConfig::with_ca_file(self.ca_file()) }
    }

    /// The certificate and key files of client `name` (issued by the
    /// cluster CA on first use).
    pub fn identity(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = self.tls_dir.join("clients");
        let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}-key.pem")));
        if !cert.exists() {
            let bin = &self.nodes[0].bin;
            let out = Command::new(bin)
                .args(["cert", "issue", "--name", name, "--tls-dir"])
                .arg(&self.tls_dir)
                .arg("--out")
                .arg(&dir)
                .output()
                .expect("run pyralog-server cert issue");
            assert!(out.status.success(), "cert issue failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        (cert, key)
    }

    /// A client bootstrapped with every node.
    pub async fn client(&self) -> Client {
        self.client_with(self.client_config()).await
    }

    /// A client bootstrapped with every node, on `config`.
    pub async fn client_with(&self, config: ClientConfig) -> Client {
        Client::connect(&self.bootstrap(), config).await.expect("connect to the test cluster")
    }
}

fn node(bin: &Path, dir: &Path, tls_dir: &Path, id: u32, host: NodeHost, voters: &str, config: &str) -> TestServer {
    TestServer {
        bin: bin.to_owned(),
        child: None,
        addr: host.addr,
        launcher: host.launcher,
        data_dir: dir.join(format!("node-{id}")),
        _tmp: None,
        config: config.to_owned(),
        args: vec![
            "--node-id".into(),
            id.to_string(),
            "--voters".into(),
            voters.into(),
            "--tls-dir".into(),
            tls_dir.display().to_string(),
        ],
        ca: Some(tls_dir.join("ca.pem")),
    }
}
