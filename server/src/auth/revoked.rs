//! The certificate deny-list: serial numbers of client (or node)
//! certificates that are refused although their CA signed them and they
//! have not expired. `pyralog-server cert revoke` adds to it; the server
//! watches the file like the token file, refuses a revoked certificate at
//! the next handshake and closes the open connections that presented one
//! within `IDENTITY_REFRESH_MS` plus a check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

use super::watched::{FileContents, WatchedFile};

/// Where the deny-list is kept by default, under the data directory.
pub const DEFAULT_REVOKED_CERTS_FILE: &str = "auth/revoked-certs.json";
/// Most serials the deny-list holds (certificates expire: prune it then).
pub const MAX_REVOKED_CERTS: usize = 100_000;
/// Largest deny-list file read.
pub const MAX_REVOKED_CERTS_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Longest serial number (RFC 5280: at most 20 octets), in hex digits.
const MAX_SERIAL_HEX: usize = 40;

/// One revoked certificate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Revocation {
    /// The certificate's subject CN when known (for people reading the list).
    pub name: String,
    pub revoked_at_ms: i64,
}

/// The deny-list as stored: lowercase hex serial -> revocation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RevokedFile {
    pub revoked: BTreeMap<String, Revocation>,
}

impl FileContents for RevokedFile {
    const MAX_BYTES: u64 = MAX_REVOKED_CERTS_FILE_BYTES;

    fn check(&self) -> anyhow::Result<()> {
        if self.revoked.len() > MAX_REVOKED_CERTS {
            bail!("more than MAX_REVOKED_CERTS ({MAX_REVOKED_CERTS}) revoked certificates");
        }
        Ok(())
    }
}

/// A certificate's serial number as the deny-list spells it: lowercase
/// hex of its bytes, leading zero bytes dropped.
pub fn serial_of(cert: &CertificateDer<'_>) -> Result<String, String> {
    let (_, c) = x509_parser::parse_x509_certificate(cert).map_err(|e| format!("unreadable certificate: {e}"))?;
    Ok(normal_serial(&hex(c.raw_serial())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `0A:1b:...` or `0a1b...` -> `a1b...` (no separators, no leading zeros).
fn normal_serial(s: &str) -> String {
    let digits: String = s.chars().filter(|c| *c != ':').flat_map(char::to_lowercase).collect();
    match digits.trim_start_matches('0') {
        "" => "0".to_owned(),
        d => d.to_owned(),
    }
}

/// The deny-list of one server.
#[derive(Debug, Clone)]
pub struct RevokedCerts {
    file: WatchedFile<RevokedFile>,
}

impl RevokedCerts {
    pub fn new(path: PathBuf) -> RevokedCerts {
        RevokedCerts { file: WatchedFile::new(path) }
    }

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

    /// Whether `serial` is on the list as last read (no I/O).
    pub fn is_revoked(&self, serial: &str) -> bool {
        self.file.cached().revoked.contains_key(serial)
    }

    /// Every revoked serial.
    ///
    /// # Errors
    /// An unreadable or malformed file.
    pub fn list(&self) -> anyhow::Result<RevokedFile> {
        self.file.read()
    }

    /// Adds a serial (hex, colons allowed) to the list; `false` if it was there.
    ///
    /// # Errors
    /// A malformed serial, a full list, or I/O.
    pub fn revoke_serial(&self, serial: &str, name: &str, now_ms: i64) -> anyhow::Result<bool> {
        let serial = normal_serial(serial);
        if serial.len() > MAX_SERIAL_HEX || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("{serial:?} is not a certificate serial number (hex, at most {MAX_SERIAL_HEX} digits)");
        }
        let mut added = false;
        self.file.edit(|f| {
            if f.revoked.contains_key(&serial) {
                return Ok(());
            }
            if f.revoked.len() >= MAX_REVOKED_CERTS {
                bail!("the deny-list holds MAX_REVOKED_CERTS ({MAX_REVOKED_CERTS}) serials");
            }
            f.revoked.insert(serial.clone(), Revocation { name: name.to_owned(), revoked_at_ms: now_ms });
            added = true;
            Ok(())
        })?;
        Ok(added)
    }

    /// Adds the certificate in a PEM file; returns its serial and whether it was new.
    ///
    /// # Errors
    /// An unreadable certificate file, or as [`RevokedCerts::revoke_serial`].
    pub fn revoke_cert_file(&self, pem: &Path, now_ms: i64) -> anyhow::Result<(String, bool)> {
        let text = std::fs::read(pem).with_context(|| format!("reading {}", pem.display()))?;
        let cert = rustls_pemfile::certs(&mut text.as_slice())
            .next()
            .with_context(|| format!("{} holds no certificate", pem.display()))?
            .with_context(|| format!("parsing {}", pem.display()))?;
        let serial = serial_of(&cert).map_err(anyhow::Error::msg)?;
        let name = x509_parser::parse_x509_certificate(&cert)
            .ok()
            .and_then(|(_, c)| c.subject().iter_common_name().next().and_then(|n| n.as_str().ok()).map(str::to_owned))
            .unwrap_or_default();
        let added = self.revoke_serial(&serial, &name, now_ms)?;
        Ok((serial, added))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_serial_is_found_in_any_spelling_and_the_list_is_bounded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let list = RevokedCerts::new(dir.path().join("auth/revoked-certs.json"));
        assert!(!list.is_revoked("1f"));
        assert!(list.revoke_serial("00:1F", "alice", 1).unwrap());
        assert!(!list.revoke_serial("1f", "alice", 2).unwrap(), "already there");
        let before = list.generation();
        list.refresh().unwrap();
        assert!(list.is_revoked("1f") && list.generation() > before);
        assert!(list.revoke_serial("xyz", "", 1).is_err());
        assert!(list.revoke_serial(&"a".repeat(MAX_SERIAL_HEX + 1), "", 1).is_err());
        assert_eq!(list.list().unwrap().revoked["1f"].name, "alice");
    }

    #[test]
    fn an_issued_certificate_is_revoked_by_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, ca_key) = crate::tls::new_ca("test CA").unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("ca-key.pem"), ca_key.serialize_pem()).unwrap();
        let (cert, _) = super::super::certs::issue(dir.path(), "bob", 30, dir.path()).unwrap();
        let list = RevokedCerts::new(dir.path().join("revoked.json"));
        let (serial, added) = list.revoke_cert_file(&cert, 5).unwrap();
        assert!(added);
        list.refresh().unwrap();
        let der = rustls_pemfile::certs(&mut std::fs::read(&cert).unwrap().as_slice()).next().unwrap().unwrap();
        assert_eq!(serial_of(&der).unwrap(), serial);
        assert!(list.is_revoked(&serial));
        assert_eq!(list.list().unwrap().revoked[&serial].name, "bob");
    }
}
