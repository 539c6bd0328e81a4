//! The open conversation: its header, its messages and the composer.

use super::call::{CallButtons, Place};
use super::forward::{
    ForwardActions, ForwardBar, ForwardPicker, Selecting, Selection, SelectionAction,
};
use super::meeting::{MeetingBar, MeetingStartButton};
use super::{Composer, Timeline, attach};
use crate::i18n::Text;
use crate::state::{Command, Panel, may_post, peer_name, use_shared};
use penpen_core::MessageId;
use yew::prelude::*;

/// `section#chat[data-peer]`: a header (`#chat-title`, and `#chat-back` on
/// phones), the messages, the composer. Shown only while a conversation is open.
#[component(Chat)]
pub fn chat() -> Html {
    let attach_error = use_state(|| None::<String>);
    let dragging = use_state(|| false);
    // Messages ticked in the multi-select mode (none: not selecting), and
    // the forward being aimed (its messages, oldest first, and whether
    // merged).
    let selection = use_reducer(Selection::default);
    let aiming = use_state(|| None::<(Vec<MessageId>, bool)>);
    let shared = use_shared();
    {
        // Another conversation: nothing of this one stays chosen.
        let (selection, aiming) = (selection.dispatcher(), aiming.clone());
        let peer = shared
            .as_ref()
            .and_then(|s| s.state.open.as_ref().map(|o| o.peer.clone()));
        use_effect_with(peer, move |_| {
            selection.dispatch(SelectionAction::Stop);
            aiming.set(None);
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(open) = state.open.as_ref() else {
        return html! {};
    };
    let peer = &open.peer;
    let name = peer_name(state, peer);
    let members = peer
        .group()
        .and_then(|gid| state.groups.iter().find(|group| group.gid == gid))
        .map(|group| group.member.deduplicated().0.len());
    let back = {
        let command = shared.command.clone();
        Callback::from(move |_: MouseEvent| command.emit(Command::Close))
    };
    let search = {
        let (panel, peer) = (shared.panel.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::Search(Some(peer.clone())))))
    };
    // Images from the picker or a paste: the first image goes (anything
    // else is refused with the reason).
    let on_files = {
        let (command, peer, lang) = (shared.command.clone(), peer.clone(), lang);
        let attach_error = attach_error.clone();
        Callback::from(move |files: Vec<web_sys::File>| {
            if let Some(file) = files.into_iter().next() {
                let attach_error = attach_error.clone();
                let on_error = Callback::from(move |error: Option<String>| attach_error.set(error));
                attach::send_image(file, peer.clone(), command.clone(), lang, on_error);
            }
        })
    };
    // A drop: the first image goes as an image, anything else as a file
    // (§15.6).
    let on_dropped = {
        let (command, peer, lang) = (shared.command.clone(), peer.clone(), lang);
        let (attach_error, on_files) = (attach_error.clone(), on_files.clone());
        Callback::from(move |files: Vec<web_sys::File>| {
            let (images, others): (Vec<_>, Vec<_>) = files
                .into_iter()
                .partition(|file| file.type_().starts_with("image/"));
            on_files.emit(images);
            for file in others {
                let attach_error = attach_error.clone();
                let on_error = Callback::from(move |error: Option<String>| attach_error.set(error));
                attach::send_upload(file, peer.clone(), command.clone(), lang, on_error);
            }
        })
    };
    let writable = may_post(state, peer);
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            if writable {
                // Without this the browser opens the file instead.
                event.prevent_default();
                dragging.set(true);
            }
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let ondrop = {
        let (dragging, on_dropped) = (dragging.clone(), on_dropped.clone());
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(false);
            if writable {
                on_dropped.emit(attach::files(event.data_transfer().and_then(|d| d.files())));
            }
        })
    };
    let details = {
        let panel = shared.panel.clone();
        let page = match peer {
            penpen_core::Peer::User(user) => Panel::Contact(user.clone()),
            penpen_core::Peer::Group(gid) => Panel::Group(*gid),
        };
        Callback::from(move |_: MouseEvent| panel.set(Some(page.clone())))
    };
    let selecting = selection.0.as_ref().map(|ids| Selecting {
        ids: ids.clone(),
        toggle: selection
            .dispatcher()
            .to_callback()
            .reform(SelectionAction::Toggle),
    });
    let start_selecting = {
        let selection = selection.dispatcher();
        Callback::from(move |_: MouseEvent| selection.dispatch(SelectionAction::Switch))
    };
    let on_forward = {
        let (ids, aiming) = (selection.0.clone(), aiming.clone());
        Callback::from(move |merge: bool| {
            if let Some(ids) = &ids
                && !ids.is_empty()
            {
                aiming.set(Some((ids.iter().copied().collect(), merge)));
            }
        })
    };
    let actions = ForwardActions {
        forward: {
            let aiming = aiming.clone();
            Callback::from(move |id: MessageId| aiming.set(Some((vec![id], false))))
        },
        select: selection
            .dispatcher()
            .to_callback()
            .reform(SelectionAction::StartWith),
    };
    let on_cancel = {
        let selection = selection.dispatcher();
        Callback::from(move |()| selection.dispatch(SelectionAction::Stop))
    };
    let picker = aiming.as_ref().map(|(ids, merge)| {
        let on_close = {
            let aiming = aiming.clone();
            Callback::from(move |()| aiming.set(None))
        };
        let on_done = {
            let (aiming, selection) = (aiming.clone(), selection.dispatcher());
            Callback::from(move |()| {
                aiming.set(None);
                selection.dispatch(SelectionAction::Stop);
            })
        };
        html! { <ForwardPicker ids={ids.clone()} merge={*merge} {on_close} {on_done} /> }
    });
    let count = selection.0.as_ref().map(|ids| ids.len());
    html! {
        <section id="chat" class={classes!("chat", dragging.then_some("chat--dropping"))}
            data-peer={peer.to_string()} aria-label={name.clone()}
            {ondragover} {ondragleave} {ondrop}>
            <header class="chat__header">
                <button id="chat-back" class="chat__back" type="button"
                    aria-label={lang.tr(Text::Back)} title={lang.tr(Text::Back)} onclick={back}>
                    <span aria-hidden="true">{ "‹" }</span>
                </button>
                <h2 id="chat-title" class="chat__title">
                    <button id="chat-details" class="chat__details" type="button" onclick={details}
                        title={lang.tr(if peer.group().is_some() { Text::GroupDetail } else { Text::SendMessage })}>
                        <span class="chat__name">{ name }</span>
                        if let Some(count) = members {
                            <span class="chat__members"
                                title={lang.fill(Text::MemberCount, &[&count.to_string()])}>
                                { format!("({count})") }
                            </span>
                        }
                    </button>
                </h2>
                if let penpen_core::Peer::User(user) = peer {
                    <CallButtons to={user.clone()} place={Place::ChatHeader} />
                }
                if let (penpen_core::Peer::Group(gid), true) = (peer, writable) {
                    <MeetingStartButton gid={*gid} />
                }
                <button id="chat-select" class="chat__tool" type="button" onclick={start_selecting}
                    aria-pressed={count.is_some().to_string()}
                    aria-label={lang.tr(Text::MultiSelect)} title={lang.tr(Text::MultiSelect)}>
                    { "☑" }
                </button>
                <button id="chat-search" class="chat__tool" type="button" onclick={search}
                    aria-label={lang.tr(Text::SearchThisConversation)} title={lang.tr(Text::SearchThisConversation)}>
                    { "🔍" }
                </button>
            </header>
            if let (penpen_core::Peer::Group(gid), true) = (peer, writable) {
                <MeetingBar gid={*gid} />
            }
            <ContextProvider<ForwardActions> context={actions}>
            <ContextProvider<Option<Selecting>> context={selecting}>
                <Timeline />
            </ContextProvider<Option<Selecting>>>
            </ContextProvider<ForwardActions>>
            if let Some(count) = count {
                <ForwardBar {count} {on_forward} {on_cancel} />
            } else {
            if let Some(error) = &*attach_error {
                <p id="attach-error" class="composer__error" role="alert">{ error }</p>
            }
            if writable {
                <Composer {on_files} on_error={
                    let attach_error = attach_error.clone();
                    Callback::from(move |error: Option<String>| attach_error.set(error))
                } />
            } else {
                <p id="chat-readonly" class="chat__readonly" role="status">{ lang.tr(Text::NotInGroup) }</p>
            }
            }
            { for picker }
        </section>
    }
}
