//! Node-to-node traffic is mutual TLS under the cluster CA: a connection on
//! the peer ALPN whose certificate another CA signed is refused in the
//! handshake, while the same connection with the cluster's own certificate
//! for that node is accepted.

mod common;

use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use pyralog_server::tls::{peer_name, PEER_ALPN};

/// Longest the refused handshake may take to be closed.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the accepted connection must stay up to count as accepted.
const ACCEPTED_FOR: Duration = Duration::from_secs(1);

fn certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    rustls_pemfile::certs(&mut BufReader::new(std::fs::File::open(path).unwrap())).collect::<Result<_, _>>().unwrap()
}

/// A QUIC client on the peer ALPN: trusts `ca`, presents node 3's
/// certificate from `identity_dir`.
fn peer_client(ca: &Path, identity_dir: &Path) -> quinn::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca) {
        roots.add(c).unwrap();
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(
        std::fs::File::open(identity_dir.join("node-3-key.pem")).unwrap(),
    ))
    .unwrap()
    .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(certs(&identity_dir.join("node-3.pem")), key)
        .unwrap();
    tls.alpn_protocols = vec![PEER_ALPN.to_vec()];
    quinn::ClientConfig::new(Arc::new(quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap()))
}

/// Connects to node 1 at `addr` with `config`; `Ok` if the connection is
/// still up after `ACCEPTED_FOR`, else why it ended.
async fn dial(addr: &str, config: quinn::ClientConfig) -> Result<(), String> {
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    let connecting = endpoint.connect_with(config, addr.parse().unwrap(), &peer_name(1)).unwrap();
    let result = match tokio::time::timeout(REFUSAL_TIMEOUT, connecting).await {
        Err(_) => Err("the handshake neither finished nor failed".to_owned()),
        Ok(Err(e)) => Err(e.to_string()),
        // In TLS 1.3 the client may finish before the server has judged its
        // certificate; a refusal then closes the connection right after.
        Ok(Ok(conn)) => match tokio::time::timeout(ACCEPTED_FOR, conn.closed()).await {
            Ok(reason) => Err(reason.to_string()),
            Err(_) => Ok(()),
        },
    };
    endpoint.close(0u32.into(), b"done");
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_certificate_of_another_ca_when_a_node_dials_a_peer_then_the_handshake_is_refused() {
    let c = common::cluster::start("");
    let voters: Vec<String> = c.nodes.iter().enumerate().map(|(i, n)| format!("{}@{}", i + 1, n.addr)).collect();
    let other = tempfile::tempdir().unwrap();
    let foreign = other.path().join("foreign-tls");
    let out = Command::new(env!("CARGO_BIN_EXE_pyralog-server"))
        .args(["init-cluster", "--voters", &voters.join(","), "--tls-dir"])
        .arg(&foreign)
        .output()
        .unwrap();
    assert!(out.status.success(), "init-cluster: {}", String::from_utf8_lossy(&out.stderr));
    let node1 = c.nodes[0].addr.clone();

    dial(&node1, peer_client(&c.ca_file(), &c.tls_dir)).await.expect("the cluster's own node certificate is accepted");
    let refused = dial(&node1, peer_client(&c.ca_file(), &foreign)).await.expect_err("a foreign certificate");
    eprintln!("a foreign node certificate: {refused}");
    assert!(refused.contains("invalid peer certificate"), "refused for its certificate: {refused}");
}
