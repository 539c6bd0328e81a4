//! The password form of the me tab, and the checks a new password passes
//! before it is sent.

use crate::i18n::Text;
use crate::state::use_shared;
use crate::ui::controls;
use crate::ui::operation::{Status, use_operation};
use penpen_core::digest::password_digest;
use penpen_core::sync::Operation;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The shortest new password accepted.
pub const MIN_PASSWORD_CHARS: usize = 6;

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
pub(super) fn password_form() -> Html {
    let shared = use_shared();
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
            { controls::submit("password-save", "button button--primary", lang.tr(Text::ChangePassword), operation.waiting()) }
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
