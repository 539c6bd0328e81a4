//! Per-user limits on changes that are pushed to everyone: group creation
//! (60888) and presence and signature changes (33888, 31888) get state 35
//! with a reason beyond their allowance.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::groups::{GroupCreate, GroupCreated, Members};
use penpen_core::packets::profile::{Presence, PresenceUpdate, SignatureUpdate};
use penpen_core::{Service, State};
use penpen_server_mock::{AuthPolicy, PortPlan, RunningServer, ServerConfig};
use std::time::Duration;

async fn start_limited() -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.auth = AuthPolicy {
        group_creations: 2,
        profile_changes: 3,
        change_window: Duration::from_secs(3600),
        ..AuthPolicy::default()
    };
    (RunningServer::start(config).await.expect("starts"), data)
}

#[tokio::test]
async fn group_creation_is_limited_per_user() {
    let (server, _data) = start_limited().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let (_l, li) = log_in(&server, LI).await;
    let create = |holder: &str, name: &str| GroupCreate {
        holder: user(holder),
        name: name.into(),
        member: Members(vec![user(ZHANG)]),
    };
    let mut port = Client::connect(&server, Service::GroupCreate, Some(&wang.token)).await;
    for name in ["一", "二"] {
        let _: GroupCreated = port
            .request(&create(WANG, name))
            .await
            .expect("within the allowance");
    }
    let refused = port
        .request::<_, GroupCreated>(&create(WANG, "三"))
        .await
        .expect_err("beyond the allowance");
    assert_eq!(refused.state, State::RATE_LIMITED);
    assert!(
        refused.error.contains("group creations"),
        "{}",
        refused.error
    );
    // Someone else is not affected.
    let mut other = Client::connect(&server, Service::GroupCreate, Some(&li.token)).await;
    let _: GroupCreated = other
        .request(&create(LI, "四"))
        .await
        .expect("Li's own allowance");
    server.shutdown().await;
}

#[tokio::test]
async fn presence_and_signature_changes_share_a_per_user_limit() {
    let (server, _data) = start_limited().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let mut presence = Client::connect(&server, Service::Presence, Some(&wang.token)).await;
    let mut signature = Client::connect(&server, Service::Signature, Some(&wang.token)).await;
    for state in [Presence::Busy, Presence::Away] {
        let _: Done = presence
            .request(&PresenceUpdate {
                user: user(WANG),
                presence: state,
            })
            .await
            .expect("within the allowance");
    }
    let _: Done = signature
        .request(&SignatureUpdate {
            user: user(WANG),
            signing: "在开会".into(),
        })
        .await
        .expect("within the allowance");
    let refused = signature
        .request::<_, Done>(&SignatureUpdate {
            user: user(WANG),
            signing: "再改一次".into(),
        })
        .await
        .expect_err("beyond the allowance");
    assert_eq!(refused.state, State::RATE_LIMITED);
    assert!(refused.error.contains("try again in"), "{}", refused.error);
    let refused = presence
        .request::<_, Done>(&PresenceUpdate {
            user: user(WANG),
            presence: Presence::Online,
        })
        .await
        .expect_err("beyond the allowance");
    assert_eq!(refused.state, State::RATE_LIMITED);
    server.shutdown().await;
}
