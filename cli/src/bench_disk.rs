//! `pyralog bench fsync`: the disk's part of a durable append, without a
//! server. Each round writes one record-batch-sized block after the last and
//! fdatasyncs the file — what the server does per group-commit cycle of a
//! lone producer, into a file preallocated as the server preallocates its
//! active segment — so a durable one-in-flight produce cannot be faster than
//! this (like PostgreSQL's `pg_test_fsync`).

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use hdrhistogram::Histogram;

/// Largest block one round writes.
const BLOCK_BYTES_MAX: usize = 1 << 20;
/// Most rounds one run makes.
const ROUNDS_MAX: u64 = 1_000_000;
/// Longest round the latency histogram records (one minute), in µs.
const ROUND_LATENCY_MAX_US: u64 = 60_000_000;
/// Largest scratch file (rounds x block size).
const FILE_BYTES_MAX: u64 = 1 << 30;

#[derive(Args)]
pub struct FsyncBench {
    /// Directory to write the scratch file in (the server's data directory's disk).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Bytes written before each fdatasync (one 100 B record's batch is ~170 B).
    #[arg(long, default_value_t = 170)]
    block_size: usize,
    /// Write + fdatasync rounds.
    #[arg(long, default_value_t = 5000)]
    count: u64,
    /// Write into a file grown block by block instead of one preallocated
    /// (`posix_fallocate`) as the server's segments are.
    #[arg(long)]
    no_preallocate: bool,
    /// Also print a JSON line.
    #[arg(long)]
    json: bool,
}

/// Runs the probe; the scratch file is removed afterwards.
///
/// # Errors
/// Arguments out of range, or any I/O error (named with the file).
pub fn fsync(b: &FsyncBench) -> anyhow::Result<()> {
    anyhow::ensure!((1..=BLOCK_BYTES_MAX).contains(&b.block_size), "--block-size must be 1..={BLOCK_BYTES_MAX}");
    anyhow::ensure!((1..=ROUNDS_MAX).contains(&b.count), "--count must be 1..={ROUNDS_MAX}");
    let file_bytes = b.count * b.block_size as u64;
    anyhow::ensure!(
        file_bytes <= FILE_BYTES_MAX,
        "--count x --block-size is {file_bytes} bytes; at most {FILE_BYTES_MAX} (FILE_BYTES_MAX)"
    );
    let path = b.dir.join(format!(".pyralog-fsync-probe-{}", std::process::id()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let result = preallocate(&file, file_bytes, !b.no_preallocate).and_then(|()| rounds(&file, b));
    drop(file);
    let _ = std::fs::remove_file(&path);
    let (hist, elapsed) = result.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let rate = b.count as f64 / elapsed;
    let (p50, p99, p999) = (hist.value_at_quantile(0.5), hist.value_at_quantile(0.99), hist.value_at_quantile(0.999));
    println!(
        "fsync: {} rounds of write {} B + fdatasync in {} ({}): {rate:.0} syncs/s, latency p50 {p50} us, p99 {p99} us, p99.9 {p999} us",
        b.count,
        b.block_size,
        b.dir.display(),
        if b.no_preallocate { "file grown per write" } else { "preallocated file" },
    );
    if b.json {
        println!(
            "{{\"bench\":\"fsync\",\"rounds\":{},\"block_size\":{},\"syncs_per_s\":{rate:.0},\"p50_us\":{p50},\"p99_us\":{p99},\"p999_us\":{p999}}}",
            b.count, b.block_size
        );
    }
    Ok(())
}

/// Allocates `len` bytes of the file up front (made durable), as the server
/// does for an active segment.
fn preallocate(file: &std::fs::File, len: u64, on: bool) -> std::io::Result<()> {
    if !on {
        return Ok(());
    }
    let len = libc::off_t::try_from(len).map_err(|_| std::io::Error::other("file too large"))?;
    // SAFETY: posix_fallocate on a descriptor we own and keep open.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    file.sync_all()
}

fn rounds(file: &std::fs::File, b: &FsyncBench) -> std::io::Result<(Histogram<u64>, f64)> {
    let block = vec![b'x'; b.block_size];
    let mut hist = Histogram::<u64>::new_with_bounds(1, ROUND_LATENCY_MAX_US, 3).expect("valid histogram bounds");
    let start = Instant::now();
    for i in 0..b.count {
        let t0 = Instant::now();
        file.write_all_at(&block, i * b.block_size as u64)?;
        file.sync_data()?;
        let _ = hist.record(t0.elapsed().as_micros() as u64);
    }
    Ok((hist, start.elapsed().as_secs_f64()))
}
