//! Test support: starts the real `pyralog-server` binary on a free loopback
//! port with a fresh data directory, and stops it (SIGKILL on drop); or a
//! cluster of several such processes (`cluster.rs`).

mod cluster;
pub mod netns;

pub use cluster::{NodeHost, TestCluster};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pyralog::{Client, ClientConfig};

/// Longest a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest an administration command (`token`, `cert`) may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `pyralog-server` process.
pub struct TestServer {
    bin: PathBuf,
    child: Option<Child>,
    pub addr: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    config: String,
    /// Extra command-line arguments (a cluster node's id, voters, TLS dir).
    args: Vec<String>,
    /// A command the server runs under (e.g. `ip netns exec NS`); empty for none.
    launcher: Vec<String>,
    /// The CA clients verify against, when not the server's own dev CA.
    ca: Option<PathBuf>,
}

impl TestServer {
    /// The server binary `bin` on defaults plus `config` (TOML lines), in a
    /// fresh directory.
    pub fn start_with(bin: impl Into<PathBuf>, config: &str) -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        TestServer::launched(bin.into(), tmp.path().join("data"), Some(tmp), config)
    }

    /// The server binary `bin` on defaults plus `config`, its data in
    /// `data_dir` (made if missing; the caller owns and removes it: e.g. a
    /// small filesystem mounted for the test).
    pub fn start_in(bin: impl Into<PathBuf>, data_dir: PathBuf, config: &str) -> TestServer {
        TestServer::launched(bin.into(), data_dir, None, config)
    }

    fn launched(bin: PathBuf, data_dir: PathBuf, tmp: Option<tempfile::TempDir>, config: &str) -> TestServer {
        assert!(bin.exists(), "{} is missing: build the workspace (cargo test --workspace)", bin.display());
        let mut s = TestServer {
            bin,
            child: None,
            addr: "127.0.0.1:0".into(),
            data_dir,
            _tmp: tmp,
            config: config.to_owned(),
            args: Vec::new(),
            launcher: Vec::new(),
            ca: None,
        };
        s.launch();
        s
    }

    pub fn ca_file(&self) -> PathBuf {
        self.ca.clone().unwrap_or_else(|| self.data_dir.join("tls").join("ca.pem"))
    }

    fn launch(&mut self) {
        let ready = self.spawn();
        self.wait_ready(ready);
    }

    /// Starts the process; the receiver gets its first stdout line.
    fn spawn(&mut self) -> mpsc::Receiver<String> {
        let cfg_path = self.data_dir.with_extension("toml");
        std::fs::create_dir_all(&self.data_dir).unwrap();
        std::fs::write(&cfg_path, &self.config).unwrap();
        let mut command = match self.launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&self.bin);
                c
            }
            None => Command::new(&self.bin),
        };
        let mut child = command
            .arg("--config")
            .arg(&cfg_path)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(&self.addr)
            .args(&self.args)
            .env("PYRALOG_LOG", std::env::var("PYRALOG_LOG").unwrap_or_else(|_| "warn,openraft=error".into()))
            .stdout(Stdio::piped())
            .stderr(self.stderr())
            .spawn()
            .expect("spawn pyralog-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        self.child = Some(child);
        rx
    }

    /// Where the server's log goes: inherited, or appended to
    /// `$PYRALOG_TEST_LOG_DIR/<data dir name>.log` when that is set (one file
    /// per node of a cluster, for reading a failed run).
    fn stderr(&self) -> Stdio {
        let Some(dir) = std::env::var_os("PYRALOG_TEST_LOG_DIR") else { return Stdio::inherit() };
        let name = self.data_dir.file_name().map_or("server".into(), |n| n.to_string_lossy().into_owned());
        let path = Path::new(&dir).join(format!("{name}.log"));
        match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            Ok(f) => Stdio::from(f),
            Err(_) => Stdio::inherit(),
        }
    }

    /// Waits for the "listening" line and takes the bound address from it.
    fn wait_ready(&mut self, ready: mpsc::Receiver<String>) {
        let line = ready.recv_timeout(START_TIMEOUT).expect("server did not start listening in time");
        self.addr = line.rsplit(' ').next().unwrap().to_owned();
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, ...) to the running process.
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) on our own child's pid; no memory is involved.
            unsafe {
                libc::kill(pid as i32, signal);
            }
        }
    }

    /// SIGKILL: no shutdown work at all.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a graceful exit; returns the exit success.
    pub fn terminate(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        for _ in 0..300 {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Runs `pyralog-server ARGS` on this server's config and data (token
    /// and certificate administration); its standard output.
    ///
    /// # Panics
    /// When the command fails or outlives `ADMIN_TIMEOUT`.
    pub fn admin(&self, args: &[&str]) -> String {
        let mut child = Command::new(&self.bin)
            .args(args)
            .arg("--config")
            .arg(self.data_dir.with_extension("toml"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pyralog-server");
        let deadline = std::time::Instant::now() + ADMIN_TIMEOUT;
        while child.try_wait().expect("wait for pyralog-server").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("pyralog-server {args:?} did not finish within {ADMIN_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().expect("pyralog-server output");
        assert!(out.status.success(), "pyralog-server {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// A new token for principal `name` (`pyralog-server token create`).
    pub fn token(&self, name: &str) -> String {
        self.admin(&["token", "create", name]).trim().to_owned()
    }

    /// A client certificate and key for principal `name` under this
    /// server's CA, in `<data dir>/clients` (`pyralog-server cert issue`).
    pub fn identity(&self, name: &str) -> (PathBuf, PathBuf) {
        let out = self.data_dir.join("clients");
        self.admin(&["cert", "issue", "--name", name, "--out", out.to_str().expect("UTF-8 path")]);
        (out.join(format!("{name}.pem")), out.join(format!("{name}-key.pem")))
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.addr, ClientConfig::with_ca_file(self.ca_file())).await.expect("connect to test server")
    }

    /// Directory of one partition's segments (the only incarnation of `log`).
    pub fn partition_dir(&self, log: &str, partition: u32) -> PathBuf {
        let logs = self.data_dir.join("logs");
        let dir = std::fs::read_dir(&logs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit_once('.')).is_some_and(|(name, _)| {
                    match name.split_once('~') {
                        // A long name's directory: its first bytes, `~`, a hash.
                        Some((prefix, _)) => log.len() > prefix.len() && log.starts_with(prefix),
                        None => name == log,
                    }
                })
            })
            .expect("log directory");
        dir.join(partition.to_string())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A unique log name for one test run.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

/// Segment files of a partition directory, sorted by base offset.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

/// The valid record batches stored in a partition directory, in offset
/// order, as their bytes (a preallocated, zero-filled tail ends a segment).
pub fn stored_batches(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for seg in segments(dir) {
        let bytes = std::fs::read(&seg).unwrap_or_default();
        let valid = pyralog_protocol::batch::BatchIter::new(&bytes).map_while(Result::ok).take_while(|b| b.crc_ok());
        out.extend(valid.map(|b| b.bytes().to_vec()));
    }
    out
}

/// Damages the stored batch of `dir` that starts at offset `base` the way
/// a bad disk would: flips one byte of its records in place (the running
/// server reads segments through a shared mapping and serves the change).
/// Returns the segment file.
///
/// # Panics
/// When no stored batch starts at `base`.
pub fn damage_batch(dir: &Path, base: u64) -> PathBuf {
    use std::os::unix::fs::FileExt;
    for seg in segments(dir) {
        let bytes = std::fs::read(&seg).unwrap_or_default();
        let mut pos = 0usize;
        for b in pyralog_protocol::batch::BatchIter::new(&bytes).map_while(Result::ok) {
            if b.base_offset() == base {
                let at = pos + pyralog_protocol::batch::HEADER_BYTES;
                let file = std::fs::OpenOptions::new().write(true).open(&seg).expect("open the segment");
                file.write_all_at(&[bytes[at] ^ 0xff], at as u64).expect("damage the batch");
                return seg;
            }
            pos += b.bytes().len();
        }
    }
    panic!("no stored batch starts at offset {base} in {}", dir.display());
}
