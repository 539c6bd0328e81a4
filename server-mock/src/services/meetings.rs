//! 24888: meeting requests (§13), beside the calls' on the same sockets.
//!
//! `crate::meetings` decides what a request does; this module checks group
//! membership in the store, drives the SFU (joins, answers), carries out the
//! pushes to the group's members, stores the start and end notices, relays
//! the SFU's offers and losses, and runs the meetings' timers.

use super::{Reply, reply};
use crate::change_limits::Change;
use crate::context::{Context, now_ms};
use crate::meetings::{Effects, Socket, Start, key};
use crate::sfu::{RoomKey, SfuError, SfuEvent};
use crate::store::StoreError;
use crate::store::queries::{self, Membership};
use penpen_core::packets::Done;
use penpen_core::packets::login::Push;
use penpen_core::packets::meeting::{
    MeetingJoinReply, MeetingRequest, MeetingStartReply, MeetingStartedNotice,
};
use penpen_core::packets::message::MessageType;
use penpen_core::{ErrorReply, GroupId, MeetingId, State, UserId};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

/// Answers one meeting request of `socket`.
pub(crate) async fn answer(context: &Context, socket: &Socket, request: MeetingRequest) -> Reply {
    let user = &socket.user;
    match request {
        MeetingRequest::Start(gid) => start(context, user, gid).await,
        MeetingRequest::Join {
            meeting,
            sdp,
            mic,
            camera,
        } => join(context, socket, meeting, sdp, mic, camera).await,
        MeetingRequest::Answer { meeting, sdp } => {
            let number = context.meetings.check_answer(socket, &meeting)?;
            match context.meetings.sfu().answer(key(user), sdp).await {
                Ok(()) => context.meetings.answered(socket, &meeting, number),
                Err(SfuError::NoOfferPending(_) | SfuError::UnknownParticipant(_)) => {
                    return Err(ErrorReply::new(
                        State::CALL_GONE,
                        format!("no offer of meeting {meeting} waits for an answer"),
                    ));
                }
                Err(err) => return Err(sfu_refusal(err)),
            }
            reply(&Done::new())
        }
        MeetingRequest::Media {
            meeting,
            mic,
            camera,
        } => {
            context.meetings.media(socket, &meeting, mic, camera)?;
            reply(&Done::new())
        }
        MeetingRequest::Leave(meeting) => {
            let effects = context.meetings.leave(socket, &meeting)?;
            carry_out(context, effects).await?;
            reply(&Done::new())
        }
        MeetingRequest::End(meeting) => {
            let (gid, starter) = context
                .meetings
                .about(&meeting)
                .ok_or_else(|| gone(&meeting))?;
            let holder = member_of(context, gid, user).await?;
            if user != &starter && user != &holder {
                return Err(ErrorReply::new(
                    State::FORBIDDEN,
                    format!(
                        "only the starter {starter} or the group's holder {holder} may end meeting {meeting}"
                    ),
                ));
            }
            let effects = context.meetings.end_by(&meeting, user, socket.id)?;
            carry_out(context, effects).await?;
            reply(&Done::new())
        }
    }
}

fn gone(id: &MeetingId) -> ErrorReply {
    ErrorReply::new(
        State::CALL_GONE,
        format!("meeting {id} is not running: it ended or never began"),
    )
}

/// Checks that `user` is a current member of `gid` (32, 33); returns the
/// group's holder.
async fn member_of(context: &Context, gid: GroupId, user: &UserId) -> Result<UserId, ErrorReply> {
    let who = user.clone();
    context
        .store
        .read(move |conn| {
            let group = queries::group(conn, gid)?.ok_or_else(|| {
                StoreError::refused(State::UNKNOWN_GROUP, format!("group {gid} does not exist"))
            })?;
            match queries::membership(conn, gid, &who)? {
                Some(Membership::Current) => Ok(group.holder),
                _ => Err(StoreError::refused(
                    State::NOT_A_MEMBER,
                    format!("{who} is not a member of group {gid}"),
                )),
            }
        })
        .await
        .map_err(|e| e.reply())
}

async fn start(context: &Context, user: &UserId, gid: GroupId) -> Reply {
    member_of(context, gid, user).await?;
    let running = |meeting| {
        reply(&MeetingStartReply {
            state: State::SUCCESS,
            meeting,
        })
    };
    if let Some(meeting) = context.meetings.of_group(gid) {
        return running(meeting);
    }
    context
        .changes
        .admit(user, Change::MeetingStart, std::time::Instant::now())?;
    let meeting = match context.meetings.start(gid, user, now_ms())? {
        Start::Running(meeting) => return running(meeting),
        Start::New(meeting) => meeting,
    };
    let notice = MeetingStartedNotice {
        meeting: meeting.clone(),
        by: user.clone(),
    };
    if let Err(err) = store_notice(context, gid, MessageType::MeetingStarted, notice).await {
        context.meetings.start_failed(&meeting);
        return Err(err);
    }
    let effects = context.meetings.started(&meeting);
    carry_out(context, effects).await?;
    running(meeting)
}

async fn join(
    context: &Context,
    socket: &Socket,
    meeting: MeetingId,
    sdp: String,
    mic: bool,
    camera: bool,
) -> Reply {
    let user = &socket.user;
    let (gid, _) = context
        .meetings
        .about(&meeting)
        .ok_or_else(|| gone(&meeting))?;
    // A bad offer is refused before the user's current connection is touched.
    str0m::change::SdpOffer::from_sdp_string(&sdp).map_err(|e| {
        ErrorReply::new(
            State::BAD_PACKET,
            format!("the join's sdp is not an SDP offer: {e}"),
        )
    })?;
    let ticket = context.calls.unless_in_call(user, |in_call| {
        context.meetings.reserve_join(socket, &meeting, in_call)
    })?;
    // Checked once the place is held: a removal committed from now on
    // takes the held place back (the commit below then fails).
    if let Err(refusal) = member_of(context, gid, user).await {
        let effects = context.meetings.abort_join(user, &meeting, &ticket);
        carry_out(context, effects).await?;
        return Err(refusal);
    }
    let sfu = context.meetings.sfu();
    if ticket.replacing {
        sfu.remove(key(user));
    }
    let answer = match sfu
        .join(RoomKey(meeting.as_str().to_owned()), key(user), sdp)
        .await
    {
        Ok(answer) => answer,
        Err(err) => {
            let effects = context.meetings.abort_join(user, &meeting, &ticket);
            carry_out(context, effects).await?;
            return Err(sfu_refusal(err));
        }
    };
    let (participants, effects) = context
        .meetings
        .commit_join(socket, &meeting, &ticket, &answer, mic, camera)?;
    carry_out(context, effects).await?;
    reply(&MeetingJoinReply {
        state: State::SUCCESS,
        sdp: answer,
        participants,
    })
}

fn sfu_refusal(err: SfuError) -> ErrorReply {
    match err {
        SfuError::BadSdp(_) => ErrorReply::new(State::BAD_PACKET, format!("{err}")),
        SfuError::RoomFull { .. } => ErrorReply::new(State::MEETING_FULL, format!("{err}")),
        SfuError::AlreadyJoined(_) | SfuError::OfferInFlight(_) => {
            ErrorReply::new(State::IN_ANOTHER_CALL, format!("{err}"))
        }
        other => ErrorReply::new(
            State::UNAVAILABLE,
            format!("the meetings' media server cannot serve this: {other}"),
        ),
    }
}

/// Stores a meeting notice in `gid` for its current members and hands it
/// to their sessions once committed.
async fn store_notice<T: Serialize + Send + 'static>(
    context: &Context,
    gid: GroupId,
    kind: MessageType,
    content: T,
) -> Result<(), ErrorReply> {
    let stored = context
        .store
        .write(move |conn| {
            let members = queries::current_members(conn, gid)?;
            super::groups::notice(conn, gid, kind, &content, &members.0)
        })
        .await
        .map_err(|e| e.reply())?;
    super::announce(context, &stored.0, &stored.1);
    Ok(())
}

/// Stores the ended meetings' notices, then pushes what the meetings
/// decided on 20888; done once every notice is committed. The notices go
/// first so that a device told a meeting ended finds its notice.
pub(crate) async fn carry_out(context: &Context, effects: Effects) -> Result<(), ErrorReply> {
    let mut failed = None;
    for finished in effects.finished {
        if let Err(err) = store_notice(
            context,
            finished.gid,
            MessageType::MeetingEnded,
            finished.notice,
        )
        .await
        {
            tracing::warn!(error = %err.error, "could not store a meeting's end notice");
            failed = Some(ErrorReply::new(
                State::SERVER_ERROR,
                format!(
                    "the meeting ended, but its notice could not be stored: {}",
                    err.error
                ),
            ));
        }
    }
    let mut members: HashMap<GroupId, Vec<UserId>> = HashMap::new();
    let mut shown: Vec<MeetingId> = Vec::new();
    for (gid, push) in effects.group_pushes {
        // A meeting is pushed as it is when pushed, once per batch: two
        // requests' pushes then cannot leave an older list last.
        if let Push::Meeting { meeting } = &push {
            if shown.contains(&meeting.meeting) {
                continue;
            }
            shown.push(meeting.meeting.clone());
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = members.entry(gid) {
            let read = context
                .store
                .read(move |conn| queries::current_members(conn, gid))
                .await;
            match read {
                Ok(now) => {
                    slot.insert(now.0);
                }
                Err(err) => {
                    tracing::warn!(%gid, error = %err, "cannot read a group's members for a meeting push");
                    continue;
                }
            }
        }
        let to = members.get(&gid).map(Vec::as_slice).unwrap_or_default();
        match &push {
            Push::Meeting { meeting } => context.meetings.with_current(&meeting.meeting, |now| {
                for user in to {
                    push_to(context, user, now);
                }
            }),
            _ => {
                for user in to {
                    push_to(context, user, &push);
                }
            }
        }
    }
    for (user, push) in effects.user_pushes {
        push_to(context, &user, &push);
    }
    failed.map_or(Ok(()), Err)
}

fn push_to(context: &Context, user: &UserId, push: &Push) {
    let dropped = context.push_user_or_drop(user, push);
    if dropped > 0 {
        tracing::info!(%user, dropped, "sessions too far behind for a meeting push were closed");
    }
}

/// The running meetings of `user`'s groups, as pushes, for a session that
/// just logged in or resumed.
pub(crate) async fn running_for(context: &Context, user: &UserId) -> Vec<Push> {
    let running = context.meetings.running();
    if running.is_empty() {
        return Vec::new();
    }
    let who = user.clone();
    let gids: Vec<GroupId> = running.iter().map(|(gid, _)| *gid).collect();
    let member_of = context
        .store
        .read(move |conn| {
            let mut yes = Vec::new();
            for gid in gids {
                if matches!(
                    queries::membership(conn, gid, &who)?,
                    Some(Membership::Current)
                ) {
                    yes.push(gid);
                }
            }
            Ok(yes)
        })
        .await
        .unwrap_or_default();
    running
        .into_iter()
        .filter(|(gid, _)| member_of.contains(gid))
        .map(|(_, push)| push)
        .collect()
}

/// After a change of `gid`'s members: the added are shown its meeting, the
/// removed (or leaving) are taken out of it.
pub(crate) async fn members_changed(
    context: &Context,
    gid: GroupId,
    added: &[UserId],
    removed: &[UserId],
) {
    if let Some(push) = context.meetings.push_of_group(gid) {
        for user in added {
            push_to(context, user, &push);
        }
    }
    for user in removed {
        let effects = context.meetings.member_removed(gid, user);
        if let Err(err) = carry_out(context, effects).await {
            tracing::warn!(error = %err.error, "a meeting a removed member ended was not fully recorded");
        }
    }
}

/// Relays the SFU's offers to the participants' sockets and drops the
/// participants it lost, until the server stops.
pub(crate) async fn relay_sfu(
    context: Arc<Context>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<SfuEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        };
        let Some(event) = event else { return };
        match event {
            SfuEvent::Offer { participant, sdp } => {
                if let Ok(user) = UserId::parse(&participant.0) {
                    context.meetings.sfu_offer(&user, sdp);
                }
            }
            SfuEvent::Lost { participant, room } => {
                // A newer connection of the same user joined since: this
                // loss is of the one it replaced.
                if matches!(
                    context.meetings.sfu().contains(participant.clone()).await,
                    Ok(true)
                ) {
                    continue;
                }
                if let Ok(user) = UserId::parse(&participant.0) {
                    let effects = context.meetings.sfu_lost(&user, &room.0);
                    if let Err(err) = carry_out(&context, effects).await {
                        tracing::warn!(error = %err.error, "a meeting ended by a lost participant was not fully recorded");
                    }
                }
            }
        }
    }
}

/// Drops participants whose grace or offer ran out and ends meetings
/// nobody joined, until the server stops.
pub(crate) async fn run_timers(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let expire = || async {
        let (effects, next) = context.meetings.expire();
        if let Err(err) = carry_out(&context, effects).await {
            tracing::warn!(error = %err.error, "a meeting ended by the server was not fully recorded");
        }
        next
    };
    super::run_deadlines(shutdown, expire, || context.meetings.deadlines_changed()).await;
}
