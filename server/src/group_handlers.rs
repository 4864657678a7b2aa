//! Consumer-group requests: decode into owned data, execute against the
//! broker's groups, encode the answer.

use pyralog_protocol::frame::{bounded_len, malformed, text};
use pyralog_protocol::group::{LogPartitions, PartitionOffset, Subscription};
use pyralog_protocol::limits::{MAX_GROUP_MEMBERS, MAX_GROUP_PROTOCOLS};
use pyralog_protocol::pyralog_capnp::{self as pc, request, response};
use pyralog_protocol::{ErrorCode, ProtocolError};

use crate::auth::Access;
use crate::broker::Broker;
use crate::groups::coordinator::{GroupState, Join, Joined, MemberView};
use crate::groups::{Groups, Incarnations};

type Result<T> = std::result::Result<T, ProtocolError>;

/// A decoded group request.
pub enum GroupReq {
    Join(Join),
    Sync { group: String, generation: i32, member_id: String, assignments: Vec<(String, Vec<LogPartitions>)> },
    Heartbeat { group: String, generation: i32, member_id: String },
    Leave { group: String, member_id: String },
    Commit { group: String, generation: i32, member_id: String, offsets: Vec<PartitionOffset> },
    Fetch { group: String, partitions: Vec<LogPartitions> },
    List,
    Describe(String),
}

impl GroupReq {
    /// The request's kind, as metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            GroupReq::Join(_) => "join_group",
            GroupReq::Sync { .. } => "sync_group",
            GroupReq::Heartbeat { .. } => "heartbeat",
            GroupReq::Leave { .. } => "leave_group",
            GroupReq::Commit { .. } => "offset_commit",
            GroupReq::Fetch { .. } => "offset_fetch",
            GroupReq::List => "list_groups",
            GroupReq::Describe(_) => "describe_group",
        }
    }
}

impl GroupReq {
    /// Refuses what the principal may not do: members need `read` on their
    /// group (a commit also on each log it names), offset fetches and
    /// descriptions `describe`; a group list is filtered instead.
    ///
    /// # Errors
    /// `NotAuthorized`.
    pub fn authorize(&self, access: &Access) -> Result<()> {
        use pyralog_protocol::acl::{Operation::*, Resource};
        match self {
            GroupReq::Join(Join { group, .. })
            | GroupReq::Sync { group, .. }
            | GroupReq::Heartbeat { group, .. }
            | GroupReq::Leave { group, .. } => access.check(Read, Resource::Group(group)),
            GroupReq::Commit { group, offsets, .. } => {
                access.check(Read, Resource::Group(group))?;
                offsets.iter().try_for_each(|o| access.check(Read, Resource::Log(&o.log)))
            }
            GroupReq::Fetch { group, .. } => access.check(Describe, Resource::Group(group)),
            GroupReq::Describe(group) => access.check(Describe, Resource::Group(group)),
            GroupReq::List => Ok(()),
        }
    }
}

/// A group's summary.
pub struct Summary {
    name: String,
    state: GroupState,
    members: u32,
    protocol: String,
    generation: i32,
}

/// One partition's committed offset and lag.
pub struct Lag {
    offset: PartitionOffset,
    lag: u64,
}

/// An answer before encoding.
pub enum GroupResp {
    Joined(Joined),
    Synced(Vec<LogPartitions>),
    Heartbeat,
    Left,
    Committed(Vec<PartitionOffset>),
    Fetched(Vec<PartitionOffset>),
    List(Vec<Summary>),
    Describe(Summary, Vec<MemberView>, Vec<Lag>),
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Decodes a group request; `None` for other requests.
///
/// # Errors
/// `InvalidRequest` for malformed messages.
pub fn decode(which: request::WhichReader<'_>) -> Result<Option<GroupReq>> {
    Ok(Some(match which {
        request::JoinGroup(r) => {
            let r = r.map_err(malformed)?;
            let list = r.get_protocols().map_err(malformed)?;
            let mut protocols = Vec::with_capacity(bounded_len(
                list.len(),
                MAX_GROUP_PROTOCOLS,
                "MAX_GROUP_PROTOCOLS",
                "join protocols",
            )?);
            for p in list.iter() {
                let sub = Subscription::read(p.get_subscription().map_err(malformed)?)?;
                protocols.push((text(p.get_name(), "name")?.to_owned(), sub));
            }
            GroupReq::Join(Join {
                group: text(r.get_group(), "group")?.to_owned(),
                member_id: text(r.get_member_id(), "memberId")?.to_owned(),
                instance_id: opt(text(r.get_group_instance_id(), "groupInstanceId")?),
                session_timeout_ms: r.get_session_timeout_ms(),
                rebalance_timeout_ms: r.get_rebalance_timeout_ms(),
                protocols,
            })
        }
        request::SyncGroup(r) => {
            let r = r.map_err(malformed)?;
            let list = r.get_assignments().map_err(malformed)?;
            let mut assignments = Vec::with_capacity(bounded_len(
                list.len(),
                MAX_GROUP_MEMBERS,
                "MAX_GROUP_MEMBERS",
                "sync assignments",
            )?);
            for a in list.iter() {
                let member = text(a.get_member_id(), "memberId")?.to_owned();
                assignments.push((member, LogPartitions::read_list(a.get_partitions())?));
            }
            GroupReq::Sync {
                group: text(r.get_group(), "group")?.to_owned(),
                generation: r.get_generation(),
                member_id: text(r.get_member_id(), "memberId")?.to_owned(),
                assignments,
            }
        }
        request::Heartbeat(r) => {
            let r = r.map_err(malformed)?;
            GroupReq::Heartbeat {
                group: text(r.get_group(), "group")?.to_owned(),
                generation: r.get_generation(),
                member_id: text(r.get_member_id(), "memberId")?.to_owned(),
            }
        }
        request::LeaveGroup(r) => {
            let r = r.map_err(malformed)?;
            GroupReq::Leave {
                group: text(r.get_group(), "group")?.to_owned(),
                member_id: text(r.get_member_id(), "memberId")?.to_owned(),
            }
        }
        request::OffsetCommit(r) => {
            let r = r.map_err(malformed)?;
            GroupReq::Commit {
                group: text(r.get_group(), "group")?.to_owned(),
                generation: r.get_generation(),
                member_id: text(r.get_member_id(), "memberId")?.to_owned(),
                offsets: PartitionOffset::read_list(r.get_offsets())?,
            }
        }
        request::OffsetFetch(r) => {
            let r = r.map_err(malformed)?;
            GroupReq::Fetch {
                group: text(r.get_group(), "group")?.to_owned(),
                partitions: LogPartitions::read_list(r.get_partitions())?,
            }
        }
        request::ListGroups(()) => GroupReq::List,
        request::DescribeGroup(r) => GroupReq::Describe(text(r.map_err(malformed)?.get_name(), "name")?.to_owned()),
        _ => return Ok(None),
    }))
}

fn summary(groups: &Groups, name: &str, incarnations: Incarnations<'_>) -> Option<Summary> {
    let coordinator = groups.coordinator();
    let g = coordinator.group(name);
    let known = g.is_some() || !groups.fetch(name, &[], incarnations).is_empty();
    known.then(|| Summary {
        name: name.to_owned(),
        state: g.map_or(GroupState::Empty, |g| g.state),
        members: g.map_or(0, |g| g.member_count() as u32),
        protocol: g.and_then(|g| g.protocol.clone()).unwrap_or_default(),
        generation: g.map_or(0, |g| g.generation),
    })
}

/// Runs a group request.
///
/// # Errors
/// The coordinator's errors; `GroupNotFound` for an unknown group.
pub async fn execute(broker: &Broker, access: &Access, req: GroupReq) -> Result<GroupResp> {
    let groups = &broker.groups()?;
    use pyralog_protocol::acl::{Operation::Describe, Resource};
    let describable = |n: &&String| access.allows(Describe, Resource::Group(n));
    // Offsets, lags and assignments name logs: only those the principal may describe.
    let log_visible = |log: &str| access.allows(Describe, Resource::Log(log));
    // Offsets count for the incarnation of the log they were committed for.
    let state = broker.state();
    let incarnations = |log: &str| state.logs.get(log).map(|l| l.incarnation);
    Ok(match req {
        GroupReq::Join(j) => GroupResp::Joined(groups.join(j).await?),
        GroupReq::Sync { group, generation, member_id, assignments } => {
            GroupResp::Synced(groups.sync(&group, generation, &member_id, assignments).await?)
        }
        GroupReq::Heartbeat { group, generation, member_id } => {
            groups.heartbeat(&group, generation, &member_id)?;
            GroupResp::Heartbeat
        }
        GroupReq::Leave { group, member_id } => {
            groups.leave(&group, &member_id)?;
            GroupResp::Left
        }
        GroupReq::Commit { group, generation, member_id, offsets } => {
            GroupResp::Committed(groups.commit(&group, generation, &member_id, offsets, &incarnations).await?)
        }
        GroupReq::Fetch { group, partitions } => {
            let fetched = groups.fetch(&group, &partitions, &incarnations);
            GroupResp::Fetched(fetched.into_iter().filter(|o| log_visible(&o.log)).collect())
        }
        GroupReq::List => {
            let names = groups.names();
            GroupResp::List(
                names.iter().filter(describable).filter_map(|n| summary(groups, n, &incarnations)).collect(),
            )
        }
        GroupReq::Describe(name) => {
            let s = summary(groups, &name, &incarnations)
                .ok_or_else(|| ProtocolError::new(ErrorCode::GroupNotFound, format!("no group {name:?}")))?;
            let mut members = groups.coordinator().group(&name).map(|g| g.members()).unwrap_or_default();
            for m in &mut members {
                m.assignment.retain(|lp| log_visible(&lp.log));
            }
            let lags = groups
                .fetch(&name, &[], &incarnations)
                .into_iter()
                .filter(|o| log_visible(&o.log))
                .map(|offset| {
                    let hw = broker.partition(&offset.log, offset.partition);
                    let lag = hw.map_or(0, |p| p.high_watermark().saturating_sub(offset.offset));
                    Lag { offset, lag }
                })
                .collect();
            GroupResp::Describe(s, members, lags)
        }
    })
}

fn write_summary(s: &Summary, mut b: pc::group_summary::Builder<'_>) {
    b.set_name(s.name.as_str());
    b.set_state(match s.state {
        GroupState::Empty => pc::GroupState::Empty,
        GroupState::PreparingRebalance => pc::GroupState::PreparingRebalance,
        GroupState::CompletingRebalance => pc::GroupState::CompletingRebalance,
        GroupState::Stable => pc::GroupState::Stable,
    });
    b.set_member_count(s.members);
    b.set_protocol(s.protocol.as_str());
    b.set_generation(s.generation);
}

/// Encodes an answer into the response root.
pub fn encode(resp: GroupResp, root: response::Builder<'_>) {
    let mut root = root;
    match resp {
        GroupResp::Joined(j) => {
            let mut b = root.init_join_group();
            b.set_generation(j.generation);
            b.set_protocol(j.protocol.as_str());
            b.set_leader_id(j.leader_id.as_str());
            b.set_member_id(j.member_id.as_str());
            let mut list = b.init_members(j.members.len() as u32);
            for (i, (id, instance, sub)) in j.members.iter().enumerate() {
                let mut m = list.reborrow().get(i as u32);
                m.set_member_id(id.as_str());
                m.set_group_instance_id(instance.as_deref().unwrap_or(""));
                sub.write(m.init_subscription());
            }
        }
        GroupResp::Synced(parts) => {
            LogPartitions::write_list(&parts, root.init_sync_group().init_partitions(parts.len() as u32));
        }
        GroupResp::Heartbeat => root.set_heartbeat(()),
        GroupResp::Left => root.set_leave_group(()),
        GroupResp::Committed(o) => {
            PartitionOffset::write_list(&o, root.init_offset_commit().init_offsets(o.len() as u32));
        }
        GroupResp::Fetched(o) => PartitionOffset::write_list(&o, root.init_offset_fetch().init_offsets(o.len() as u32)),
        GroupResp::List(list) => {
            let mut l = root.init_list_groups(list.len() as u32);
            for (i, s) in list.iter().enumerate() {
                write_summary(s, l.reborrow().get(i as u32));
            }
        }
        GroupResp::Describe(s, members, lags) => {
            let mut b = root.init_describe_group();
            write_summary(&s, b.reborrow().init_summary());
            let mut ml = b.reborrow().init_members(members.len() as u32);
            for (i, m) in members.iter().enumerate() {
                let mut mb = ml.reborrow().get(i as u32);
                mb.set_member_id(m.member_id.as_str());
                mb.set_group_instance_id(m.instance_id.as_deref().unwrap_or(""));
                LogPartitions::write_list(&m.assignment, mb.init_partitions(m.assignment.len() as u32));
            }
            let mut ol = b.init_offsets(lags.len() as u32);
            for (i, l) in lags.iter().enumerate() {
                let mut ob = ol.reborrow().get(i as u32);
                ob.set_log(l.offset.log.as_str());
                ob.set_partition(l.offset.partition);
                ob.set_committed(l.offset.offset);
                ob.set_lag(l.lag);
            }
        }
    }
}
