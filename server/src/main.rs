//! `pyralog-server`: runs on embedded defaults with no arguments.

use std::path::PathBuf;

use clap::Parser;
use pyralog_server::{Server, ServerConfig};

/// Pyralog server: a partitioned, replicated, append-only log over QUIC.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Config file (TOML); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory [default: ./pyralog-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:9092].
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<std::net::SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PYRALOG_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut cfg = match &args.config {
        Some(path) => ServerConfig::from_file(path)?,
        None => ServerConfig::default(),
    };
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cfg))
}

async fn run(cfg: ServerConfig) -> anyhow::Result<()> {
    let data_dir = cfg.data_dir.clone();
    let server = Server::start(cfg).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, data_dir = %data_dir.display(), ca = %pyralog_server::tls::ca_path(&data_dir).display(), "pyralog-server listening");
    // A line on stdout for scripts and tests that wait for readiness.
    println!("pyralog-server listening on {addr}");
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("shutting down");
    server.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
