//! Consumer groups on the client: the assignors the leader runs, the
//! membership state machine, and the session that drives both from
//! `Consumer::poll`.

pub mod assignor;
mod calls;
mod member;
mod session;

pub use calls::{GroupDescription, GroupMember, GroupOffset, GroupSummary};
pub(crate) use session::GroupSession;
pub use session::RebalanceListener;
