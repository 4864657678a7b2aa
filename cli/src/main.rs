//! `pyralog`: log administration, produce and consume from the shell, and
//! benchmarks (kcat and the kafka-*-perf-test tools in one).

mod acl;
mod bench;
mod bench_disk;
mod cluster;
mod group_consume;
mod groups;
mod io;
mod logs;
mod payload;
mod top;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyralog::{Client, ClientConfig};

/// Default server address.
const DEFAULT_SERVER: &str = "127.0.0.1:9092";
/// Default CA file: the one a server started with defaults writes.
const DEFAULT_CA_FILE: &str = "./pyralog-data/tls/ca.pem";

#[derive(Parser)]
#[command(name = "pyralog", version, about = "Pyralog command-line client")]
struct Cli {
    /// Server address; several comma-separated for a cluster (any that answers).
    #[arg(long, global = true, env = "PYRALOG_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    /// CA certificate (PEM) that signed the server's certificate.
    #[arg(long, global = true, env = "PYRALOG_CA_FILE", default_value = DEFAULT_CA_FILE)]
    ca_file: PathBuf,
    /// Client certificate (PEM) for servers that authenticate by mTLS.
    #[arg(long, global = true, env = "PYRALOG_CERT_FILE", requires = "key_file")]
    cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, global = true, env = "PYRALOG_KEY_FILE", requires = "cert_file")]
    key_file: Option<PathBuf>,
    /// Bearer token (`pyralog-server token create NAME`).
    #[arg(long, global = true, env = "PYRALOG_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, list, describe, change and delete logs.
    #[command(subcommand)]
    Logs(logs::LogsCommand),
    /// Produce one record per line of standard input.
    Produce(io::ProduceArgs),
    /// Print records, one value per line.
    Consume(io::ConsumeArgs),
    /// List, describe and reset consumer groups.
    #[command(subcommand)]
    Groups(groups::GroupsCommand),
    /// Describe the cluster: nodes, controller, partition leaders and ISRs.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Measure produce and consume throughput and latency.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Live rates of a server: produce and consume per log, requests,
    /// fsyncs, connections, group lag (from the server's metrics).
    Top(top::TopArgs),
    /// Add, list and remove the cluster's ACLs (allow rules).
    #[command(subcommand)]
    Acl(acl::AclCommand),
}

async fn connect(cli: &Cli) -> anyhow::Result<Client> {
    let config = ClientConfig {
        cert_file: cli.cert_file.clone(),
        key_file: cli.key_file.clone(),
        token: cli.token.clone(),
        ..ClientConfig::with_ca_file(&cli.ca_file)
    };
    Ok(Client::connect(&cli.server, config).await?)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let client = connect(&cli).await?;
    let result = match cli.command {
        Command::Logs(cmd) => logs::run(&client, cmd).await,
        Command::Produce(args) => io::produce(&client, args).await,
        Command::Consume(args) => io::consume(&client, args).await,
        Command::Groups(cmd) => groups::run(&client, cmd).await,
        Command::Cluster(cmd) => cluster::run(&client, cmd).await,
        Command::Top(args) => top::run(&client, args).await,
        Command::Acl(cmd) => acl::run(&client, cmd).await,
        Command::Bench(cmd) => {
            // On a runtime worker, as an application's task would run (not on
            // the main thread: every hand-off to the producer's tasks and back
            // would then cross threads).
            let c = client.clone();
            tokio::spawn(async move { bench::run(&c, cmd).await }).await.unwrap_or_else(|e| Err(anyhow::anyhow!("{e}")))
        }
    };
    client.close().await;
    result
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // PYRALOG_LOG=debug (or a filter like `pyralog=debug`) shows the client's
    // retries and reconnections on standard error; quiet by default.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PYRALOG_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(std::io::stderr)
        .init();
    // The disk probe needs no server, so no connection and no runtime.
    if let Command::Bench(bench::BenchCommand::Fsync(b)) = &cli.command {
        return exit_code(bench_disk::fsync(b));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    exit_code(runtime.block_on(run(cli)))
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
