//! Client certificates: the principal a verified certificate names, and
//! `pyralog-server cert issue`, which signs one with the node's CA.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rustls::pki_types::CertificateDer;

use super::config::PrincipalFrom;

/// Default days a certificate from `cert issue` is valid.
pub const DEFAULT_CLIENT_CERT_DAYS: u32 = 365;
/// Longest validity `cert issue` grants.
pub const MAX_CLIENT_CERT_DAYS: u32 = 3_650;

/// The principal of a client certificate chain the handshake verified:
/// its leaf's subject CN, or its first DNS SAN.
///
/// # Errors
/// An unreadable certificate or one without that name (the message says which).
pub fn principal_of(chain: &[CertificateDer<'_>], from: PrincipalFrom) -> Result<String, String> {
    let leaf = chain.first().ok_or("empty certificate chain")?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf).map_err(|e| format!("unreadable client certificate: {e}"))?;
    let name = match from {
        PrincipalFrom::Cn => {
            cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned)
        }
        PrincipalFrom::San => cert.subject_alternative_name().ok().flatten().and_then(|san| {
            san.value.general_names.iter().find_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                _ => None,
            })
        }),
    };
    let name = name.ok_or_else(|| format!("the client certificate has no {from:?} to name its principal"))?;
    pyralog_protocol::acl::validate_principal(&name).map_err(|e| e.message)?;
    if is_reserved(&name) {
        return Err(format!("{name:?} is a node's or the wildcard's name, not a client's"));
    }
    Ok(name)
}

/// Names no client may have: the nodes' (`pyralog-node-N`, in any case:
/// certificate names compare case-insensitively) and the ACL wildcard.
pub(crate) fn is_reserved(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("pyralog-node-") || name == pyralog_protocol::acl::ANY_PRINCIPAL
}

/// Where the CA that signs client certificates lives: the cluster's TLS
/// directory, or the development CA in the data directory.
pub fn ca_dir(data_dir: &Path, tls_dir: Option<&Path>) -> PathBuf {
    tls_dir.map_or_else(|| data_dir.join("tls"), Path::to_path_buf)
}

/// Issues a client certificate for `name`, valid from now for `days`, under
/// the CA in `ca_dir`, writing `<out>/<name>.pem` and `<out>/<name>-key.pem`
/// (owner-only); returns both paths.
///
/// # Errors
/// A name that is not a valid principal or is a node's, `days` outside
/// 1..=`MAX_CLIENT_CERT_DAYS`, a missing CA (start the server once, or run
/// `init-cluster`), or I/O.
pub fn issue(ca_dir: &Path, name: &str, days: u32, out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !(1..=MAX_CLIENT_CERT_DAYS).contains(&days) {
        bail!("--days must be in 1..={MAX_CLIENT_CERT_DAYS} (MAX_CLIENT_CERT_DAYS)");
    }
    pyralog_protocol::acl::validate_principal(name).map_err(|e| anyhow::anyhow!(e.message))?;
    if is_reserved(name) {
        bail!("{name:?} is reserved (nodes' names, `*`)");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        bail!("{name:?}: a certificate name uses A-Z a-z 0-9 . _ - @");
    }
    let (ca_pem, ca_key_pem) = (ca_dir.join("ca.pem"), ca_dir.join("ca-key.pem"));
    let read = |p: &Path| {
        fs::read_to_string(p).with_context(|| {
            format!(
                "reading {} (start the server once to create its CA, or point --tls-dir at the cluster's)",
                p.display()
            )
        })
    };
    let ca_key = rcgen::KeyPair::from_pem(&read(&ca_key_pem)?).context("parsing the CA key")?;
    let ca_params = rcgen::CertificateParams::from_ca_cert_pem(&read(&ca_pem)?).context("parsing the CA")?;
    let ca = ca_params.self_signed(&ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    if let Ok(dns) = rcgen::Ia5String::try_from(name) {
        params.subject_alt_names = vec![rcgen::SanType::DnsName(dns)];
    }
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    // A little slack before now for clocks that lag.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days));
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (cert_path, key_path) = (out.join(format!("{name}.pem")), out.join(format!("{name}-key.pem")));
    crate::tls::write_private_atomically(&key_path, key.serialize_pem().as_bytes())?;
    fs::write(&cert_path, cert.pem()).with_context(|| format!("writing {}", cert_path.display()))?;
    Ok((cert_path, key_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(cn: &str, san: &[&str]) -> Vec<CertificateDer<'static>> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(san.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if !cn.is_empty() {
            params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        }
        vec![params.self_signed(&key).unwrap().der().clone()]
    }

    #[test]
    fn the_principal_is_the_common_name_or_the_first_dns_name() {
        let c = chain("alice", &["svc.alice", "other"]);
        assert_eq!(principal_of(&c, PrincipalFrom::Cn).unwrap(), "alice");
        assert_eq!(principal_of(&c, PrincipalFrom::San).unwrap(), "svc.alice");
        assert!(principal_of(&chain("", &["x"]), PrincipalFrom::Cn).unwrap_err().contains("no Cn"));
        assert!(principal_of(&chain("bob", &[]), PrincipalFrom::San).is_err());
        assert!(principal_of(&[], PrincipalFrom::Cn).is_err());
        assert!(principal_of(&chain("Pyralog-Node-2", &[]), PrincipalFrom::Cn).is_err(), "a node is not a client");
        assert!(principal_of(&chain("*", &[]), PrincipalFrom::Cn).is_err());
    }

    #[test]
    fn issued_certificates_carry_the_name_and_reserved_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, ca_key) = crate::tls::new_ca("test CA").unwrap();
        fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        fs::write(dir.path().join("ca-key.pem"), ca_key.serialize_pem()).unwrap();
        let (cert, key) = issue(dir.path(), "alice", 30, &dir.path().join("out")).unwrap();
        let der = rustls_pemfile::certs(&mut fs::read(&cert).unwrap().as_slice()).next().unwrap().unwrap();
        assert_eq!(principal_of(&[der], PrincipalFrom::Cn).unwrap(), "alice");
        assert!(key.exists());
        for bad in ["pyralog-node-1", "PYRALOG-NODE-1", "*", "a b", ""] {
            assert!(issue(dir.path(), bad, 30, dir.path()).is_err(), "{bad:?}");
        }
        assert!(issue(&dir.path().join("none"), "bob", 30, dir.path()).is_err(), "no CA there");
        assert!(
            issue(dir.path(), "bob", 0, dir.path()).is_err() && issue(dir.path(), "bob", 3_651, dir.path()).is_err()
        );
    }
}
