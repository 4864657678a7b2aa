//! Who may connect and what they may do.
//!
//! - Authentication (`[auth] enabled`): a connection is a principal by its
//!   client certificate (verified against the client CA by the handshake;
//!   the principal is its subject CN or first DNS SAN) or by a bearer
//!   token sent in an `authenticate` request (`tokens.rs`). Until then
//!   every request is refused with `AuthenticationFailed`, and a connection
//!   still without an identity after `authentication_timeout_ms` is closed.
//! - Authorization: allow-only ACLs in the cluster metadata (they
//!   replicate with it); superusers bypass them; internal logs may be
//!   described by every principal (clients look up the groups'
//!   coordinator through them). Off with authentication.
//! - Quotas (`[quotas]`, `quotas.rs`): connections and requests per second
//!   per principal (all anonymous connections share one when
//!   authentication is off).

pub mod certs;
pub mod config;
pub mod quotas;
pub mod revoked;
mod session;
pub mod tokens;
pub mod waiting;
mod watched;

pub use session::Session;

use std::sync::Arc;
use std::time::Duration;

use pyralog_protocol::acl::{Acl, Operation, Resource};
use pyralog_protocol::{ErrorCode, ProtocolError};
use rustls::pki_types::CertificateDer;

use crate::cluster::state::State;
use crate::config::ServerConfig;
use config::AuthConfig;
use quotas::Quotas;
use revoked::RevokedCerts;
use tokens::TokenStore;

/// The name connections act under while authentication is off.
pub const ANONYMOUS: &str = "anonymous";
/// Failed `authenticate` requests a connection may make; later ones are
/// refused without looking at the token (the deadline then closes it).
pub const MAX_AUTHENTICATION_FAILURES: u32 = 3;
pub use waiting::{MAX_UNAUTHENTICATED_CONNECTIONS, MAX_UNAUTHENTICATED_PER_ADDRESS};
/// How often the token file and the certificate deny-list are checked for
/// changes; a revocation reaches open connections within this (plus a check).
pub const IDENTITY_REFRESH_MS: u64 = 250;

/// Who a connection acts as.
#[derive(Debug, Clone)]
pub enum Principal {
    /// Authentication is off: anything is allowed.
    Anonymous,
    User {
        name: Arc<str>,
        superuser: bool,
    },
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::Anonymous => ANONYMOUS,
            Principal::User { name, .. } => name,
        }
    }

    fn quota_key(&self) -> Arc<str> {
        match self {
            Principal::Anonymous => Arc::from(ANONYMOUS),
            Principal::User { name, .. } => Arc::clone(name),
        }
    }
}

/// The server's authentication settings, token file, certificate
/// deny-list and quotas.
pub struct Auth {
    cfg: AuthConfig,
    tokens: TokenStore,
    revoked: RevokedCerts,
    quotas: Arc<Quotas>,
    /// Places of connections still without an identity.
    pub waiting: Arc<waiting::WaitingRoom>,
    /// Bumped when the token file or the deny-list changed: open
    /// connections check their identity again.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Auth {
    pub fn new(cfg: &ServerConfig) -> Arc<Auth> {
        if !cfg.auth.is_enabled() {
            tracing::warn!(
                "AUTHENTICATION IS OFF: anyone who can reach {} and trusts its CA may create, read, write and \
                 delete every log; set [auth] enabled = true outside development",
                cfg.listen
            );
        }
        let revoked = RevokedCerts::new(cfg.auth.revoked_certs_path(&cfg.data_dir));
        if let Err(e) = revoked.refresh() {
            tracing::error!(error = %e, "the certificate deny-list cannot be read");
        }
        Arc::new(Auth {
            tokens: TokenStore::new(cfg.auth.tokens_path(&cfg.data_dir)),
            revoked,
            cfg: cfg.auth.clone(),
            quotas: Quotas::new(cfg.quotas, cfg.max_connections),
            waiting: Arc::new(waiting::WaitingRoom::default()),
            changes: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Re-reads the token file and the certificate deny-list every
    /// `IDENTITY_REFRESH_MS` when they changed, and tells open connections
    /// to check their identity again; stops with `shutdown`.
    pub fn refresh_identities(self: &Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let auth = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(IDENTITY_REFRESH_MS));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => return,
                }
                let before = (auth.tokens.generation(), auth.revoked.generation());
                let (tokens, revoked) = (auth.tokens.clone(), auth.revoked.clone());
                let read = tokio::task::spawn_blocking(move || (tokens.refresh(), revoked.refresh())).await;
                let Ok((tokens, revoked)) = read else { continue };
                match tokens {
                    Err(e) if auth.enabled() => tracing::error!(error = %e, "the token file cannot be read"),
                    _ => {}
                }
                if let Err(e) = revoked {
                    tracing::error!(error = %e, "the certificate deny-list cannot be read");
                }
                if (auth.tokens.generation(), auth.revoked.generation()) != before {
                    auth.changes.send_modify(|n| *n += 1);
                }
            }
        });
    }

    /// Changes when a token or certificate may have been revoked.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether a certificate chain's leaf is on the deny-list.
    pub fn is_revoked(&self, chain: &[CertificateDer<'_>]) -> bool {
        chain.first().and_then(|leaf| revoked::serial_of(leaf).ok()).is_some_and(|s| self.revoked.is_revoked(&s))
    }

    pub fn enabled(&self) -> bool {
        self.cfg.is_enabled()
    }

    /// How long a connection has to present an identity.
    pub fn authentication_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.authentication_timeout_ms)
    }

    fn user(&self, name: String) -> Principal {
        let superuser = self.cfg.superusers.contains(&name);
        Principal::User { name: Arc::from(name), superuser }
    }

    /// A new client connection's session: a principal already if it
    /// presented a certificate (counted against its connection quota at once).
    pub fn open(self: &Arc<Self>, conn: &quinn::Connection) -> Session {
        if !self.cfg.is_enabled() {
            return Session::new(self, Some(Principal::Anonymous), None);
        }
        let Some(chain) = conn.peer_identity().and_then(|i| i.downcast::<Vec<CertificateDer<'static>>>().ok()) else {
            return Session::new(self, None, None);
        };
        let serial =
            match chain.first().ok_or_else(|| "empty certificate chain".to_owned()).and_then(revoked::serial_of) {
                Ok(s) if self.revoked.is_revoked(&s) => {
                    return Session::new(self, None, Some("its client certificate was revoked".into()))
                }
                Ok(s) => s,
                Err(why) => return Session::new(self, None, Some(why)),
            };
        match certs::principal_of(&chain, self.cfg.principal_from) {
            Ok(name) => Session::with_certificate(self, self.user(name), serial),
            Err(why) => Session::new(self, None, Some(why)),
        }
    }
}

/// The ACLs naming `principal`: the set is ordered by principal first, so
/// they are one range of it.
fn rules_of(state: &State, principal: &str) -> Vec<Acl> {
    state.acls.range(Acl::least_of(principal)..).take_while(|a| a.principal == principal).cloned().collect()
}

/// What one request's principal may do, against the metadata as it was
/// when the request arrived.
pub struct Access {
    principal: Principal,
    /// The rules naming this principal or `*` (none for superusers and
    /// while authentication is off: they may do anything).
    rules: Vec<Acl>,
}

impl Access {
    pub fn new(principal: Principal, state: &State) -> Access {
        let rules = match &principal {
            Principal::User { name, superuser: false } => {
                let mut rules = rules_of(state, name);
                rules.extend(rules_of(state, pyralog_protocol::acl::ANY_PRINCIPAL));
                rules
            }
            _ => Vec::new(),
        };
        Access { principal, rules }
    }

    /// Who the request acts as.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Whether the principal may do `operation` to `resource`. Internal
    /// logs may be described by all (clients find the groups' coordinator
    /// through them) and touched otherwise by superusers only, whatever
    /// the ACLs say (`log:*` does not reach them).
    pub fn allows(&self, operation: Operation, resource: Resource<'_>) -> bool {
        match &self.principal {
            Principal::Anonymous | Principal::User { superuser: true, .. } => true,
            Principal::User { name, .. } => match resource {
                Resource::Log(n) if pyralog_protocol::log_id::is_internal(n) => operation == Operation::Describe,
                _ => self.rules.iter().any(|a| a.allows(name, operation, resource)),
            },
        }
    }

    /// # Errors
    /// `NotAuthorized` naming the principal, operation and resource.
    pub fn check(&self, operation: Operation, resource: Resource<'_>) -> Result<(), ProtocolError> {
        if self.allows(operation, resource) {
            return Ok(());
        }
        Err(ProtocolError::new(
            ErrorCode::NotAuthorized,
            format!(
                "principal {} may not {operation} {resource}: no ACL allows it (pyralog acl add)",
                self.principal.name()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principals_rules_are_its_range_of_the_set_plus_the_wildcards() {
        let mut state = State::new();
        for (p, o, r) in [
            ("alice", "write", "log:a"),
            ("alice", "describe", "cluster"),
            ("alicia", "read", "log:*"),
            ("alic", "read", "log:*"),
            ("*", "read", "group:g"),
            ("bob", "read", "log:*"),
        ] {
            state.acls.insert(Acl::parse(p, o, r).unwrap());
        }
        let alice = Access::new(Principal::User { name: Arc::from("alice"), superuser: false }, &state);
        let mut got: Vec<String> = alice.rules.iter().map(ToString::to_string).collect();
        got.sort();
        assert_eq!(got, ["* read group:g", "alice describe cluster", "alice write log:a"]);
        assert!(alice.allows(Operation::Write, Resource::Log("a")));
        assert!(!alice.allows(Operation::Read, Resource::Log("b")), "alicia's and alic's rules are not hers");
        assert!(alice.allows(Operation::Read, Resource::Group("g")));
        assert!(alice.allows(Operation::Describe, Resource::Log("__consumer_offsets")));
        assert!(!alice.allows(Operation::Write, Resource::Log("__consumer_offsets")));
    }
}
