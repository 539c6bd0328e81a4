//! The "me" tab (我): one's profile, signature, presence, password, and the
//! device's settings (language, sound), about, and logging out.

use super::avatar::{self, Size};
use super::directory::{presence_code, presence_text};
use super::operation::{Status, use_operation};
use crate::i18n::Text;
use crate::state::{Command, Shared};
use penpen_core::digest::password_digest;
use penpen_core::packets::profile::Presence;
use penpen_core::sync::Operation;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The shortest new password accepted.
pub const MIN_PASSWORD_CHARS: usize = 6;

/// What the me tab needs beyond the shared state.
#[derive(Debug, Properties, PartialEq)]
pub struct MePageProps {
    /// Switches the interface language.
    pub on_switch_language: Callback<MouseEvent>,
}

/// `#me`: the profile card, then `#signature-form`, `#busy-toggle`,
/// `#password-form`, `#me-language`, `#sound-toggle`, the about line and
/// `#me-logout`.
#[component(MePage)]
pub fn me_page(props: &MePageProps) -> Html {
    let shared = use_context::<Shared>();
    let sound = use_state(crate::prefs::sound);
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
            <PasswordForm />
            <section class="me__section">
                <h3 class="me__heading">{ lang.tr(Text::Language) }</h3>
                <button id="me-language" class="button button--secondary" type="button"
                    onclick={props.on_switch_language.clone()}>
                    { lang.tr(Text::SwitchLanguage) }
                </button>
                <label class="switch">
                    <input id="sound-toggle" type="checkbox" checked={*sound} onchange={toggle_sound} />
                    <span>{ lang.tr(Text::Sound) }</span>
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

#[derive(Debug, Properties, PartialEq)]
struct SignatureFormProps {
    /// The signature the directory holds now.
    current: String,
}

/// `#signature-form`: `#signature-input`, `#signature-save`, `#signature-status`.
#[component(SignatureForm)]
fn signature_form(props: &SignatureFormProps) -> Html {
    let shared = use_context::<Shared>();
    let input = use_node_ref();
    let operation = use_operation();
    // The field shows the stored signature whenever that changes (loaded,
    // saved, changed on another device), unless it is being edited.
    {
        let input = input.clone();
        use_effect_with(props.current.clone(), move |current| {
            if let Some(field) = input.cast::<HtmlInputElement>() {
                let editing = gloo::utils::document()
                    .active_element()
                    .is_some_and(|active| active == **field);
                if !editing {
                    field.set_value(current);
                }
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let on_submit = {
        let (input, operation) = (input.clone(), operation.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input.cast::<HtmlInputElement>() {
                operation.run(Operation::SetSignature(field.value().trim().to_owned()));
            }
        })
    };
    let on_input = {
        let operation = operation.clone();
        Callback::from(move |_: InputEvent| operation.reset())
    };
    let (status, text) = match &*operation.status {
        Status::Idle => ("idle", String::new()),
        Status::Waiting => ("waiting", lang.tr(Text::Saving).to_owned()),
        Status::Done(_) => ("done", lang.tr(Text::Saved).to_owned()),
        Status::Failed(why) => ("failed", why.clone()),
    };
    html! {
        <form id="signature-form" class="me__section" onsubmit={on_submit}>
            <label class="me__heading" for="signature-input">{ lang.tr(Text::Signature) }</label>
            <div class="me__row">
                <input id="signature-input" ref={input} class="me__input" type="text"
                    maxlength={penpen_core::limits::MAX_SIGNATURE_CHARS.to_string()}
                    placeholder={lang.tr(Text::SignatureHint)} oninput={on_input} />
                <button id="signature-save" class="button button--primary" type="submit"
                    disabled={operation.waiting()}>
                    { lang.tr(Text::Save) }
                </button>
            </div>
            <p id="signature-status" class={classes!("me__status", format!("me__status--{status}"))}
                data-state={status} role="status">{ text }</p>
        </form>
    }
}

/// Checks a new password before it goes to the server.
pub fn check_new_password(current: &str, new: &str, confirm: &str) -> Result<(), Text> {
    if current.is_empty() {
        return Err(Text::ErrPasswordEmpty);
    }
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Text::ErrPasswordShort);
    }
    if new != confirm {
        return Err(Text::ErrPasswordMismatch);
    }
    if new == current {
        return Err(Text::ErrPasswordSame);
    }
    Ok(())
}

/// `#password-form`: `#password-current`, `#password-new`,
/// `#password-confirm`, `#password-save`, `#password-status`.
#[component(PasswordForm)]
fn password_form() -> Html {
    let shared = use_context::<Shared>();
    let (current, new, confirm) = (use_node_ref(), use_node_ref(), use_node_ref());
    let operation = use_operation();
    let invalid = use_state(|| None::<Text>);
    // Done: the fields are cleared, so the passwords do not linger on screen.
    {
        let fields = [current.clone(), new.clone(), confirm.clone()];
        let done = matches!(*operation.status, Status::Done(_));
        use_effect_with(done, move |&done| {
            if done {
                for field in fields.iter().filter_map(|f| f.cast::<HtmlInputElement>()) {
                    field.set_value("");
                }
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let on_submit = {
        let (current, new, confirm) = (current.clone(), new.clone(), confirm.clone());
        let (operation, invalid) = (operation.clone(), invalid.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|f| f.value())
                    .unwrap_or_default()
            };
            let (old, fresh, again) = (value(&current), value(&new), value(&confirm));
            match check_new_password(&old, &fresh, &again) {
                Err(problem) => {
                    operation.reset();
                    invalid.set(Some(problem));
                }
                Ok(()) => {
                    invalid.set(None);
                    operation.run(Operation::ChangePassword {
                        old_digest: password_digest(&old),
                        new_digest: password_digest(&fresh),
                    });
                }
            }
        })
    };
    let (status, text) = match (&*invalid, &*operation.status) {
        (Some(problem), _) => ("failed", lang.tr(*problem).to_owned()),
        (None, Status::Idle) => ("idle", String::new()),
        (None, Status::Waiting) => ("waiting", lang.tr(Text::Saving).to_owned()),
        (None, Status::Done(_)) => ("done", lang.tr(Text::PasswordChanged).to_owned()),
        (None, Status::Failed(why)) => ("failed", why.clone()),
    };
    let field = |id: &'static str, label: Text, node: &NodeRef, autocomplete: &'static str| {
        html! {
            <label class="field">
                <span class="field__label">{ lang.tr(label) }</span>
                <input {id} ref={node.clone()} type="password" {autocomplete} />
            </label>
        }
    };
    html! {
        <form id="password-form" class="me__section" onsubmit={on_submit}>
            <h3 class="me__heading">{ lang.tr(Text::ChangePassword) }</h3>
            { field("password-current", Text::CurrentPassword, &current, "current-password") }
            { field("password-new", Text::NewPassword, &new, "new-password") }
            { field("password-confirm", Text::ConfirmPassword, &confirm, "new-password") }
            <button id="password-save" class="button button--primary" type="submit"
                disabled={operation.waiting()}>
                { lang.tr(Text::ChangePassword) }
            </button>
            <p id="password-status" class={classes!("me__status", format!("me__status--{status}"))}
                data-state={status} role="status">{ text }</p>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_checked_before_it_is_sent() {
        assert_eq!(
            check_new_password("", "secret1", "secret1"),
            Err(Text::ErrPasswordEmpty)
        );
        assert_eq!(
            check_new_password("old", "short", "short"),
            Err(Text::ErrPasswordShort)
        );
        assert_eq!(
            check_new_password("old", "secret1", "secret2"),
            Err(Text::ErrPasswordMismatch)
        );
        assert_eq!(
            check_new_password("secret1", "secret1", "secret1"),
            Err(Text::ErrPasswordSame)
        );
        assert_eq!(
            check_new_password("old", "新的密码123", "新的密码123"),
            Ok(())
        );
    }
}
