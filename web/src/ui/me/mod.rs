//! The "me" tab (我): one's profile, signature, presence, 发送已读回执, password, and the
//! device's settings (language, sound), about, and logging out.

mod password;
mod receipts;
mod signature;

use super::avatar::{self, Size};
use super::directory::{presence_code, presence_text};
use crate::i18n::Text;
use crate::prefs::CallVideo;
use crate::state::{Command, use_shared};
use crate::ui::controls;
use password::PasswordForm;
use penpen_core::packets::profile::Presence;
use signature::SignatureForm;
use yew::prelude::*;

/// What the me tab needs beyond the shared state.
#[derive(Debug, Properties, PartialEq)]
pub struct MePageProps {
    /// Switches the interface language.
    pub on_switch_language: Callback<MouseEvent>,
}

/// `#me`: the profile card, then `#signature-form`, `#busy-toggle`,
/// `#receipts-toggle`, `#password-form`, `#me-language`, `#sound-toggle`,
/// the about line and `#me-logout`.
#[component(MePage)]
pub fn me_page(props: &MePageProps) -> Html {
    let shared = use_shared();
    let sound = use_state(crate::prefs::sound);
    let call_video = use_state(crate::prefs::call_video);
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(account) = state.account.clone() else {
        return html! {};
    };
    let directory = state.directory.clone();
    let me = directory
        .as_ref()
        .and_then(|d| d.contacts.iter().find(|c| c.user == account.user).cloned());
    let department = me
        .as_ref()
        .zip(directory.as_ref())
        .and_then(|(c, d)| d.departments.get(&c.department).cloned())
        .unwrap_or_default();
    let job = me
        .as_ref()
        .zip(directory.as_ref())
        .and_then(|(c, d)| d.jobs.get(&c.job).cloned())
        .unwrap_or_default();
    let presence = if state.busy {
        Presence::Busy
    } else {
        Presence::Online
    };
    let toggle_busy = {
        let (command, busy) = (shared.command.clone(), state.busy);
        Callback::from(move |_: Event| command.emit(Command::SetBusy(!busy)))
    };
    let toggle_sound = {
        let sound = sound.clone();
        Callback::from(move |_: Event| {
            crate::prefs::set_sound(!*sound);
            sound.set(!*sound);
        })
    };
    let choose_call_video = {
        let call_video = call_video.clone();
        Callback::from(move |event: Event| {
            let chosen = event
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .and_then(|select| CallVideo::from_key(&select.value()));
            if let Some(chosen) = chosen {
                crate::prefs::set_call_video(chosen);
                call_video.set(chosen);
            }
        })
    };
    let server = state
        .files
        .as_ref()
        .map(|files| files.server.label())
        .unwrap_or_default();
    html! {
        <div id="me" class="me">
            <section class="me__card">
                <span class="contact__avatar">
                    { avatar::person(&account.name, account.user.as_str(), Size::Large) }
                    <span class={classes!("presence", format!("presence--{}", presence_code(presence)))}
                        title={lang.tr(presence_text(presence))}></span>
                </span>
                <div class="me__who">
                    <h2 class="me__name">{ &account.name }</h2>
                    <p class="me__line">{ lang.tr(Text::Account) }{ "：" }{ account.user.to_string() }</p>
                    if !department.is_empty() || !job.is_empty() {
                        <p class="me__line">{ department }{ " · " }{ job }</p>
                    }
                </div>
            </section>
            <SignatureForm current={me.map(|c| c.signing).unwrap_or_default()} />
            <section class="me__section">
                <h3 class="me__heading">{ lang.tr(Text::Presence) }</h3>
                <label class="switch">
                    <input id="busy-toggle" type="checkbox" checked={state.busy} onchange={toggle_busy} />
                    <span>{ lang.tr(Text::ShowBusy) }</span>
                </label>
                <p class="me__hint">{ lang.tr(Text::PresenceAuto) }</p>
            </section>
            <receipts::ReceiptsSwitch />
            <PasswordForm />
            <section class="me__section">
                <h3 class="me__heading">{ lang.tr(Text::Language) }</h3>
                { controls::button(Some("me-language"), "button button--secondary", lang.tr(Text::SwitchLanguage), props.on_switch_language.clone(), false) }
                <label class="switch">
                    <input id="sound-toggle" type="checkbox" checked={*sound} onchange={toggle_sound} />
                    <span>{ lang.tr(Text::Sound) }</span>
                </label>
                <label class="me__choice">
                    <span>{ lang.tr(Text::CallVideo) }</span>
                    <select id="call-video-quality" onchange={choose_call_video}>
                        { for CallVideo::ALL.into_iter().map(|video| html! {
                            <option value={video.key()} selected={video == *call_video}>
                                { lang.tr(call_video_text(video)) }
                            </option>
                        }) }
                    </select>
                </label>
            </section>
            <section class="me__section">
                <h3 class="me__heading">{ lang.tr(Text::About) }</h3>
                <p id="about" class="me__hint">
                    { lang.fill(Text::AboutText, &[env!("CARGO_PKG_VERSION"), &server]) }
                </p>
            </section>
            <super::LogoutButton id="me-logout" class={classes!("button", "button--danger")} />
        </div>
    }
}

fn call_video_text(video: CallVideo) -> Text {
    match video {
        CallVideo::Smooth => Text::CallVideoSmooth,
        CallVideo::Standard => Text::CallVideoStandard,
        CallVideo::High => Text::CallVideoHigh,
    }
}
