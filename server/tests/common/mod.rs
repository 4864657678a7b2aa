//! The test kit bound to this package's server binary.

#![allow(dead_code)]

pub mod auth;
pub mod cluster;
pub mod ledger;
pub mod raw;
pub mod target;

#[allow(unused_imports)]
pub use pyralog_testkit::{segments, unique, TestServer};

/// A server on embedded defaults plus `config` (TOML lines).
pub fn start_with(config: &str) -> TestServer {
    TestServer::start_with(env!("CARGO_BIN_EXE_pyralog-server"), config)
}

/// A server on embedded defaults.
pub fn start() -> TestServer {
    start_with("")
}

/// The samples of a metrics text (Prometheus/OpenMetrics): `name{labels}` -> value.
pub fn metric_samples(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, v)| (series.to_owned(), v.parse().unwrap()))
        .collect()
}

/// A client endpoint trusting the server's CA (ALPN set), for raw
/// connections; presenting `identity` (certificate and key files) if given.
pub fn raw_endpoint_as(
    server: &TestServer,
    identity: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> quinn::Endpoint {
    let pem = std::fs::read(server.ca_file()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let mut tls = match identity {
        Some((cert, key)) => {
            let certs =
                rustls_pemfile::certs(&mut std::fs::read(cert).unwrap().as_slice()).map(Result::unwrap).collect();
            let key = rustls_pemfile::private_key(&mut std::fs::read(key).unwrap().as_slice()).unwrap().unwrap();
            tls.with_client_auth_cert(certs, key).unwrap()
        }
        None => tls.with_no_client_auth(),
    };
    tls.alpn_protocols = vec![pyralog_protocol::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(std::sync::Arc::new(crypto)));
    endpoint
}

/// A client endpoint trusting the server's CA (ALPN set), for raw connections.
pub fn raw_endpoint(server: &TestServer) -> quinn::Endpoint {
    raw_endpoint_as(server, None)
}

/// A bare client connection (nothing sent).
pub async fn raw_connect(server: &TestServer) -> quinn::Connection {
    let endpoint = raw_endpoint(server);
    endpoint.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap()
}
