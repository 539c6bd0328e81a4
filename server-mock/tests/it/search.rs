//! Searching all history (PROTOCOL §17).
//!
//! The property (run on both backends by `store_conformance`): for any history of 1:1 and group messages, joins, leaves
//! and recalls, every user's search (in all conversations or in one, read
//! page by page) returns exactly the messages a brute-force substring
//! search over what that user may see returns, newest first. Then the
//! service itself over real sockets: paging, refusals, a former member.

use crate::common::*;
use penpen_core::packets::groups::Members;
use penpen_core::packets::message::{MessageType, SendAck, SendText, Sender};
use penpen_core::packets::sync::{Search, SearchPage};
use penpen_core::{
    ClientMsgId, DepartmentId, ErrorReply, GroupId, JobId, MessageId, Peer, Service, State, UserId,
};
use penpen_server_mock::store::db::Db;
use penpen_server_mock::store::queries::{self, NewMessage, NewUser, RecallWindows};
use penpen_server_mock::store::schema;
use proptest::prelude::*;
use rusqlite::Connection;

pub(crate) const PEOPLE: usize = 4;

pub(crate) fn person(n: usize) -> UserId {
    UserId::parse(&format!("1390000000{n}")).expect("a user id")
}

/// What happens, in order.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// `from` writes `text` to `to` (two different people).
    Direct {
        from: usize,
        to: usize,
        text: String,
    },
    /// `from` writes `text` in the group (if a member now).
    Group { from: usize, text: String },
    /// A file named `text` sent from `from` to `to`.
    File {
        from: usize,
        to: usize,
        text: String,
    },
    /// `who` joins the group (if not a member now).
    Join { who: usize },
    /// `who` leaves the group (if a member now).
    Leave { who: usize },
    /// The sender of the `nth` message sent so far recalls it.
    Recall { nth: usize },
}

/// Texts over a small alphabet, so that queries often hit and often
/// almost hit (their pairs apart).
pub(crate) fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['周', '报', '会', '议', 'a', 'B', '1', ' ', '，']),
        0..9,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

pub(crate) fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['周', '报', '会', 'A', 'b', '1', ' ']),
        1..4,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>())
    .prop_filter("a query has a letter or digit", |q| {
        q.chars().any(char::is_alphanumeric)
    })
}

pub(crate) fn step() -> impl Strategy<Value = Step> {
    let who = 0..PEOPLE;
    prop_oneof![
        4 => (who.clone(), who.clone(), text()).prop_filter_map("two people", |(from, to, text)| {
            (from != to).then_some(Step::Direct { from, to, text })
        }),
        4 => (who.clone(), text()).prop_map(|(from, text)| Step::Group { from, text }),
        1 => (who.clone(), who.clone(), text()).prop_filter_map("two people", |(from, to, text)| {
            (from != to).then_some(Step::File { from, to, text })
        }),
        1 => who.clone().prop_map(|who| Step::Join { who }),
        1 => who.prop_map(|who| Step::Leave { who }),
        1 => (0usize..40).prop_map(|nth| Step::Recall { nth }),
    ]
}

/// A stored message as the model knows it.
#[derive(Debug, Clone)]
struct Sent {
    id: MessageId,
    from: usize,
    /// `None`: the group.
    to: Option<usize>,
    text: String,
    recalled: bool,
}

/// The model: who is in the group now, and up to which message each
/// former member may read.
#[derive(Debug, Default)]
struct Model {
    sent: Vec<Sent>,
    members: [bool; PEOPLE],
    left_at: [Option<MessageId>; PEOPLE],
}

impl Model {
    fn may_see(&self, who: usize, sent: &Sent) -> bool {
        match sent.to {
            Some(to) => sent.from == who || to == who,
            None => self.members[who] || self.left_at[who].is_some_and(|last| sent.id <= last),
        }
    }

    /// The brute force: every visible message whose text contains the
    /// trimmed query, ignoring case, newest first.
    fn hits(&self, who: usize, query: &str, within: Option<Option<usize>>) -> Vec<MessageId> {
        let needle = query.trim().to_lowercase();
        let mut ids: Vec<MessageId> = self
            .sent
            .iter()
            .filter(|sent| !sent.recalled && self.may_see(who, sent))
            .filter(|sent| match within {
                None => true,
                Some(None) => sent.to.is_none(),
                Some(Some(other)) => {
                    sent.to.is_some()
                        && ((sent.from == who && sent.to == Some(other))
                            || (sent.from == other && sent.to == Some(who)))
                }
            })
            .filter(|sent| sent.text.to_lowercase().contains(&needle))
            .map(|sent| sent.id)
            .collect();
        ids.reverse();
        ids
    }
}

/// The four people of the property, in an empty database.
pub(crate) fn seed_people(db: &Db<'_>) {
    queries::put_department(db, DepartmentId(1), "研发部").expect("a department");
    queries::put_job(db, JobId(1), "工程师").expect("a job");
    for n in 0..PEOPLE {
        queries::add_user(
            db,
            &NewUser {
                id: person(n),
                name: format!("p{n}"),
                department: DepartmentId(1),
                job: JobId(1),
                password_hash: "not used".into(),
                signing: String::new(),
                broadcaster: false,
            },
        )
        .expect("a user");
    }
}

/// A SQLite database in memory with the schema.
fn open() -> Connection {
    let mut conn = Connection::open_in_memory().expect("a database in memory");
    schema::migrate(&mut conn).expect("the schema");
    conn
}

fn store(
    conn: &Db<'_>,
    from: usize,
    to: Peer,
    kind: MessageType,
    text: &str,
    ts: i64,
) -> MessageId {
    let recipients: Vec<UserId> = match &to {
        Peer::User(other) => vec![person(from), other.clone()],
        Peer::Group(gid) => queries::current_members(conn, *gid).expect("members").0,
    };
    let file = kind.is_file();
    let message = NewMessage {
        sender: Sender::User(person(from)),
        to,
        kind,
        content: if file {
            "stored-name.bin".into()
        } else {
            text.into()
        },
        duration: None,
        cid: None,
        ts,
        mentions: None,
        mention_all: false,
        file: file.then(|| (text.to_owned(), 10)),
    };
    queries::store_message(conn, &message, &recipients)
        .expect("stored")
        .id
}

/// Plays `steps` into `db`, an empty database with the schema; returns
/// the group and the model.
fn play(db: &Db<'_>, steps: &[Step]) -> (GroupId, Model) {
    seed_people(db);
    let founders = Members(vec![person(0), person(1), person(2)]);
    let gid = queries::create_group(db, &person(0), "周会", &founders, 0).expect("the group");
    let mut model = Model {
        members: [true, true, true, false],
        ..Model::default()
    };
    for (ts, step) in (1..).zip(steps) {
        match step {
            Step::Direct { from, to, text } | Step::File { from, to, text } => {
                let kind = if matches!(step, Step::File { .. }) {
                    MessageType::File
                } else {
                    MessageType::Text
                };
                let id = store(db, *from, Peer::User(person(*to)), kind, text, ts);
                model.sent.push(Sent {
                    id,
                    from: *from,
                    to: Some(*to),
                    text: text.clone(),
                    recalled: false,
                });
            }
            Step::Group { from, text } if model.members[*from] => {
                let id = store(
                    db,
                    *from,
                    Peer::Group(gid),
                    MessageType::GroupText,
                    text,
                    ts,
                );
                model.sent.push(Sent {
                    id,
                    from: *from,
                    to: None,
                    text: text.clone(),
                    recalled: false,
                });
            }
            Step::Join { who } if !model.members[*who] => {
                queries::join_group(db, gid, &person(*who)).expect("joined");
                model.members[*who] = true;
                model.left_at[*who] = None;
            }
            Step::Leave { who } if model.members[*who] => {
                let last = model
                    .sent
                    .iter()
                    .filter(|s| s.to.is_none())
                    .map(|s| s.id)
                    .max()
                    .unwrap_or(MessageId(0));
                queries::leave_group(db, gid, &person(*who), last).expect("left");
                model.members[*who] = false;
                model.left_at[*who] = Some(last);
            }
            Step::Recall { nth } => {
                let Some(sent) = model.sent.get_mut(*nth) else {
                    continue;
                };
                if sent.recalled || (sent.to.is_none() && !model.members[sent.from]) {
                    continue;
                }
                let windows = RecallWindows {
                    sender_ms: i64::MAX / 4,
                    holder_ms: i64::MAX / 4,
                };
                queries::recall(db, &person(sent.from), sent.id, ts, windows).expect("recalled");
                sent.recalled = true;
            }
            _ => {}
        }
    }
    (gid, model)
}

/// Every hit of a search, read page by page.
pub(crate) fn search_all(
    db: &Db<'_>,
    who: usize,
    query: &str,
    target: Option<&Peer>,
    page: u32,
) -> Vec<MessageId> {
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let (messages, more) =
            queries::search(db, &person(who), query, target, before, page, 480).expect("searched");
        assert!(
            messages.len() <= page as usize,
            "a page holds at most its limit"
        );
        ids.extend(messages.iter().map(|m| m.id));
        match (more, messages.last()) {
            (true, Some(last)) => before = Some(last.id),
            (true, None) => panic!("more hits promised after an empty page"),
            (false, _) => return ids,
        }
    }
}

/// The property, on `db` (an empty database with the schema).
pub(crate) fn check_search(
    db: &Db<'_>,
    steps: &[Step],
    queries: &[String],
    page: u32,
) -> Result<(), TestCaseError> {
    let (gid, model) = play(db, steps);
    for who in 0..PEOPLE {
        for query in queries {
            prop_assert_eq!(
                search_all(db, who, query, None, page),
                model.hits(who, query, None),
                "{} searching {:?} everywhere",
                who,
                query
            );
            if model.members[who] || model.left_at[who].is_some() {
                prop_assert_eq!(
                    search_all(db, who, query, Some(&Peer::Group(gid)), page),
                    model.hits(who, query, Some(None)),
                    "{} searching {:?} in the group",
                    who,
                    query
                );
            }
            let other = (who + 1) % PEOPLE;
            prop_assert_eq!(
                search_all(db, who, query, Some(&Peer::User(person(other))), page),
                model.hits(who, query, Some(Some(other))),
                "{} searching {:?} with {}",
                who,
                query,
                other
            );
        }
    }
    Ok(())
}

#[test]
fn messages_stored_before_the_index_existed_are_found_after_the_migration() {
    let conn = open();
    let (_, model) = play(
        &Db::Sqlite(&conn),
        &[
            Step::Direct {
                from: 0,
                to: 1,
                text: "周报 a".into(),
            },
            Step::Group {
                from: 1,
                text: "会议周报".into(),
            },
        ],
    );
    // As a database of before version 9: no index rows, everything to backfill.
    conn.execute_batch(
        "INSERT INTO message_terms (message_terms) VALUES ('delete-all'); UPDATE search_backfill SET backfill_below = (SELECT MAX(id) + 1 FROM messages);",
    )
    .expect("unindexed");
    let db = Db::Sqlite(&conn);
    assert!(search_all(&db, 1, "周报", None, 10).is_empty());
    while queries::backfill_round(&Db::Sqlite(&conn)).expect("a round") > 0 {}
    assert_eq!(
        search_all(&db, 1, "周报", None, 10),
        model.hits(1, "周报", None)
    );
    assert_eq!(model.hits(1, "周报", None).len(), 2);
}

/// The service over a real socket: pages newest first, then refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_service_pages_newest_first_and_refuses_unknown_conversations() {
    let (server, _data) = start().await;
    let (_wang_stream, wang_login) = log_in(&server, WANG).await;
    let (_li_stream, li_login) = log_in(&server, LI).await;
    let mut text = Client::connect(&server, Service::Text, Some(&wang_login.token)).await;
    for n in 0..5 {
        let sent: Result<SendAck, ErrorReply> = text
            .request(&SendText {
                from: user(WANG),
                to: Peer::User(user(LI)),
                kind: MessageType::Text,
                content: format!("第{n}版周报 Draft"),
                quote: None,
                mentions: None,
                mention_all: false,
                cid: Some(ClientMsgId::parse(&format!("search-{n}")).expect("cid")),
            })
            .await;
        sent.expect("stored");
    }
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&li_login.token)).await;
    let search =
        |q: &str, before: Option<MessageId>, limit: Option<u32>, target: Option<Peer>| Search {
            search: q.into(),
            target,
            before,
            limit,
        };
    let first: SearchPage = sync
        .request(&search("周报", None, Some(3), Some(Peer::User(user(WANG)))))
        .await
        .expect("a page");
    assert_eq!(first.messages.len(), 3);
    assert!(first.more);
    assert!(
        first.messages.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert!(
        first.messages[0].content.contains("第4版"),
        "{:?}",
        first.messages[0]
    );
    let rest: SearchPage = sync
        .request(&search(
            "DRAFT",
            first.messages.last().map(|m| m.id),
            Some(3),
            None,
        ))
        .await
        .expect("the next page");
    let contents: Vec<&str> = rest.messages.iter().map(|m| m.content.as_str()).collect();
    assert!(contents.iter().all(|c| c.contains("Draft")), "{contents:?}");
    assert_eq!(rest.messages.len(), 2, "{contents:?}");
    assert!(!rest.more);

    let no_group = Peer::Group(GroupId::new(999_999).expect("gid"));
    let refused = sync
        .request::<_, SearchPage>(&search("周报", None, None, Some(no_group)))
        .await
        .expect_err("no such group");
    assert_eq!(refused.state, State::UNKNOWN_GROUP);
    let refused = sync
        .request::<_, SearchPage>(&search(
            "周报",
            None,
            None,
            Some(Peer::User(user("13899999999"))),
        ))
        .await
        .expect_err("no such user");
    assert_eq!(refused.state, State::UNKNOWN_USER);
    let refused = sync
        .request::<_, SearchPage>(&serde_json::json!({"search": "77yM44CC"}))
        .await
        .expect_err("no letter or digit");
    assert_eq!(refused.state, State::BAD_PACKET);
}
