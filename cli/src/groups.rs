//! `pyralog groups ...`: list, describe and reset consumer groups.

use anyhow::bail;
use clap::{Args, Subcommand};
use pyralog::{Client, LogPartition};

#[derive(Subcommand)]
pub enum GroupsCommand {
    /// Every group with members or committed offsets.
    List,
    /// Members, their partitions, committed offsets and lag.
    Describe { group: String },
    /// Set a group's committed offsets for a log (the group must have no members).
    ResetOffsets(ResetArgs),
}

#[derive(Args)]
pub struct ResetArgs {
    group: String,
    /// The log whose partitions are reset.
    #[arg(long)]
    log: String,
    /// To each partition's log start offset.
    #[arg(long, group = "to")]
    to_earliest: bool,
    /// To each partition's end (skip everything written so far).
    #[arg(long, group = "to")]
    to_latest: bool,
    /// To this offset on every partition.
    #[arg(long, group = "to")]
    to_offset: Option<u64>,
}

pub async fn run(client: &Client, cmd: GroupsCommand) -> anyhow::Result<()> {
    match cmd {
        GroupsCommand::List => {
            println!("{:<32} {:<20} {:>7} {:<20} {:>10}", "GROUP", "STATE", "MEMBERS", "ASSIGNOR", "GENERATION");
            for g in client.list_groups().await? {
                println!(
                    "{:<32} {:<20} {:>7} {:<20} {:>10}",
                    g.name, g.state, g.member_count, g.protocol, g.generation
                );
            }
        }
        GroupsCommand::Describe { group } => {
            let d = client.describe_group(&group).await?;
            let s = &d.summary;
            println!("group {} state {} generation {} assignor {}", s.name, s.state, s.generation, s.protocol);
            for m in &d.members {
                let parts: Vec<String> = m
                    .partitions
                    .iter()
                    .flat_map(|lp| lp.partitions.iter().map(move |p| format!("{}/{p}", lp.log)))
                    .collect();
                println!("member {} partitions {}", m.member_id, parts.join(","));
            }
            println!("{:<32} {:>9} {:>12} {:>12}", "LOG", "PARTITION", "COMMITTED", "LAG");
            for o in &d.offsets {
                println!("{:<32} {:>9} {:>12} {:>12}", o.log, o.partition, o.committed, o.lag);
            }
        }
        GroupsCommand::ResetOffsets(a) => reset(client, a).await?,
    }
    Ok(())
}

async fn reset(client: &Client, a: ResetArgs) -> anyhow::Result<()> {
    if !(a.to_earliest || a.to_latest || a.to_offset.is_some()) {
        bail!("say where to: --to-earliest, --to-latest or --to-offset N");
    }
    let md = client.get_log_metadata(&a.log).await?;
    let mut offsets = Vec::with_capacity(md.partitions.len());
    for p in &md.partitions {
        let to = match a.to_offset {
            Some(n) => n.clamp(p.log_start_offset, p.high_watermark),
            None if a.to_earliest => p.log_start_offset,
            None => p.high_watermark,
        };
        offsets.push((LogPartition::new(&a.log, p.partition), to));
    }
    client.alter_group_offsets(&a.group, &offsets).await?;
    for (lp, o) in &offsets {
        println!("{} {} {o}", lp.log, lp.partition);
    }
    Ok(())
}
