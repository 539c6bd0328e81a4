//! Read receipts (PROTOCOL §16): a read mark and a watch on 20888, the
//! catch-up of marks on 50888, the reminder (加急) on 27888 and the choice
//! to share receipts on 32888. Marks and reminders are stored through the
//! writer; everything they cause is pushed only after the commit.

use super::{Reply, reply};
use crate::change_limits::Change;
use crate::context::{Context, now_ms};
use crate::store::StoreError;
use crate::store::db::Db;
use crate::store::queries::{self, Membership};
use penpen_core::packets::Done;
use penpen_core::packets::login::Push;
use penpen_core::packets::receipts::{
    DING_INTERVAL_MS, DING_REPLAY_MS, Ding, DingNotice, GroupReads, MAX_READS_PAGE, MemberRead,
    PeerRead, ReadMark, ReadsPage, ReadsQuery, ReceiptsSetting, Watch,
};
use penpen_core::{ErrorReply, GroupId, Peer, State, UserId};

/// Stores `user`'s mark; once committed, a mark that moved goes to their
/// sessions, to the other person of a 1:1 conversation, and to the
/// watchers of a group. No reply unless refused.
pub(super) async fn read(
    context: &Context,
    user: &UserId,
    mark: ReadMark,
) -> Result<(), ErrorReply> {
    let (who, by_default) = (user.clone(), context.receipts.shared_by_default);
    let moved = context
        .store
        .write(move |conn| queries::mark_read(conn, &who, mark.read, by_default))
        .await
        .map_err(|e| e.reply())?;
    let Some(moved) = moved else {
        return Ok(()); // at or below the stored mark: nothing changed
    };
    let own = PeerRead {
        target: moved.conversation.target.clone(),
        by: user.clone(),
        id: Some(moved.id),
        private: false,
    };
    context.push_user(user, &Push::Read { read: own }, None);
    let shared = moved.shares.then_some(moved.id);
    match &moved.conversation.target {
        Peer::User(_) => {
            if let Some(peer) = &moved.conversation.peer {
                let theirs = PeerRead {
                    target: Peer::User(user.clone()),
                    by: user.clone(),
                    id: shared,
                    private: !moved.shares,
                };
                context.push_user(peer, &Push::Read { read: theirs }, None);
            }
        }
        Peer::Group(gid) => context.read_moved(
            *gid,
            MemberRead {
                user: user.clone(),
                id: shared,
                joined: None,
                left: None,
                private: !moved.shares,
            },
        ),
    }
    Ok(())
}

/// Makes session `session` of `user` watch a group (answered with the
/// group's full list of marks, as a push) or nothing.
pub(super) async fn watch(
    context: &Context,
    user: &UserId,
    session: u64,
    watch: Watch,
) -> Result<Option<Push>, ErrorReply> {
    let Some(gid) = watch.watch else {
        context.reads.watch(user, session, None);
        return Ok(None);
    };
    // Watching before reading: a mark committed after the read reaches the
    // session as a change, after the full list (from any node: the group's
    // bus subscription is in place before the read).
    let hold = context.bus.hold_group(gid).await;
    context.reads.watch(user, session, Some((gid, hold)));
    let (who, by_default) = (user.clone(), context.receipts.shared_by_default);
    let marks = context
        .store
        .read(move |conn| {
            must_be_member(conn, gid, &who)?;
            queries::group_reads(conn, gid, by_default)
        })
        .await;
    match marks {
        Ok(marks) => Ok(Some(Push::Reads {
            reads: GroupReads {
                target: gid,
                full: true,
                marks,
            },
        })),
        Err(err) => {
            context.reads.watch(user, session, None);
            Err(err.reply())
        }
    }
}

/// 32 for a group that does not exist, 33 for one `user` is not in now.
fn must_be_member(conn: &Db<'_>, gid: GroupId, user: &UserId) -> Result<(), StoreError> {
    match queries::membership(conn, gid, user)? {
        Some(Membership::Current) => Ok(()),
        Some(Membership::Left(_)) => Err(StoreError::refused(
            State::NOT_A_MEMBER,
            format!("{user} has left group {gid}; only its members may watch its read marks"),
        )),
        None if queries::group_exists(conn, gid)? => Err(StoreError::refused(
            State::NOT_A_MEMBER,
            format!("{user} is not a member of group {gid}"),
        )),
        None => Err(StoreError::refused(
            State::UNKNOWN_GROUP,
            format!("group {gid} does not exist"),
        )),
    }
}

/// 50888 `{"reads":version}`: the marks `user` may see changed since.
pub async fn catch_up(context: &Context, user: &UserId, query: ReadsQuery) -> Reply {
    let (who, by_default) = (user.clone(), context.receipts.shared_by_default);
    let page = context.receipts.reads_page.clamp(1, MAX_READS_PAGE);
    let (reads, version, more) = context
        .store
        .read(move |conn| queries::reads_after(conn, &who, query.reads, page, by_default))
        .await
        .map_err(|e| e.reply())?;
    reply(&ReadsPage {
        state: State::SUCCESS,
        reads,
        version,
        more,
    })
}

/// 27888 `{"ding":id}`: reminds those who have not read the caller's
/// message, each on every session (a session too far behind is dropped
/// and gets it at its next login).
pub async fn ding(context: &Context, user: &UserId, ding: Ding) -> Reply {
    let (who, id) = (user.clone(), ding.ding);
    // Checked first, so that a refused reminder costs none of the allowance.
    context
        .store
        .read(move |conn| queries::plan_ding(conn, &who, id, now_ms(), DING_INTERVAL_MS))
        .await
        .map_err(|e| e.reply())?;
    context
        .changes
        .admit(user, Change::Ding, std::time::Instant::now())?;
    let who = user.clone();
    let ts = now_ms();
    let plan = context
        .store
        .write(move |conn| queries::record_ding(conn, &who, id, ts, DING_INTERVAL_MS))
        .await
        .map_err(|e| e.reply())?;
    let push = Push::Ding {
        ding: Box::new(DingNotice {
            target: plan.target,
            by: user.clone(),
            ts,
            message: plan.message,
        }),
    };
    for recipient in &plan.recipients {
        context.push_user_or_drop(recipient, &push);
    }
    reply(&Done::new())
}

/// The reminders of the last [`DING_REPLAY_MS`] for messages `user` has
/// still not read, to push after their login.
pub(super) async fn replay_dings(context: &Context, user: &UserId) -> Vec<Push> {
    let who = user.clone();
    let since = now_ms().saturating_sub(DING_REPLAY_MS);
    match context
        .store
        .read(move |conn| queries::dings_for(conn, &who, since))
        .await
    {
        Ok(notices) => notices
            .into_iter()
            .map(|ding| Push::Ding {
                ding: Box::new(ding),
            })
            .collect(),
        Err(err) => {
            tracing::warn!(%err, "could not read the reminders to replay");
            Vec::new()
        }
    }
}

/// 32888 `{"receipts":bool}`: stored, then answered.
pub async fn set_receipts(context: &Context, user: &UserId, setting: ReceiptsSetting) -> Reply {
    let who = user.clone();
    context
        .store
        .write(move |conn| queries::set_receipts(conn, &who, setting.receipts))
        .await
        .map_err(|e| e.reply())?;
    reply(&Done::new())
}
