//! `pyralog-server`: runs on embedded defaults with no arguments (a
//! one-node cluster); `init-cluster` prepares the TLS material of a
//! cluster; `cert issue|revoke|revoked` and `token create|list|revoke`
//! manage client identities (see docs/SECURITY.md).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use pyralog_server::{Server, ServerConfig};

/// Pyralog server: a partitioned, replicated, append-only log over QUIC.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Config file (TOML); flags override it.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./pyralog-data].
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:9092, or this node's voter address].
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// This node's id in the cluster [default: 0].
    #[arg(long, value_name = "ID")]
    node_id: Option<u32>,
    /// Every voter of the cluster: `1@host:port,2@host:port,...`.
    #[arg(long, value_name = "LIST")]
    voters: Option<String>,
    /// The cluster's TLS directory (from `init-cluster`).
    #[arg(long, value_name = "DIR", global = true)]
    tls_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Creates a cluster's CA, its id and one certificate per voter in a
    /// new directory; point every node at it with `--tls-dir`.
    InitCluster {
        #[arg(long, value_name = "DIR")]
        tls_dir: PathBuf,
        /// Every voter: `1@host:port,2@host:port,...`.
        #[arg(long, value_name = "LIST")]
        voters: String,
    },
    /// Client certificates under this server's CA (the development CA in
    /// the data directory, or the cluster CA of `--tls-dir`).
    #[command(subcommand)]
    Cert(CertCmd),
    /// Bearer tokens, stored as salted hashes in `[auth] tokens_file`.
    #[command(subcommand)]
    Token(TokenCmd),
}

#[derive(Subcommand, Debug)]
enum CertCmd {
    /// Writes `<out>/<name>.pem` and `<out>/<name>-key.pem`, a client
    /// certificate whose subject CN (and DNS SAN) is the principal `name`.
    Issue {
        #[arg(long)]
        name: String,
        /// Directory for the files [default: the current one].
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// Days the certificate is valid, from now.
        #[arg(long, default_value_t = pyralog_server::auth::certs::DEFAULT_CLIENT_CERT_DAYS)]
        days: u32,
    },
    /// Puts a certificate on the deny-list (`[auth] revoked_certs_file`):
    /// it is refused from then on, and the running server closes the
    /// connections that presented it within a second.
    Revoke {
        /// The certificate's PEM file.
        #[arg(long, value_name = "FILE", conflicts_with = "serial", required_unless_present = "serial")]
        cert: Option<PathBuf>,
        /// Its serial number in hex (`openssl x509 -serial`).
        #[arg(long, value_name = "HEX")]
        serial: Option<String>,
    },
    /// Lists the revoked certificates' serials.
    Revoked,
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Creates a token for principal NAME and prints it (only this once).
    Create { name: String },
    /// Lists the principals that hold a token.
    List,
    /// Revokes NAME's token: new connections with it are refused.
    Revoke { name: String },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PYRALOG_LOG").unwrap_or_else(|_| "info,openraft=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = Args::parse();
    if let Some(Cmd::InitCluster { tls_dir, voters }) = &args.command {
        let voters = pyralog_server::config::parse_voters(voters)?;
        anyhow::ensure!(!voters.is_empty(), "--voters names no node");
        pyralog_server::tls::init_cluster(tls_dir, &voters)?;
        println!("cluster TLS material for nodes {:?} in {}", voters.keys().collect::<Vec<_>>(), tls_dir.display());
        return Ok(());
    }
    let command = args.command.take();
    let cfg = config(args)?;
    match command {
        Some(Cmd::Cert(c)) => return cert(&cfg, c),
        Some(Cmd::Token(t)) => return token(&cfg, t),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cfg))
}

fn cert(cfg: &ServerConfig, cmd: CertCmd) -> anyhow::Result<()> {
    let list = pyralog_server::auth::revoked::RevokedCerts::new(cfg.auth.revoked_certs_path(&cfg.data_dir));
    match cmd {
        CertCmd::Issue { name, out, days } => {
            let ca_dir = pyralog_server::auth::certs::ca_dir(&cfg.data_dir, cfg.cluster.tls_dir.as_deref());
            let (cert, key) = pyralog_server::auth::certs::issue(&ca_dir, &name, days, &out)?;
            println!("client certificate for {name}, valid {days} days: {} (key {})", cert.display(), key.display());
        }
        CertCmd::Revoke { cert, serial } => {
            let (serial, added) = match (cert, serial) {
                (Some(file), _) => list.revoke_cert_file(&file, now_ms()?)?,
                (None, Some(s)) => {
                    let added = list.revoke_serial(&s, "", now_ms()?)?;
                    (s, added)
                }
                (None, None) => anyhow::bail!("name the certificate: --cert FILE or --serial HEX"),
            };
            match added {
                true => println!("revoked the certificate with serial {serial}"),
                false => println!("the certificate with serial {serial} was already revoked"),
            }
        }
        CertCmd::Revoked => {
            for (serial, r) in list.list()?.revoked {
                println!("{serial}\t{}\trevoked_at_ms={}", r.name, r.revoked_at_ms);
            }
        }
    }
    Ok(())
}

fn now_ms() -> anyhow::Result<i64> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    Ok(i64::try_from(now)?)
}

fn token(cfg: &ServerConfig, cmd: TokenCmd) -> anyhow::Result<()> {
    let store = pyralog_server::auth::tokens::TokenStore::new(cfg.auth.tokens_path(&cfg.data_dir));
    match cmd {
        TokenCmd::Create { name } => println!("{}", store.create(&name, now_ms()?)?),
        TokenCmd::List => {
            for t in store.list()? {
                println!("{}\tcreated_at_ms={}", t.name, t.created_at_ms);
            }
        }
        TokenCmd::Revoke { name } => {
            anyhow::ensure!(store.revoke(&name)?, "{name} has no token");
            println!("revoked {name}'s token");
        }
    }
    Ok(())
}

fn config(args: Args) -> anyhow::Result<ServerConfig> {
    let mut cfg = match &args.config {
        Some(path) => ServerConfig::from_file(path)?,
        None => ServerConfig::default(),
    };
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    if let Some(id) = args.node_id {
        cfg.node_id = id;
    }
    if let Some(v) = args.voters {
        cfg.cluster.voters = v;
    }
    if let Some(t) = args.tls_dir {
        cfg.cluster.tls_dir = Some(t);
    }
    match args.listen {
        Some(l) => cfg.listen = l,
        None => {
            // A voter listens where the others reach it unless told otherwise.
            if let Some(addr) = cfg.voters()?.get(&cfg.node_id).filter(|_| cfg.is_multi_node()) {
                if let Ok(a) = addr.parse() {
                    cfg.listen = a;
                }
            }
        }
    }
    cfg.validate()?;
    Ok(cfg)
}

async fn run(cfg: ServerConfig) -> anyhow::Result<()> {
    let data_dir = cfg.data_dir.clone();
    let server = Server::start(cfg).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "pyralog-server listening");
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
