//! Where a conformance scenario runs: one server, or a 3-node cluster
//! whose logs have three copies unless told otherwise.

use std::path::PathBuf;

use pyralog::Client;
use pyralog_testkit::{TestCluster, TestServer};

pub enum Target {
    Single(TestServer),
    Cluster(TestCluster),
}

impl Target {
    pub fn single() -> Target {
        Target::Single(super::start())
    }

    pub fn cluster() -> Target {
        Target::Cluster(super::cluster::start("default_replication_factor = 3\n"))
    }

    /// A client bootstrapped with every node.
    pub async fn client(&self) -> Client {
        match self {
            Target::Single(s) => s.client().await,
            Target::Cluster(c) => c.client().await,
        }
    }

    /// The clients' bootstrap list.
    pub fn bootstrap(&self) -> String {
        match self {
            Target::Single(s) => s.addr.clone(),
            Target::Cluster(c) => c.bootstrap(),
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        match self {
            Target::Single(s) => s.ca_file(),
            Target::Cluster(c) => c.ca_file(),
        }
    }
}

/// Runs the async scenario `$name(&Target)` on one node and on three.
#[macro_export]
macro_rules! on_one_and_three_nodes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_one_node() {
                super::$name(&super::common::target::Target::single()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_three_nodes() {
                super::$name(&super::common::target::Target::cluster()).await
            }
        }
    )*};
}
