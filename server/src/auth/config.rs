//! `[auth]` and `[quotas]` of `pyralog.toml`.
//!
//! ```toml
//! [auth]
//! enabled = true                 # unset: off on a loopback listen address (the
//!                                # embedded default), else the server refuses to start
//! superusers = ["admin"]         # principals no ACL restricts
//! client_ca_file = "client-ca.pem"   # default: the node's CA (dev or cluster CA)
//! principal_from = "cn"          # cn | san: a client certificate's subject CN or first DNS SAN
//! tokens_file = "tokens.json"    # default: <data_dir>/auth/tokens.json
//! revoked_certs_file = "revoked.json"  # default: <data_dir>/auth/revoked-certs.json
//! authentication_timeout_ms = 10000
//!
//! [quotas]                       # per principal, over all its connections; 0: unlimited
//! connections_per_principal = 64
//! requests_per_second_per_principal = 5000
//! ```

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

/// Default time a connection has to authenticate before it is closed.
pub const DEFAULT_AUTHENTICATION_TIMEOUT_MS: u64 = 10_000;
/// Where tokens are kept by default, under the data directory.
pub const DEFAULT_TOKENS_FILE: &str = "auth/tokens.json";

/// Which part of a client certificate names its principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalFrom {
    /// The subject's common name.
    #[default]
    Cn,
    /// The first DNS name among the subject alternative names.
    San,
}

/// Client authentication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Require an identity (client certificate or token) and enforce ACLs.
    /// Unset means off, which only a loopback listen address accepts.
    pub enabled: Option<bool>,
    /// Principals allowed everything (they create the first ACLs).
    pub superusers: Vec<String>,
    /// CA whose client certificates are accepted; default: the node's CA.
    pub client_ca_file: Option<PathBuf>,
    pub principal_from: PrincipalFrom,
    /// Salted token hashes (`pyralog-server token create`); default
    /// `<data_dir>/auth/tokens.json`.
    pub tokens_file: Option<PathBuf>,
    /// Serials of revoked certificates (`pyralog-server cert revoke`);
    /// default `<data_dir>/auth/revoked-certs.json`.
    pub revoked_certs_file: Option<PathBuf>,
    /// A connection without an accepted identity by then is closed.
    pub authentication_timeout_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: None,
            superusers: Vec::new(),
            client_ca_file: None,
            principal_from: PrincipalFrom::Cn,
            tokens_file: None,
            revoked_certs_file: None,
            authentication_timeout_ms: DEFAULT_AUTHENTICATION_TIMEOUT_MS,
        }
    }
}

impl AuthConfig {
    pub fn is_enabled(&self) -> bool {
        self.enabled == Some(true)
    }

    /// The token file of a server with this data directory.
    pub fn tokens_path(&self, data_dir: &Path) -> PathBuf {
        self.tokens_file.clone().unwrap_or_else(|| data_dir.join(DEFAULT_TOKENS_FILE))
    }

    /// The certificate deny-list of a server with this data directory.
    pub fn revoked_certs_path(&self, data_dir: &Path) -> PathBuf {
        self.revoked_certs_file.clone().unwrap_or_else(|| data_dir.join(super::revoked::DEFAULT_REVOKED_CERTS_FILE))
    }

    /// Checks ranges and names.
    ///
    /// # Errors
    /// A message naming the setting.
    pub fn validate(&self, listen: std::net::SocketAddr) -> anyhow::Result<()> {
        if self.enabled.is_none() && !listen.ip().is_loopback() {
            bail!(
                "listen = {listen} is reachable from the network and [auth] enabled is not set: set \
                 enabled = true (with superusers) to require client identities, or enabled = false to \
                 let anyone who trusts the CA in"
            );
        }
        if self.authentication_timeout_ms == 0 {
            bail!("[auth] authentication_timeout_ms must be > 0");
        }
        for s in &self.superusers {
            pyralog_protocol::acl::validate_principal(s)
                .map_err(|e| anyhow::anyhow!("[auth] superusers: {}", e.message))?;
        }
        Ok(())
    }
}

/// Per-principal limits; 0 means unlimited.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    /// Connections one principal may hold open at once.
    pub connections_per_principal: u32,
    /// Requests per second one principal may send over all its
    /// connections (bursts of up to one second's worth).
    pub requests_per_second_per_principal: u32,
}
