//! `penpen-server-mock --data DIR [--host 127.0.0.1] [--port-offset N]`

use anyhow::Context as _;
use clap::Parser;
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::net::IpAddr;
use std::path::PathBuf;

/// The local PENPEN 1.0 backend: every service port, with its data in one folder.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The folder that holds the server's data; created if missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Shift every service port by N (below 1000 keeps them distinct), to run several servers side by side.
    #[arg(long, value_name = "N", default_value_t = 0)]
    port_offset: u16,
    /// Start with an empty directory instead of loading the demo company into a new database.
    #[arg(long)]
    no_demo: bool,
    /// The zone of message times, in minutes east of UTC (480 is UTC+8).
    #[arg(long, value_name = "MINUTES", default_value_t = penpen_core::time::DEFAULT_UTC_OFFSET_MINUTES, allow_negative_numbers = true)]
    utc_offset: i32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = ServerConfig {
        data_dir: args.data,
        host: args.host,
        ports: PortPlan::Offset(args.port_offset),
        demo: !args.no_demo,
        utc_offset_minutes: args.utc_offset,
    };
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
