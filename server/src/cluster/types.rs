//! The Raft type configuration of the metadata quorum.

use std::io::Cursor;

use super::state::{Command, Outcome};

/// Raft node ids are the config's `node_id`s, widened.
pub type RaftNodeId = u64;

openraft::declare_raft_types!(
    /// Metadata commands in, their outcomes out; a snapshot is the
    /// serialized state machine.
    pub TypeConfig:
        D = Command,
        R = Outcome,
        NodeId = RaftNodeId,
        Node = openraft::BasicNode,
        SnapshotData = Cursor<Vec<u8>>,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<RaftNodeId>;
pub type Vote = openraft::Vote<RaftNodeId>;
pub type StorageError = openraft::StorageError<RaftNodeId>;
pub type StoredMembership = openraft::StoredMembership<RaftNodeId, openraft::BasicNode>;
pub type SnapshotMeta = openraft::SnapshotMeta<RaftNodeId, openraft::BasicNode>;
pub type Snapshot = openraft::Snapshot<TypeConfig>;
