//! Meetings on screen: the meeting screen over every page while in one
//! ([`MeetingOverlay`]), and in a group chat the live bar of its running
//! meeting with a join button ([`MeetingBar`]) or the button that starts
//! one ([`MeetingStartButton`]). They read [`MeetingScreen`] (its own
//! context) and the app state's running meetings, and send
//! [`MeetingCommand`]s; the driver runs the meeting.
//!
//! `words` (what it says, the tokens tests read) is pure and tested
//! natively; `tile` is one participant, `people` the participant list.

mod people;
mod tile;
pub(crate) mod words;

use crate::calls::CallScreen;
use crate::i18n::{Lang, Text};
use crate::meetings::{MeetingCommand, MeetingScreen, grid};
use crate::state::{Command, Shared, person_name, use_shared};
use crate::ui::call::parts::round;
use penpen_core::meeting::{MeetingLeft, MeetingLink, MeetingView};
use penpen_core::packets::meeting::Participant;
use penpen_core::{GroupId, MeetingId, UserId};
use tile::Tile;
use yew::prelude::*;

/// A click that sends `meeting` to the driver.
fn sends(command: &Callback<Command>, meeting: MeetingCommand) -> Callback<MouseEvent> {
    let command = command.clone();
    Callback::from(move |_: MouseEvent| command.emit(Command::Meeting(meeting.clone())))
}

/// Whether this session is free to start or join a meeting: in no call and
/// no meeting (a screen without the contexts has neither).
#[hook]
pub fn use_meeting_free() -> bool {
    let call = use_context::<CallScreen>();
    let meeting = use_context::<MeetingScreen>();
    call.is_none_or(|c| c.view == penpen_core::call::CallView::Idle)
        && meeting.is_none_or(|m| !crate::meetings::holds_session(&m.view))
}

/// The group's name, else its id.
fn group_name(shared: &Shared, gid: GroupId) -> String {
    shared
        .state
        .groups
        .iter()
        .find(|g| g.gid == gid)
        .map_or_else(|| gid.to_string(), |g| g.name.clone())
}

/// Whether we may end the group's meeting: we started it, or hold the group.
fn may_end(shared: &Shared, gid: GroupId, meeting: Option<&MeetingId>) -> bool {
    let Some(me) = shared.state.account.as_ref().map(|a| &a.user) else {
        return false;
    };
    let holder = shared
        .state
        .groups
        .iter()
        .any(|g| g.gid == gid && g.holder == *me);
    let starter = shared
        .state
        .meetings
        .iter()
        .any(|m| m.gid == gid && Some(&m.meeting) == meeting && m.started_by == *me);
    holder || starter
}

/// `section#meeting-screen[data-link][data-count]`, or `[data-ended]` once
/// over; nothing while in no meeting.
#[component(MeetingOverlay)]
pub fn meeting_overlay() -> Html {
    let screen = use_context::<MeetingScreen>().unwrap_or_default();
    let shared = use_shared();
    let people_open = use_state(|| false);
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    match &screen.view {
        // The user left on purpose: nothing to say, and the chat stays usable.
        MeetingView::Idle
        | MeetingView::Ended {
            why: MeetingLeft::Left,
            ..
        } => html! {},
        MeetingView::Ended { gid, why } => {
            let title = lang.fill(Text::MeetingTitle, &[&group_name(&shared, *gid)]);
            html! {
                <section id="meeting-screen" class="call-screen meeting-screen"
                    data-ended={words::ended_token(why)} role="dialog" aria-modal="true"
                    aria-label={title.clone()}>
                    <div class="call-screen__panel meeting-screen__panel">
                        <h2 id="meeting-title" class="call-screen__name">{ title }</h2>
                        <p id="meeting-end-cause" class="call-screen__status" role="status">
                            { words::ended_text(lang, why) }
                        </p>
                    </div>
                </section>
            }
        }
        MeetingView::InMeeting {
            gid,
            meeting,
            link,
            participants,
            mic,
            camera,
            end_refused,
        } => {
            let title = lang.fill(Text::MeetingTitle, &[&group_name(&shared, *gid)]);
            let status = match link {
                MeetingLink::Connecting => lang.tr(Text::MeetingJoining).to_owned(),
                MeetingLink::Connected => {
                    lang.fill(Text::MeetingPeople, &[&participants.len().to_string()])
                }
                MeetingLink::Reconnecting => lang.tr(Text::CallReconnecting).to_owned(),
            };
            let command = &shared.command;
            let toggle_people = {
                let people_open = people_open.clone();
                Callback::from(move |_: MouseEvent| people_open.set(!*people_open))
            };
            let end = may_end(&shared, *gid, meeting.as_ref());
            html! {
                <section id="meeting-screen" class="call-screen meeting-screen"
                    data-link={words::link_token(*link)} data-count={participants.len().to_string()}
                    role="dialog" aria-modal="true" aria-label={title.clone()}>
                    <div class="call-screen__panel meeting-screen__panel">
                        <header class="meeting-screen__header">
                            <h2 id="meeting-title" class="call-screen__name">{ title }</h2>
                            <p id="meeting-status" class="call-screen__status" role="status">{ status }</p>
                            if *end_refused {
                                <p id="meeting-end-refused" class="call-screen__media" role="alert">
                                    { lang.tr(Text::MeetingEndRefused) }
                                </p>
                            }
                        </header>
                        { tiles(&shared, &screen, participants, *mic, *camera) }
                        if *people_open {
                            { people::list(&shared, participants) }
                        }
                        <div class="call-screen__controls">
                            { round("meeting-mic", "call-button--toggle", if *mic { "🎙" } else { "🔇" },
                                lang.tr(Text::MeetingMic), Some(*mic),
                                sends(command, MeetingCommand::SetMic(!*mic))) }
                            { round("meeting-camera", "call-button--toggle", "📷",
                                lang.tr(Text::MeetingCamera), Some(*camera),
                                sends(command, MeetingCommand::SetCamera(!*camera))) }
                            { round("meeting-people", "call-button--toggle", "👥",
                                lang.tr(Text::MeetingParticipants), Some(*people_open), toggle_people) }
                            { round("meeting-leave", "call-button--danger", "✕",
                                lang.tr(Text::MeetingLeave), None,
                                sends(command, MeetingCommand::Leave)) }
                            if end {
                                { round("meeting-end", "call-button--danger", "⏹",
                                    lang.tr(Text::MeetingEnd), None,
                                    sends(command, MeetingCommand::End)) }
                            }
                        </div>
                    </div>
                </section>
            }
        }
    }
}

/// The grid: one tile per participant (ourselves among them, even before
/// the server's list arrives), shaped by their number; on a phone the
/// speaker's tile is large and the others a strip (the stylesheet's).
fn tiles(
    shared: &Shared,
    screen: &MeetingScreen,
    participants: &[Participant],
    mic: bool,
    camera: bool,
) -> Html {
    let me = shared.state.account.as_ref().map(|a| a.user.clone());
    let mut shown: Vec<Participant> = participants.to_vec();
    if let Some(me) = &me
        && !shown.iter().any(|p| p.user == *me)
    {
        shown.insert(
            0,
            Participant {
                user: me.clone(),
                mic,
                camera,
            },
        );
    }
    let focus = focus_of(&shown, me.as_ref(), screen);
    let (columns, rows) = grid(shown.len());
    let style = format!("--meeting-columns:{columns};--meeting-rows:{rows}");
    let tiles = shown.iter().map(|participant| {
        let user = participant.user.to_string();
        let mine = me.as_ref() == Some(&participant.user);
        let remote = screen.remotes.iter().find(|r| r.user == user);
        // Our own state is ours to say; the server's copy may lag.
        let (mic, camera) = if mine {
            (mic, camera)
        } else {
            (participant.mic, participant.camera)
        };
        html! {
            <Tile key={user.clone()} user={user.clone()} name={person_name(&shared.state, &participant.user)}
                me={mine} {mic} {camera}
                speaking={screen.speaker.as_deref() == Some(user.as_str())}
                focus={focus.as_deref() == Some(user.as_str())}
                stream={if mine { screen.local.clone() } else { remote.map(|r| r.stream.clone()) }}
                frames={(!mine).then(|| remote.map_or(0, |r| r.video_frames_decoded))}
                packets={(!mine).then(|| remote.map_or(0, |r| r.audio_packets_received))} />
        }
    });
    html! {
        <div id="meeting-grid" class="meeting-grid" {style} data-columns={columns.to_string()}>
            { for tiles }
        </div>
    }
}

/// The phone layout's large tile: the one speaking, else the first other
/// participant, else ourselves.
fn focus_of(shown: &[Participant], me: Option<&UserId>, screen: &MeetingScreen) -> Option<String> {
    screen
        .speaker
        .clone()
        .filter(|speaker| shown.iter().any(|p| p.user.to_string() == *speaker))
        .or_else(|| {
            shown
                .iter()
                .find(|p| Some(&p.user) != me)
                .or(shown.first())
                .map(|p| p.user.to_string())
        })
}

/// What the bar and the start button need.
#[derive(Debug, Properties, PartialEq)]
pub struct GroupMeetingProps {
    /// The group whose chat shows them.
    pub gid: GroupId,
}

/// `#meeting-bar[data-meeting][data-count]`: "会议进行中 · N人" and
/// `#meeting-join`, while the group's meeting runs.
#[component(MeetingBar)]
pub fn meeting_bar(props: &GroupMeetingProps) -> Html {
    let free = use_meeting_free();
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let Some(running) = shared.state.meetings.iter().find(|m| m.gid == props.gid) else {
        return html! {};
    };
    let lang: Lang = shared.lang;
    let count = running.participants.len().to_string();
    let join = sends(
        &shared.command,
        MeetingCommand::Join {
            gid: props.gid,
            meeting: running.meeting.clone(),
        },
    );
    html! {
        <div id="meeting-bar" class="meeting-bar" role="status"
            data-meeting={running.meeting.to_string()} data-count={count.clone()}>
            <span class="meeting-bar__dot" aria-hidden="true"></span>
            <span class="meeting-bar__text">{ lang.fill(Text::MeetingInProgress, &[&count]) }</span>
            <button id="meeting-join" class="button meeting-bar__join" type="button"
                disabled={!free} onclick={join}>
                { lang.tr(Text::MeetingJoin) }
            </button>
        </div>
    }
}

/// `#chat-meeting-start` in a group chat's header while no meeting runs.
#[component(MeetingStartButton)]
pub fn meeting_start_button(props: &GroupMeetingProps) -> Html {
    let free = use_meeting_free();
    let Some(shared) = use_shared() else {
        return html! {};
    };
    if shared.state.meetings.iter().any(|m| m.gid == props.gid) {
        return html! {};
    }
    let label = shared.lang.tr(Text::MeetingStart);
    let onclick = sends(&shared.command, MeetingCommand::Start { gid: props.gid });
    html! {
        <button id="chat-meeting-start" class="chat__tool chat__call" type="button"
            aria-label={label} title={label} disabled={!free} {onclick}>
            { "👥" }
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::testing::user;

    fn here(n: u64) -> Participant {
        Participant {
            user: user(n),
            mic: true,
            camera: true,
        }
    }

    #[test]
    fn the_large_tile_is_the_speaker_else_someone_else_else_ourselves() {
        let everyone = [here(1), here(2), here(3)];
        let me = user(1);
        let mut screen = MeetingScreen::default();
        assert_eq!(
            focus_of(&everyone, Some(&me), &screen),
            Some(user(2).to_string()),
            "nobody speaks: the first other participant"
        );
        screen.speaker = Some(user(3).to_string());
        assert_eq!(
            focus_of(&everyone, Some(&me), &screen),
            Some(user(3).to_string())
        );
        screen.speaker = Some(user(9).to_string());
        assert_eq!(
            focus_of(&everyone, Some(&me), &screen),
            Some(user(2).to_string()),
            "a speaker no longer in the meeting is not shown"
        );
        assert_eq!(
            focus_of(&[here(1)], Some(&me), &screen),
            Some(me.to_string()),
            "alone: ourselves"
        );
    }
}
