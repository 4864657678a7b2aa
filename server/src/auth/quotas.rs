//! Per-principal quotas over all of a principal's connections: how many
//! connections it holds, and how many requests per second it sends (a
//! token bucket holding one second's worth). A principal's entry outlives
//! its last connection until its bucket is full again (so reconnecting does
//! not refill it); entries that carry nothing are pruned once the table
//! outgrows `max_connections`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyralog_protocol::ProtocolError;

use super::config::QuotaConfig;

/// Wait advised to a principal over its connection quota.
pub const CONNECTION_RETRY_AFTER_MS: u32 = 1_000;

struct Usage {
    connections: u32,
    /// Requests the principal may send now (fractional refill).
    tokens: f64,
    refilled: Instant,
}

/// The quotas and what each connected principal uses.
pub struct Quotas {
    cfg: QuotaConfig,
    usage: Mutex<HashMap<Arc<str>, Usage>>,
    /// Entries kept before pruning those that carry nothing.
    prune_above: usize,
}

/// One connection counted against its principal; released on drop.
pub struct ConnectionPermit {
    quotas: Arc<Quotas>,
    principal: Arc<str>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut usage = self.quotas.usage.lock();
        if let Some(u) = usage.get_mut(&self.principal) {
            u.connections -= 1;
        }
    }
}

impl Quotas {
    pub fn new(cfg: QuotaConfig, max_connections: usize) -> Arc<Quotas> {
        Arc::new(Quotas { cfg, usage: Mutex::new(HashMap::new()), prune_above: max_connections })
    }

    /// Drops entries without connections whose bucket refilled: they
    /// carry nothing a fresh entry would not.
    fn prune(&self, usage: &mut HashMap<Arc<str>, Usage>) {
        let full_after = Duration::from_secs(1);
        usage.retain(|_, u| u.connections > 0 || u.refilled.elapsed() < full_after);
    }

    /// Counts a new connection of `principal`.
    ///
    /// # Errors
    /// `Throttled` when it holds `connections_per_principal` already.
    pub fn connect(self: &Arc<Self>, principal: &Arc<str>) -> Result<ConnectionPermit, ProtocolError> {
        let mut usage = self.usage.lock();
        if usage.len() > self.prune_above {
            self.prune(&mut usage);
        }
        let rate = f64::from(self.cfg.requests_per_second_per_principal);
        let u = usage.entry(Arc::clone(principal)).or_insert(Usage {
            connections: 0,
            tokens: rate,
            refilled: Instant::now(),
        });
        let max = self.cfg.connections_per_principal;
        if max > 0 && u.connections >= max {
            return Err(ProtocolError::throttled(
                format!("{principal} holds {} connections; connections_per_principal is {max}", u.connections),
                CONNECTION_RETRY_AFTER_MS,
            ));
        }
        u.connections += 1;
        Ok(ConnectionPermit { quotas: Arc::clone(self), principal: Arc::clone(principal) })
    }

    /// Takes one request from `principal`'s budget.
    ///
    /// # Errors
    /// `Throttled`, with the wait until the next request is allowed.
    pub fn admit_request(&self, principal: &str) -> Result<(), ProtocolError> {
        let per_second = self.cfg.requests_per_second_per_principal;
        if per_second == 0 {
            return Ok(());
        }
        let rate = f64::from(per_second);
        let mut usage = self.usage.lock();
        let Some(u) = usage.get_mut(principal) else { return Ok(()) };
        let now = Instant::now();
        u.tokens = (u.tokens + now.duration_since(u.refilled).as_secs_f64() * rate).min(rate);
        u.refilled = now;
        if u.tokens >= 1.0 {
            u.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - u.tokens) / rate);
        let wait_ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX).max(1);
        Err(ProtocolError::throttled(
            format!("{principal} is over requests_per_second_per_principal ({per_second}); retry after {wait_ms} ms"),
            wait_ms,
        ))
    }
}

#[cfg(test)]
mod tests {
    use pyralog_protocol::ErrorCode;

    use super::*;

    #[test]
    fn connections_are_counted_until_dropped_and_requests_refill_over_time() {
        let q = Quotas::new(QuotaConfig { connections_per_principal: 2, requests_per_second_per_principal: 10 }, 1);
        let alice: Arc<str> = Arc::from("alice");
        let (a, _b) = (q.connect(&alice).unwrap(), q.connect(&alice).unwrap());
        let e = q.connect(&alice).err().unwrap();
        assert_eq!((e.code, e.retry_after_ms), (ErrorCode::Throttled, CONNECTION_RETRY_AFTER_MS));
        assert!(q.connect(&Arc::from("bob")).is_ok(), "quotas are per principal");
        drop(a);
        let _c = q.connect(&alice).unwrap();
        for _ in 0..10 {
            q.admit_request("alice").unwrap();
        }
        let e = q.admit_request("alice").unwrap_err();
        assert!(e.code == ErrorCode::Throttled && (1..=100).contains(&e.retry_after_ms), "{e:?}");
        std::thread::sleep(Duration::from_millis(u64::from(e.retry_after_ms) + 5));
        q.admit_request("alice").unwrap();

        // Reconnecting does not refill the bucket.
        drop((_b, _c));
        let _d = q.connect(&alice).unwrap();
        assert_eq!(q.admit_request("alice").unwrap_err().code, ErrorCode::Throttled);
        // An entry without connections goes once its bucket is full again.
        drop(_d);
        std::thread::sleep(Duration::from_millis(1_010));
        let _e = q.connect(&Arc::from("carol")).unwrap();
        assert!(!q.usage.lock().contains_key("alice"));
    }
}
