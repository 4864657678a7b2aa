//! The `pyralog` binary pointed at a test server.

use std::process::Command;

use pyralog_testkit::TestServer;

/// `pyralog` with `PYRALOG_SERVER` and `PYRALOG_CA_FILE` set for `server`.
pub fn pyralog(server: &TestServer) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pyralog"));
    c.env("PYRALOG_SERVER", &server.addr).env("PYRALOG_CA_FILE", server.ca_file());
    c
}
