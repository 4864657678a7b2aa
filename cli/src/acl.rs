//! `pyralog acl add|list|remove`: the cluster's allow rules.

use clap::{Args, Subcommand};
use pyralog::Client;

#[derive(Subcommand)]
pub enum AclCommand {
    /// Allow PRINCIPAL (or `*`) to do OPERATION on RESOURCE.
    Add(AclArgs),
    /// Print every rule, one per line: principal operation resource.
    List,
    /// Remove a rule.
    Remove(AclArgs),
}

#[derive(Args)]
pub struct AclArgs {
    /// A principal's name (certificate CN/SAN or token name), or `*`.
    principal: String,
    /// read | write | create | delete | alter | describe
    operation: String,
    /// log:NAME, log:PREFIX*, group:NAME, group:PREFIX* or cluster.
    resource: String,
}

pub async fn run(client: &Client, cmd: AclCommand) -> anyhow::Result<()> {
    match cmd {
        AclCommand::Add(a) => {
            let acl = client.add_acl(&a.principal, &a.operation, &a.resource).await?;
            println!("added: {acl}");
        }
        AclCommand::List => {
            for acl in client.list_acls().await? {
                println!("{acl}");
            }
        }
        AclCommand::Remove(a) => {
            let existed = client.remove_acl(&a.principal, &a.operation, &a.resource).await?;
            anyhow::ensure!(existed, "no such rule: {} {} {}", a.principal, a.operation, a.resource);
            println!("removed: {} {} {}", a.principal, a.operation, a.resource);
        }
    }
    Ok(())
}
