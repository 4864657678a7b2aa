//! Who may connect, with `[auth]` on: tokens and client certificates are
//! checked and anything else is refused with `AuthenticationFailed`; a
//! connection without an identity is closed at the deadline; revoking a
//! token ends the identity of the connections using it; a client
//! reconnecting authenticates again; `principal_from` and `client_ca_file`.

mod common;

use std::time::Duration;

use common::auth::{admin_cli, auth_server, cert, code, connect, token, with_cert, with_token};
use common::raw::raw_authenticate;
use common::unique;
use pyralog::{Client, ClientConfig, ErrorCode};

/// Longest a revocation takes to reach an open connection (the server
/// checks its token file every second).
const REVOCATION_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_auth_on_only_valid_credentials_connect() {
    let server = auth_server("");
    let admin = token(&server, "admin");
    let bob = token(&server, "bob");

    let anonymous = Client::connect(&server.addr, ClientConfig::with_ca_file(server.ca_file())).await.unwrap();
    let e = anonymous.list_logs().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");
    assert_eq!(code(anonymous.create_log(&unique("x"), 1).await), ErrorCode::AuthenticationFailed);

    let last = if admin.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &admin[..admin.len() - 1]);
    assert_eq!(code(connect(&server, with_token(&server, &forged)).await), ErrorCode::AuthenticationFailed);
    assert_eq!(code(connect(&server, with_token(&server, "pyt_admin_nope")).await), ErrorCode::AuthenticationFailed);

    connect(&server, with_token(&server, &bob)).await.expect("bob's token works");
    assert!(admin_cli(&server, &["token", "list"]).contains("bob"));
    admin_cli(&server, &["token", "revoke", "bob"]);
    assert_eq!(code(connect(&server, with_token(&server, &bob)).await), ErrorCode::AuthenticationFailed);

    connect(&server, with_cert(&server, &cert(&server, "admin"))).await.expect("a certificate of the server's CA");
    // Another server's development CA is another CA.
    let other = common::start();
    let foreign = cert(&other, "admin");
    let e = connect(&server, with_cert(&server, &foreign)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");

    let client = connect(&server, with_token(&server, &admin)).await.unwrap();
    assert!(client.list_logs().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_identity_is_closed_after_the_authentication_timeout() {
    let server = auth_server("");
    let conn = common::raw_connect(&server).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await.expect("closed in time");
    match closed {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(c.error_code.into_inner(), u64::from(ErrorCode::AuthenticationFailed.as_u16()));
        }
        other => panic!("closed by {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_connection_idle_past_the_deadline_stays_open() {
    let server = auth_server("");
    let identity = cert(&server, "alice");
    let endpoint = common::raw_endpoint_as(&server, Some(&identity));
    let conn = endpoint.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap();
    // authentication_timeout_ms is 1500: well past it.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    assert!(conn.close_reason().is_none(), "closed: {:?}", conn.close_reason());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_ends_the_identity_of_open_connections() {
    let server = auth_server("");
    let bob = connect(&server, with_token(&server, &token(&server, "bob"))).await.unwrap();
    admin_cli(&server, &["token", "revoke", "bob"]);
    let deadline = std::time::Instant::now() + REVOCATION_TIMEOUT;
    loop {
        match bob.list_logs().await {
            Ok(_) => assert!(std::time::Instant::now() < deadline, "bob's connection outlived his token"),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::AuthenticationFailed, "{e}");
                assert!(e.message().contains("revoked"), "{e}");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A new token for the same name is another token: the old one stays dead.
    token(&server, "bob");
    assert_eq!(code(bob.list_logs().await), ErrorCode::AuthenticationFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_after_a_crash_authenticates_again() {
    let mut server = auth_server("");
    let admin = connect(&server, with_token(&server, &token(&server, "admin"))).await.unwrap();
    let log = unique("reauth");
    admin.create_log(&log, 1).await.unwrap();
    server.kill();
    server.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match admin.get_log_metadata(&log).await {
            Ok(md) => break assert_eq!(md.name, log),
            Err(e) if e.is_retriable() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("after the restart: {e}"),
        }
    }
}

/// A client certificate under the CA in `ca_dir` with distinct CN and DNS SAN.
fn signed(
    ca_dir: &std::path::Path,
    cn: &str,
    san: &str,
    out: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(ca_dir.join("ca-key.pem")).unwrap()).unwrap();
    let ca = rcgen::CertificateParams::from_ca_cert_pem(&std::fs::read_to_string(ca_dir.join("ca.pem")).unwrap())
        .unwrap()
        .self_signed(&ca_key)
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![san.to_owned()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::create_dir_all(out).unwrap();
    let (c, k) = (out.join(format!("{cn}.pem")), out.join(format!("{cn}-key.pem")));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ca_of_its_own_and_principals_from_the_san() {
    // Another server's development CA plays the organisation's client CA.
    let issuer = common::start();
    let client_ca = issuer.data_dir.join("tls");
    let server = auth_server(&format!(
        "client_ca_file = \"{}\"\nprincipal_from = \"san\"\n",
        client_ca.join("ca.pem").display()
    ));
    let identity = signed(&client_ca, "cn-name", "svc.orders", &server.data_dir.join("clients"));
    let client = connect(&server, with_cert(&server, &identity)).await.expect("a certificate of the client CA");
    let e = client.create_log(&unique("x"), 1).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotAuthorized);
    assert!(e.message().contains("principal svc.orders "), "the SAN names the principal: {e}");
    // The server's own CA still counts (peers and `cert issue`).
    connect(&server, with_cert(&server, &cert(&server, "admin"))).await.expect("the node's CA");
    let stranger = common::start();
    let foreign = cert(&stranger, "admin");
    assert_eq!(code(connect(&server, with_cert(&server, &foreign)).await), ErrorCode::AuthenticationFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_closes_a_connection_whose_token_is_revoked() {
    let server = auth_server("");
    let bob = token(&server, "bob");
    let conn = common::raw_connect(&server).await;
    assert_eq!(raw_authenticate(&conn, &bob).await, Ok("bob".to_owned()));
    admin_cli(&server, &["token", "revoke", "bob"]);
    let closed = tokio::time::timeout(REVOCATION_TIMEOUT, conn.closed()).await.expect("closed after the revocation");
    match closed {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(c.error_code.into_inner(), u64::from(ErrorCode::AuthenticationFailed.as_u16()));
            assert!(String::from_utf8_lossy(&c.reason).contains("revoked"), "{c:?}");
        }
        other => panic!("closed by {other:?}"),
    }
}

/// Waits for `conn` to be closed by the server with `code`.
async fn closed_with(conn: &quinn::Connection, code: ErrorCode) {
    match tokio::time::timeout(Duration::from_secs(10), conn.closed()).await.expect("closed at once") {
        quinn::ConnectionError::ApplicationClosed(c) => assert_eq!(c.error_code.into_inner(), u64::from(code.as_u16())),
        other => panic!("closed by {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_fill_the_room_of_connections_waiting_to_authenticate() {
    let server = auth_server("");
    let admin = token(&server, "admin");
    let endpoint = common::raw_endpoint(&server);
    let dial = || async { endpoint.connect(server.addr.parse().unwrap(), "localhost").unwrap().await.unwrap() };
    let mut waiting = Vec::new();
    for _ in 0..pyralog_server::auth::MAX_UNAUTHENTICATED_PER_ADDRESS {
        waiting.push(dial().await);
    }
    // The address holds its share: its longest-waiting idle connection
    // makes room for the newcomer, which authenticates.
    let newcomer = dial().await;
    closed_with(&waiting[0], ErrorCode::Busy).await;
    assert_eq!(raw_authenticate(&newcomer, &admin).await, Ok("admin".to_owned()));
    // Connections that sent `authenticate` keep their places; once every
    // waiting one has, a newcomer is refused.
    waiting.remove(0);
    waiting.push(dial().await);
    for c in &waiting {
        assert_eq!(raw_authenticate(c, "pyt_nobody_00").await, Err(ErrorCode::AuthenticationFailed));
    }
    let refused = dial().await;
    closed_with(&refused, ErrorCode::Busy).await;
    assert!(waiting.iter().all(|c| c.close_reason().is_none()), "the authenticating ones stay");
    // An authenticated connection gives its place back.
    assert_eq!(raw_authenticate(&waiting[0], &admin).await, Ok("admin".to_owned()));
    let next = dial().await;
    assert_eq!(raw_authenticate(&next, &admin).await, Ok("admin".to_owned()));
    assert!(next.close_reason().is_none() && newcomer.close_reason().is_none());
}
