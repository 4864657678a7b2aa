//! The waiting room: client connections that have no identity yet (no
//! client certificate, no `authenticate` answered) hold a place here until
//! they are admitted or closed. It is bounded in all and per remote
//! address. When it is full, the connection that has waited longest
//! *without sending `authenticate`* — from the address holding the most
//! places — is closed to make room, so a flood of idle connections cannot
//! keep a client that authenticates at once from getting in; only when
//! every waiting connection is authenticating is the newcomer refused
//! (`Busy`).
//!
//! What a waiting connection can make the server hold is bounded too
//! (`service.rs`): a receive window of `UNAUTHENTICATED_RECEIVE_WINDOW_BYTES`
//! and `MAX_UNAUTHENTICATED_STREAMS` streams of at most
//! `MAX_UNAUTHENTICATED_REQUEST_BYTES` each.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use pyralog_protocol::{ErrorCode, ProtocolError};

/// Connections that may wait for their identity at once.
pub const MAX_UNAUTHENTICATED_CONNECTIONS: usize = 256;
/// ...and from one address, so one host cannot take every place.
pub const MAX_UNAUTHENTICATED_PER_ADDRESS: usize = 16;

/// Closes a waiting connection that is evicted to make room.
pub type Evict = Box<dyn FnOnce(ProtocolError) + Send>;

struct Waiter {
    ip: IpAddr,
    /// It sent `authenticate`: never evicted for a newcomer.
    authenticating: bool,
    evict: Evict,
}

#[derive(Default)]
struct Room {
    /// Age order: a lower id waited longer.
    next_id: u64,
    waiters: BTreeMap<u64, Waiter>,
    per_address: HashMap<IpAddr, usize>,
}

impl Room {
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&w.ip) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&w.ip);
            }
        }
        Some(w)
    }

    /// Whom to close for a newcomer from `ip`: when `ip` holds its share,
    /// its own longest-waiting idle connection; when the room is full, the
    /// longest-waiting idle connection of the address holding the most.
    /// `Err` when there is no room and nobody to close.
    fn victim_for(&self, ip: IpAddr) -> Result<Option<u64>, ()> {
        let idle = |w: &&Waiter| !w.authenticating;
        if self.per_address.get(&ip).copied().unwrap_or(0) >= MAX_UNAUTHENTICATED_PER_ADDRESS {
            return self.waiters.iter().find(|(_, w)| w.ip == ip && idle(w)).map(|(id, _)| Some(*id)).ok_or(());
        }
        if self.waiters.len() < MAX_UNAUTHENTICATED_CONNECTIONS {
            return Ok(None);
        }
        let mut best: Option<(usize, u64)> = None;
        for (id, w) in self.waiters.iter().filter(|(_, w)| idle(w)) {
            let held = self.per_address[&w.ip];
            if best.is_none_or(|(most, _)| held > most) {
                best = Some((held, *id));
            }
        }
        best.map(|(_, id)| Some(id)).ok_or(())
    }
}

/// The connections still without an identity.
#[derive(Default)]
pub struct WaitingRoom {
    room: Mutex<Room>,
}

/// One waiting connection's place; given back on drop.
pub struct WaitingSlot {
    room: Arc<WaitingRoom>,
    id: u64,
}

impl WaitingSlot {
    /// The connection sent `authenticate`: it keeps its place until
    /// admitted, refused or closed.
    pub fn authenticating(&self) {
        if let Some(w) = self.room.room.lock().waiters.get_mut(&self.id) {
            w.authenticating = true;
        }
    }
}

impl Drop for WaitingSlot {
    fn drop(&mut self) {
        self.room.room.lock().remove(self.id);
    }
}

fn full() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::Busy,
        format!(
            "too many connections wait to authenticate (MAX_UNAUTHENTICATED_CONNECTIONS \
             {MAX_UNAUTHENTICATED_CONNECTIONS}, MAX_UNAUTHENTICATED_PER_ADDRESS {MAX_UNAUTHENTICATED_PER_ADDRESS}); \
             retry shortly"
        ),
    )
}

impl WaitingRoom {
    /// Places a new connection from `ip`, closing (through its `evict`)
    /// a longer-waiting idle one if there is no room.
    ///
    /// # Errors
    /// `Busy` when there is no room and every waiting connection of the
    /// address (or of the room) is authenticating.
    pub fn enter(self: &Arc<Self>, ip: IpAddr, evict: Evict) -> Result<WaitingSlot, ProtocolError> {
        let mut room = self.room.lock();
        let victim = match room.victim_for(ip) {
            Ok(v) => v.and_then(|id| room.remove(id)),
            Err(()) => return Err(full()),
        };
        let id = room.next_id;
        room.next_id += 1;
        room.waiters.insert(id, Waiter { ip, authenticating: false, evict });
        *room.per_address.entry(ip).or_insert(0) += 1;
        drop(room);
        if let Some(v) = victim {
            (v.evict)(ProtocolError::new(
                ErrorCode::Busy,
                "closed to make room in the waiting room: authenticate as soon as the connection opens",
            ));
        }
        Ok(WaitingSlot { room: Arc::clone(self), id })
    }

    /// Connections waiting now.
    pub fn len(&self) -> usize {
        self.room.lock().waiters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An eviction that counts itself in `closed`, tagged `tag`.
    fn evict(closed: &Arc<Mutex<Vec<u32>>>, tag: u32) -> Evict {
        let closed = Arc::clone(closed);
        Box::new(move |_| closed.lock().push(tag))
    }

    #[test]
    fn a_full_address_loses_its_longest_waiting_idle_connection_and_places_are_given_back() {
        let room = Arc::new(WaitingRoom::default());
        let closed = Arc::new(Mutex::new(Vec::new()));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let held: Vec<_> =
            (0..MAX_UNAUTHENTICATED_PER_ADDRESS as u32).map(|i| room.enter(a, evict(&closed, i)).unwrap()).collect();
        held[0].authenticating();
        let _newer = room.enter(a, evict(&closed, 99)).unwrap();
        assert_eq!(*closed.lock(), [1], "the oldest idle one of that address, not the authenticating one");
        let other = room.enter(b, evict(&closed, 100)).unwrap();
        assert_eq!(room.len(), MAX_UNAUTHENTICATED_PER_ADDRESS + 1);
        held.iter().for_each(WaitingSlot::authenticating);
        _newer.authenticating();
        assert_eq!(room.enter(a, evict(&closed, 101)).err().unwrap().code, ErrorCode::Busy, "all authenticating");
        drop((held, _newer, other));
        assert!(room.is_empty() && room.room.lock().per_address.is_empty());
    }

    #[test]
    fn a_full_room_closes_an_idle_connection_of_the_address_holding_the_most() {
        let room = Arc::new(WaitingRoom::default());
        let closed = Arc::new(Mutex::new(Vec::new()));
        let flooders = MAX_UNAUTHENTICATED_CONNECTIONS / MAX_UNAUTHENTICATED_PER_ADDRESS;
        let mut held = Vec::new();
        // One early connection from a quiet address, then a flood.
        let quiet: IpAddr = "10.1.0.1".parse().unwrap();
        held.push(room.enter(quiet, evict(&closed, 0)).unwrap());
        let mut tag = 1;
        'fill: for f in 0..flooders {
            for _ in 0..MAX_UNAUTHENTICATED_PER_ADDRESS {
                if room.len() == MAX_UNAUTHENTICATED_CONNECTIONS {
                    break 'fill;
                }
                held.push(room.enter(IpAddr::from([10, 2, 0, f as u8]), evict(&closed, tag)).unwrap());
                tag += 1;
            }
        }
        assert_eq!(room.len(), MAX_UNAUTHENTICATED_CONNECTIONS);
        let count = Arc::new(AtomicUsize::new(0));
        let token_client: IpAddr = "10.3.0.1".parse().unwrap();
        let c = Arc::clone(&count);
        let slot = room
            .enter(
                token_client,
                Box::new(move |_| {
                    c.fetch_add(1, Ordering::SeqCst);
                }),
            )
            .unwrap();
        slot.authenticating();
        assert_eq!(closed.lock().len(), 1);
        assert_ne!(closed.lock()[0], 0, "the quiet address's one connection is not the first to go");
        assert_eq!(closed.lock()[0], 1, "the longest waiting of the fullest address");
        assert_eq!(room.len(), MAX_UNAUTHENTICATED_CONNECTIONS);
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
}
