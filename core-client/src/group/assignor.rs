//! Partition assignors, run by the group leader's client: `range`,
//! `roundrobin` and `cooperative-sticky`. Pure functions of the members'
//! subscriptions and the logs' partition counts, so every language's client
//! assigns identically.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pyralog_protocol::group::{LogPartitions, Subscription};

/// Kafka's range assignor: per log, consecutive partition ranges to the
/// members subscribed to it, in member-id order.
pub const RANGE: &str = "range";
/// Every subscribed partition dealt round-robin over the sorted members.
pub const ROUND_ROBIN: &str = "roundrobin";
/// Balanced like round-robin, but a member keeps the partitions it owns when
/// balance allows, so a rebalance moves (and revokes) as few as possible.
pub const COOPERATIVE_STICKY: &str = "cooperative-sticky";

/// The assignors a member offers, in preference order.
pub const ALL: [&str; 3] = [COOPERATIVE_STICKY, RANGE, ROUND_ROBIN];

/// Member id -> its partitions.
pub type Assignment = BTreeMap<String, BTreeSet<(String, u32)>>;

/// Assigns with the named assignor (`range` for an unknown name).
pub fn assign(name: &str, members: &[(String, Subscription)], partition_counts: &HashMap<String, u32>) -> Assignment {
    match name {
        ROUND_ROBIN => round_robin(members, partition_counts),
        COOPERATIVE_STICKY => sticky(members, partition_counts),
        _ => range(members, partition_counts),
    }
}

fn empty(members: &[(String, Subscription)]) -> Assignment {
    members.iter().map(|(id, _)| (id.clone(), BTreeSet::new())).collect()
}

fn subscribed_logs(members: &[(String, Subscription)]) -> BTreeSet<&str> {
    members.iter().flat_map(|(_, s)| s.logs.iter().map(String::as_str)).collect()
}

fn range(members: &[(String, Subscription)], counts: &HashMap<String, u32>) -> Assignment {
    let mut out = empty(members);
    for log in subscribed_logs(members) {
        let mut subs: Vec<&String> =
            members.iter().filter(|(_, s)| s.logs.iter().any(|l| l == log)).map(|(id, _)| id).collect();
        subs.sort();
        let n = counts.get(log).copied().unwrap_or(0) as usize;
        let (per, extra) = (n / subs.len(), n % subs.len());
        let mut next = 0;
        for (i, id) in subs.iter().enumerate() {
            let take = per + usize::from(i < extra);
            let set = out.get_mut(*id).expect("member");
            set.extend((next..next + take).map(|p| (log.to_owned(), p as u32)));
            next += take;
        }
    }
    out
}

fn all_partitions(members: &[(String, Subscription)], counts: &HashMap<String, u32>) -> Vec<(String, u32)> {
    subscribed_logs(members)
        .into_iter()
        .flat_map(|log| (0..counts.get(log).copied().unwrap_or(0)).map(move |p| (log.to_owned(), p)))
        .collect()
}

fn subscribes(s: &Subscription, log: &str) -> bool {
    s.logs.iter().any(|l| l == log)
}

fn round_robin(members: &[(String, Subscription)], counts: &HashMap<String, u32>) -> Assignment {
    let mut out = empty(members);
    let mut sorted: Vec<&(String, Subscription)> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut turn = 0;
    for (log, p) in all_partitions(members, counts) {
        for _ in 0..sorted.len() {
            let (id, sub) = sorted[turn % sorted.len()];
            turn += 1;
            if subscribes(sub, &log) {
                out.get_mut(id).expect("member").insert((log.clone(), p));
                break;
            }
        }
    }
    out
}

/// Keeps owned partitions up to each member's fair share, then gives the
/// rest to the least-loaded subscribed members.
fn sticky(members: &[(String, Subscription)], counts: &HashMap<String, u32>) -> Assignment {
    let mut out = empty(members);
    let all = all_partitions(members, counts);
    let total = all.len();
    let quota = |i: usize| total / members.len() + usize::from(i < total % members.len());
    let valid: BTreeSet<&(String, u32)> = all.iter().collect();
    let mut taken = BTreeSet::new();
    let mut by_owned: Vec<(usize, &(String, Subscription))> =
        members.iter().map(|m| (m.1.owned.iter().map(|lp| lp.partitions.len()).sum(), m)).collect();
    by_owned.sort_by(|a, b| b.0.cmp(&a.0).then(a.1 .0.cmp(&b.1 .0)));
    for (i, (_, (id, sub))) in by_owned.iter().enumerate() {
        let keep = sub
            .owned
            .iter()
            .flat_map(|lp| lp.partitions.iter().map(move |p| (lp.log.clone(), *p)))
            .filter(|tp| valid.contains(tp) && subscribes(sub, &tp.0) && !taken.contains(tp))
            .take(quota(i))
            .collect::<Vec<_>>();
        taken.extend(keep.iter().cloned());
        out.get_mut(id).expect("member").extend(keep);
    }
    for tp in all.into_iter().filter(|tp| !taken.contains(tp)) {
        let target = members
            .iter()
            .filter(|(_, s)| subscribes(s, &tp.0))
            .min_by_key(|(id, _)| (out[id].len(), id.clone()))
            .map(|(id, _)| id.clone());
        if let Some(id) = target {
            out.get_mut(&id).expect("member").insert(tp);
        }
    }
    out
}

/// An assignment's partitions grouped per log, for the wire.
pub fn to_log_partitions(parts: &BTreeSet<(String, u32)>) -> Vec<LogPartitions> {
    let mut by_log: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (log, p) in parts {
        by_log.entry(log).or_default().push(*p);
    }
    by_log.into_iter().map(|(log, partitions)| LogPartitions { log: log.to_owned(), partitions }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, logs: &[&str], owned: &[(&str, u32)]) -> (String, Subscription) {
        let owned = owned.iter().map(|(l, p)| LogPartitions { log: (*l).into(), partitions: vec![*p] }).collect();
        (id.into(), Subscription { logs: logs.iter().map(|l| (*l).to_owned()).collect(), owned })
    }

    fn counts(c: &[(&str, u32)]) -> HashMap<String, u32> {
        c.iter().map(|(l, n)| ((*l).to_owned(), *n)).collect()
    }

    fn sizes(a: &Assignment) -> Vec<usize> {
        a.values().map(BTreeSet::len).collect()
    }

    #[test]
    fn every_assignor_covers_each_partition_exactly_once_and_balances() {
        let members = [member("a", &["x", "y"], &[]), member("b", &["x", "y"], &[]), member("c", &["x", "y"], &[])];
        let c = counts(&[("x", 7), ("y", 4)]);
        for name in ALL {
            let a = assign(name, &members, &c);
            let all: Vec<_> = a.values().flatten().collect();
            let unique: BTreeSet<_> = all.iter().collect();
            assert_eq!((all.len(), unique.len()), (11, 11), "{name}");
            let s = sizes(&a);
            let spread = s.iter().max().unwrap() - s.iter().min().unwrap();
            assert!(spread <= if name == RANGE { 2 } else { 1 }, "{name}: {s:?}");
        }
    }

    #[test]
    fn range_gives_consecutive_partitions_in_member_order() {
        let a = range(&[member("b", &["x"], &[]), member("a", &["x"], &[])], &counts(&[("x", 4)]));
        assert_eq!(to_log_partitions(&a["a"]), vec![LogPartitions { log: "x".into(), partitions: vec![0, 1] }]);
        assert_eq!(to_log_partitions(&a["b"]), vec![LogPartitions { log: "x".into(), partitions: vec![2, 3] }]);
    }

    #[test]
    fn cooperative_sticky_keeps_owned_partitions_when_a_member_joins() {
        let owned: Vec<(&str, u32)> = (0..16).map(|p| ("x", p)).collect();
        let (a_owned, b_owned) = owned.split_at(8);
        let members = [member("a", &["x"], a_owned), member("b", &["x"], b_owned), member("c", &["x"], &[])];
        let a = sticky(&members, &counts(&[("x", 16)]));
        assert_eq!(sizes(&a), vec![6, 5, 5]);
        let kept_by_a = a["a"].iter().filter(|(_, p)| *p < 8).count();
        let kept_by_b = a["b"].iter().filter(|(_, p)| *p >= 8).count();
        assert_eq!((kept_by_a, kept_by_b), (6, 5), "only the surplus moves to the new member");
    }

    #[test]
    fn members_only_get_logs_they_subscribe_to() {
        let members = [member("a", &["x"], &[]), member("b", &["y"], &[])];
        for name in ALL {
            let a = assign(name, &members, &counts(&[("x", 2), ("y", 3)]));
            assert!(a["a"].iter().all(|(l, _)| l == "x") && a["b"].iter().all(|(l, _)| l == "y"), "{name}");
            assert_eq!(sizes(&a), vec![2, 3], "{name}");
        }
    }
}
