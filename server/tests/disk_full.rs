//! A full disk: produce answers `StorageFull` and writes nothing, every
//! acknowledged record stays readable, and writing resumes once space is
//! freed. The data directory is a small tmpfs mounted for the test (needs
//! root; elsewhere it says loudly that it was skipped).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pyralog::{ErrorCode, LogOffset, Record};
use pyralog_testkit::{unique, TestServer};

/// Size of the filesystem the server writes to.
const FS_MIB: u32 = 24;
/// A file taking part of it, deleted to free space.
const BALLAST_BYTES: usize = 6 * 1024 * 1024;
/// Record size: the disk fills within a few thousand records.
const RECORD_BYTES: usize = 10 * 1024;
/// At most this many writes before the disk must be full (records to fill it whole).
const MAX_WRITES: usize = FS_MIB as usize * 1024 * 1024 / RECORD_BYTES;

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount() -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={FS_MIB}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(SmallDisk(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

async fn read_values(c: &pyralog::Client, log: &str) -> Vec<String> {
    let records = c.consume_from_partition(log, 0, LogOffset::ZERO, usize::MAX).await.unwrap();
    records.iter().map(|r| String::from_utf8(r.value[..12].to_vec()).unwrap()).collect()
}

fn value(i: usize) -> String {
    format!("record-{i:05}{}", "x".repeat(RECORD_BYTES - 12))
}

#[tokio::test]
async fn given_a_full_disk_produce_is_refused_reads_go_on_and_writes_resume_once_space_is_freed() {
    let disk = match SmallDisk::mount() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("\n!!!!!!!! SKIPPED: the disk-full test needs root to mount a tmpfs ({why}) !!!!!!!!\n");
            return;
        }
    };
    let ballast: PathBuf = disk.path().join("ballast");
    std::fs::write(&ballast, vec![1u8; BALLAST_BYTES]).unwrap();
    // No reserve: the whole small disk is the log's to fill.
    let config = "segment_bytes = 1048576\ngroup_offsets_segment_bytes = 65536\ndisk_reserve_bytes = 0\n";
    let server = TestServer::start_in(env!("CARGO_BIN_EXE_pyralog-server"), disk.path().join("data"), config);
    let c = server.client().await;
    let log = unique("disk-full");
    c.create_log(&log, 1).await.unwrap();

    let mut acked = Vec::new();
    let refusal = loop {
        assert!(acked.len() < MAX_WRITES, "{} records written and the disk is still not full", acked.len());
        match c.produce(&log, Record::new(value(acked.len()))).await {
            Ok(_) => acked.push(format!("record-{:05}", acked.len())),
            Err(e) => break e,
        }
    };
    println!("disk full after {} records of {RECORD_BYTES} B: {refusal}", acked.len());
    assert_eq!(refusal.code(), ErrorCode::StorageFull, "{refusal}");
    assert!(refusal.is_retriable());
    assert!(acked.len() > 100, "only {} records fit", acked.len());
    // Still full: refused again, nothing half-written; every acknowledged record reads back.
    assert_eq!(c.produce(&log, Record::new(value(acked.len()))).await.unwrap_err().code(), ErrorCode::StorageFull);
    assert_eq!(read_values(&c, &log).await, acked);

    std::fs::remove_file(&ballast).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match c.produce(&log, Record::new(value(acked.len()))).await {
            Ok(_) => break,
            Err(e) if e.code() == ErrorCode::StorageFull && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("writes did not resume after freeing space: {e}"),
        }
    }
    acked.push(format!("record-{:05}", acked.len()));
    for _ in 0..20 {
        c.produce(&log, Record::new(value(acked.len()))).await.unwrap();
        acked.push(format!("record-{:05}", acked.len()));
    }
    assert_eq!(read_values(&c, &log).await, acked, "everything acknowledged, in order, nothing else");
    c.close().await;
    drop(server);
}
