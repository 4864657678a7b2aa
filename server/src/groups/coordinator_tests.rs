use super::*;

const SESSION_MS: u32 = 10_000;

fn join(member: &str) -> Join {
    Join {
        group: "g".into(),
        member_id: member.into(),
        instance_id: None,
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: SESSION_MS,
        protocols: vec![("range".into(), Subscription { logs: vec!["l".into()], owned: vec![] })],
    }
}

fn answer<T: std::fmt::Debug>(mut rx: Pending<T>) -> Result<T, ProtocolError> {
    rx.try_recv().expect("answered")
}

fn parts(log: &str, p: &[u32]) -> Vec<LogPartitions> {
    vec![LogPartitions { log: log.into(), partitions: p.to_vec() }]
}

#[test]
fn given_two_members_when_second_joins_first_must_rejoin_and_both_get_their_assignment() {
    let mut c = Coordinator::default();
    let a = answer(c.join(join(""), 0).unwrap()).unwrap();
    assert_eq!((a.generation, a.leader_id.as_str()), (1, a.member_id.as_str()));
    answer(c.sync("g", 1, &a.member_id, vec![(a.member_id.clone(), parts("l", &[0, 1]))], 1).unwrap()).unwrap();

    let mut b_pending = c.join(join(""), 2).unwrap();
    assert!(b_pending.try_recv().is_err(), "waits for the first member to rejoin");
    let e = c.heartbeat("g", 1, &a.member_id, 3).unwrap_err();
    assert_eq!(e.code, ErrorCode::RebalanceInProgress);
    let a2 = answer(c.join(join(&a.member_id), 4).unwrap()).unwrap();
    let b = answer(b_pending).unwrap();
    assert_eq!((a2.generation, b.generation), (2, 2));
    assert_eq!(a2.members.len(), 2, "the leader sees every subscription");
    assert!(b.members.is_empty());

    let b_sync = c.sync("g", 2, &b.member_id, vec![], 5).unwrap();
    let assignment = vec![(a.member_id.clone(), parts("l", &[0])), (b.member_id.clone(), parts("l", &[1]))];
    assert_eq!(answer(c.sync("g", 2, &a.member_id, assignment, 6).unwrap()).unwrap(), parts("l", &[0]));
    assert_eq!(answer(b_sync).unwrap(), parts("l", &[1]));
    assert_eq!(c.group("g").unwrap().state, GroupState::Stable);
}

#[test]
fn given_silent_member_when_session_times_out_it_is_removed_and_the_rest_rebalance() {
    let mut c = Coordinator::default();
    let a = answer(c.join(join(""), 0).unwrap()).unwrap();
    answer(c.sync("g", 1, &a.member_id, vec![], 0).unwrap()).unwrap();
    let b_pending = c.join(join(""), 100).unwrap();
    let a2 = answer(c.join(join(&a.member_id), 200).unwrap()).unwrap();
    let b = answer(b_pending).unwrap();
    answer(c.sync("g", 2, &a2.member_id, vec![], 300).unwrap()).unwrap();
    answer(c.sync("g", 2, &b.member_id, vec![], 300).unwrap()).unwrap();

    // b keeps heartbeating; a goes silent.
    for t in (1_000..=10_000).step_by(1_000) {
        c.heartbeat("g", 2, &b.member_id, t).unwrap();
        c.tick(t);
    }
    c.tick(10_301);
    let g = c.group("g").unwrap();
    assert_eq!(g.member_count(), 1);
    assert_eq!(c.heartbeat("g", 2, &b.member_id, 10_400).unwrap_err().code, ErrorCode::RebalanceInProgress);
    let b3 = answer(c.join(join(&b.member_id), 10_500).unwrap()).unwrap();
    assert_eq!((b3.generation, b3.leader_id.as_str()), (3, b.member_id.as_str()));
    assert_eq!(c.heartbeat("g", 2, &a.member_id, 10_600).unwrap_err().code, ErrorCode::UnknownMemberId);
}

#[test]
fn given_stale_generation_when_committing_it_is_fenced_and_admin_commits_need_an_empty_group() {
    let mut c = Coordinator::default();
    c.check_commit("g", -1, "").unwrap();
    let a = answer(c.join(join(""), 0).unwrap()).unwrap();
    assert_eq!(c.check_commit("g", -1, "").unwrap_err().code, ErrorCode::GroupNotEmpty);
    assert_eq!(c.check_commit("g", 1, &a.member_id).unwrap_err().code, ErrorCode::RebalanceInProgress);
    answer(c.sync("g", 1, &a.member_id, vec![], 0).unwrap()).unwrap();
    c.check_commit("g", 1, &a.member_id).unwrap();
    let _b = c.join(join(""), 10).unwrap();
    // During the join phase the current generation may still commit (commit before revoke).
    c.check_commit("g", 1, &a.member_id).unwrap();
    answer(c.join(join(&a.member_id), 20).unwrap()).unwrap();
    assert_eq!(c.check_commit("g", 1, &a.member_id).unwrap_err().code, ErrorCode::IllegalGeneration);
    c.leave("g", &a.member_id, 30).unwrap();
    assert_eq!(c.check_commit("g", 2, &a.member_id).unwrap_err().code, ErrorCode::UnknownMemberId);
}

#[test]
fn given_member_missing_the_rebalance_when_timeout_passes_the_group_completes_without_it() {
    let mut c = Coordinator::default();
    let a = answer(c.join(join(""), 0).unwrap()).unwrap();
    answer(c.sync("g", 1, &a.member_id, vec![], 0).unwrap()).unwrap();
    let mut b = c.join(join(""), 1_000).unwrap();
    c.tick(5_000);
    assert!(b.try_recv().is_err());
    c.tick(1_000 + u64::from(SESSION_MS));
    let b = answer(b).unwrap();
    assert_eq!((b.generation, b.leader_id.as_str()), (2, b.member_id.as_str()));
    assert_eq!(c.group("g").unwrap().member_count(), 1);
}

#[test]
fn a_server_holds_at_most_max_groups_groups_of_at_most_max_group_members() {
    use pyralog_protocol::limits::{MAX_GROUPS, MAX_GROUP_MEMBERS};
    let mut c = Coordinator::default();
    for i in 0..MAX_GROUP_MEMBERS {
        drop(c.join(join(""), i as u64).unwrap());
    }
    assert_eq!(c.group("g").unwrap().member_count(), MAX_GROUP_MEMBERS);
    let e = c.join(join(""), 0).unwrap_err();
    assert!(e.code == ErrorCode::GroupMaxSizeReached && e.message.contains("MAX_GROUP_MEMBERS"), "{e:?}");
    for i in 1..MAX_GROUPS {
        drop(c.join(Join { group: format!("g{i}"), ..join("") }, 0).unwrap());
    }
    let e = c.join(Join { group: "one-more".into(), ..join("") }, 0).unwrap_err();
    assert!(e.code == ErrorCode::GroupMaxSizeReached && e.message.contains("MAX_GROUPS"), "{e:?}");
}

#[test]
fn given_bad_input_when_joining_it_is_refused_and_changes_nothing() {
    let mut c = Coordinator::default();
    let bad_name = Join { group: "a b".into(), ..join("") };
    assert_eq!(c.join(bad_name, 0).unwrap_err().code, ErrorCode::InvalidGroupId);
    let bad_session = Join { session_timeout_ms: 1, ..join("") };
    assert_eq!(c.join(bad_session, 0).unwrap_err().code, ErrorCode::InvalidSessionTimeout);
    assert_eq!(c.join(join("ghost"), 0).unwrap_err().code, ErrorCode::UnknownMemberId);
    let other = Join { protocols: vec![("roundrobin".into(), Subscription::default())], ..join("") };
    answer(c.join(join(""), 0).unwrap()).unwrap();
    assert_eq!(c.join(other, 0).unwrap_err().code, ErrorCode::InconsistentGroupProtocol);
    assert_eq!(c.group("g").unwrap().member_count(), 1);
}

#[test]
fn given_static_member_when_it_restarts_without_its_id_it_keeps_its_member_id() {
    let mut c = Coordinator::default();
    let stat = |member: &str| Join { instance_id: Some("worker-1".into()), ..join(member) };
    let a = answer(c.join(stat(""), 0).unwrap()).unwrap();
    answer(c.sync("g", 1, &a.member_id, vec![], 0).unwrap()).unwrap();
    let restarted = answer(c.join(stat(""), 30).unwrap()).unwrap();
    assert_eq!(restarted.member_id, a.member_id, "the instance id keeps its member id");
    assert_eq!(c.group("g").unwrap().member_count(), 1, "no second member for the same instance");
}
