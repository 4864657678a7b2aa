//! The threads that fsync partitions: group commit off the async runtime.
//!
//! A partition with appends waiting to become durable is queued once; a sync
//! thread takes it, fsyncs everything appended so far, publishes the durable
//! offset, and queues it again (at the back) if appends arrived meanwhile.
//! So one fsync covers every batch that arrived during the previous one,
//! partitions sync in parallel on up to `SYNC_THREADS` threads and take
//! turns beyond that, and a durable produce pays one thread wake-up to the
//! sync and one back — not a task hop plus a blocking-pool hand-off plus a
//! hop back (measured side by side: one-in-flight durable p50 274-289 µs
//! against 291-336 µs, docs/DECISIONS.md).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use prometheus_client::metrics::histogram::Histogram;

/// Threads fsyncing partitions at once. More partitions than this queue up
/// (each at most once); fsyncs of one disk gain little from more.
pub const SYNC_THREADS: usize = 4;

/// What the sync threads sync: a partition.
pub trait Syncable: Send + Sync + 'static {
    /// Its state with the sync threads.
    fn sync_slot(&self) -> &SyncSlot;
    /// Makes everything appended so far durable and publishes it. Returns
    /// `false` after a failure that stops this partition's syncing for good.
    fn sync_now(&self) -> bool;
}

/// Where a partition stands with the sync threads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    /// In the queue, waiting for a thread.
    Queued,
    /// A thread is syncing it; `again` is set when appends arrived since the
    /// sync began (they may be missed by it).
    Syncing { again: bool },
}

/// One partition's sync state; owned by the partition.
#[derive(Default)]
pub struct SyncSlot {
    state: Mutex<State>,
}

/// Partitions waiting for a thread (each at most once, so bounded by the
/// partition count), and whether the threads are to stop.
struct Queue {
    items: Mutex<(VecDeque<Arc<dyn Syncable>>, bool)>,
    ready: Condvar,
}

impl Queue {
    /// Queues `entry` at the back (nothing once the threads stopped: the
    /// partitions' own close syncs them).
    fn push(&self, entry: Arc<dyn Syncable>) {
        let mut items = self.items.lock();
        if !items.1 {
            items.0.push_back(entry);
            self.ready.notify_one();
        }
    }
}

/// A handle for queueing syncs; cheap to clone.
#[derive(Clone)]
pub struct SyncQueue {
    queue: Arc<Queue>,
    fsync_latency: Histogram,
}

impl SyncQueue {
    /// Records the duration of one fsync (the metrics' histogram).
    pub fn observe_fsync(&self, took: std::time::Duration) {
        self.fsync_latency.observe(took.as_secs_f64());
    }

    /// Asks for `item`'s appends so far to be made durable. Cheap when a
    /// sync is already queued or running for it.
    pub fn request<T: Syncable>(&self, item: &Arc<T>) {
        let mut st = item.sync_slot().state.lock();
        match *st {
            State::Idle => {
                *st = State::Queued;
                drop(st);
                self.queue.push(Arc::clone(item) as Arc<dyn Syncable>);
            }
            State::Syncing { again: false } => *st = State::Syncing { again: true },
            State::Queued | State::Syncing { again: true } => {}
        }
    }
}

/// The sync threads; dropping this stops them without waiting (a thread in
/// an fsync ends after it; what is queued is synced by the partitions' own
/// close).
pub struct Syncer {
    queue: SyncQueue,
}

impl Syncer {
    /// Starts `SYNC_THREADS` threads (detached: see `Drop`); partitions
    /// record their fsyncs' durations in `latency`.
    ///
    /// # Errors
    /// When the OS refuses a thread.
    pub fn start(latency: Histogram) -> std::io::Result<Self> {
        let queue = SyncQueue {
            queue: Arc::new(Queue { items: Mutex::new((VecDeque::new(), false)), ready: Condvar::new() }),
            fsync_latency: latency,
        };
        for i in 0..SYNC_THREADS {
            let q = Arc::clone(&queue.queue);
            std::thread::Builder::new().name(format!("pyralog-sync-{i}")).spawn(move || run(&q))?;
        }
        Ok(Syncer { queue })
    }

    pub fn queue(&self) -> SyncQueue {
        self.queue.clone()
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        let queued = {
            let mut items = self.queue.queue.items.lock();
            items.1 = true;
            std::mem::take(&mut items.0)
        };
        self.queue.queue.ready.notify_all();
        // Outside the lock. The threads are not joined: a hung fsync (a dead
        // disk) must not hang whoever drops this.
        drop(queued);
    }
}

fn run(q: &Queue) {
    loop {
        let entry = {
            let mut items = q.items.lock();
            loop {
                if items.1 {
                    return;
                }
                if let Some(e) = items.0.pop_front() {
                    break e;
                }
                // An idle wait: every push and the stop notify it.
                q.ready.wait(&mut items);
            }
        };
        if sync_once(&*entry) {
            q.push(entry);
        }
    }
}

/// Syncs `entry` once; returns whether appends arrived meanwhile (it is then
/// `Queued` again and goes to the back of the queue, so a busy partition
/// never keeps a thread from the others).
fn sync_once(entry: &dyn Syncable) -> bool {
    *entry.sync_slot().state.lock() = State::Syncing { again: false };
    let healthy = entry.sync_now();
    let mut st = entry.sync_slot().state.lock();
    if healthy && *st == (State::Syncing { again: true }) {
        *st = State::Queued;
        return true;
    }
    *st = State::Idle;
    false
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    /// Counts syncs; "appended" is what a sync should cover. With `meet`,
    /// each sync waits (bounded) until that many syncs run at once.
    #[derive(Default)]
    struct Fake {
        slot: SyncSlot,
        appended: AtomicU64,
        synced: AtomicU64,
        syncs: AtomicU64,
        meet: Option<(Arc<AtomicU64>, u64)>,
        met: std::sync::atomic::AtomicBool,
    }

    impl Syncable for Fake {
        fn sync_slot(&self) -> &SyncSlot {
            &self.slot
        }

        fn sync_now(&self) -> bool {
            let target = self.appended.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            if let Some((inside, n)) = &self.meet {
                inside.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(10);
                while inside.load(Ordering::SeqCst) < *n && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                self.met.store(inside.load(Ordering::SeqCst) >= *n, Ordering::SeqCst);
            }
            self.synced.fetch_max(target, Ordering::SeqCst);
            self.syncs.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    fn wait_until(what: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !what() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn appends_during_a_sync_are_covered_by_one_more_sync_not_one_each() {
        let syncer = Syncer::start(Histogram::new([1.0])).unwrap();
        let q = syncer.queue();
        let p = Arc::new(Fake::default());
        for i in 1..=200u64 {
            p.appended.store(i, Ordering::SeqCst);
            q.request(&p);
        }
        wait_until(|| p.synced.load(Ordering::SeqCst) == 200 && *p.slot.state.lock() == State::Idle);
        let syncs = p.syncs.load(Ordering::SeqCst);
        assert!((1..=10).contains(&syncs), "200 requests in ~0 ms took {syncs} syncs");
    }

    #[test]
    fn partitions_sync_in_parallel_and_dropping_the_syncer_stops_its_threads() {
        let syncer = Syncer::start(Histogram::new([1.0])).unwrap();
        let q = syncer.queue();
        let inside = Arc::new(AtomicU64::new(0));
        let parts: Vec<Arc<Fake>> = (0..SYNC_THREADS)
            .map(|_| Arc::new(Fake { meet: Some((Arc::clone(&inside), SYNC_THREADS as u64)), ..Fake::default() }))
            .collect();
        for p in &parts {
            p.appended.store(1, Ordering::SeqCst);
            q.request(p);
        }
        wait_until(|| parts.iter().all(|p| p.synced.load(Ordering::SeqCst) == 1));
        assert!(parts.iter().all(|p| p.met.load(Ordering::SeqCst)), "the syncs did not all run at once");
        drop(syncer);
        let p = Arc::new(Fake::default());
        q.request(&p);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(p.syncs.load(Ordering::SeqCst), 0, "no thread is left to sync");
    }

    #[test]
    fn a_partition_behind_busy_ones_gets_its_turn() {
        let syncer = Syncer::start(Histogram::new([1.0])).unwrap();
        let q = syncer.queue();
        let busy: Vec<Arc<Fake>> = (0..SYNC_THREADS).map(|_| Arc::new(Fake::default())).collect();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hammer = {
            let (q, busy, stop) = (q.clone(), busy.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                // Longer than `wait_until`: the late partition must get its
                // turn while the others are still busy.
                let deadline = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    for p in &busy {
                        p.appended.fetch_add(1, Ordering::SeqCst);
                        q.request(p);
                    }
                    std::thread::yield_now();
                }
            })
        };
        wait_until(|| busy.iter().all(|p| p.syncs.load(Ordering::SeqCst) >= 2));
        let late = Arc::new(Fake::default());
        late.appended.store(1, Ordering::SeqCst);
        q.request(&late);
        wait_until(|| late.synced.load(Ordering::SeqCst) == 1);
        stop.store(true, Ordering::SeqCst);
        hammer.join().unwrap();
    }
}
