//! The admin subcommand provisions accounts that can then log in.

use crate::common::*;
use penpen_core::packets::directory::{Directory, DirectoryQuery};
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::{Service, State, digest};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::path::Path;
use std::process::Output;

fn admin(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"))
        .arg("--data")
        .arg(data)
        .arg("admin")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn provisioned_accounts_log_in_and_bad_imports_change_nothing() {
    let data = tempfile::tempdir().expect("folder");
    let dir = data.path();
    ok(admin(
        dir,
        &["add-department", "--id", "1", "--name", "技术部"],
    ));
    ok(admin(
        dir,
        &["add-job", "--id", "1", "--name", "软件工程师"],
    ));
    ok(admin(
        dir,
        &[
            "add-user",
            "--id",
            "13900000001",
            "--name",
            "赵六",
            "--department",
            "1",
            "--job",
            "1",
            "--password",
            "初始密码",
        ],
    ));

    let json = dir.join("people.json");
    std::fs::write(
        &json,
        r#"{"departments":[{"id":2,"name":"市场部"}],"jobs":[{"id":2,"name":"销售经理"}],
           "users":[{"id":"13900000002","name":"钱七","department":2,"job":2,"password":"pw2","broadcaster":true}]}"#,
    )
    .expect("write");
    assert!(ok(admin(dir, &["import", json.to_str().expect("utf-8")])).contains("1 users"));
    let csv = dir.join("people.csv");
    std::fs::write(
        &csv,
        "id,name,department,job,password,signing\n13900000003,孙八,2,2,pw3,\"你好，世界\"\n",
    )
    .expect("write");
    ok(admin(dir, &["import", csv.to_str().expect("utf-8")]));

    // One bad row refuses the whole file, with a reason.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "id,name,department,job,password\n13900000004,周九,2,2,pw\n123,吴十,2,2,pw\n",
    )
    .expect("write");
    let refused = admin(dir, &["import", bad.to_str().expect("utf-8")]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("11-digit"));
    let unknown_department = admin(
        dir,
        &[
            "add-user",
            "--id",
            "13900000005",
            "--name",
            "郑十一",
            "--department",
            "9",
            "--job",
            "1",
            "--password",
            "x",
        ],
    );
    assert!(
        String::from_utf8_lossy(&unknown_department.stderr).contains("department 9 does not exist")
    );

    let mut config = ServerConfig::new(dir);
    config.ports = PortPlan::Ephemeral;
    let server = RunningServer::start(config).await.expect("starts");
    let mut login = Client::connect(&server, Service::Login, None).await;
    let reply: LoginReply = login
        .request(&Login {
            user: user("13900000002"),
            password: digest::password_digest("pw2"),
        })
        .await
        .expect("the imported account logs in");
    assert!(reply.broadcaster);
    let mut another = Client::connect(&server, Service::Login, None).await;
    let refused = another
        .request::<_, LoginReply>(&Login {
            user: user("13900000004"),
            password: digest::password_digest("pw"),
        })
        .await
        .expect_err("nothing of the bad file was imported");
    assert_eq!(refused.state, State::LOGIN_FAILED);
    let mut port = Client::connect(&server, Service::SyncContacts, Some(&reply.token)).await;
    let directory: Directory = port
        .request(&DirectoryQuery::default())
        .await
        .expect("directory");
    let names: Vec<_> = directory.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["赵六", "钱七", "孙八"],
        "no demo company is loaded into a provisioned database"
    );
    server.shutdown().await;
}
