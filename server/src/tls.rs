//! TLS material: the configured files, or a self-signed development CA and a
//! server certificate created in `<data_dir>/tls` on first start.

use std::fs;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use pyralog_protocol::limits;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ServerConfig;

/// Where the generated CA certificate is written (clients trust this file).
pub fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("ca.pem")
}

/// Loads the configured certificate, or creates the development CA.
///
/// # Errors
/// Unreadable or invalid PEM files, or a failure writing the generated ones.
pub fn load_or_create(cfg: &ServerConfig) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let (cert_file, key_file) = match &cfg.tls {
        Some(t) => (t.cert_file.clone(), t.key_file.clone()),
        None => ensure_dev_certs(&cfg.data_dir, cfg.listen.ip())?,
    };
    let certs = rustls_pemfile::certs(&mut BufReader::new(
        fs::File::open(&cert_file).with_context(|| format!("opening {}", cert_file.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .with_context(|| format!("parsing {}", cert_file.display()))?;
    if certs.is_empty() {
        return Err(anyhow!("{} holds no certificate", cert_file.display()));
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(
        fs::File::open(&key_file).with_context(|| format!("opening {}", key_file.display()))?,
    ))
    .with_context(|| format!("parsing {}", key_file.display()))?
    .ok_or_else(|| anyhow!("{} holds no private key", key_file.display()))?;
    Ok((certs, key))
}

fn ensure_dev_certs(data_dir: &Path, listen_ip: IpAddr) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls");
    let cert = dir.join("server.pem");
    let key = dir.join("server-key.pem");
    if cert.exists() && key.exists() && ca_path(data_dir).exists() {
        return Ok((cert, key));
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Pyralog development CA");
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !listen_ip.is_unspecified() && !listen_ip.is_loopback() {
        names.push(listen_ip.to_string());
    }
    let server_key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "pyralog-server");
    let server_cert = params.signed_by(&server_key, &ca_cert, &ca_key)?;

    write_private(&dir.join("ca-key.pem"), &ca_key.serialize_pem())?;
    write_private(&key, &server_key.serialize_pem())?;
    fs::write(&cert, server_cert.pem())?;
    // The CA file last: its presence marks the set complete.
    fs::write(ca_path(data_dir), ca_cert.pem())?;
    tracing::info!(ca = %ca_path(data_dir).display(), "created a self-signed development CA");
    Ok((cert, key))
}

fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}

/// The QUIC server configuration: TLS 1.3, ALPN `pyralog/1`, windows sized
/// for whole batches, streams bounded by the in-flight limit.
///
/// # Errors
/// Invalid certificate or key.
pub fn quic_server_config(cfg: &ServerConfig) -> anyhow::Result<quinn::ServerConfig> {
    let (certs, key) = load_or_create(cfg)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    tls.alpn_protocols = vec![pyralog_protocol::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(cfg.max_in_flight_per_connection.into())
        .max_concurrent_uni_streams(0u32.into())
        .stream_receive_window(limits::STREAM_RECEIVE_WINDOW_BYTES.into())
        .receive_window(limits::CONNECTION_RECEIVE_WINDOW_BYTES.into())
        .send_window(limits::SEND_WINDOW_BYTES)
        .max_idle_timeout(Some(quinn::IdleTimeout::from(quinn::VarInt::from_u32(limits::IDLE_TIMEOUT_MS))))
        .keep_alive_interval(Some(std::time::Duration::from_millis(limits::KEEP_ALIVE_INTERVAL_MS)))
        .mtu_discovery_config(Some(mtu_discovery()));
    server.transport_config(Arc::new(t));
    Ok(server)
}

fn mtu_discovery() -> quinn::MtuDiscoveryConfig {
    let mut m = quinn::MtuDiscoveryConfig::default();
    m.upper_bound(limits::MAX_UDP_PAYLOAD_BYTES);
    m
}

/// Endpoint settings: accept datagrams as large as MTU discovery may reach.
pub fn endpoint_config() -> quinn::EndpointConfig {
    let mut e = quinn::EndpointConfig::default();
    e.max_udp_payload_size(limits::MAX_UDP_PAYLOAD_BYTES).expect("within the QUIC limit");
    e
}
