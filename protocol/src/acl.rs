//! Access control lists: allow-only rules of the form
//! `(principal or *, operation, resource pattern)`.
//!
//! Text forms (the CLI's and the wire's):
//! - principal: a name (a certificate's CN or SAN, a token's name) or `*`;
//! - operation: `read | write | create | delete | alter | describe`;
//! - resource: `log:<name>`, `log:<prefix>*`, `group:<name>`,
//!   `group:<prefix>*` or `cluster`; `log:*` is every log.
//!
//! `read`, `write`, `delete` and `alter` on a resource imply `describe` of
//! it (as in Kafka): whoever may read a log may look it up.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::text;
use crate::limits::{MAX_LOG_ID_BYTES, MAX_PRINCIPAL_BYTES};
use crate::pyralog_capnp::acl;

/// What a request does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Operation {
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
}

impl Operation {
    /// Every operation, in text order.
    pub const ALL: [Operation; 6] = [
        Operation::Read,
        Operation::Write,
        Operation::Create,
        Operation::Delete,
        Operation::Alter,
        Operation::Describe,
    ];

    /// Whether an ACL granting `self` allows `wanted`.
    pub fn implies(self, wanted: Operation) -> bool {
        self == wanted
            || (wanted == Operation::Describe
                && matches!(self, Operation::Read | Operation::Write | Operation::Delete | Operation::Alter))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Create => "create",
            Operation::Delete => "delete",
            Operation::Alter => "alter",
            Operation::Describe => "describe",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL.into_iter().find(|o| o.as_str() == s.to_ascii_lowercase()).ok_or_else(|| {
            invalid(format!("operation {s:?} is not one of read, write, create, delete, alter, describe"))
        })
    }
}

/// A concrete resource a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    Log(&'a str),
    Group(&'a str),
    Cluster,
}

impl fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Log(n) => write!(f, "log:{n}"),
            Resource::Group(n) => write!(f, "group:{n}"),
            Resource::Cluster => f.write_str("cluster"),
        }
    }
}

/// Names a pattern matches: one name, or every name starting with a prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NamePattern {
    Literal(String),
    Prefix(String),
}

impl NamePattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Literal(n) => n == name,
            NamePattern::Prefix(p) => name.starts_with(p.as_str()),
        }
    }

    fn parse(kind: &str, text: &str) -> Result<NamePattern, ProtocolError> {
        let (name, prefix) = match text.strip_suffix('*') {
            Some(p) => (p, true),
            None => (text, false),
        };
        if name.is_empty() && !prefix {
            return Err(invalid(format!("{kind}: names no {kind} (write {kind}:NAME, {kind}:PREFIX* or {kind}:*)")));
        }
        if name.len() > MAX_LOG_ID_BYTES {
            return Err(invalid(format!("{kind}:{text} is longer than MAX_LOG_ID_BYTES ({MAX_LOG_ID_BYTES})")));
        }
        if let Some(c) = name.chars().find(|c| !crate::log_id::is_name_char(*c)) {
            return Err(invalid(format!(
                "{kind}:{text} has invalid character {c:?}; names use A-Z a-z 0-9 . _ - and a pattern may end in *"
            )));
        }
        Ok(if prefix { NamePattern::Prefix(name.to_owned()) } else { NamePattern::Literal(name.to_owned()) })
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamePattern::Literal(n) => f.write_str(n),
            NamePattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

/// The resources an ACL covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ResourcePattern {
    Log(NamePattern),
    Group(NamePattern),
    Cluster,
}

impl ResourcePattern {
    /// Whether `resource` is covered.
    pub fn matches(&self, resource: Resource<'_>) -> bool {
        match (self, resource) {
            (ResourcePattern::Log(p), Resource::Log(n)) | (ResourcePattern::Group(p), Resource::Group(n)) => {
                p.matches(n)
            }
            (ResourcePattern::Cluster, Resource::Cluster) => true,
            _ => false,
        }
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourcePattern::Log(p) => write!(f, "log:{p}"),
            ResourcePattern::Group(p) => write!(f, "group:{p}"),
            ResourcePattern::Cluster => f.write_str("cluster"),
        }
    }
}

impl FromStr for ResourcePattern {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "cluster" {
            return Ok(ResourcePattern::Cluster);
        }
        match s.split_once(':') {
            Some(("log", rest)) => Ok(ResourcePattern::Log(NamePattern::parse("log", rest)?)),
            Some(("group", rest)) => Ok(ResourcePattern::Group(NamePattern::parse("group", rest)?)),
            _ => Err(invalid(format!(
                "resource {s:?} is not log:NAME, log:PREFIX*, group:NAME, group:PREFIX* or cluster"
            ))),
        }
    }
}

/// The principal every principal matches in an ACL.
pub const ANY_PRINCIPAL: &str = "*";

/// One allow rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Acl {
    /// A principal's name, or `*` for every authenticated principal.
    pub principal: String,
    pub operation: Operation,
    pub resource: ResourcePattern,
}

impl Acl {
    /// Parses the three text forms (module docs).
    ///
    /// # Errors
    /// `InvalidRequest` naming the part that is not valid.
    pub fn parse(principal: &str, operation: &str, resource: &str) -> Result<Acl, ProtocolError> {
        validate_principal(principal)?;
        Ok(Acl { principal: principal.to_owned(), operation: operation.parse()?, resource: resource.parse()? })
    }

    /// Whether this rule lets `principal` do `operation` to `resource`.
    pub fn allows(&self, principal: &str, operation: Operation, resource: Resource<'_>) -> bool {
        (self.principal == ANY_PRINCIPAL || self.principal == principal)
            && self.operation.implies(operation)
            && self.resource.matches(resource)
    }
}

impl Acl {
    /// The least rule of `principal` in the rules' order (principal first,
    /// then the first operation, resource kind and name): a principal's
    /// rules are the range of an ordered set starting there.
    pub fn least_of(principal: &str) -> Acl {
        Acl {
            principal: principal.to_owned(),
            operation: Operation::Read,
            resource: ResourcePattern::Log(NamePattern::Literal(String::new())),
        }
    }

    /// Writes the rule's text forms into a message.
    pub fn write(&self, mut b: acl::Builder<'_>) {
        b.set_principal(self.principal.as_str());
        b.set_operation(self.operation.as_str());
        b.set_resource(self.resource.to_string().as_str());
    }

    /// Reads and checks a rule from a message.
    ///
    /// # Errors
    /// `InvalidRequest` for a malformed message or rule.
    pub fn read(r: acl::Reader<'_>) -> Result<Acl, ProtocolError> {
        Acl::parse(
            text(r.get_principal(), "principal")?,
            text(r.get_operation(), "operation")?,
            text(r.get_resource(), "resource")?,
        )
    }
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.principal, self.operation, self.resource)
    }
}

/// Checks a principal's name: 1..=`MAX_PRINCIPAL_BYTES` bytes, no control
/// characters.
///
/// # Errors
/// `InvalidRequest` naming the rule broken.
pub fn validate_principal(name: &str) -> Result<(), ProtocolError> {
    if name.is_empty() || name.len() > MAX_PRINCIPAL_BYTES {
        return Err(invalid(format!(
            "principal {name:?} must be 1..={MAX_PRINCIPAL_BYTES} bytes (MAX_PRINCIPAL_BYTES)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!("principal {name:?} holds a control character")));
    }
    Ok(())
}

fn invalid(msg: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRequest, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_literals_and_wildcards_match_what_they_name() {
        let acl = Acl::parse("alice", "write", "log:orders.*").unwrap();
        assert!(acl.allows("alice", Operation::Write, Resource::Log("orders.eu")));
        assert!(acl.allows("alice", Operation::Describe, Resource::Log("orders.eu")), "write implies describe");
        assert!(!acl.allows("alice", Operation::Read, Resource::Log("orders.eu")));
        assert!(!acl.allows("alice", Operation::Write, Resource::Log("payments")));
        assert!(!acl.allows("bob", Operation::Write, Resource::Log("orders.eu")));
        assert!(!acl.allows("alice", Operation::Write, Resource::Group("orders.eu")));
        let any = Acl::parse("*", "read", "log:*").unwrap();
        assert!(any.allows("bob", Operation::Read, Resource::Log("x")));
        let exact = Acl::parse("bob", "read", "group:g1").unwrap();
        assert!(exact.allows("bob", Operation::Read, Resource::Group("g1")));
        assert!(!exact.allows("bob", Operation::Read, Resource::Group("g10")));
        let cluster = Acl::parse("ops", "alter", "cluster").unwrap();
        assert!(cluster.allows("ops", Operation::Describe, Resource::Cluster));
        assert!(!Acl::parse("ops", "create", "cluster").unwrap().allows("ops", Operation::Describe, Resource::Cluster));
    }

    #[test]
    fn the_least_rule_of_a_principal_comes_before_all_its_rules() {
        for op in Operation::ALL {
            for r in ["log:", "log:a", "log:*", "group:*", "group:g", "cluster"] {
                let Ok(acl) = Acl::parse("p", op.as_str(), r) else { continue };
                assert!(Acl::least_of("p") <= acl, "{acl}");
            }
        }
    }

    #[test]
    fn text_forms_round_trip_and_bad_ones_are_refused() {
        for (p, o, r) in [("alice", "read", "log:a.b"), ("*", "describe", "group:g*"), ("x", "alter", "cluster")] {
            let acl = Acl::parse(p, o, r).unwrap();
            assert_eq!(acl.to_string(), format!("{p} {o} {r}"));
        }
        for (p, o, r) in [
            ("", "read", "log:a"),
            ("a\n", "read", "log:a"),
            ("a", "fly", "log:a"),
            ("a", "read", "log:"),
            ("a", "read", "log:a/b"),
            ("a", "read", "topic:a"),
            ("a", "read", "log:a*b"),
        ] {
            assert_eq!(Acl::parse(p, o, r).unwrap_err().code, ErrorCode::InvalidRequest, "{p} {o} {r}");
        }
    }
}
