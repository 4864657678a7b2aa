//! The `pyralog` command against the real server.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use pyralog_testkit::{unique, TestServer};

mod common;

fn server() -> TestServer {
    let bin = Path::new(env!("CARGO_BIN_EXE_pyralog")).with_file_name("pyralog-server");
    TestServer::start_with(bin, "")
}

fn cli(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = common::pyralog(server)
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
    let state = unique("cli-state");
    ok(&s, &["logs", "create", &state, "--cleanup-policy", "compact", "--delete-retention-ms", "60000"], None);
    assert!(ok(&s, &["logs", "describe", &state], None).contains("cleanup_policy compact"));
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
    assert!(l.contains("one record at a time") && l.contains("idempotent") && l.contains("p50"), "{l}");
}

fn group_consumer(server: &TestServer, log: &str, group: &str) -> std::process::Child {
    common::pyralog(server)
        .args(["consume", log, "--group", group, "--from-beginning", "--print-offsets", "--max", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Partitions of each "member ... partitions L/0,L/1" line of `groups describe`.
fn member_partitions(describe: &str) -> Vec<usize> {
    describe
        .lines()
        .filter_map(|l| l.strip_prefix("member "))
        .map(|l| l.rsplit(' ').next().unwrap_or("").split(',').filter(|p| !p.is_empty()).count())
        .collect()
}

#[test]
fn two_group_consumers_split_a_log_then_groups_describe_list_and_reset_offsets() {
    let s = server();
    let (log, group) = (unique("cli-group"), unique("cli-g"));
    ok(&s, &["logs", "create", &log, "--partitions", "4"], None);
    let (a, b) = (group_consumer(&s, &log, &group), group_consumer(&s, &log, &group));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // Until the group exists, describe fails with GroupNotFound.
    let described = |s: &TestServer| String::from_utf8(cli(s, &["groups", "describe", &group], None).stdout).unwrap();
    while member_partitions(&described(&s)) != [2, 2] {
        assert!(std::time::Instant::now() < deadline, "the two consumers never split the partitions");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for p in 0..4 {
        let lines: String = (0..10).map(|i| format!("v{p}-{i}\n")).collect();
        ok(&s, &["produce", &log, "--partition", &p.to_string()], Some(&lines));
    }
    let outputs: Vec<String> = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    let partitions_of = |out: &str| -> std::collections::BTreeSet<String> {
        out.lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect()
    };
    let (pa, pb) = (partitions_of(&outputs[0]), partitions_of(&outputs[1]));
    assert_eq!((pa.len(), pb.len()), (2, 2), "each consumer read two partitions: {pa:?} {pb:?}");
    assert!(pa.is_disjoint(&pb));
    assert_eq!(outputs.iter().map(|o| o.lines().count()).sum::<usize>(), 40);

    let list = ok(&s, &["groups", "list"], None);
    assert!(list.lines().any(|l| l.starts_with(&group) && l.contains("Empty")), "{list}");
    let describe = ok(&s, &["groups", "describe", &group], None);
    let committed: Vec<&str> = describe.lines().filter(|l| l.starts_with(&log)).collect();
    assert_eq!(committed.len(), 4, "{describe}");
    assert!(committed.iter().all(|l| l.split_whitespace().collect::<Vec<_>>()[2..] == ["10", "0"]), "{describe}");

    ok(&s, &["groups", "reset-offsets", &group, "--log", &log, "--to-offset", "7"], None);
    let again = ok(&s, &["consume", &log, "--group", &group, "--print-offsets", "--max", "12"], None);
    assert_eq!(again.lines().count(), 12);
    assert!(again.lines().all(|l| l.split(['\t', ' ']).nth(1).unwrap().parse::<u64>().unwrap() >= 7), "{again}");
}

#[test]
fn bench_fsync_measures_the_disk_without_a_server_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pyralog"))
            .args(["bench", "fsync", "--dir"])
            .arg(dir.path())
            .args(args)
            .env("PYRALOG_SERVER", "127.0.0.1:1") // nothing listens: no server is used
            .output()
            .unwrap()
    };
    let out = run(&["--count", "20", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = stdout.lines().find(|l| l.starts_with('{')).expect("a JSON line");
    assert!(
        json.contains("\"bench\":\"fsync\"") && json.contains("\"rounds\":20") && json.contains("\"p50_us\":"),
        "{json}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the scratch file is removed");

    let out = run(&["--count", "1000000", "--block-size", "4096"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FILE_BYTES_MAX"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a refused run writes nothing");
}

#[test]
fn top_shows_the_logs_and_the_servers_totals() {
    let s = server();
    let log = unique("cli-top");
    ok(&s, &["logs", "create", &log, "--partitions", "2"], None);
    ok(&s, &["produce", &log], Some("a\nb\nc\n"));
    let out = ok(&s, &["top", "--iterations", "2", "--interval-ms", "200"], None);
    assert_eq!(out.matches("connections ").count(), 2, "two refreshes: {out}");
    let line = out.lines().find(|l| l.starts_with(&log)).unwrap_or_else(|| panic!("no line for {log}: {out}"));
    assert_eq!(line.split_whitespace().count(), 6, "log, four rates, stored MB: {line}");
}

#[test]
fn tokens_certificates_and_acls_from_the_shell() {
    let bin = Path::new(env!("CARGO_BIN_EXE_pyralog")).with_file_name("pyralog-server");
    let s = TestServer::start_with(bin, "[auth]\nenabled = true\nsuperusers = [\"ops\"]\n");
    let ops = s.admin(&["token", "create", "ops"]).trim().to_owned();
    assert!(ops.starts_with("pyt_ops_"), "{ops}");
    let certs = s.data_dir.join("certs");
    s.admin(&["cert", "issue", "--name", "carol", "--out", certs.to_str().unwrap()]);
    let (cert, key) = (certs.join("carol.pem"), certs.join("carol-key.pem"));
    let carol = ["--cert-file", cert.to_str().unwrap(), "--key-file", key.to_str().unwrap()];
    let log = unique("orders.cli");

    let anonymous = cli(&s, &["logs", "list"], None);
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("AuthenticationFailed"));
    ok(&s, &["--token", &ops, "logs", "create", &log], None);
    let refused = cli(&s, &[&carol[..], &["produce", &log]].concat(), Some("x\n"));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NotAuthorized"), "{refused:?}");

    assert!(ok(&s, &["--token", &ops, "acl", "add", "carol", "write", "log:orders.*"], None).contains("added"));
    ok(&s, &["--token", &ops, "acl", "add", "carol", "read", &format!("log:{log}")], None);
    let listed = ok(&s, &["--token", &ops, "acl", "list"], None);
    assert_eq!(listed, format!("carol read log:{log}\ncarol write log:orders.*\n"));
    ok(&s, &[&carol[..], &["produce", &log]].concat(), Some("hello\n"));
    let read = ok(&s, &[&carol[..], &["consume", &log, "--from-beginning", "--max", "1"]].concat(), None);
    assert_eq!(read, "hello\n");
    let bad = cli(&s, &["--token", &ops, "acl", "add", "carol", "fly", "log:x"], None);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("operation \"fly\""), "{bad:?}");
    ok(&s, &["--token", &ops, "acl", "remove", "carol", "write", "log:orders.*"], None);
    let gone = cli(&s, &["--token", &ops, "acl", "remove", "carol", "write", "log:orders.*"], None);
    assert!(!gone.status.success() && String::from_utf8_lossy(&gone.stderr).contains("no such rule"), "{gone:?}");

    assert!(s.admin(&["token", "list"]).starts_with("ops\t"));
    s.admin(&["token", "revoke", "ops"]);
    let revoked = cli(&s, &["--token", &ops, "logs", "list"], None);
    assert!(String::from_utf8_lossy(&revoked.stderr).contains("AuthenticationFailed"));
}
