//! The `pyralog` command against the real server.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use pyralog_testkit::{unique, TestServer};

fn server() -> TestServer {
    let bin = Path::new(env!("CARGO_BIN_EXE_pyralog")).with_file_name("pyralog-server");
    TestServer::start_with(bin, "")
}

fn cli(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyralog"))
        .env("PYRALOG_SERVER", &server.addr)
        .env("PYRALOG_CA_FILE", server.ca_file())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(server: &TestServer, args: &[&str], stdin: Option<&str>) -> String {
    let out = cli(server, args, stdin);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn logs_commands_create_list_describe_pause_resume_delete() {
    let s = server();
    let log = unique("cli-logs");
    ok(&s, &["logs", "create", &log, "--partitions", "3", "--retention-hours", "2"], None);
    assert!(ok(&s, &["logs", "list"], None).contains(&format!("{log}\t3 partitions")));
    let d = ok(&s, &["logs", "describe", &log], None);
    assert!(d.contains("partitions 3") && d.contains("retention_ms 7200000"), "{d}");
    ok(&s, &["logs", "pause", &log], None);
    let paused = cli(&s, &["produce", &log], Some("x\n"));
    assert!(!paused.status.success());
    assert!(String::from_utf8_lossy(&paused.stderr).contains("LogPaused"));
    ok(&s, &["logs", "resume", &log], None);
    ok(&s, &["produce", &log], Some("x\n"));
    ok(&s, &["logs", "delete", &log], None);
    let gone = cli(&s, &["logs", "describe", &log], None);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("LogNotFound"));
    let bad = cli(&s, &["logs", "create", "a/b"], None);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("InvalidLogId"));
}

#[test]
fn produce_lines_with_keys_then_consume_them_back() {
    let s = server();
    let log = unique("cli-io");
    ok(&s, &["logs", "create", &log, "--partitions", "2"], None);
    let offsets = ok(&s, &["produce", &log, "--key-separator", ":", "--print-offsets"], Some("u1:a\nu2:b\nu1:c\n"));
    assert_eq!(offsets.lines().count(), 3);
    let out = ok(&s, &["consume", &log, "--from-beginning", "--print-keys"], None);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["u1\ta", "u1\tc", "u2\tb"]);
    let first = ok(&s, &["consume", &log, "--partition", "0", "--offset", "0", "--max", "1", "--print-offsets"], None);
    assert!(first.starts_with("0 0\t"), "{first}");
    // From the end without --follow: nothing, and it returns.
    assert_eq!(ok(&s, &["consume", &log], None), "");
}

#[test]
fn bench_produce_and_consume_report_rates() {
    let s = server();
    let log = unique("cli-bench");
    let p = ok(&s, &["bench", "produce", "--log", &log, "--count", "20000", "--partitions", "2", "--json"], None);
    assert!(p.contains("msgs/s") && p.contains("\"records\":20000"), "{p}");
    let c = ok(&s, &["bench", "consume", "--log", &log, "--json"], None);
    assert!(c.contains("\"records\":20000"), "{c}");
    let l = ok(&s, &["bench", "produce", "--log", &log, "--count", "200", "--one-in-flight"], None);
    assert!(l.contains("one in flight") && l.contains("p50"), "{l}");
}
