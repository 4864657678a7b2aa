//! A small JSON file the server watches and commands edit: read again
//! only when it changed (inode, size, modification time), so a check per
//! connection or per second costs a `stat`, not a parse; edited atomically
//! under an exclusive lock, so two concurrent edits both land. The token
//! file and the certificate deny-list are both one of these.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What identifies one version of the file: inode, size, modification time.
type FileVersion = (u64, u64, Option<std::time::SystemTime>);
/// The contents as last read, and their version.
type Cached<T> = Arc<Mutex<Option<(FileVersion, Arc<T>)>>>;

/// The contents of a watched file: JSON, bounded in size and entries.
pub trait FileContents: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Largest file read.
    const MAX_BYTES: u64;
    /// Checks a parsed file (its entry bound).
    ///
    /// # Errors
    /// A message naming the bound.
    fn check(&self) -> anyhow::Result<()>;
}

/// One watched file and its last good contents.
#[derive(Debug)]
pub struct WatchedFile<T> {
    path: PathBuf,
    cached: Cached<T>,
    /// Bumped each time a changed file is read.
    generation: Arc<AtomicU64>,
}

impl<T> Clone for WatchedFile<T> {
    fn clone(&self) -> Self {
        WatchedFile {
            path: self.path.clone(),
            cached: Arc::clone(&self.cached),
            generation: Arc::clone(&self.generation),
        }
    }
}

impl<T: FileContents> WatchedFile<T> {
    pub fn new(path: PathBuf) -> WatchedFile<T> {
        WatchedFile { path, cached: Arc::new(Mutex::new(None)), generation: Arc::new(AtomicU64::new(0)) }
    }

    /// Changes with every new version of the file read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The contents as last read (no I/O); empty before the first read.
    pub fn cached(&self) -> Arc<T> {
        self.cached.lock().as_ref().map_or_else(|| Arc::new(T::default()), |(_, f)| Arc::clone(f))
    }

    /// The contents, read again only when the file changed (a rename over
    /// it, as `edit` does, is a new inode). A missing file is empty.
    ///
    /// # Errors
    /// An unreadable or malformed file (the last good version stays).
    pub fn current(&self) -> anyhow::Result<Arc<T>> {
        use std::os::unix::fs::MetadataExt;
        let version = match fs::metadata(&self.path) {
            Ok(m) => (m.ino(), m.len(), m.modified().ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, 0, None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        if let Some((v, file)) = self.cached.lock().as_ref() {
            if *v == version {
                return Ok(Arc::clone(file));
            }
        }
        let file = Arc::new(self.read()?);
        *self.cached.lock() = Some((version, Arc::clone(&file)));
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(file)
    }

    /// The file as it is now (always read).
    ///
    /// # Errors
    /// An unreadable, oversized or malformed file.
    pub fn read(&self) -> anyhow::Result<T> {
        let file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
            Err(e) => return Err(e).with_context(|| format!("opening {}", self.path.display())),
        };
        let mut text = String::new();
        file.take(T::MAX_BYTES + 1).read_to_string(&mut text)?;
        if text.len() as u64 > T::MAX_BYTES {
            bail!("{} exceeds {} bytes", self.path.display(), T::MAX_BYTES);
        }
        let parsed: T = serde_json::from_str(&text).with_context(|| format!("parsing {}", self.path.display()))?;
        parsed.check().with_context(|| self.path.display().to_string())?;
        Ok(parsed)
    }

    /// Read, change, write atomically (owner-only), under an exclusive lock.
    ///
    /// # Errors
    /// What `change` refuses, or I/O.
    pub fn edit(&self, change: impl FnOnce(&mut T) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = self.path.with_extension("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        lock_exclusive(&lock).with_context(|| format!("locking {}", lock_path.display()))?;
        let mut file = self.read()?;
        change(&mut file)?;
        file.check()?;
        let text = serde_json::to_vec_pretty(&file)?;
        crate::tls::write_private_atomically(&self.path, &text)?;
        Ok(())
    }
}

/// Blocks until this process holds `file`'s exclusive advisory lock
/// (released when the file is closed).
fn lock_exclusive(file: &fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows open; no memory is shared.
    match unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
