//! ACL administration: allow rules of (principal or `*`, operation,
//! resource pattern), kept in the cluster metadata. Needs `alter` on
//! `cluster` to change and `describe` on `cluster` to list.

use pyralog_protocol::pyralog_capnp::response;

use crate::client::Client;
use crate::error::Result;
use crate::wire::{self, capnp_err, unexpected};

/// One allow rule (`alice write log:orders.*`).
pub use pyralog_protocol::acl::{Acl, Operation, ResourcePattern};

impl Client {
    /// Adds an allow rule; adding one that exists changes nothing.
    ///
    /// # Errors
    /// `InvalidRequest` for a malformed rule (checked before sending),
    /// `NotAuthorized` without `alter` on `cluster`, connection errors.
    pub async fn add_acl(&self, principal: &str, operation: &str, resource: &str) -> Result<Acl> {
        let a = Acl::parse(principal, operation, resource)?;
        let req = wire::request(|r| a.write(r.init_acl_add()));
        self.call(req, |w| match w {
            response::AclAdd(()) => Ok(()),
            _ => Err(unexpected()),
        })
        .await?;
        Ok(a)
    }

    /// Removes an allow rule; `false` when no such rule existed.
    ///
    /// # Errors
    /// As [`Client::add_acl`].
    pub async fn remove_acl(&self, principal: &str, operation: &str, resource: &str) -> Result<bool> {
        let a = Acl::parse(principal, operation, resource)?;
        let req = wire::request(|r| a.write(r.init_acl_remove()));
        self.call(req, |w| match w {
            response::AclRemove(existed) => Ok(existed),
            _ => Err(unexpected()),
        })
        .await
    }

    /// Every allow rule of the cluster, sorted.
    ///
    /// # Errors
    /// `NotAuthorized` without `describe` on `cluster`, connection errors.
    pub async fn list_acls(&self) -> Result<Vec<Acl>> {
        let req = wire::request(|mut r| r.set_acl_list(()));
        self.call(req, |w| match w {
            response::AclList(list) => list.map_err(capnp_err)?.iter().map(|a| Ok(Acl::read(a)?)).collect(),
            _ => Err(unexpected()),
        })
        .await
    }
}
