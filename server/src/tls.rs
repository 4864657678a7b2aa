//! TLS material and QUIC configurations.
//!
//! Every node holds one certificate signed by the cluster CA, valid for the
//! hosts clients dial and for the name `pyralog-node-<id>`; it serves clients
//! and authenticates the node to its peers (mutual TLS on the peer ALPN).
//!
//! - One-node default: a self-signed development CA, the node certificate
//!   and a cluster id are created in `<data_dir>/tls` on first start.
//! - Cluster: `pyralog-server init-cluster --tls-dir DIR --voters ...`
//!   creates `DIR/ca.pem`, `DIR/ca-key.pem`, `DIR/cluster-id` and
//!   `DIR/node-<id>.pem` + `DIR/node-<id>-key.pem` for every voter; each
//!   node is pointed at `DIR` (`[cluster] tls_dir`).
//! - `[tls] cert_file`/`key_file`: the server certificate of a one-node
//!   server, for clients only.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use pyralog_protocol::limits;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::config::ServerConfig;

/// ALPN of node-to-node connections.
pub const PEER_ALPN: &[u8] = b"pyralog-peer/1";
/// Bytes of randomness in a cluster id.
const CLUSTER_ID_BYTES: usize = 16;

/// The name a node's certificate is valid for among its peers.
pub fn peer_name(node_id: u32) -> String {
    format!("pyralog-node-{node_id}")
}

/// Where the development CA is written (clients trust this file).
pub fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("ca.pem")
}

/// What a node needs for TLS: its certificate, the CA, the cluster id.
pub struct NodeTls {
    /// The CA clients and peers verify this node against (if known).
    pub ca_file: Option<PathBuf>,
    pub cluster_id: String,
    roots: Option<Arc<RootCertStore>>,
    /// Whose client certificates are accepted: `roots` plus `[auth]
    /// client_ca_file` (peers are still held to `roots` alone).
    client_roots: Option<Arc<RootCertStore>>,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl NodeTls {
    /// Loads the node's TLS material per the configuration (module docs).
    ///
    /// # Errors
    /// Missing or invalid files, naming the file and how to create it.
    pub fn load(cfg: &ServerConfig) -> anyhow::Result<NodeTls> {
        let mut tls = NodeTls::load_node(cfg)?;
        tls.client_roots = tls.roots.clone();
        if let Some(ca) = &cfg.auth.client_ca_file {
            let mut roots = tls.roots.as_deref().cloned().unwrap_or_else(RootCertStore::empty);
            for c in read_certs(ca)? {
                roots.add(c).with_context(|| format!("client CA in {}", ca.display()))?;
            }
            tls.client_roots = Some(Arc::new(roots));
        }
        Ok(tls)
    }

    fn load_node(cfg: &ServerConfig) -> anyhow::Result<NodeTls> {
        if let Some(dir) = &cfg.cluster.tls_dir {
            let hint = "create it with `pyralog-server init-cluster --tls-dir DIR --voters ...`";
            let ca = dir.join("ca.pem");
            let cert = dir.join(format!("node-{}.pem", cfg.node_id));
            let key = dir.join(format!("node-{}-key.pem", cfg.node_id));
            for f in [&ca, &cert, &key, &dir.join("cluster-id")] {
                if !f.exists() {
                    bail!("{} is missing: {hint}", f.display());
                }
            }
            let cluster_id = read_cluster_id(dir)?;
            return NodeTls::from_files(Some(ca), &cert, &key, cluster_id);
        }
        let dir = cfg.data_dir.join("tls");
        match &cfg.tls {
            Some(t) => {
                let id = ensure_cluster_id(&dir)?;
                NodeTls::from_files(None, &t.cert_file, &t.key_file, id)
            }
            None => {
                let (cert, key) = ensure_dev_certs(&dir, cfg)?;
                let id = ensure_cluster_id(&dir)?;
                NodeTls::from_files(Some(ca_path(&cfg.data_dir)), &cert, &key, id)
            }
        }
    }

    fn from_files(ca: Option<PathBuf>, cert: &Path, key: &Path, cluster_id: String) -> anyhow::Result<NodeTls> {
        let certs = read_certs(cert)?;
        let key = rustls_pemfile::private_key(&mut BufReader::new(
            fs::File::open(key).with_context(|| format!("opening {}", key.display()))?,
        ))
        .with_context(|| format!("parsing {}", key.display()))?
        .ok_or_else(|| anyhow!("{} holds no private key", key.display()))?;
        let roots = match &ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in read_certs(ca)? {
                    roots.add(c).with_context(|| format!("CA in {}", ca.display()))?;
                }
                Some(Arc::new(roots))
            }
            None => None,
        };
        Ok(NodeTls { ca_file: ca, cluster_id, roots, client_roots: None, certs, key })
    }
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = rustls_pemfile::certs(&mut BufReader::new(
        fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .with_context(|| format!("parsing {}", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

fn read_cluster_id(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("cluster-id");
    let id = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?.trim().to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        bail!("{} does not hold a cluster id", path.display());
    }
    Ok(id)
}

fn new_cluster_id() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; CLUSTER_ID_BYTES];
    fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn ensure_cluster_id(dir: &Path) -> anyhow::Result<String> {
    if dir.join("cluster-id").exists() {
        return read_cluster_id(dir);
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let id = new_cluster_id()?;
    crate::storage::write_atomically(&dir.join("cluster-id"), id.as_bytes())?;
    Ok(id)
}

pub(crate) fn new_ca(common_name: &str) -> anyhow::Result<(rcgen::Certificate, rcgen::KeyPair)> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    Ok((params.self_signed(&key)?, key))
}

/// A node certificate: server and client authentication, valid for the
/// loopback names, `host` and the node's peer name.
fn node_cert(
    ca: &rcgen::Certificate,
    ca_key: &rcgen::KeyPair,
    node_id: u32,
    host: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string(), peer_name(node_id)];
    if let Some(h) = host.filter(|h| !names.iter().any(|n| n == h) && !h.is_empty()) {
        names.push(h.to_owned());
    }
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, peer_name(node_id));
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, ca, ca_key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn host_of(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_start_matches('[').trim_end_matches(']')
}

fn ensure_dev_certs(dir: &Path, cfg: &ServerConfig) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("server.pem");
    let key = dir.join("server-key.pem");
    if cert.exists() && key.exists() && dir.join("ca.pem").exists() {
        return Ok((cert, key));
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (ca, ca_key) = new_ca("Pyralog development CA")?;
    let ip = cfg.listen.ip();
    let host = (!ip.is_unspecified() && !ip.is_loopback()).then(|| ip.to_string());
    let (cert_pem, key_pem) = node_cert(&ca, &ca_key, cfg.node_id, host.as_deref())?;
    write_private(&dir.join("ca-key.pem"), ca_key.serialize_pem())?;
    write_private(&key, &key_pem)?;
    fs::write(&cert, cert_pem)?;
    // The CA file last: its presence marks the set complete.
    fs::write(dir.join("ca.pem"), ca.pem())?;
    tracing::info!(ca = %dir.join("ca.pem").display(), "created a self-signed development CA");
    Ok((cert, key))
}

/// `pyralog-server init-cluster`: a new cluster CA, cluster id and one
/// certificate per voter in `dir`. Refuses a directory that has a CA.
///
/// # Errors
/// An existing CA in `dir`, or a failure writing the files.
pub fn init_cluster(dir: &Path, voters: &BTreeMap<u32, String>) -> anyhow::Result<()> {
    if dir.join("ca.pem").exists() {
        bail!("{} already holds a cluster CA; use another directory for a new cluster", dir.display());
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (ca, ca_key) = new_ca("Pyralog cluster CA")?;
    for (id, addr) in voters {
        let (cert, key) = node_cert(&ca, &ca_key, *id, Some(host_of(addr)))?;
        write_private(&dir.join(format!("node-{id}-key.pem")), &key)?;
        fs::write(dir.join(format!("node-{id}.pem")), cert)?;
    }
    write_private(&dir.join("ca-key.pem"), ca_key.serialize_pem())?;
    crate::storage::write_atomically(&dir.join("cluster-id"), new_cluster_id()?.as_bytes())?;
    fs::write(dir.join("ca.pem"), ca.pem())?;
    Ok(())
}

/// Replaces `path` with `contents`, readable by the owner only: written
/// beside it, synced, renamed over it.
///
/// # Errors
/// I/O.
pub fn write_private_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    // A leftover keeps its old mode through `open`: start from none.
    let _ = fs::remove_file(&tmp);
    write_private(&tmp, contents)?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_ref())?;
    f.sync_all()?;
    Ok(())
}

fn transport(max_streams: u32, receive_window: u32) -> quinn::TransportConfig {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(max_streams.into())
        .max_concurrent_uni_streams(0u32.into())
        .stream_receive_window(limits::STREAM_RECEIVE_WINDOW_BYTES.into())
        .receive_window(receive_window.into())
        .send_window(limits::SEND_WINDOW_BYTES)
        .max_idle_timeout(Some(quinn::IdleTimeout::from(quinn::VarInt::from_u32(limits::IDLE_TIMEOUT_MS))))
        .keep_alive_interval(Some(std::time::Duration::from_millis(limits::KEEP_ALIVE_INTERVAL_MS)))
        .mtu_discovery_config(Some(mtu_discovery()));
    t
}

/// Streams a connection may open before it is admitted (a client with an
/// identity, a verified peer): the service opens up to the in-flight limit then.
pub const MAX_UNADMITTED_STREAMS: u32 = 4;
/// Receive window of a connection before it is admitted: all it can make
/// the server buffer unread. Widened to
/// [`limits::CONNECTION_RECEIVE_WINDOW_BYTES`] on admission.
pub const UNADMITTED_RECEIVE_WINDOW_BYTES: u32 = 64 * 1024;

/// Opens a connection's windows once it is admitted: up to `max_streams`
/// requests at once, each a whole batch.
pub fn admit_connection(conn: &quinn::Connection, max_streams: u32) {
    conn.set_receive_window(limits::CONNECTION_RECEIVE_WINDOW_BYTES.into());
    conn.set_max_concurrent_bi_streams(max_streams.into());
}

/// The QUIC server configuration: TLS 1.3, ALPN `pyralog/1` for clients and
/// `pyralog-peer/1` for nodes, client certificates verified against the CA
/// when one is presented (the service refuses a peer connection without a
/// node certificate as its handshake completes), and narrow windows
/// (`MAX_UNADMITTED_STREAMS`, `UNADMITTED_RECEIVE_WINDOW_BYTES`) until the
/// service admits the connection.
///
/// # Errors
/// Invalid certificate or key.
pub fn quic_server_config(tls: &NodeTls) -> anyhow::Result<quinn::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])?;
    let builder = match &tls.client_roots {
        Some(roots) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(Arc::clone(roots), provider).allow_unauthenticated().build()?,
        ),
        None => builder.with_no_client_auth(),
    };
    let mut server = builder.with_single_cert(tls.certs.clone(), tls.key.clone_key())?;
    server.alpn_protocols = vec![pyralog_protocol::ALPN.to_vec(), PEER_ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(server)?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport(MAX_UNADMITTED_STREAMS, UNADMITTED_RECEIVE_WINDOW_BYTES)));
    Ok(config)
}

/// Peer connections: this node's certificate as client identity, the peer
/// verified as `pyralog-node-<id>` under the cluster CA.
///
/// # Errors
/// No CA configured (a one-node server with `[tls]` files has no peers).
pub fn peer_client_config(tls: &NodeTls) -> anyhow::Result<quinn::ClientConfig> {
    let roots = tls.roots.clone().ok_or_else(|| anyhow!("no cluster CA: peers cannot be verified"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_client_auth_cert(tls.certs.clone(), tls.key.clone_key())?;
    client.alpn_protocols = vec![PEER_ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(client)?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    let mut t = transport(0, limits::CONNECTION_RECEIVE_WINDOW_BYTES);
    // A dead peer is noticed in seconds, not after the client idle timeout.
    t.max_idle_timeout(Some(quinn::IdleTimeout::from(quinn::VarInt::from_u32(PEER_IDLE_TIMEOUT_MS))))
        .keep_alive_interval(Some(std::time::Duration::from_millis(u64::from(PEER_IDLE_TIMEOUT_MS) / 4)));
    config.transport_config(Arc::new(t));
    Ok(config)
}

/// Idle timeout of peer connections.
pub const PEER_IDLE_TIMEOUT_MS: u32 = 3_000;

/// Whether a connection speaks the peer protocol.
pub fn is_peer_connection(conn: &quinn::Connection) -> bool {
    conn.handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|d| d.protocol)
        .is_some_and(|p| p == PEER_ALPN)
}

impl NodeTls {
    /// Verifies peers' certificates against the cluster CA alone (the
    /// handshake also accepts the client CA's).
    ///
    /// # Errors
    /// No CA configured.
    pub fn peer_verifier(&self) -> anyhow::Result<Arc<dyn rustls::server::danger::ClientCertVerifier>> {
        let roots = self.roots.clone().ok_or_else(|| anyhow!("no cluster CA: peers cannot be verified"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(WebPkiClientVerifier::builder_with_provider(roots, provider).build()?)
    }
}

/// The node a peer connection's client certificate names, once the chain
/// is verified against the cluster CA (`verifier`) as a node certificate
/// (`serverAuth`, named `pyralog-node-<id>`).
///
/// # Errors
/// No certificate, one from another CA, or one that is not a node's.
pub fn peer_node_of(
    chain: &[CertificateDer<'_>],
    verifier: &dyn rustls::server::danger::ClientCertVerifier,
) -> Result<u32, String> {
    let leaf = chain.first().ok_or("the connection presented no client certificate")?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).map_err(|e| format!("unreadable certificate: {e}"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|n| n.as_str().ok())
        .ok_or("the certificate names no node")?;
    let id = cn
        .strip_prefix("pyralog-node-")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|id| peer_name(*id) == cn)
        .ok_or_else(|| format!("{cn:?} is not a node's name"))?;
    check_peer_chain(chain, id, verifier)?;
    Ok(id)
}

/// Checks that a certificate chain is issued by the cluster CA
/// (`verifier`) and is node `node_id`'s.
fn check_peer_chain(
    chain: &[CertificateDer<'_>],
    node_id: u32,
    verifier: &dyn rustls::server::danger::ClientCertVerifier,
) -> Result<(), String> {
    let leaf = chain.first().ok_or("empty certificate chain")?;
    verifier
        .verify_client_cert(leaf, &chain[1..], rustls::pki_types::UnixTime::now())
        .map_err(|e| format!("the client certificate is not from the cluster CA: {e}"))?;
    // Node certificates also serve (serverAuth); client certificates the
    // cluster CA issues (`cert issue`) do not, whatever their name.
    let serves = x509_parser::parse_x509_certificate(leaf)
        .ok()
        .and_then(|(_, c)| c.extended_key_usage().ok().flatten().map(|u| u.value.server_auth))
        .unwrap_or(false);
    if !serves {
        return Err(format!("the certificate presented as node {node_id}'s is not a node certificate (no serverAuth)"));
    }
    let cert = webpki::EndEntityCert::try_from(leaf).map_err(|e| format!("unreadable certificate: {e}"))?;
    let name = ServerName::try_from(peer_name(node_id)).map_err(|e| e.to_string())?;
    cert.verify_is_valid_for_subject_name(&name)
        .map_err(|_| format!("the client certificate is not node {node_id}'s ({})", peer_name(node_id)))
}

fn mtu_discovery() -> quinn::MtuDiscoveryConfig {
    let mut m = quinn::MtuDiscoveryConfig::default();
    m.upper_bound(limits::MAX_UDP_PAYLOAD_BYTES);
    m
}

/// Asks for UDP buffers of [`limits::UDP_SOCKET_BUFFER_BYTES`] (peers' and
/// clients' bursts of large datagrams); warns when the kernel grants less.
///
/// # Errors
/// The socket refuses the option.
pub fn size_socket_buffers(socket: &std::net::UdpSocket) -> std::io::Result<()> {
    let s = socket2::SockRef::from(socket);
    let want = limits::UDP_SOCKET_BUFFER_BYTES;
    s.set_recv_buffer_size(want)?;
    s.set_send_buffer_size(want)?;
    let (recv, send) = (s.recv_buffer_size()?, s.send_buffer_size()?);
    if recv < want || send < want {
        tracing::warn!(
            recv,
            send,
            want,
            "the kernel granted smaller UDP buffers than asked: bursts may be dropped and resent; \
             raise net.core.rmem_max and net.core.wmem_max to {}",
            want / 2
        );
    }
    Ok(())
}

/// Bytes of the key that signs this node's stateless resets.
const RESET_KEY_BYTES: usize = 32;
/// Where that key is kept, in the data directory.
const RESET_KEY_FILE: &str = "stateless-reset.key";

/// Endpoint settings: accept datagrams as large as MTU discovery may reach,
/// and sign stateless resets with a key kept in the data directory, so a
/// node restarted after a crash resets the connections of its previous
/// run at once (peers and clients reconnect instead of waiting for the
/// idle timeout).
///
/// # Errors
/// The key file cannot be read or created.
pub fn endpoint_config(data_dir: &Path) -> anyhow::Result<quinn::EndpointConfig> {
    let key = reset_key(data_dir)?;
    let mut e = quinn::EndpointConfig::new(Arc::new(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key)));
    e.max_udp_payload_size(limits::MAX_UDP_PAYLOAD_BYTES).expect("within the QUIC limit");
    Ok(e)
}

fn reset_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(RESET_KEY_FILE);
    match fs::read(&path) {
        Ok(key) if key.len() == RESET_KEY_BYTES => return Ok(key),
        Ok(_) => tracing::warn!(path = %path.display(), "stateless reset key has the wrong length; replacing it"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut key = vec![0u8; RESET_KEY_BYTES];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| anyhow::anyhow!("no system randomness for the stateless reset key"))?;
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    write_private_atomically(&path, &key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(cert: &rcgen::Certificate) -> CertificateDer<'static> {
        cert.der().clone()
    }

    #[test]
    fn only_node_certificates_of_the_cluster_ca_pass_as_peers() {
        let (ca, ca_key) = new_ca("cluster").unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(der(&ca)).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
        let pem_to_der = |pem: &str| rustls_pemfile::certs(&mut pem.as_bytes()).next().unwrap().unwrap();

        let (node2, _) = node_cert(&ca, &ca_key, 2, None).unwrap();
        check_peer_chain(&[pem_to_der(&node2)], 2, verifier.as_ref()).expect("node 2's certificate");
        assert_eq!(peer_node_of(&[pem_to_der(&node2)], verifier.as_ref()), Ok(2));
        assert!(check_peer_chain(&[pem_to_der(&node2)], 1, verifier.as_ref()).is_err(), "not node 1's");

        // A client certificate of the same CA carrying a node's name.
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![peer_name(2)]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let posing = params.signed_by(&key, &ca, &ca_key).unwrap();
        let e = check_peer_chain(&[der(&posing)], 2, verifier.as_ref()).unwrap_err();
        assert!(e.contains("no serverAuth"), "{e}");
        assert!(peer_node_of(&[der(&posing)], verifier.as_ref()).is_err(), "names no node in its CN");
        assert!(peer_node_of(&[], verifier.as_ref()).is_err());

        let (other, other_key) = new_ca("other").unwrap();
        let (foreign, _) = node_cert(&other, &other_key, 2, None).unwrap();
        let e = check_peer_chain(&[pem_to_der(&foreign)], 2, verifier.as_ref()).unwrap_err();
        assert!(e.contains("not from the cluster CA"), "{e}");
        assert!(peer_node_of(&[pem_to_der(&foreign)], verifier.as_ref())
            .unwrap_err()
            .contains("not from the cluster CA"));
    }
}
