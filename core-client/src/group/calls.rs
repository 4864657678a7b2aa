//! The group requests, as client calls. Join and sync may wait for the
//! rest of the group, up to the rebalance timeout; the caller passes it.

use std::time::Duration;

use pyralog_protocol::group::{LogPartitions, PartitionOffset, Subscription};
use pyralog_protocol::pyralog_capnp::{response, GroupState};

use crate::client::{Client, Route};
use crate::error::Result;
use crate::wire::{self, capnp_err, unexpected};

/// A join's answer.
#[derive(Debug, Clone)]
pub(crate) struct JoinAnswer {
    pub generation: i32,
    pub protocol: String,
    pub leader_id: String,
    pub member_id: String,
    pub members: Vec<(String, Subscription)>,
}

/// A join request.
pub(crate) struct JoinRequest<'a> {
    pub group: &'a str,
    pub member_id: &'a str,
    pub instance_id: Option<&'a str>,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocols: Vec<(String, Subscription)>,
}

/// A group as `list_groups` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub name: String,
    /// `Empty`, `PreparingRebalance`, `CompletingRebalance` or `Stable`.
    pub state: String,
    pub member_count: u32,
    /// The assignor in use.
    pub protocol: String,
    pub generation: i32,
}

/// One member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub partitions: Vec<LogPartitions>,
}

/// One committed partition of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffset {
    pub log: String,
    pub partition: u32,
    pub committed: u64,
    /// High watermark minus the committed offset.
    pub lag: u64,
}

/// `describe_group`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub summary: GroupSummary,
    pub members: Vec<GroupMember>,
    pub offsets: Vec<GroupOffset>,
}

/// Next-offsets-to-read as commit entries (no commit metadata).
pub(crate) fn to_wire_offsets(offsets: &[(crate::LogPartition, u64)]) -> Vec<PartitionOffset> {
    offsets
        .iter()
        .map(|(lp, o)| PartitionOffset {
            log: lp.log.to_string(),
            partition: lp.partition,
            offset: *o,
            metadata: String::new(),
        })
        .collect()
}

fn owned_text(t: capnp::Result<capnp::text::Reader<'_>>) -> Result<String> {
    t.map_err(capnp_err)?.to_string().map_err(|e| capnp_err(e.into()))
}

fn ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn read_summary(r: pyralog_protocol::pyralog_capnp::group_summary::Reader<'_>) -> Result<GroupSummary> {
    let state = match r.get_state() {
        Ok(GroupState::Empty) => "Empty",
        Ok(GroupState::PreparingRebalance) => "PreparingRebalance",
        Ok(GroupState::CompletingRebalance) => "CompletingRebalance",
        Ok(GroupState::Stable) => "Stable",
        Err(_) => "Unknown",
    };
    Ok(GroupSummary {
        name: owned_text(r.get_name())?,
        state: state.to_owned(),
        member_count: r.get_member_count(),
        protocol: owned_text(r.get_protocol())?,
        generation: r.get_generation(),
    })
}

impl Client {
    pub(crate) async fn join_group(&self, j: JoinRequest<'_>) -> Result<JoinAnswer> {
        let req = wire::request(|r| {
            let mut b = r.init_join_group();
            b.set_group(j.group);
            b.set_member_id(j.member_id);
            b.set_group_instance_id(j.instance_id.unwrap_or(""));
            b.set_session_timeout_ms(ms(j.session_timeout));
            b.set_rebalance_timeout_ms(ms(j.rebalance_timeout));
            let mut list = b.init_protocols(j.protocols.len() as u32);
            for (i, (name, sub)) in j.protocols.iter().enumerate() {
                let mut p = list.reborrow().get(i as u32);
                p.set_name(name.as_str());
                sub.write(p.init_subscription());
            }
        });
        let wait = j.rebalance_timeout + self.inner.config.request_timeout;
        self.call_routed(Route::Coordinator, req, wait, |w| match w {
            response::JoinGroup(r) => {
                let r = r.map_err(capnp_err)?;
                let mut members = Vec::new();
                for m in r.get_members().map_err(capnp_err)?.iter() {
                    let id = owned_text(m.get_member_id())?;
                    members.push((id, Subscription::read(m.get_subscription().map_err(capnp_err)?)?));
                }
                Ok(JoinAnswer {
                    generation: r.get_generation(),
                    protocol: owned_text(r.get_protocol())?,
                    leader_id: owned_text(r.get_leader_id())?,
                    member_id: owned_text(r.get_member_id())?,
                    members,
                })
            }
            _ => Err(unexpected()),
        })
        .await
    }

    pub(crate) async fn sync_group(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        assignments: &[(String, Vec<LogPartitions>)],
        wait: Duration,
    ) -> Result<Vec<LogPartitions>> {
        let req = wire::request(|r| {
            let mut b = r.init_sync_group();
            b.set_group(group);
            b.set_generation(generation);
            b.set_member_id(member_id);
            let mut list = b.init_assignments(assignments.len() as u32);
            for (i, (id, parts)) in assignments.iter().enumerate() {
                let mut a = list.reborrow().get(i as u32);
                a.set_member_id(id.as_str());
                LogPartitions::write_list(parts, a.init_partitions(parts.len() as u32));
            }
        });
        self.call_routed(Route::Coordinator, req, wait + self.inner.config.request_timeout, |w| match w {
            response::SyncGroup(r) => Ok(LogPartitions::read_list(r.map_err(capnp_err)?.get_partitions())?),
            _ => Err(unexpected()),
        })
        .await
    }

    pub(crate) async fn heartbeat(&self, group: &str, generation: i32, member_id: &str) -> Result<()> {
        let req = wire::request(|r| {
            let mut b = r.init_heartbeat();
            b.set_group(group);
            b.set_generation(generation);
            b.set_member_id(member_id);
        });
        self.call_coordinator(req, |w| match w {
            response::Heartbeat(()) => Ok(()),
            _ => Err(unexpected()),
        })
        .await
    }

    pub(crate) async fn leave_group(&self, group: &str, member_id: &str) -> Result<()> {
        let req = wire::request(|r| {
            let mut b = r.init_leave_group();
            b.set_group(group);
            b.set_member_id(member_id);
        });
        self.call_coordinator(req, |w| match w {
            response::LeaveGroup(()) => Ok(()),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Commits offsets for a group: as a member of `generation`, or with
    /// generation -1 and an empty member id as an administrative reset of a
    /// group without members.
    pub(crate) async fn offset_commit(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        offsets: &[PartitionOffset],
    ) -> Result<()> {
        let req = wire::request(|r| {
            let mut b = r.init_offset_commit();
            b.set_group(group);
            b.set_generation(generation);
            b.set_member_id(member_id);
            PartitionOffset::write_list(offsets, b.init_offsets(offsets.len() as u32));
        });
        self.call_coordinator(req, |w| match w {
            response::OffsetCommit(_) => Ok(()),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Sets a group's committed offsets (next offset to read) from outside
    /// the group, as an offset reset does. The group must have no members.
    ///
    /// # Errors
    /// `GroupNotEmpty`, `InvalidGroupId`; connection errors.
    pub async fn alter_group_offsets(&self, group: &str, offsets: &[(crate::LogPartition, u64)]) -> Result<()> {
        self.offset_commit(group, -1, "", &to_wire_offsets(offsets)).await
    }

    /// Committed offsets of `group` (of `partitions`, or all when empty).
    pub(crate) async fn offset_fetch(&self, group: &str, partitions: &[LogPartitions]) -> Result<Vec<PartitionOffset>> {
        let req = wire::request(|r| {
            let mut b = r.init_offset_fetch();
            b.set_group(group);
            LogPartitions::write_list(partitions, b.init_partitions(partitions.len() as u32));
        });
        self.call_coordinator(req, |w| match w {
            response::OffsetFetch(r) => Ok(PartitionOffset::read_list(r.map_err(capnp_err)?.get_offsets())?),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Every consumer group with members or committed offsets.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>> {
        let req = wire::request(|mut r| r.set_list_groups(()));
        self.call_coordinator(req, |w| match w {
            response::ListGroups(l) => l.map_err(capnp_err)?.iter().map(read_summary).collect(),
            _ => Err(unexpected()),
        })
        .await
    }

    /// A group's members, their partitions, committed offsets and lag.
    ///
    /// # Errors
    /// `GroupNotFound`; connection errors.
    pub async fn describe_group(&self, group: &str) -> Result<GroupDescription> {
        let req = wire::request(|r| r.init_describe_group().set_name(group));
        self.call_coordinator(req, |w| match w {
            response::DescribeGroup(d) => {
                let d = d.map_err(capnp_err)?;
                let mut members = Vec::new();
                for m in d.get_members().map_err(capnp_err)?.iter() {
                    let instance = owned_text(m.get_group_instance_id())?;
                    members.push(GroupMember {
                        member_id: owned_text(m.get_member_id())?,
                        instance_id: (!instance.is_empty()).then_some(instance),
                        partitions: LogPartitions::read_list(m.get_partitions())?,
                    });
                }
                let mut offsets = Vec::new();
                for o in d.get_offsets().map_err(capnp_err)?.iter() {
                    offsets.push(GroupOffset {
                        log: owned_text(o.get_log())?,
                        partition: o.get_partition(),
                        committed: o.get_committed(),
                        lag: o.get_lag(),
                    });
                }
                Ok(GroupDescription { summary: read_summary(d.get_summary().map_err(capnp_err)?)?, members, offsets })
            }
            _ => Err(unexpected()),
        })
        .await
    }
}
