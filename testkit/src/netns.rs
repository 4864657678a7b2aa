//! A network of Linux network namespaces for partition tests: one namespace
//! per node, each joined to a bridge in the test's namespace by a veth pair,
//! on a /24 of its own (the test reaches every node through the bridge).
//!
//! A node is cut off from the other nodes, not from the test's clients, by
//! pointing each side's neighbour entry for the other at a MAC address no
//! interface has: frames are flooded by the bridge and dropped by everyone,
//! silently, like on a broken switch. Healing deletes those entries.
//!
//! Needs root (`ip netns`, veth, bridge); [`NetLab::create`] says why not
//! where that is impossible, and everything is removed on drop.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;

/// Where frames to a cut-off node go: a locally administered address that
/// no interface of the lab has.
const NOWHERE_MAC: &str = "02:00:00:5e:00:99";
/// The port every node listens on (each namespace has its own ports).
pub const NODE_PORT: u16 = 9092;

/// Namespaces, veth pairs and a bridge, named after this process.
pub struct NetLab {
    tag: String,
    subnet: String,
    nodes: u32,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("running ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl NetLab {
    /// `nodes` namespaces on a bridge; `Err` says why this machine cannot
    /// (not root, no `ip`, no namespaces).
    pub fn create(nodes: u32) -> Result<NetLab, String> {
        let pid = std::process::id();
        let lab = NetLab { tag: format!("pyr{}", pid % 100_000), subnet: format!("10.213.{}", 20 + pid % 200), nodes };
        lab.remove();
        lab.build().inspect_err(|_| lab.remove())?;
        Ok(lab)
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    /// The namespace of node `node` (1-based).
    pub fn namespace(&self, node: u32) -> String {
        format!("{}n{node}", self.tag)
    }

    fn inner_veth(&self, node: u32) -> String {
        format!("{}v{node}", self.tag)
    }

    /// Node `node`'s address (`a.b.c.node`).
    pub fn ip(&self, node: u32) -> String {
        format!("{}.{node}", self.subnet)
    }

    /// The command prefix that runs a program in node `node`'s namespace.
    pub fn launcher(&self, node: u32) -> Vec<String> {
        ["ip", "netns", "exec"].iter().map(|s| (*s).to_owned()).chain([self.namespace(node)]).collect()
    }

    fn build(&self) -> Result<(), String> {
        let br = self.bridge();
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}.254/24", self.subnet), "dev", &br])?;
        ip(&["link", "set", &br, "up"])?;
        for n in 1..=self.nodes {
            let (ns, outer, inner) = (self.namespace(n), format!("{}h{n}", self.tag), self.inner_veth(n));
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &outer, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["link", "set", &outer, "master", &br, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{}/24", self.ip(n)), "dev", &inner])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    /// Cuts node `node` off from every other node, both ways.
    ///
    /// # Panics
    /// When `ip` fails.
    pub fn cut(&self, node: u32) {
        for other in (1..=self.nodes).filter(|o| *o != node) {
            for (at, to) in [(node, other), (other, node)] {
                let (ns, dev, addr) = (self.namespace(at), self.inner_veth(at), self.ip(to));
                ip(&["-n", &ns, "neigh", "replace", &addr, "lladdr", NOWHERE_MAC, "nud", "permanent", "dev", &dev])
                    .expect("cut a link");
            }
        }
    }

    /// Undoes every [`NetLab::cut`] (the nodes resolve each other anew).
    pub fn heal(&self) {
        for n in 1..=self.nodes {
            for other in (1..=self.nodes).filter(|o| *o != n) {
                // No entry to delete: that link was not cut.
                let _ = ip(&["-n", &self.namespace(n), "neigh", "del", &self.ip(other), "dev", &self.inner_veth(n)]);
            }
        }
    }

    fn remove(&self) {
        for n in 1..=self.nodes {
            let _ = ip(&["netns", "del", &self.namespace(n)]);
            let _ = ip(&["link", "del", &format!("{}h{n}", self.tag)]);
        }
        let _ = ip(&["link", "del", &self.bridge()]);
    }
}

/// Moves the calling thread into the network namespace `namespace` (see
/// [`NetLab::namespace`]): sockets it opens from then on live there, as for
/// a client beside that node.
///
/// # Errors
/// The namespace cannot be opened or entered.
pub fn enter(namespace: &str) -> std::io::Result<()> {
    let f = File::open(format!("/var/run/netns/{namespace}"))?;
    // SAFETY: setns(2) on a namespace file we hold open; it changes only
    // this thread's network namespace.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for NetLab {
    fn drop(&mut self) {
        self.remove();
    }
}
