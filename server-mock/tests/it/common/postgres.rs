//! A throwaway PostgreSQL for the tests: `initdb` in a temporary folder, the
//! server on a free port, started on first use and shared by the test
//! binary; each test gets a database of its own.
//!
//! PostgreSQL refuses to run as root, so as root (CI) it runs as `nobody`
//! (`setpriv`). A watchdog shell stops the server and removes its folder
//! once the test process is gone, however it ended.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running throwaway PostgreSQL.
#[derive(Debug)]
pub struct TempPostgres {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its folder (data, socket, log).
    pub folder: PathBuf,
    /// The watchdog shell; it ends by itself once the test process is gone.
    _watchdog: std::sync::Mutex<std::process::Child>,
}

/// The folder holding `initdb` and `postgres`: on PATH, else Debian's newest.
fn binaries() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (initdb not found); run scripts/setup.sh")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The watchdog: initdb, start the server in the background, wait while
/// both the test process and the server live, then stop it and clean up.
const SCRIPT: &str = r#"
set -u
dir=$1; port=$2; parent=$3; bin=$4; shift 4
"$@" "$bin/initdb" -D "$dir/data" -U penpen --auth=trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { echo failed >"$dir/initdb.failed"; exit 1; }
"$@" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
    -c shared_buffers=64MB >"$dir/postgres.log" 2>&1 &
pg=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$pg" 2>/dev/null; do sleep 1; done
kill -INT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$dir"
"#;

impl TempPostgres {
    fn start() -> TempPostgres {
        let folder = tempfile::Builder::new()
            .prefix("penpen-pg-")
            .tempdir()
            .expect("a temporary folder")
            .keep();
        let mut run_as: Vec<String> = Vec::new();
        if is_root() {
            let status = Command::new("chown")
                .args(["nobody:nogroup", &folder.display().to_string()])
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "cannot hand {} to nobody",
                folder.display()
            );
            run_as = [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
            ]
            .map(String::from)
            .to_vec();
        }
        let port = free_port();
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("penpen-test-postgres")
            .arg(&folder)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .arg(binaries())
            .args(&run_as)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the PostgreSQL watchdog starts");
        let server = TempPostgres {
            port,
            folder,
            _watchdog: std::sync::Mutex::new(watchdog),
        };
        server.wait_until_ready();
        server
    }

    /// Waits (generously: initdb and a first start take seconds on a busy
    /// machine) until the server takes connections.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if self.folder.join("initdb.failed").exists() {
                let log =
                    std::fs::read_to_string(self.folder.join("initdb.log")).unwrap_or_default();
                panic!("initdb failed:\n{log}");
            }
            if postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.folder.join("postgres.log")).unwrap_or_default();
                panic!("PostgreSQL did not start within 120 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL of `database`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://penpen@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let admin_url = self.url("postgres");
        let sql = format!("CREATE DATABASE {name}");
        // The synchronous client runs a runtime of its own, which cannot
        // start on a thread of the test's runtime.
        off_runtime(move || {
            let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
                .expect("the test PostgreSQL takes connections");
            admin.batch_execute(&sql).expect("a database is created");
        });
        self.url(&name)
    }
}

/// Runs `f` on a thread of its own (outside any async runtime) and waits.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| scope.spawn(f).join().expect("the helper thread finishes"))
}

/// The test binary's PostgreSQL, started on first use.
pub fn shared() -> &'static TempPostgres {
    static SERVER: OnceLock<TempPostgres> = OnceLock::new();
    SERVER.get_or_init(|| off_runtime(TempPostgres::start))
}

/// Whether the server tests run on PostgreSQL (`PENPEN_TEST_STORE=postgres`)
/// rather than SQLite.
pub fn tests_use_postgres() -> bool {
    std::env::var("PENPEN_TEST_STORE").is_ok_and(|v| v == "postgres")
}
