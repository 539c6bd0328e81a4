//! Several server nodes (#17) in the browser: `penpen.json` listing them, the
//! storage names that stay the deployment's whichever node is in use, the
//! remembered session across versions, and the sockets' choice of node.

use futures::channel::mpsc::unbounded;
use penpen_core::UserId;
use penpen_web::cache::IndexedDbCache;
use penpen_web::config::{ConfigError, PageLocation, ServerAddress, Servers};
use penpen_web::net::Sockets;
use penpen_web::session::Session;
use wasm_bindgen_test::*;

fn page() -> PageLocation {
    PageLocation {
        protocol: "https:".into(),
        hostname: "im.example.cn".into(),
        search: String::new(),
    }
}

const TWO_NODES: &str =
    r#"{"servers": [{"host": "im1.example.cn"}, {"host": "im2.example.cn"}], "tls": true}"#;

fn account() -> UserId {
    UserId::parse("13800000001").expect("account")
}

#[wasm_bindgen_test]
fn a_deployment_file_lists_nodes_and_the_first_names_the_storage() {
    let servers = Servers::from_deployment_file(TWO_NODES, &page()).expect("two nodes");
    let labels: Vec<String> = servers.nodes().iter().map(ServerAddress::label).collect();
    assert_eq!(labels, ["im1.example.cn:20888", "im2.example.cn:20888"]);
    assert!(servers.nodes().iter().all(|node| node.tls));
    // The cache of a deployment that grew from im1 alone to im1 and im2 is
    // the database it always had, whichever node the app uses.
    let before = ServerAddress::from_deployment_file(r#"{"host": "im1.example.cn"}"#, &page())
        .expect("one server");
    assert_eq!(
        IndexedDbCache::database_name(servers.home(), &account()),
        IndexedDbCache::database_name(&before, &account())
    );
    assert_eq!(
        IndexedDbCache::database_name(servers.home(), &account()),
        "penpen-im1.example.cn:20888-13800000001"
    );
    // A bad list is refused with what was expected.
    let error = Servers::from_deployment_file(r#"{"servers": []}"#, &page())
        .expect_err("an empty list is refused");
    assert_eq!(error, ConfigError::NoServers);
    assert!(
        error.to_string().contains("expected at least one"),
        "{error}"
    );
}

#[wasm_bindgen_test]
fn a_remembered_session_keeps_its_nodes_and_older_ones_still_load() {
    let servers = Servers::from_deployment_file(TWO_NODES, &page()).expect("two nodes");
    let session = Session {
        user: account(),
        token: "t".into(),
        name: "张三".into(),
        broadcaster: false,
        server: servers.home().clone(),
        other_nodes: servers.nodes()[1..].to_vec(),
    };
    let json = serde_json::to_string(&session).expect("json");
    let back: Session = serde_json::from_str(&json).expect("read back");
    assert_eq!(back.servers(), servers);
    // What a version before nodes remembered: one server, no list.
    let old = r#"{"user":"13800000001","token":"t","name":"张三","broadcaster":false,
        "server":{"host":"im1.example.cn","port_offset":0,"tls":true}}"#;
    let old: Session = serde_json::from_str(old).expect("an older session loads");
    assert_eq!(old.servers().nodes().len(), 1);
    // It follows its deployment's nodes, never another deployment's.
    let grown = old.clone().with_nodes_of(&servers);
    assert_eq!(grown.servers(), servers);
    let other = Servers::from_deployment_file(
        r#"{"servers": [{"host": "evil.example"}, {"host": "im1.example.cn"}]}"#,
        &page(),
    )
    .expect("another deployment");
    assert_eq!(old.clone().with_nodes_of(&other).servers().nodes().len(), 1);
}

#[wasm_bindgen_test]
fn sockets_start_at_the_chosen_node_and_move_to_the_next_in_turn() {
    let servers = Servers::from_deployment_file(
        r#"{"servers": [{"host": "im1.example.cn"}, {"host": "im2.example.cn"}, {"host": "im3.example.cn"}]}"#,
        &page(),
    )
    .expect("three nodes");
    let (events, _inbox) = unbounded();
    let mut sockets = Sockets::new(servers.clone(), 4, events);
    let mut used = vec![sockets.server().host.clone()];
    for _ in 0..3 {
        assert!(sockets.switch_node());
        used.push(sockets.server().host.clone());
    }
    assert_eq!(
        used,
        [
            "im2.example.cn",
            "im3.example.cn",
            "im1.example.cn",
            "im2.example.cn"
        ]
    );
    let (events, _inbox) = unbounded();
    let mut alone = Sockets::new(Servers::one(servers.home().clone()), 4, events);
    assert!(!alone.switch_node(), "one server: nowhere else to go");
    assert_eq!(alone.server(), servers.home());
}
