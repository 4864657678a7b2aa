//! Group churn: consumers of one group (separate `pyralog consume --group`
//! processes) on a 16-partition log while members join, leave and get
//! SIGKILLed mid-stream. Every record is processed at least once, no
//! committed record is delivered again, and no partition is owned by two
//! members at once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyralog::{Client, ClientConfig, Record};
use pyralog_testkit::{unique, TestServer};

mod common;

const PARTITIONS: u32 = 16;
const RECORDS_PER_PARTITION: u64 = 500;
/// Rounds of one record per partition, and the pause after each.
const PRODUCE_PAUSE: Duration = Duration::from_millis(12);
const SESSION_TIMEOUT_MS: &str = "3000";
/// Longest the members may take to process everything after the producer ends.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(45);

fn micros() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()
}

/// One consumer process and the trace lines it printed so far.
struct Member {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// When it was SIGKILLed: it owns nothing after that.
    killed_at: Option<u128>,
}

impl Member {
    fn start(server: &TestServer, name: &'static str, log: &str, group: &str) -> Member {
        let mut child = common::pyralog(server)
            .args(["consume", log, "--group", group, "--from-beginning", "--follow", "--trace-group"])
            .args(["--session-timeout-ms", SESSION_TIMEOUT_MS])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (out, sink) = (child.stdout.take().unwrap(), Arc::clone(&lines));
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Member { name, child, lines, killed_at: None }
    }

    fn sigkill(&mut self) {
        self.killed_at = Some(micros());
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGINT: the consumer commits, revokes and leaves the group.
    fn leave(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{} did not leave within 20 s", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100)); // let the reader thread take the last lines
    }

    /// Parsed events: (time µs, kind, rest).
    fn events(&self) -> Vec<(u128, String, String)> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let mut it = l.splitn(3, ' ');
                Some((it.next()?.parse().ok()?, it.next()?.to_owned(), it.next().unwrap_or("").to_owned()))
            })
            .collect()
    }

    fn records(&self) -> Vec<(u128, u32, u64)> {
        self.events()
            .into_iter()
            .filter(|(_, k, _)| k == "record")
            .filter_map(|(t, _, rest)| {
                let (p, o) = rest.split_once(' ')?;
                Some((t, p.parse().ok()?, o.parse().ok()?))
            })
            .collect()
    }
}

fn partitions(list: &str) -> Vec<u32> {
    list.split(',').filter_map(|p| p.parse().ok()).collect()
}

/// A partition owned over [from µs, to µs).
type Owned = (u32, u128, u128);

/// Ownership intervals of one member.
fn ownership(m: &Member, end: u128) -> Vec<Owned> {
    let mut open: BTreeMap<u32, u128> = BTreeMap::new();
    let mut out = Vec::new();
    for (t, kind, rest) in m.events() {
        match kind.as_str() {
            "assigned" => partitions(&rest).into_iter().for_each(|p| {
                open.insert(p, t);
            }),
            "revoked" | "lost" => {
                for p in partitions(&rest) {
                    if let Some(from) = open.remove(&p) {
                        out.push((p, from, t));
                    }
                }
            }
            _ => {}
        }
    }
    let until = m.killed_at.unwrap_or(end);
    out.extend(open.into_iter().map(|(p, from)| (p, from, until)));
    out
}

async fn produce(addr: String, ca: std::path::PathBuf, log: String) {
    let client = Client::connect(&addr, ClientConfig::with_ca_file(ca)).await.unwrap();
    for i in 0..RECORDS_PER_PARTITION {
        for p in 0..PARTITIONS {
            client.produce(&log, Record::new(format!("{p}-{i}")).partition(p)).await.unwrap();
        }
        tokio::time::sleep(PRODUCE_PAUSE).await;
    }
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_members_joining_leaving_and_sigkilled_every_record_is_processed_and_ownership_never_overlaps() {
    let bin = Path::new(env!("CARGO_BIN_EXE_pyralog")).with_file_name("pyralog-server");
    let server = TestServer::start_with(bin, "");
    let (log, group) = (unique("churn"), unique("churn-g"));
    let admin = server.client().await;
    admin.create_log(&log, PARTITIONS).await.unwrap();
    let producer = tokio::spawn(produce(server.addr.clone(), server.ca_file(), log.clone()));

    let mut members = vec![
        Member::start(&server, "a", &log, &group),
        Member::start(&server, "b", &log, &group),
        Member::start(&server, "c", &log, &group),
    ];
    let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));
    pause(1_500).await;
    members.push(Member::start(&server, "d", &log, &group));
    pause(1_000).await;
    members[1].sigkill();
    pause(1_000).await;
    members[2].leave();
    pause(1_000).await;
    members.push(Member::start(&server, "e", &log, &group));
    pause(1_000).await;
    members[3].sigkill();
    producer.await.unwrap();

    let expected: BTreeSet<(u32, u64)> =
        (0..PARTITIONS).flat_map(|p| (0..RECORDS_PER_PARTITION).map(move |o| (p, o))).collect();
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        let seen: BTreeSet<(u32, u64)> = members.iter().flat_map(|m| m.records()).map(|(_, p, o)| (p, o)).collect();
        if seen.is_superset(&expected) {
            break;
        }
        let missing = expected.difference(&seen).count();
        assert!(Instant::now() < deadline, "{missing} records never processed");
        pause(200).await;
    }
    for i in [0, 4] {
        members[i].leave();
    }
    let end = micros();

    // No committed record is delivered again.
    let mut commits: Vec<(u128, u32, u64)> = Vec::new();
    for m in &members {
        for (t, kind, rest) in m.events() {
            if kind == "committed" {
                for pair in rest.split(',') {
                    if let Some((p, o)) = pair.split_once(':') {
                        commits.push((t, p.parse().unwrap(), o.parse().unwrap()));
                    }
                }
            }
        }
    }
    let mut redelivered = 0;
    for m in &members {
        for (t, p, o) in m.records() {
            if commits.iter().any(|(ct, cp, co)| *ct < t && *cp == p && *co > o) {
                redelivered += 1;
            }
        }
    }
    assert_eq!(redelivered, 0, "records delivered again after their commit");

    // No partition is owned by two members at once.
    let intervals: Vec<(&str, Vec<Owned>)> = members.iter().map(|m| (m.name, ownership(m, end))).collect();
    for (i, (a, ia)) in intervals.iter().enumerate() {
        for (b, ib) in &intervals[i + 1..] {
            for (pa, fa, ta) in ia {
                for (pb, fb, tb) in ib {
                    assert!(
                        pa != pb || ta <= fb || tb <= fa,
                        "partition {pa} owned by {a} over [{fa}, {ta}) and by {b} over [{fb}, {tb}) µs"
                    );
                }
            }
        }
    }
    let total: usize = members.iter().map(|m| m.records().len()).sum();
    let rebalances: usize = members.iter().map(|m| m.events().iter().filter(|e| e.1 == "assigned").count()).sum();
    eprintln!(
        "{} records, {total} deliveries, {} commits, {rebalances} assignments over 5 members",
        expected.len(),
        commits.len()
    );
    admin.close().await;
}
