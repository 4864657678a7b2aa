//! One client connection's identity and quota standing.

use std::sync::Arc;

use parking_lot::Mutex;
use pyralog_protocol::{ErrorCode, ProtocolError};

use super::quotas::ConnectionPermit;
use super::waiting::WaitingSlot;
use super::{Auth, Principal, ANONYMOUS, MAX_AUTHENTICATION_FAILURES};

/// A token the connection authenticated with: revoking (or replacing) it
/// ends the connection's identity.
struct TokenGrant {
    /// The stored hash it matched.
    hash: String,
    /// The token file's generation when it was last found valid.
    checked: u64,
}

#[derive(Default)]
struct SessionState {
    principal: Option<Principal>,
    permit: Option<ConnectionPermit>,
    /// Why the connection has no identity (a certificate naming none, a
    /// revoked token).
    refusal: Option<String>,
    failures: u32,
    token: Option<TokenGrant>,
    /// The serial of the client certificate that names the principal.
    certificate: Option<String>,
    /// Its token or certificate was revoked: the connection is to be closed.
    revoked: bool,
    /// Held until the connection has an identity within its quota.
    waiting: Option<WaitingSlot>,
    /// Runs once, when the connection is first admitted (the service opens
    /// its flow-control windows then).
    on_admitted: Option<Box<dyn FnOnce() + Send>>,
}

impl SessionState {
    fn is_admitted(&self) -> bool {
        self.principal.is_some() && self.permit.is_some()
    }

    /// Gives the waiting place back once the connection is admitted, and
    /// runs the admission hook.
    fn settle(&mut self) {
        if self.is_admitted() {
            self.waiting = None;
            if let Some(hook) = self.on_admitted.take() {
                hook();
            }
        }
    }

    /// Ends the identity of a connection whose certificate was revoked.
    fn check_certificate(&mut self, auth: &Auth) -> Result<(), ProtocolError> {
        match &self.certificate {
            Some(serial) if auth.revoked.is_revoked(serial) => {
                self.revoke("its client certificate was revoked");
                Err(unauthenticated("the connection's client certificate was revoked"))
            }
            _ => Ok(()),
        }
    }

    /// Forgets the identity (keeping the failure count); the connection is
    /// to be closed.
    fn revoke(&mut self, why: &str) {
        let failures = self.failures;
        *self = SessionState { refusal: Some(why.into()), failures, revoked: true, ..SessionState::default() };
    }

    /// Ends a token identity whose token is gone from the file (revoked or
    /// replaced), keeping the failure count.
    fn check_token(&mut self, auth: &Auth) -> Result<(), ProtocolError> {
        let generation = auth.tokens.generation();
        let (Some(grant), Some(p)) = (self.token.as_mut(), self.principal.as_ref()) else { return Ok(()) };
        if grant.checked == generation {
            return Ok(());
        }
        if auth.tokens.holds(p.name(), &grant.hash) {
            grant.checked = generation;
            return Ok(());
        }
        self.revoke("its token was revoked");
        Err(unauthenticated("the connection's token was revoked"))
    }
}

/// One client connection's identity and quota standing.
pub struct Session {
    auth: Arc<Auth>,
    state: Mutex<SessionState>,
    /// One `authenticate` at a time per connection (failures counted exactly).
    authenticating: tokio::sync::Mutex<()>,
}

fn unauthenticated(why: &str) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::AuthenticationFailed,
        format!(
            "this server requires authentication ({why}): connect with a client certificate (cert_file/key_file) \
             or a token"
        ),
    )
}

impl Session {
    /// A session of `principal` (if known), counted against its
    /// connection quota at once when it fits.
    pub(super) fn new(auth: &Arc<Auth>, principal: Option<Principal>, refusal: Option<String>) -> Session {
        let permit = principal.as_ref().and_then(|p| auth.quotas.connect(&p.quota_key()).ok());
        let state = SessionState { principal, permit, refusal, ..SessionState::default() };
        Session { auth: Arc::clone(auth), state: Mutex::new(state), authenticating: tokio::sync::Mutex::new(()) }
    }

    /// A session of the principal a client certificate (serial `serial`) names.
    pub(super) fn with_certificate(auth: &Arc<Auth>, principal: Principal, serial: String) -> Session {
        let session = Session::new(auth, Some(principal), None);
        session.state.lock().certificate = Some(serial);
        session
    }

    /// Runs `hook` once the connection is admitted (at once if it is).
    pub fn when_admitted(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut s = self.state.lock();
        s.on_admitted = Some(hook);
        s.settle();
    }

    /// Whether the connection has an identity within its connection quota
    /// (requests of one that has not are refused unread past
    /// `MAX_UNAUTHENTICATED_REQUEST_BYTES`).
    pub fn is_admitted(&self) -> bool {
        self.state.lock().is_admitted()
    }

    /// The principal a request acts as: the connection must have an
    /// identity (its token still valid) and fit its principal's quotas.
    ///
    /// # Errors
    /// `AuthenticationFailed` without an identity, `Throttled` over a quota.
    pub fn admit(&self) -> Result<Principal, ProtocolError> {
        let mut s = self.state.lock();
        let Some(principal) = s.principal.clone() else {
            return Err(unauthenticated(s.refusal.as_deref().unwrap_or("no client certificate and no token")));
        };
        s.check_token(&self.auth)?;
        s.check_certificate(&self.auth)?;
        if s.permit.is_none() {
            s.permit = Some(self.auth.quotas.connect(&principal.quota_key())?);
            s.settle();
        }
        drop(s);
        self.auth.quotas.admit_request(principal.name())?;
        Ok(principal)
    }

    /// Keeps `slot` until the connection is admitted.
    pub fn hold_waiting(&self, slot: WaitingSlot) {
        let mut s = self.state.lock();
        s.waiting = Some(slot);
        s.settle();
    }

    /// Checks, when the token file or the deny-list changed, that the
    /// connection's identity still holds.
    ///
    /// # Errors
    /// `AuthenticationFailed` once its token or certificate was revoked:
    /// close the connection.
    pub fn revalidate(&self) -> Result<(), ProtocolError> {
        let mut s = self.state.lock();
        s.check_token(&self.auth)?;
        s.check_certificate(&self.auth)?;
        match s.revoked {
            // A request noticed the revocation first.
            true => Err(unauthenticated("the connection's identity was revoked")),
            false => Ok(()),
        }
    }

    /// Why the connection would be closed at the authentication deadline:
    /// `None` once it has an identity within its connection quota.
    pub fn deadline_refusal(&self) -> Option<ProtocolError> {
        let s = self.state.lock();
        match (&s.principal, &s.permit) {
            (Some(_), Some(_)) => None,
            (Some(p), None) => Some(ProtocolError::throttled(
                format!("{} stayed over connections_per_principal until authentication_timeout_ms", p.name()),
                super::quotas::CONNECTION_RETRY_AFTER_MS,
            )),
            (None, _) => Some(ProtocolError::new(
                ErrorCode::AuthenticationFailed,
                "not authenticated within authentication_timeout_ms",
            )),
        }
    }

    /// Authenticates the connection with a bearer token; returns the principal's name.
    ///
    /// # Errors
    /// `AuthenticationFailed` for a token that is not valid, names another
    /// principal than the connection's, or comes after
    /// `MAX_AUTHENTICATION_FAILURES`; `Throttled` over a quota (an
    /// authenticated connection's authenticate counts as a request).
    pub async fn authenticate(&self, token: String) -> Result<String, ProtocolError> {
        if !self.auth.enabled() {
            return Ok(ANONYMOUS.to_owned());
        }
        let _one_at_a_time = self.authenticating.lock().await;
        let known = {
            let s = self.state.lock();
            if let Some(slot) = &s.waiting {
                slot.authenticating();
            }
            if s.failures >= MAX_AUTHENTICATION_FAILURES {
                return Err(ProtocolError::new(
                    ErrorCode::AuthenticationFailed,
                    format!("MAX_AUTHENTICATION_FAILURES ({MAX_AUTHENTICATION_FAILURES}) on this connection; open a new one"),
                ));
            }
            s.principal.clone()
        };
        if let Some(p) = &known {
            self.auth.quotas.admit_request(p.name())?;
        }
        // The file's version before the check: a revocation read meanwhile
        // makes the next request check again.
        let generation = self.auth.tokens.generation();
        let store = self.auth.tokens.clone();
        let verified = tokio::task::spawn_blocking(move || store.verify(&token))
            .await
            .map_err(|e| ProtocolError::new(ErrorCode::Unknown, format!("verifying the token failed: {e}")))?;
        let mut s = self.state.lock();
        let (name, hash) = verified.inspect_err(|_| s.failures += 1)?;
        match &s.principal {
            Some(p) if p.name() != name => {
                return Err(ProtocolError::new(
                    ErrorCode::AuthenticationFailed,
                    format!("the connection is {}; the token is {name}'s", p.name()),
                ));
            }
            // Its certificate names it: the certificate stays its identity.
            Some(_) if s.token.is_none() => {}
            // A token identity takes the newest token of its principal.
            Some(_) => s.token = Some(TokenGrant { hash, checked: generation }),
            None => {
                s.principal = Some(self.auth.user(name.clone()));
                s.token = Some(TokenGrant { hash, checked: generation });
            }
        }
        if s.permit.is_none() {
            let key = s.principal.as_ref().expect("set above").quota_key();
            s.permit = Some(self.auth.quotas.connect(&key)?);
        }
        s.settle();
        Ok(name)
    }
}
