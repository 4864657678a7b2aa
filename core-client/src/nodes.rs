//! The cluster's nodes as the client reaches them: one connection per node
//! address, opened on first use, and the node that answers requests any
//! node may answer (admin, metadata), replaced by another bootstrap or known
//! node when it cannot be reached.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use pyralog_protocol::ErrorCode;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::transport::{NetworkStats, Transport};

/// Most bootstrap addresses one client accepts.
pub const MAX_BOOTSTRAP_SERVERS: usize = 64;

/// Splits `host:port,host:port` into addresses.
///
/// # Errors
/// `InvalidArgument` for an empty list or more than `MAX_BOOTSTRAP_SERVERS`.
pub fn parse_servers(servers: &str) -> Result<Vec<String>> {
    let list: Vec<String> = servers.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if list.is_empty() {
        return Err(Error::invalid_argument("no server address given (HOST:PORT, comma-separated for several)"));
    }
    if list.len() > MAX_BOOTSTRAP_SERVERS {
        return Err(Error::invalid_argument(format!(
            "{} server addresses; at most MAX_BOOTSTRAP_SERVERS ({MAX_BOOTSTRAP_SERVERS})",
            list.len()
        )));
    }
    Ok(list)
}

pub(crate) struct Nodes {
    config: ClientConfig,
    bootstrap: Vec<String>,
    /// The node answering requests any node may answer.
    any: Mutex<Arc<Transport>>,
    by_addr: Mutex<HashMap<String, Arc<Transport>>>,
    /// Node id -> address, from the metadata.
    addrs: Mutex<BTreeMap<u32, String>>,
    /// One connection attempt to a new address at a time.
    connecting: tokio::sync::Mutex<()>,
    closed: AtomicBool,
}

impl Nodes {
    /// Figures of every open connection.
    pub fn network_stats(&self) -> NetworkStats {
        let mut stats = NetworkStats::default();
        self.by_addr.lock().values().for_each(|t| t.add_stats(&mut stats));
        stats
    }

    /// Connects to the first of `servers` that answers.
    ///
    /// # Errors
    /// `TlsError` (wrong CA), `AuthenticationFailed`, `ConnectionFailed` (none answered), `InvalidArgument`.
    pub(crate) async fn connect(servers: &str, config: &ClientConfig) -> Result<Nodes> {
        let bootstrap = parse_servers(servers)?;
        let mut last = None;
        for addr in &bootstrap {
            match Transport::connect(addr, config).await {
                Ok(t) => {
                    let t = Arc::new(t);
                    return Ok(Nodes {
                        config: config.clone(),
                        by_addr: Mutex::new(HashMap::from([(addr.clone(), Arc::clone(&t))])),
                        any: Mutex::new(t),
                        bootstrap,
                        addrs: Mutex::new(BTreeMap::new()),
                        connecting: tokio::sync::Mutex::new(()),
                        closed: AtomicBool::new(false),
                    });
                }
                // Another node would refuse this client's identity alike.
                Err(e) if matches!(e.code(), ErrorCode::TlsError | ErrorCode::AuthenticationFailed) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorCode::ConnectionFailed, "no server answered")))
    }

    /// The node for requests any node may answer.
    pub(crate) fn any(&self) -> Arc<Transport> {
        Arc::clone(&self.any.lock())
    }

    /// Every address worth trying, the current one's alternatives first.
    fn candidates(&self) -> Vec<String> {
        let mut v: Vec<String> = self.addrs.lock().values().cloned().collect();
        for b in &self.bootstrap {
            if !v.contains(b) {
                v.push(b.clone());
            }
        }
        v
    }

    /// Replaces `failed` as the node for any-node requests with the next
    /// node after it that can be dialed (one that just went silent only
    /// when no other is left); `None` when there is none.
    pub(crate) async fn fail_over(&self, failed: &Arc<Transport>) -> Option<Arc<Transport>> {
        let addr = self.by_addr.lock().iter().find(|(_, t)| Arc::ptr_eq(t, failed)).map(|(a, _)| a.clone());
        for a in self.others(addr.as_deref().unwrap_or("")) {
            if let Ok(t) = self.at(&a).await {
                *self.any.lock() = Arc::clone(&t);
                return Some(t);
            }
        }
        None
    }

    /// The addresses of the known nodes other than node `id`, in the order
    /// [`Nodes::others`] gives.
    pub(crate) fn other_than(&self, id: u32) -> Vec<String> {
        let addr = self.addrs.lock().get(&id).cloned().unwrap_or_default();
        self.others(&addr)
    }

    /// Every address worth trying but `addr`: those after it first (so that
    /// repeated failures walk the whole cluster instead of going back and
    /// forth between two nodes), those that went silent just now last.
    fn others(&self, addr: &str) -> Vec<String> {
        let mut candidates = self.candidates();
        if let Some(i) = candidates.iter().position(|a| a == addr) {
            candidates.rotate_left(i + 1);
            candidates.pop();
        }
        let by_addr = self.by_addr.lock();
        candidates.sort_by_key(|a| by_addr.get(a).is_some_and(|t| t.is_silent()));
        candidates
    }

    /// The nodes the metadata says are fenced (dead or cut off): their
    /// connections are dropped rather than waited on.
    pub(crate) fn fenced(&self, ids: impl IntoIterator<Item = u32>) {
        let addrs = self.addrs.lock();
        let by_addr = self.by_addr.lock();
        for id in ids {
            if let Some(t) = addrs.get(&id).and_then(|a| by_addr.get(a)) {
                if !t.is_silent() {
                    t.mark_silent();
                }
            }
        }
    }

    /// How many different nodes a request may be tried on.
    pub(crate) fn reach(&self) -> usize {
        self.candidates().len().max(1)
    }

    /// The connection to `addr`, opened on first use.
    pub(crate) async fn at(&self, addr: &str) -> Result<Arc<Transport>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("client"));
        }
        if let Some(t) = self.by_addr.lock().get(addr) {
            return Ok(Arc::clone(t));
        }
        let _one = self.connecting.lock().await;
        if let Some(t) = self.by_addr.lock().get(addr) {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new(Transport::connect(addr, &self.config).await?);
        self.by_addr.lock().insert(addr.to_owned(), Arc::clone(&t));
        Ok(t)
    }

    /// The connection to node `id`.
    ///
    /// # Errors
    /// `NotLeader` when the metadata names no address for it (refresh and
    /// retry); connection errors.
    pub(crate) async fn node(&self, id: u32) -> Result<Arc<Transport>> {
        let addr = self.addrs.lock().get(&id).cloned();
        match addr {
            Some(a) => self.at(&a).await,
            None => {
                Err(Error::new(ErrorCode::NotLeader, format!("no address known for node {id}; refresh the metadata")))
            }
        }
    }

    /// The nodes the metadata names. A node that advertises an unspecified
    /// host (a server listening on `0.0.0.0`) is reached through the host of
    /// the first bootstrap address.
    pub(crate) fn learn(&self, nodes: impl IntoIterator<Item = (u32, String)>) {
        let mut addrs = self.addrs.lock();
        for (id, addr) in nodes {
            addrs.insert(id, self.reachable(addr));
        }
    }

    fn reachable(&self, addr: String) -> String {
        match addr.parse::<std::net::SocketAddr>() {
            Ok(sa) if sa.ip().is_unspecified() => {
                let boot = &self.bootstrap[0];
                let host = boot.rsplit_once(':').map_or(boot.as_str(), |(h, _)| h);
                format!("{host}:{}", sa.port())
            }
            _ => addr,
        }
    }

    /// Whether the metadata named an address for node `id`.
    pub(crate) fn knows(&self, id: u32) -> bool {
        self.addrs.lock().contains_key(&id)
    }

    pub(crate) async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let all: Vec<Arc<Transport>> = self.by_addr.lock().values().cloned().collect();
        for t in all {
            t.close().await;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lists_split_on_commas_and_bad_ones_are_refused() {
        assert_eq!(parse_servers("a:1, b:2,").unwrap(), vec!["a:1", "b:2"]);
        assert_eq!(parse_servers(" ,").unwrap_err().code(), ErrorCode::InvalidArgument);
        let many = vec!["a:1"; MAX_BOOTSTRAP_SERVERS + 1].join(",");
        assert_eq!(parse_servers(&many).unwrap_err().code(), ErrorCode::InvalidArgument);
    }
}
