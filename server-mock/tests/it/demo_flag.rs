//! The demo company (with its published password) is loaded only when asked
//! for: a server started plainly, as in production, has no such accounts and
//! never prints the password.

use crate::common::*;
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::{Service, State, digest};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::time::Duration;

#[tokio::test]
async fn a_plain_server_has_no_demo_accounts() {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    let server = RunningServer::start(config).await.expect("starts");
    let mut login = Client::connect(&server, Service::Login, None).await;
    let refused = login
        .request::<_, LoginReply>(&Login {
            user: user(WANG),
            password: digest::password_digest(PASSWORD),
        })
        .await
        .expect_err("no demo account");
    assert_eq!(refused.state, State::LOGIN_FAILED);
    server.shutdown().await;
}

/// The binary without `--demo`: no demo login, and its log never shows the
/// demo password (`crash.rs` starts it with `--demo` and logs in).
#[tokio::test]
async fn the_binary_without_demo_has_no_demo_accounts_and_prints_no_password() {
    let data = tempfile::tempdir().expect("temporary folder");
    let log = data.path().join("server.log");
    for attempt in 0..40u16 {
        let offset = 1 + (std::process::id() as u16 % 500 + attempt * 23) % 998;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"))
            .arg("--data")
            .arg(data.path().join("data"))
            .arg("--port-offset")
            .arg(offset.to_string())
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let addr = std::net::SocketAddr::from((
            [127, 0, 0, 1],
            Service::Login.port_with_offset(offset).expect("fits"),
        ));
        let mut up = false;
        for _ in 0..600 {
            if let Ok(Some(_)) = child.try_wait() {
                break; // a port was taken: try another offset
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !up {
            let _ = child.kill().await;
            continue;
        }
        let mut login = Client::try_connect(addr, None).await.expect("connects");
        let refused = login
            .request::<_, LoginReply>(&Login {
                user: user(WANG),
                password: digest::password_digest(PASSWORD),
            })
            .await
            .expect_err("no demo account without --demo");
        assert_eq!(refused.state, State::LOGIN_FAILED);
        let _ = child.kill().await;
        let printed = std::fs::read_to_string(&log).expect("the log");
        assert!(
            printed.contains("listening"),
            "the log is the server's: {printed}"
        );
        assert!(
            !printed.contains(PASSWORD),
            "the log shows a password: {printed}"
        );
        return;
    }
    panic!("no port offset had every port free");
}
