//! 53888 in pages: a user in more groups than a page gets them all by
//! following `next`, and the protocol document's bare request still works
//! (the first page, with `more`).

use crate::common::*;
use penpen_core::packets::groups::{GroupCreate, GroupCreated, Groups, GroupsQuery, Members};
use penpen_core::{ErrorReply, GroupId, Service, State};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_in_more_groups_than_a_page_gets_them_all_page_by_page() {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.groups_page = 2;
    let server = RunningServer::start(config).await.expect("starts");
    let (_stream, zhou) = log_in(&server, ZHOU).await;

    let mut create = Client::connect(&server, Service::GroupCreate, Some(&zhou.token)).await;
    for n in 0..5 {
        let _: GroupCreated = create
            .request(&GroupCreate {
                holder: user(ZHOU),
                name: format!("分页组 {n}"),
                member: Members(vec![user(LI)]),
            })
            .await
            .expect("created");
    }

    let mut sync = Client::connect(&server, Service::SyncGroups, Some(&zhou.token)).await;
    // The document's request (`{}`), as an old client sends it: the first page.
    let first: Groups = sync
        .request(&GroupsQuery::default())
        .await
        .expect("a first page");
    assert_eq!(first.groups.len(), 2, "the server's page size");
    assert!(first.more, "more pages follow");
    assert_eq!(first.next, first.groups.last().map(|g| g.gid));

    let mut all: Vec<GroupId> = first.groups.iter().map(|g| g.gid).collect();
    let mut after = first.next;
    let mut pages = 1;
    while let Some(gid) = after {
        let page: Groups = sync
            .request(&GroupsQuery {
                user: Some(user(ZHOU)),
                after: Some(gid),
                limit: None,
            })
            .await
            .expect("a page");
        assert!(page.groups.len() <= 2);
        assert_eq!(page.more, page.next.is_some());
        all.extend(page.groups.iter().map(|g| g.gid));
        after = page.next;
        pages += 1;
        assert!(pages < 20, "the pages end");
    }
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "ascending, no repeats");
    assert!(all.len() >= 5, "every group: {all:?}");
    assert!(pages >= 3);

    // A limit of the caller's own, within 1 to 200.
    let big: Groups = sync
        .request(&GroupsQuery {
            user: None,
            after: None,
            limit: Some(200),
        })
        .await
        .expect("one page");
    assert_eq!(big.groups.iter().map(|g| g.gid).collect::<Vec<_>>(), all);
    assert!(!big.more);
    let refused: ErrorReply = sync
        .request::<_, Groups>(&GroupsQuery {
            user: None,
            after: None,
            limit: Some(0),
        })
        .await
        .expect_err("limit 0");
    assert_eq!(refused.state, State::BAD_PACKET);
    server.shutdown().await;
}
