//! `examples/c/main.c` compiles against the committed header and the static
//! library, and runs end to end against the real server.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyralog_testkit::{unique, TestServer};

/// The profile directory (`target/debug`) this test binary was built into.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/..").to_path_buf()
}

#[test]
fn given_the_c_example_when_built_against_the_header_should_run_end_to_end() {
    let dir = profile_dir();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let exe = dir.join("pyralog-c-example");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(cc)
        .arg("-std=c11")
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(root.join("examples/c/main.c"))
        .arg("-I")
        .arg(root.join("bindings/c/include"))
        .arg(dir.join("libpyralog_c.a"))
        .args(["-lpthread", "-ldl", "-lm"])
        .status()
        .expect("a C compiler (cc)");
    assert!(built.success(), "the C example did not compile");

    let server = TestServer::start_with(dir.join("pyralog-server"), "");
    let log = unique("c-example");
    let out = Command::new(&exe)
        .arg(&server.addr)
        .arg(server.ca_file())
        .arg(&log)
        // The example takes credentials from these; this server needs none.
        .env_remove("PYRALOG_TOKEN")
        .env_remove("PYRALOG_CERT_FILE")
        .env_remove("PYRALOG_KEY_FILE")
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "example failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("acknowledged 1000 of 1000 events"), "{stdout}");
    assert!(stdout.contains("read 100 records back"), "{stdout}");
    assert!(stdout.contains("10 partitions, 1001 records"), "{stdout}");
    assert!(stdout.contains("partition 0: leader "), "{stdout}");
    assert!(stdout.contains(", replicas 1, in sync 1"), "one node holds partition 0: {stdout}");
    assert!(stdout.contains("bad name: InvalidLogId"), "{stdout}");
}
