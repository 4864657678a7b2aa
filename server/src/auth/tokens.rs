//! Bearer tokens: `pyt_<name>_<64 hex digits>`, 256 random bits each.
//!
//! The server keeps only a salted hash per token — HMAC-SHA-256 keyed by a
//! random 32-byte salt of its own (`ring`) — in a JSON file, written
//! atomically under a lock by `pyralog-server token create|revoke` and read
//! by the server when it changed since the last authentication (so both
//! take effect at once, without a restart, and a flood of attempts does
//! not re-parse it). A token carries 256 bits of randomness, so a fast
//! salted hash is enough; a deliberately slow one (argon2) would protect
//! nothing more and make authentication a CPU lever for whoever sends
//! tokens.

use std::path::PathBuf;

use anyhow::bail;
use pyralog_protocol::limits::MAX_TOKEN_BYTES;
use pyralog_protocol::{ErrorCode, ProtocolError};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::watched::{FileContents, WatchedFile};

/// Prefix of every token (so a leaked one is recognisable in a scan).
pub const TOKEN_PREFIX: &str = "pyt_";
/// Random bytes in a token's secret and in a salt.
const SECRET_BYTES: usize = 32;
/// Most tokens a file holds.
pub const MAX_TOKENS: usize = 10_000;
/// Largest token file read.
pub const MAX_TOKENS_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// One token as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredToken {
    pub name: String,
    /// Hex of the salt and of HMAC-SHA-256(salt, secret).
    salt: String,
    hash: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<StoredToken>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn random() -> anyhow::Result<[u8; SECRET_BYTES]> {
    let mut b = [0u8; SECRET_BYTES];
    SystemRandom::new().fill(&mut b).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(b)
}

fn refused(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::AuthenticationFailed, msg)
}

/// Splits `pyt_<name>_<hex>` into name and secret.
fn parse(token: &str) -> Option<(&str, Vec<u8>)> {
    let (name, secret) = token.strip_prefix(TOKEN_PREFIX)?.rsplit_once('_')?;
    let secret = unhex(secret).filter(|s| s.len() == SECRET_BYTES)?;
    (!name.is_empty()).then_some((name, secret))
}

/// The token file of one server.
#[derive(Debug, Clone)]
pub struct TokenStore {
    file: WatchedFile<TokenFile>,
}

impl FileContents for TokenFile {
    const MAX_BYTES: u64 = MAX_TOKENS_FILE_BYTES;

    fn check(&self) -> anyhow::Result<()> {
        if self.tokens.len() > MAX_TOKENS {
            bail!("more than MAX_TOKENS ({MAX_TOKENS}) tokens");
        }
        Ok(())
    }
}

impl TokenStore {
    pub fn new(path: PathBuf) -> TokenStore {
        TokenStore { file: WatchedFile::new(path) }
    }

    /// Changes with every new version of the file read.
    pub fn generation(&self) -> u64 {
        self.file.generation()
    }

    /// Reads the file if it changed.
    ///
    /// # Errors
    /// An unreadable or malformed file (the last good version stays).
    pub fn refresh(&self) -> anyhow::Result<()> {
        self.file.current().map(drop)
    }

    /// Whether `name`'s token is still the one with `hash`, in the file as
    /// last read (no I/O).
    pub fn holds(&self, name: &str, hash: &str) -> bool {
        self.file.cached().tokens.iter().any(|t| t.name == name && t.hash == hash)
    }

    /// The principal a token names and the stored hash it matched, if it is
    /// one of the stored tokens.
    ///
    /// # Errors
    /// `AuthenticationFailed` for a malformed, unknown or revoked token (one
    /// message for all: nothing tells a guesser which names exist).
    pub fn verify(&self, token: &str) -> Result<(String, String), ProtocolError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refused(format!("the token exceeds MAX_TOKEN_BYTES ({MAX_TOKEN_BYTES})")));
        }
        let invalid = || refused("the token is not valid (unknown, revoked or mistyped)");
        let (name, secret) = parse(token).ok_or_else(invalid)?;
        let file = self.file.current().map_err(|e| {
            tracing::error!(error = %e, "the token file cannot be read; refusing every token");
            refused("the server cannot read its token file")
        })?;
        // An unknown name costs the same HMAC as a known one (no timing
        // tells which names hold tokens).
        let stored = file.tokens.iter().find(|t| t.name == name);
        let (salt, hash) = match stored.map(|t| (unhex(&t.salt), unhex(&t.hash))) {
            Some((Some(salt), Some(hash))) => (salt, hash),
            _ => (vec![0u8; SECRET_BYTES], vec![0u8; SECRET_BYTES]),
        };
        let matched = hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &salt), &secret, &hash).is_ok();
        match stored {
            Some(t) if matched => Ok((name.to_owned(), t.hash.clone())),
            _ => Err(invalid()),
        }
    }

    /// Every stored token (names and creation times; no secrets).
    ///
    /// # Errors
    /// An unreadable or malformed file.
    pub fn list(&self) -> anyhow::Result<Vec<StoredToken>> {
        Ok(self.file.read()?.tokens)
    }

    /// Creates a token for `name` and returns it (shown once, never stored).
    ///
    /// # Errors
    /// A name already holding a token, a bad name, a full file, or I/O.
    pub fn create(&self, name: &str, now_ms: i64) -> anyhow::Result<String> {
        pyralog_protocol::acl::validate_principal(name).map_err(|e| anyhow::anyhow!(e.message))?;
        if super::certs::is_reserved(name) || name.contains(char::is_whitespace) {
            bail!("{name:?}: a token's name may not be a node's (pyralog-node-*), `*`, or hold whitespace");
        }
        let (secret, salt) = (random()?, random()?);
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &salt), &secret);
        self.file.edit(|file| {
            if file.tokens.iter().any(|t| t.name == name) {
                bail!("{name} already has a token; revoke it first");
            }
            if file.tokens.len() >= MAX_TOKENS {
                bail!("the token file holds MAX_TOKENS ({MAX_TOKENS}) tokens");
            }
            file.tokens.push(StoredToken {
                name: name.to_owned(),
                salt: hex(&salt),
                hash: hex(tag.as_ref()),
                created_at_ms: now_ms,
            });
            Ok(())
        })?;
        Ok(format!("{TOKEN_PREFIX}{name}_{}", hex(&secret)))
    }

    /// Removes `name`'s token; `false` if it had none.
    ///
    /// # Errors
    /// I/O.
    pub fn revoke(&self, name: &str) -> anyhow::Result<bool> {
        let mut found = false;
        self.file.edit(|file| {
            let before = file.tokens.len();
            file.tokens.retain(|t| t.name != name);
            found = file.tokens.len() != before;
            Ok(())
        })?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn created_tokens_verify_until_revoked_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("auth/tokens.json"));
        let alice = store.create("alice", 1).unwrap();
        let bob = store.create("b_o_b", 2).unwrap();
        assert!(store.create("alice", 3).is_err(), "one token per name");
        assert!(store.create("Pyralog-Node-1", 3).is_err() && store.create("*", 3).is_err());
        assert_eq!(store.verify(&alice).unwrap().0, "alice");
        assert_eq!(store.verify(&bob).unwrap().0, "b_o_b");
        let (_, alice_hash) = store.verify(&alice).unwrap();
        assert!(store.holds("alice", &alice_hash));
        let text = fs::read_to_string(dir.path().join("auth/tokens.json")).unwrap();
        assert!(!text.contains(alice.rsplit_once('_').unwrap().1), "the secret is not stored");
        let mut forged = alice.clone();
        forged.replace_range(forged.len() - 1.., if alice.ends_with('0') { "1" } else { "0" });
        for bad in [forged.as_str(), "pyt_alice_00", "alice", "", "pyt__00", &"x".repeat(MAX_TOKEN_BYTES + 1)] {
            assert_eq!(store.verify(bad).unwrap_err().code, ErrorCode::AuthenticationFailed, "{bad}");
        }
        let swapped = format!("{TOKEN_PREFIX}b_o_b_{}", alice.rsplit_once('_').unwrap().1);
        assert!(store.verify(&swapped).is_err(), "a secret is bound to its name");
        let generation = store.generation();
        assert!(store.revoke("alice").unwrap());
        assert!(!store.revoke("alice").unwrap());
        assert!(store.verify(&alice).is_err());
        assert!(store.generation() > generation && !store.holds("alice", &alice_hash));
        assert_eq!(store.list().unwrap().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["b_o_b"]);
    }
}
