//! `pyralog cluster describe`: the nodes, the controller, and every
//! partition's leader, replicas, ISR, leader epoch and high watermark.

use clap::Subcommand;
use pyralog::{Client, ClusterDescription};

use crate::logs::{describe, leader_name};

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Nodes, controller, and each log's partitions (internal logs too with --all).
    Describe {
        /// Also show internal logs (names starting with `__`).
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(client: &Client, cmd: ClusterCommand) -> anyhow::Result<()> {
    match cmd {
        ClusterCommand::Describe { all } => print(&client.describe_cluster().await?, all),
    }
    Ok(())
}

fn print(d: &ClusterDescription, all: bool) {
    println!("cluster {}  controller {}  nodes {}", d.cluster_id, leader_name(d.controller), d.nodes.len());
    for n in &d.nodes {
        let state = if n.fenced { "fenced" } else { "live" };
        println!("  node {:>4}  {}  {state}", n.node_id, n.address);
    }
    for md in d.logs.iter().filter(|l| all || !l.name.starts_with("__")) {
        describe(md);
    }
}
