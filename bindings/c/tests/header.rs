//! The committed header is what cbindgen makes of the crate today.
//! `PYRALOG_REGENERATE=1 cargo test -p pyralog-c --test header` rewrites it.

use std::path::Path;

#[test]
fn given_the_crate_when_cbindgen_runs_should_match_the_committed_header() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = dir.join("include/pyralog.h");
    if std::env::var_os("PYRALOG_REGENERATE").is_some() {
        std::fs::write(&path, &generated).expect("write the header");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "bindings/c/include/pyralog.h is out of date: run PYRALOG_REGENERATE=1 cargo test -p pyralog-c --test header"
    );
}
