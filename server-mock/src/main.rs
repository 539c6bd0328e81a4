//! `penpen-server-mock --data DIR [--host 127.0.0.1] [--port-offset N] [--demo] [--bus nats://…]` runs the server;
//! `penpen-server-mock --data DIR admin …` provisions departments, jobs and users.

use anyhow::Context as _;
use clap::Parser;
use penpen_server_mock::store::StoreLocation;
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig, admin};
use std::net::IpAddr;
use std::path::PathBuf;

/// The local PENPEN 1.0 backend: every service port, with its data in one folder.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The folder that holds the server's data; created if missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Where messages and accounts are kept: sqlite:DIR (the database in
    /// DIR), or postgres://user:password@host:port/database, which several
    /// nodes share. Default: SQLite in the --data folder.
    #[arg(long, value_name = "STORE", value_parser = StoreLocation::parse)]
    store: Option<StoreLocation>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Shift every service port by N (below 1000 keeps them distinct), to run several servers side by side.
    #[arg(long, value_name = "N", default_value_t = 0)]
    port_offset: u16,
    /// Load the demo company (published passwords) into a new, empty database; for trials only.
    #[arg(long)]
    demo: bool,
    /// The zone of message times, in minutes east of UTC (480 is UTC+8).
    #[arg(long, value_name = "MINUTES", default_value_t = penpen_core::time::DEFAULT_UTC_OFFSET_MINUTES, allow_negative_numbers = true)]
    utc_offset: i32,
    /// Sessions unused for this many days expire (the user logs in again).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    session_idle_days: u64,
    /// Sessions expire this many days after the login, used or not.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    session_lifetime_days: u64,
    #[command(flatten)]
    network: penpen_server_mock::cli::NetworkArgs,
    #[command(flatten)]
    calls: penpen_server_mock::cli::CallArgs,
    #[command(flatten)]
    messages: penpen_server_mock::cli::MessageArgs,
    #[command(flatten)]
    files: penpen_server_mock::cli::FileArgs,
    #[command(flatten)]
    receipts: penpen_server_mock::cli::ReceiptArgs,
    #[command(flatten)]
    bus: penpen_server_mock::cli::BusArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Provision the directory (the server may be running), or move the
    /// store into PostgreSQL.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Debug, clap::Subcommand)]
enum AdminAction {
    /// Copy everything of this server's SQLite store into an empty
    /// PostgreSQL database, for several nodes (stop the server first).
    MigrateTo {
        /// postgres://user:password@host:port/database
        url: String,
    },
    #[command(flatten)]
    Directory(DirectoryAction),
}

/// What changes the directory or sessions inside the server's own store.
#[derive(Debug, clap::Subcommand)]
enum DirectoryAction {
    /// Create or rename a department.
    AddDepartment {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        name: String,
    },
    /// Create or rename a job.
    AddJob {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        name: String,
    },
    /// Add a user.
    AddUser(admin::UserEntry),
    /// Import a .json file (departments, jobs, users) or a .csv file of users
    /// (id,name,department,job,password,signing,broadcaster); all or nothing.
    Import { file: PathBuf },
    /// Refuse a user's logins and close their open sessions (a running server
    /// closes their connections within a second).
    DisableUser {
        #[arg(long)]
        id: String,
    },
    /// Let a disabled user log in again.
    EnableUser {
        #[arg(long)]
        id: String,
    },
    /// Log a user out everywhere: revoke every session and close its connections.
    RevokeSessions {
        #[arg(long)]
        id: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colours only on a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Some(Command::Admin { action }) = args.command {
        let mut config = ServerConfig::new(&args.data);
        config.store_at = args.store.clone();
        return admin(&config, action).await;
    }
    let mut config = ServerConfig {
        data_dir: args.data.clone(),
        host: args.host,
        ports: PortPlan::Offset(args.port_offset),
        demo: args.demo,
        store_at: args.store.clone(),
        utc_offset_minutes: args.utc_offset,
        auth: penpen_server_mock::AuthPolicy {
            session_idle: std::time::Duration::from_secs(args.session_idle_days * 86_400),
            session_lifetime: std::time::Duration::from_secs(args.session_lifetime_days * 86_400),
            ..Default::default()
        },
        ..ServerConfig::new(&args.data)
    };
    args.network
        .apply(&mut config)
        .context("penpen-server-mock cannot use its network options")?;
    args.calls
        .apply(&mut config)
        .context("penpen-server-mock cannot use its call options")?;
    args.messages
        .apply(&mut config)
        .context("penpen-server-mock cannot use its message options")?;
    args.files.apply(&mut config);
    args.receipts.apply(&mut config);
    args.bus.apply(&mut config);
    let server = RunningServer::start(config)
        .await
        .context("penpen-server-mock could not start")?;
    tracing::info!("ready; stop with Ctrl-C");
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[allow(clippy::print_stdout)]
async fn admin(config: &ServerConfig, action: AdminAction) -> anyhow::Result<()> {
    use penpen_server_mock::store::Store;
    let data = &config.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let action = match action {
        AdminAction::MigrateTo { url } => return migrate_to(config, &url).await,
        AdminAction::Directory(action) => action,
    };
    let location = config.store_location();
    let options = config.store;
    let store = tokio::task::spawn_blocking(move || Store::open_at(&location, options))
        .await?
        .context("cannot open the database")?;
    let outcome = match action {
        DirectoryAction::AddDepartment { id, name } => admin::put_department(&store, id, &name)
            .await
            .map(|()| format!("department {id} is {name}")),
        DirectoryAction::AddJob { id, name } => admin::put_job(&store, id, &name)
            .await
            .map(|()| format!("job {id} is {name}")),
        DirectoryAction::AddUser(entry) => admin::add_user(&store, &entry)
            .await
            .map(|()| format!("added user {}", entry.id)),
        DirectoryAction::DisableUser { id } => admin::disable_user(&store, &id)
            .await
            .map(|revoked| format!("disabled user {id}; revoked {revoked} sessions")),
        DirectoryAction::EnableUser { id } => admin::enable_user(&store, &id)
            .await
            .map(|()| format!("enabled user {id}")),
        DirectoryAction::RevokeSessions { id } => admin::revoke_sessions(&store, &id)
            .await
            .map(|revoked| format!("revoked {revoked} sessions of user {id}")),
        DirectoryAction::Import { file } => admin::import(&store, &file).await.map(|(d, j, u)| {
            format!(
                "imported {d} departments, {j} jobs and {u} users from {}",
                file.display()
            )
        }),
    };
    let store_to_close = store.clone();
    tokio::task::spawn_blocking(move || store_to_close.close()).await?;
    println!("{}", outcome?);
    Ok(())
}

/// `admin migrate-to`: the SQLite store of `config` into PostgreSQL at `url`.
#[allow(clippy::print_stdout)]
async fn migrate_to(config: &ServerConfig, url: &str) -> anyhow::Result<()> {
    let StoreLocation::Sqlite(sqlite) = config.store_location() else {
        anyhow::bail!("migrate-to copies from SQLite; this server's --store is not SQLite");
    };
    let url = url.to_owned();
    let report = tokio::task::spawn_blocking(move || {
        penpen_server_mock::store::copy::sqlite_to_postgres(&sqlite, &url, |table, rows| {
            println!("copied {rows} rows of {table}");
        })
    })
    .await?
    .context("the copy did not happen (nothing was kept in PostgreSQL)")?;
    let total: u64 = report.iter().map(|(_, rows)| rows).sum();
    println!("copied {total} rows; start the nodes with --store and the same URL");
    Ok(())
}
