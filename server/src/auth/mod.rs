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
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyralog_protocol::acl::{Operation, Resource};
use pyralog_protocol::{ErrorCode, ProtocolError};
use rustls::pki_types::CertificateDer;

use crate::cluster::state::State;
use crate::config::ServerConfig;
use config::AuthConfig;
use quotas::{ConnectionPermit, Quotas};
use tokens::TokenStore;

/// The name connections act under while authentication is off.
pub const ANONYMOUS: &str = "anonymous";
/// Failed `authenticate` requests a connection may make; later ones are
/// refused without looking at the token (the deadline then closes it).
pub const MAX_AUTHENTICATION_FAILURES: u32 = 3;

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

/// The server's authentication settings, token file and quotas.
pub struct Auth {
    cfg: AuthConfig,
    tokens: TokenStore,
    quotas: Arc<Quotas>,
}

impl Auth {
    pub fn new(cfg: &ServerConfig) -> Arc<Auth> {
        if !cfg.auth.enabled {
            tracing::warn!(
                "AUTHENTICATION IS OFF: anyone who can reach {} and trusts its CA may create, read, write and \
                 delete every log; set [auth] enabled = true outside development",
                cfg.listen
            );
        }
        Arc::new(Auth {
            tokens: TokenStore::new(cfg.auth.tokens_path(&cfg.data_dir)),
            cfg: cfg.auth.clone(),
            quotas: Quotas::new(cfg.quotas),
        })
    }

    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// How long a connection has to present an identity.
    pub fn authentication_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.authentication_timeout_ms)
    }

    fn user(&self, name: String) -> Principal {
        let superuser = self.cfg.superusers.contains(&name);
        Principal::User { name: Arc::from(name), superuser }
    }

    /// A new client connection's session, a principal already if it
    /// presented a certificate.
    pub fn open(self: &Arc<Self>, conn: &quinn::Connection) -> Session {
        let mut state = SessionState::default();
        if !self.cfg.enabled {
            state.principal = Some(Principal::Anonymous);
        } else if let Some(chain) = conn.peer_identity().and_then(|i| i.downcast::<Vec<CertificateDer<'static>>>().ok())
        {
            match certs::principal_of(&chain, self.cfg.principal_from) {
                Ok(name) => state.principal = Some(self.user(name)),
                Err(why) => state.refusal = Some(why),
            }
        }
        Session { auth: Arc::clone(self), state: Mutex::new(state) }
    }
}

#[derive(Default)]
struct SessionState {
    principal: Option<Principal>,
    permit: Option<ConnectionPermit>,
    /// Why a presented certificate named no principal.
    refusal: Option<String>,
    failures: u32,
}

/// One client connection's identity and quota standing.
pub struct Session {
    auth: Arc<Auth>,
    state: Mutex<SessionState>,
}

impl Session {
    /// The principal a request acts as: the connection must have an
    /// identity and fit its principal's quotas.
    ///
    /// # Errors
    /// `AuthenticationFailed` without an identity, `Throttled` over a quota.
    pub fn admit(&self) -> Result<Principal, ProtocolError> {
        let mut s = self.state.lock();
        let Some(principal) = s.principal.clone() else {
            let why = s.refusal.as_deref().unwrap_or("no client certificate and no token");
            return Err(ProtocolError::new(
                ErrorCode::AuthenticationFailed,
                format!(
                    "this server requires authentication ({why}): connect with a client certificate \
                     (cert_file/key_file) or a token"
                ),
            ));
        };
        if s.permit.is_none() {
            s.permit = Some(self.auth.quotas.connect(&principal.quota_key())?);
        }
        drop(s);
        self.auth.quotas.admit_request(principal.name())?;
        Ok(principal)
    }

    /// Whether the connection has an identity within its connection quota.
    pub fn admitted(&self) -> bool {
        let s = self.state.lock();
        s.principal.is_some() && s.permit.is_some()
    }

    /// Authenticates the connection with a bearer token; returns the principal's name.
    ///
    /// # Errors
    /// `AuthenticationFailed` for a token that is not valid or names another
    /// principal than the connection's certificate; `Throttled` over the
    /// connection quota.
    pub async fn authenticate(&self, token: String) -> Result<String, ProtocolError> {
        if !self.auth.enabled() {
            return Ok(ANONYMOUS.to_owned());
        }
        if self.state.lock().failures >= MAX_AUTHENTICATION_FAILURES {
            return Err(ProtocolError::new(
                ErrorCode::AuthenticationFailed,
                format!(
                    "MAX_AUTHENTICATION_FAILURES ({MAX_AUTHENTICATION_FAILURES}) on this connection; open a new one"
                ),
            ));
        }
        let store = self.auth.tokens.clone();
        let verified = tokio::task::spawn_blocking(move || store.verify(&token))
            .await
            .map_err(|e| ProtocolError::new(ErrorCode::Unknown, format!("verifying the token failed: {e}")))?;
        let name = verified.inspect_err(|_| self.state.lock().failures += 1)?;
        let principal = {
            let mut s = self.state.lock();
            match &s.principal {
                Some(p) if p.name() != name => {
                    return Err(ProtocolError::new(
                        ErrorCode::AuthenticationFailed,
                        format!("the connection is {} (its certificate); the token is {name}'s", p.name()),
                    ))
                }
                Some(p) => p.clone(),
                None => {
                    let p = self.auth.user(name.clone());
                    s.principal = Some(p.clone());
                    p
                }
            }
        };
        let mut s = self.state.lock();
        if s.permit.is_none() {
            s.permit = Some(self.auth.quotas.connect(&principal.quota_key())?);
        }
        Ok(name)
    }
}

/// What one request's principal may do, against the metadata as it was
/// when the request arrived.
pub struct Access {
    principal: Principal,
    state: Arc<State>,
}

impl Access {
    pub fn new(principal: Principal, state: Arc<State>) -> Access {
        Access { principal, state }
    }

    /// Everything allowed (server-internal callers).
    pub fn allows(&self, operation: Operation, resource: Resource<'_>) -> bool {
        match &self.principal {
            Principal::Anonymous | Principal::User { superuser: true, .. } => true,
            Principal::User { name, .. } => {
                let internal = matches!(resource, Resource::Log(n) if pyralog_protocol::log_id::is_internal(n));
                (operation == Operation::Describe && internal)
                    || self.state.acls.iter().any(|a| a.allows(name, operation, resource))
            }
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
