//! The committed generated code must match the schema. Regenerates with the
//! `capnp` compiler when it is installed (Debian package `capnproto`); set
//! `PYRALOG_REGENERATE=1` to write the fresh output over the committed file.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_code_matches_schema() {
    if Command::new("capnp").arg("--version").output().is_err() {
        eprintln!("capnp not installed; schema drift not checked");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    capnpc::CompilerCommand::new()
        .src_prefix(root.join("schema"))
        .file(root.join("schema/pyralog.capnp"))
        .output_path(out.path())
        .run()
        .expect("capnp compile");
    let fresh = std::fs::read_to_string(out.path().join("pyralog_capnp.rs")).unwrap();
    let committed_path = root.join("src/pyralog_capnp.rs");
    if std::env::var_os("PYRALOG_REGENERATE").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        fresh == committed,
        "protocol/src/pyralog_capnp.rs is stale: run PYRALOG_REGENERATE=1 cargo test -p pyralog-protocol --test schema_sync"
    );
}
