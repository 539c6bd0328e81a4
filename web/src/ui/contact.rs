//! A person's page: who they are, how to reach them, and their chat's
//! local history.

use super::avatar::{self, Size};
use super::call::{CallButtons, Place};
use super::directory::{presence_code, presence_text};
use crate::i18n::Text;
use crate::state::{Command, Panel, use_shared};
use crate::ui::controls;
use penpen_core::{Peer, UserId};
use yew::prelude::*;

/// What the page is about.
#[derive(Debug, Properties, PartialEq)]
pub struct ContactPageProps {
    /// Whose page.
    pub user: UserId,
}

/// `#contact-page[data-user]`: name, job, department, account, signature
/// and presence; `#contact-message`, `#contact-clear` (with a confirmation,
/// `#contact-clear-confirm`).
#[component(ContactPage)]
pub fn contact_page(props: &ContactPageProps) -> Html {
    let shared = use_shared();
    let confirming = use_state(|| false);
    let cleared = use_state(|| false);
    // The directory may be hours old: the signature is asked for afresh.
    {
        let command = shared.as_ref().map(|s| s.command.clone());
        use_effect_with(props.user.clone(), move |user| {
            if let Some(command) = command {
                command.emit(Command::RefreshSignatures(vec![user.clone()]));
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let directory = state.directory.clone();
    let contact = directory
        .as_ref()
        .and_then(|d| d.contacts.iter().find(|c| c.user == props.user).cloned());
    let close = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(None))
    };
    let header = html! {
        <header class="chat__header">
            <button id="panel-back" class="chat__back" type="button"
                aria-label={lang.tr(Text::Back)} title={lang.tr(Text::Back)} onclick={close}>
                <span aria-hidden="true">{ "‹" }</span>
            </button>
        </header>
    };
    let Some(contact) = contact else {
        return html! {
            <section id="contact-page" class="panel" data-user={props.user.to_string()}>
                { header }
                <p class="panel__empty">{ lang.tr(Text::ContactUnknown) }</p>
            </section>
        };
    };
    let (department, job) = directory
        .as_ref()
        .map(|d| {
            (
                d.departments
                    .get(&contact.department)
                    .cloned()
                    .unwrap_or_default(),
                d.jobs.get(&contact.job).cloned().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let peer = Peer::User(contact.user.clone());
    let message = {
        let (command, panel, peer) = (shared.command.clone(), shared.panel.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| {
            panel.set(None);
            command.emit(Command::Open(peer.clone()));
        })
    };
    let search_history = {
        let (panel, peer) = (shared.panel.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::Search(Some(peer.clone())))))
    };
    let ask_clear = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    };
    let cancel_clear = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(false))
    };
    let clear = {
        let (command, confirming, cleared) =
            (shared.command.clone(), confirming.clone(), cleared.clone());
        Callback::from(move |_: MouseEvent| {
            command.emit(Command::ClearHistory(peer.clone()));
            confirming.set(false);
            cleared.set(true);
        })
    };
    let row = |label: Text, value: Html| {
        html! {
            <div class="panel__row">
                <dt>{ lang.tr(label) }</dt>
                <dd>{ value }</dd>
            </div>
        }
    };
    let code = presence_code(contact.presence);
    html! {
        <section id="contact-page" class="panel" data-user={contact.user.to_string()}>
            { header }
            <div class="panel__body">
                <div class="panel__hero">
                    <span class="contact__avatar">
                        { avatar::person(&contact.name, contact.user.as_str(), Size::Large) }
                        <span class={classes!("presence", format!("presence--{code}"))}></span>
                    </span>
                    <div>
                        <h2 id="contact-name" class="panel__title">{ &contact.name }</h2>
                        <p id="contact-presence" class="panel__sub" data-presence={code}>
                            { lang.tr(presence_text(contact.presence)) }
                        </p>
                    </div>
                </div>
                <dl class="panel__facts">
                    { row(Text::Job, html! { <span class="contact__job">{ job }</span> }) }
                    { row(Text::Department, html! { department }) }
                    { row(Text::Account, html! { <a href={format!("tel:{}", contact.user)}>{ contact.user.to_string() }</a> }) }
                    { row(Text::Signature, html! { <span id="contact-signature">{ &contact.signing }</span> }) }
                </dl>
                if state.account.as_ref().is_some_and(|a| a.user != contact.user) {
                    <super::mute::MuteSwitch peer={Peer::User(contact.user.clone())} />
                }
                <div class="panel__actions">
                    { controls::button(Some("contact-message"), "button button--primary", lang.tr(Text::SendMessage), message, false) }
                    <CallButtons to={contact.user.clone()} place={Place::Contact} />
                    { controls::button(Some("contact-search-history"), "button button--secondary", lang.tr(Text::SearchThisConversation), search_history, false) }
                    { controls::button(Some("contact-clear"), "button button--secondary", lang.tr(Text::ClearHistory), ask_clear, false) }
                </div>
                if *confirming {
                    <div class="panel__confirm" role="alertdialog">
                        <p>{ lang.fill(Text::ConfirmClearHistory, &[&contact.name]) }</p>
                        { controls::button(Some("contact-clear-confirm"), "button button--danger", lang.tr(Text::Clear), clear, false) }
                        { controls::button(None, "button button--ghost", lang.tr(Text::Cancel), cancel_clear, false) }
                    </div>
                }
                if *cleared {
                    <p id="contact-status" class="me__status me__status--done" role="status">
                        { lang.tr(Text::HistoryCleared) }
                    </p>
                }
            </div>
        </section>
    }
}
