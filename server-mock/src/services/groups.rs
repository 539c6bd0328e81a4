//! 53888 the caller's groups; 60888 create, 61888 rename, 62888 members.
//! Every change stores a notice message to the members, in the same commit.

use super::{Reply, must_be_self, reply, request};
use crate::context::{Context, now_ms};
use crate::store::StoreError;
use crate::store::db::Db;
use crate::store::queries::{self, Membership, NewMessage, Stored};
use penpen_core::limits::MAX_GROUP_MEMBERS;
use penpen_core::packets::groups::{
    Group, GroupCreate, GroupCreated, GroupMembersChange, GroupRename, GroupUpdated, Groups,
    GroupsQuery, Members, MembersAction,
};
use penpen_core::packets::message::{
    GroupCreatedNotice, GroupMembersNotice, GroupRenamedNotice, MessageType, Sender,
};
use penpen_core::{Frame, GroupId, Peer, State, UserId};
use serde::Serialize;

/// Answers with a page of the groups the caller belongs to now. Pages are
/// at most `limits::MAX_PAGE` groups of at most `MAX_GROUP_MEMBERS` members
/// each, so a page always fits in a frame however many groups a user is in.
pub async fn list(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let query: GroupsQuery = request(frame)?;
    if let Some(named) = &query.user {
        must_be_self(user, named, "user")?;
    }
    let user = user.clone();
    let limit = query
        .limit
        .unwrap_or(context.groups_page)
        .clamp(1, penpen_core::limits::MAX_PAGE);
    let (groups, more) = context
        .store
        .read(move |conn| queries::groups_page(conn, &user, query.after, limit))
        .await
        .map_err(|e| e.reply())?;
    let next = if more {
        groups.last().map(|g| g.gid)
    } else {
        None
    };
    reply(&Groups {
        state: State::SUCCESS,
        more: next.is_some(),
        groups,
        next,
    })
}

/// A stored notice, to announce once committed.
pub(super) type Notice = (NewMessage, Stored);

/// Stores a notice to `recipients` and returns what was stored.
pub(super) fn notice<T: Serialize>(
    conn: &Db<'_>,
    gid: GroupId,
    kind: MessageType,
    content: &T,
    recipients: &[UserId],
) -> Result<Notice, StoreError> {
    let content =
        serde_json::to_string(content).map_err(|e| StoreError::Database(e.to_string()))?;
    let message = NewMessage {
        file: None,
        sender: Sender::System,
        to: Peer::Group(gid),
        kind,
        content,
        duration: None,
        cid: None,
        ts: now_ms(),
        mentions: None,
        mention_all: false,
    };
    let stored = queries::store_message(conn, &message, recipients)?;
    Ok((message, stored))
}

fn current_member(conn: &Db<'_>, gid: GroupId, user: &UserId) -> Result<Group, StoreError> {
    let group = queries::group(conn, gid)?.ok_or_else(|| {
        StoreError::refused(State::UNKNOWN_GROUP, format!("group {gid} does not exist"))
    })?;
    match queries::membership(conn, gid, user)? {
        Some(Membership::Current) => Ok(group),
        _ => Err(StoreError::refused(
            State::NOT_A_MEMBER,
            format!("{user} is not a member of group {gid}"),
        )),
    }
}

fn wake(context: &Context, notice: &Notice) {
    super::announce(context, &notice.0, &notice.1);
}

/// Creates a group; the holder is always a member. Members get the type-19 notice.
pub async fn create(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let create: GroupCreate = request(frame)?;
    must_be_self(user, &create.holder, "holder")?;
    let mut members = vec![user.clone()];
    members.extend(create.member.0.iter().cloned());
    let members = Members(members).deduplicated();
    if members.0.len() > MAX_GROUP_MEMBERS {
        return Err(penpen_core::ErrorReply::new(
            State::BAD_PACKET,
            format!(
                "{} members is too many; expected at most {MAX_GROUP_MEMBERS}",
                members.0.len()
            ),
        ));
    }
    // Each creation notifies every member: a per-user allowance bounds that.
    context.changes.admit(
        user,
        crate::change_limits::Change::GroupCreation,
        std::time::Instant::now(),
    )?;
    let holder = user.clone();
    let (gid, stored) = context
        .store
        .write(move |conn| {
            let gid = queries::create_group(conn, &holder, &create.name, &members, now_ms())?;
            let content = GroupCreatedNotice {
                holder: holder.clone(),
                name: create.name.clone(),
                member: members.clone(),
            };
            let stored = notice(conn, gid, MessageType::GroupCreated, &content, &members.0)?;
            Ok((gid, stored))
        })
        .await
        .map_err(|e| e.reply())?;
    wake(context, &stored);
    reply(&GroupCreated {
        state: State::SUCCESS,
        gid,
    })
}

/// Renames a group (any member may). Members get the type-20 notice.
pub async fn rename(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let rename: GroupRename = request(frame)?;
    let by = user.clone();
    let (group, stored) = context
        .store
        .write(move |conn| {
            let group = current_member(conn, rename.gid, &by)?;
            queries::rename_group(conn, rename.gid, &rename.name)?;
            let content = GroupRenamedNotice {
                by: by.clone(),
                name: rename.name.clone(),
            };
            let stored = notice(
                conn,
                rename.gid,
                MessageType::GroupRenamed,
                &content,
                &group.member.0,
            )?;
            let group = queries::group(conn, rename.gid)?
                .ok_or_else(|| StoreError::Database("the renamed group vanished".into()))?;
            Ok((group, stored))
        })
        .await
        .map_err(|e| e.reply())?;
    wake(context, &stored);
    reply(&GroupUpdated {
        state: State::SUCCESS,
        group,
    })
}

/// Adds members (any member), removes them (the holder), or lets the caller leave.
pub async fn members(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let change: GroupMembersChange = request(frame)?;
    let by = user.clone();
    let (gid, action, named) = (change.gid, change.action, change.member.deduplicated().0);
    let (group, stored) = context
        .store
        .write(move |conn| apply_change(conn, &by, &change))
        .await
        .map_err(|e| e.reply())?;
    wake(context, &stored);
    // A meeting of the group is shown to the added and left by the removed (§13).
    let (added, removed) = match action {
        MembersAction::Add => (named, Vec::new()),
        MembersAction::Remove => (Vec::new(), named),
        MembersAction::Leave => (Vec::new(), vec![user.clone()]),
    };
    let added: Vec<UserId> = added
        .into_iter()
        .filter(|u| group.member.contains(u))
        .collect();
    for user in &removed {
        context.left_group(gid, user);
    }
    super::meetings::members_changed(context, gid, &added, &removed).await;
    reply(&GroupUpdated {
        state: State::SUCCESS,
        group,
    })
}

fn apply_change(
    conn: &Db<'_>,
    by: &UserId,
    change: &GroupMembersChange,
) -> Result<(Group, Notice), StoreError> {
    let gid = change.gid;
    let before = current_member(conn, gid, by)?;
    let stored = match change.action {
        MembersAction::Add => {
            let added: Vec<UserId> = change
                .member
                .deduplicated()
                .0
                .into_iter()
                .filter(|u| !before.member.contains(u))
                .collect();
            if before.member.0.len() + added.len() > MAX_GROUP_MEMBERS {
                return Err(StoreError::refused(
                    State::BAD_PACKET,
                    format!("the group would have more than {MAX_GROUP_MEMBERS} members"),
                ));
            }
            for user in &added {
                if !queries::user_exists(conn, user)? {
                    return Err(StoreError::refused(
                        State::UNKNOWN_USER,
                        format!("user {user} does not exist"),
                    ));
                }
                queries::join_group(conn, gid, user)?;
            }
            let content = GroupMembersNotice {
                by: by.clone(),
                member: Members(added),
            };
            let now = queries::current_members(conn, gid)?;
            notice(conn, gid, MessageType::GroupMembersAdded, &content, &now.0)?
        }
        MembersAction::Remove => {
            if &before.holder != by {
                return Err(StoreError::refused(
                    State::FORBIDDEN,
                    format!(
                        "only the holder {} may remove members of group {gid}",
                        before.holder
                    ),
                ));
            }
            let removed = change.member.deduplicated();
            for user in &removed.0 {
                if user == by {
                    return Err(StoreError::refused(
                        State::BAD_PACKET,
                        "the holder cannot remove themselves; use action \"leave\"",
                    ));
                }
                if !before.member.contains(user) {
                    return Err(StoreError::refused(
                        State::NOT_A_MEMBER,
                        format!("{user} is not a member of group {gid}"),
                    ));
                }
            }
            // The removed members receive the notice too, and can read up to it.
            let content = GroupMembersNotice {
                by: by.clone(),
                member: removed.clone(),
            };
            let stored = notice(
                conn,
                gid,
                MessageType::GroupMembersRemoved,
                &content,
                &before.member.0,
            )?;
            for user in &removed.0 {
                queries::leave_group(conn, gid, user, stored.1.id)?;
            }
            stored
        }
        MembersAction::Leave => {
            let content = GroupMembersNotice {
                by: by.clone(),
                member: Members(vec![by.clone()]),
            };
            let stored = notice(
                conn,
                gid,
                MessageType::GroupMemberLeft,
                &content,
                &before.member.0,
            )?;
            queries::leave_group(conn, gid, by, stored.1.id)?;
            if &before.holder == by {
                // The longest-standing remaining member takes the group over.
                if let Some(next) = queries::current_members(conn, gid)?.0.first() {
                    queries::set_holder(conn, gid, next)?;
                }
            }
            stored
        }
    };
    let group = queries::group(conn, gid)?
        .ok_or_else(|| StoreError::Database("the changed group vanished".into()))?;
    Ok((group, stored))
}
