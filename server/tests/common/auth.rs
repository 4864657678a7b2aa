//! Helpers of the authentication tests: a server with `[auth]` on, its
//! tokens and client certificates, clients holding them.

use std::path::PathBuf;

use pyralog::{Client, ClientConfig, ErrorCode};
use pyralog_testkit::TestServer;

/// Authentication on, `admin` a superuser, plus `extra` TOML.
pub fn auth_server(extra: &str) -> TestServer {
    super::start_with(&format!(
        "[auth]\nenabled = true\nsuperusers = [\"admin\"]\nauthentication_timeout_ms = 1500\n{extra}"
    ))
}

pub fn admin_cli(server: &TestServer, args: &[&str]) -> String {
    server.admin(args)
}

/// `pyralog-server token create NAME` against the server's data directory.
pub fn token(server: &TestServer, name: &str) -> String {
    server.token(name)
}

/// `pyralog-server cert issue --name NAME` under the server's CA.
pub fn cert(server: &TestServer, name: &str) -> (PathBuf, PathBuf) {
    server.identity(name)
}

pub fn with_token(server: &TestServer, token: &str) -> ClientConfig {
    ClientConfig { token: Some(token.to_owned()), ..ClientConfig::with_ca_file(server.ca_file()) }
}

pub fn with_cert(server: &TestServer, (cert, key): &(PathBuf, PathBuf)) -> ClientConfig {
    ClientConfig {
        cert_file: Some(cert.clone()),
        key_file: Some(key.clone()),
        ..ClientConfig::with_ca_file(server.ca_file())
    }
}

pub async fn connect(server: &TestServer, config: ClientConfig) -> pyralog::Result<Client> {
    let client = Client::connect(&server.addr, config).await?;
    // The handshake alone proves nothing: a refused certificate shows on the first request.
    client.list_logs().await.map(|_| client)
}

pub fn code<T: std::fmt::Debug>(r: pyralog::Result<T>) -> ErrorCode {
    r.expect_err("refused").code()
}

pub async fn records_in(client: &Client, log: &str) -> u64 {
    client.get_log_stats(log).await.unwrap().record_count
}
