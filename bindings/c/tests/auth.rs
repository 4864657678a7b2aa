//! Client credentials through the C ABI against the real server with
//! authentication on: a bearer token and an mTLS client certificate name the
//! principal; refusals keep their codes, and a `Throttled` error carries the
//! server's `retry_after_ms`.

use std::path::{Path, PathBuf};

use pyralog::ErrorCode;
use pyralog_c::*;
use pyralog_testkit::{unique, TestServer};

const AUTH: &str = "[auth]\nenabled = true\nsuperusers = [\"admin\"]\n";

/// The profile directory (`target/debug`) this test binary was built into.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/..").to_path_buf()
}

fn start(config: &str) -> TestServer {
    TestServer::start_with(profile_dir().join("pyralog-server"), config)
}

fn token(server: &TestServer, name: &str) -> String {
    server.token(name)
}

/// A client certificate and key for `name` in the server's data directory.
fn cert(server: &TestServer, name: &str) -> (String, String) {
    let (cert, key) = server.identity(name);
    let text = |p: PathBuf| p.to_str().expect("UTF-8 path").to_owned();
    (text(cert), text(key))
}

fn s(v: &str) -> pyralog_str_t {
    pyralog_str_t { ptr: v.as_ptr().cast(), len: v.len() }
}

/// An error's code, message and `retry_after_ms`, freed.
type Failure = (i32, String, u64);

fn taken(e: *mut pyralog_error_t) -> Result<(), Failure> {
    if e.is_null() {
        return Ok(());
    }
    // SAFETY: a live error from the library, freed once.
    unsafe {
        let f = ((*e).code, std::ffi::CStr::from_ptr((*e).message).to_string_lossy().into_owned(), (*e).retry_after_ms);
        pyralog_error_free(e);
        Err(f)
    }
}

fn code(c: ErrorCode) -> i32 {
    i32::from(c.as_u16())
}

struct Client(*mut pyralog_client_t);

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: from `pyralog_client_connect`, freed once.
        unsafe { pyralog_client_free(self.0) };
    }
}

#[derive(Default)]
struct Creds<'a> {
    cert_file: &'a str,
    key_file: &'a str,
    token: &'a str,
}

fn connect(server: &TestServer, creds: &Creds<'_>) -> Result<Client, Failure> {
    let ca = server.ca_file().to_str().unwrap().to_owned();
    let config = pyralog_client_config_t {
        ca_file: s(&ca),
        server_name: s(""),
        connect_timeout_ms: 10_000,
        request_timeout_ms: 10_000,
        cert_file: s(creds.cert_file),
        key_file: s(creds.key_file),
        token: s(creds.token),
    };
    let mut out = std::ptr::null_mut();
    // SAFETY: valid strings and config, writable `out`.
    taken(unsafe { pyralog_client_connect(s(&server.addr), &config, std::ptr::null(), &mut out) })?;
    Ok(Client(out))
}

/// Creates a log of one partition and produces a record to it.
fn create_and_produce(c: &Client, log: &str) -> Result<(), Failure> {
    let mut md = std::ptr::null_mut();
    // SAFETY: a live client, valid strings, writable `md`.
    taken(unsafe { pyralog_create_log(c.0, s(log), 1, 0, std::ptr::null(), std::ptr::null(), &mut md) })?;
    // SAFETY: from `pyralog_create_log`, freed once.
    unsafe { pyralog_log_metadata_free(md) };
    let value = b"hello";
    let record = pyralog_record_in_t {
        key_offset: 0,
        key_len: -1,
        value_offset: 0,
        value_len: value.len(),
        header_start: 0,
        header_count: 0,
        partition: 0,
        timestamp_ms: 0,
        has_timestamp: false,
    };
    let batch = pyralog_batch_in_t {
        data: value.as_ptr(),
        data_len: value.len(),
        records: &record,
        count: 1,
        headers: std::ptr::null(),
        header_count: 0,
    };
    let mut written = pyralog_record_metadata_t::default();
    // SAFETY: a live client; the batch's pointers are valid for its lengths.
    taken(unsafe { pyralog_produce(c.0, s(log), &batch, std::ptr::null(), &mut written) })?;
    assert_eq!(written.offset, 0);
    Ok(())
}

#[test]
fn given_an_auth_server_when_connecting_with_credentials_should_act_as_their_principal() {
    let server = start(AUTH);
    let admin_token = token(&server, "admin");

    let admin = connect(&server, &Creds { token: &admin_token, ..Creds::default() }).expect("admin by token");
    create_and_produce(&admin, &unique("c-auth-token")).expect("a superuser creates and produces");

    let wrong = format!("{admin_token}0");
    let refused = connect(&server, &Creds { token: &wrong, ..Creds::default() })
        .and_then(|c| create_and_produce(&c, &unique("c-auth-wrong")));
    assert_eq!(refused.map_err(|f| f.0), Err(code(ErrorCode::AuthenticationFailed)));

    let (admin_cert, admin_key) = cert(&server, "admin");
    let by_cert = connect(&server, &Creds { cert_file: &admin_cert, key_file: &admin_key, ..Creds::default() })
        .expect("admin by certificate");
    create_and_produce(&by_cert, &unique("c-auth-cert")).expect("the certificate's CN is the superuser");

    let (bob_cert, bob_key) = cert(&server, "bob");
    let bob = connect(&server, &Creds { cert_file: &bob_cert, key_file: &bob_key, ..Creds::default() }).expect("bob");
    let denied = create_and_produce(&bob, &unique("c-auth-bob"));
    assert_eq!(denied.map_err(|f| f.0), Err(code(ErrorCode::NotAuthorized)), "bob has no ACL");

    let half = connect(&server, &Creds { cert_file: &bob_cert, ..Creds::default() });
    assert_eq!(half.err().map(|f| f.0), Some(code(ErrorCode::InvalidArgument)), "a certificate needs its key");
}

#[test]
fn given_a_connection_quota_when_a_principal_exceeds_it_should_fail_throttled_with_retry_after() {
    let server = start(&format!("{AUTH}[quotas]\nconnections_per_principal = 1\n"));
    let admin_token = token(&server, "admin");
    let creds = Creds { token: &admin_token, ..Creds::default() };
    let _first = connect(&server, &creds).expect("the first connection fits the quota");
    let (code_, message, retry_after_ms) = connect(&server, &creds).err().expect("a second one is over it");
    assert_eq!(code_, code(ErrorCode::Throttled), "{message}");
    assert!(retry_after_ms > 0, "Throttled carries the server's advice: {message}");
}
