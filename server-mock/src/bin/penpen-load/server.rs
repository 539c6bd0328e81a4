//! The server under load: the `penpen-server-mock` binary beside this tool,
//! as one node or several over one store and bus, on fresh data folders.

use super::{PASSWORD, account};
use anyhow::{Context as _, bail};
use penpen_core::Service;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// How the server runs: one node, or several over one store and bus.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) nodes: usize,
    pub(crate) store: Option<String>,
    pub(crate) bus: Option<String>,
}

impl Cluster {
    /// The arguments every node and admin command shares.
    fn store_args(&self) -> Vec<String> {
        self.store
            .iter()
            .flat_map(|store| ["--store".to_owned(), store.clone()])
            .collect()
    }
}

/// The server binary on its own data folder: node 0, and the other nodes
/// of a cluster (each on its own data folder, port offset and node id).
pub(crate) struct ServerProcess {
    child: tokio::process::Child,
    offset: u16,
    binary: std::path::PathBuf,
    args: Vec<String>,
    data: tempfile::TempDir,
    /// Nodes 1… of a cluster, with their port offsets and data folders.
    others: Vec<(tokio::process::Child, u16, tempfile::TempDir)>,
}

impl ServerProcess {
    pub(crate) async fn start(
        users: usize,
        offset: u16,
        server_args: &[String],
        cluster: Cluster,
    ) -> anyhow::Result<ServerProcess> {
        let binary = std::env::current_exe()?.with_file_name("penpen-server-mock");
        let data = tempfile::tempdir()?;
        let csv = data.path().join("users.csv");
        let mut rows = String::from("id,name,department,job,password\n");
        for i in 0..users {
            rows.push_str(&format!("{},压测用户{i},1,1,{PASSWORD}\n", account(i)));
        }
        std::fs::write(&csv, rows)?;
        let admin = |args: &[&str]| {
            std::process::Command::new(&binary)
                .arg("--data")
                .arg(data.path())
                .args(cluster.store_args())
                .arg("admin")
                .args(args)
                .output()
        };
        admin(&["add-department", "--id", "1", "--name", "压测部"])?;
        admin(&["add-job", "--id", "1", "--name", "压测员"])?;
        let started = Instant::now();
        let imported = admin(&["import", &csv.to_string_lossy()])?;
        if !imported.status.success() {
            bail!(
                "import failed: {}",
                String::from_utf8_lossy(&imported.stderr)
            );
        }
        println!(
            "provisioned {users} users in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let node_args = |k: usize| -> Vec<String> {
            let mut args = server_args.to_vec();
            args.extend(cluster.store_args());
            if let Some(bus) = &cluster.bus {
                args.extend([
                    "--bus".to_owned(),
                    bus.clone(),
                    "--node-id".to_owned(),
                    format!("load{k}"),
                ]);
            }
            args
        };
        let args = node_args(0);
        let child = spawn_server(&binary, data.path(), offset, &args)?;
        let mut server = ServerProcess {
            child,
            offset,
            binary,
            args,
            data,
            others: Vec::new(),
        };
        server.wait_listening().await?;
        for k in 1..cluster.nodes {
            let data = tempfile::tempdir()?;
            let node_offset = offset + k as u16;
            let child = spawn_server(&server.binary, data.path(), node_offset, &node_args(k))?;
            server.others.push((child, node_offset, data));
            let login = node_addr(node_offset, Service::Login);
            let mut listening = false;
            for _ in 0..400 {
                if TcpStream::connect(login).await.is_ok() {
                    listening = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            if !listening {
                bail!("node {k} did not listen on {login}");
            }
        }
        if cluster.nodes > 1 {
            println!(
                "{} nodes over {} and {}",
                cluster.nodes,
                cluster.store.as_deref().unwrap_or("SQLite"),
                cluster.bus.as_deref().unwrap_or("no bus")
            );
        }
        Ok(server)
    }

    /// Kills the server (as a crash or a restart would end it) and starts it
    /// again on the same data; returns once it listens.
    pub(crate) async fn restart(&mut self) -> anyhow::Result<()> {
        let _ = self.child.kill().await;
        self.child = spawn_server(&self.binary, self.data.path(), self.offset, &self.args)?;
        self.wait_listening().await
    }

    async fn wait_listening(&mut self) -> anyhow::Result<()> {
        let offset = self.offset;
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "the server exited at start ({status}); is port offset {offset} taken? try --port-offset"
                );
            }
            if TcpStream::connect(self.addr(Service::Login)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("the server did not listen on {}", self.addr(Service::Login))
    }

    pub(crate) fn addr(&self, service: Service) -> SocketAddr {
        node_addr(self.offset, service)
    }

    /// The address of `service` on the node user `i` uses (i mod nodes).
    pub(crate) fn addr_for(&self, i: usize, service: Service) -> SocketAddr {
        match i % (self.others.len() + 1) {
            0 => self.addr(service),
            k => node_addr(self.others[k - 1].1, service),
        }
    }

    pub(crate) fn resident_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// The peak resident memory since the server started.
    pub(crate) fn peak_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// The server's CPU time so far (user and system), every node's.
    pub(crate) fn cpu(&self) -> Duration {
        std::iter::once(&self.child)
            .chain(self.others.iter().map(|(child, _, _)| child))
            .filter_map(tokio::process::Child::id)
            .map(|pid| super::meeting::stat_cpu(&format!("/proc/{pid}/stat")))
            .sum()
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
        for (mut child, _, _) in self.others {
            let _ = child.kill().await;
        }
    }
}

fn node_addr(offset: u16, service: Service) -> SocketAddr {
    SocketAddr::from((
        [127, 0, 0, 1],
        service.port_with_offset(offset).unwrap_or(0),
    ))
}

fn spawn_server(
    binary: &std::path::Path,
    data: &std::path::Path,
    offset: u16,
    server_args: &[String],
) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::new(binary)
        .arg("--data")
        .arg(data)
        .arg("--port-offset")
        .arg(offset.to_string())
        .args(server_args)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))
}
