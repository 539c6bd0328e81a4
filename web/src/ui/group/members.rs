//! A group's members, each with a remove button for the holder.

use crate::i18n::{Lang, Text};
use crate::state::{AppState, person_name};
use crate::ui::avatar::{self, Size};
use crate::ui::controls;
use penpen_core::UserId;
use yew::prelude::*;

/// `ul.members`: `.member[data-user]`, the holder marked, and a
/// `.member__remove` on everyone else when the holder (`holder_viewing`) is
/// the one looking.
pub(super) fn list(
    state: &AppState,
    lang: Lang,
    holder: &UserId,
    members: &[UserId],
    holder_viewing: Option<UserId>,
    on_remove: Callback<UserId>,
    waiting: bool,
) -> Html {
    html! {
        <ul class="members">
            { for members.iter().map(|member| {
                let name = person_name(state, member);
                let removable = holder_viewing.as_ref().is_some_and(|me| me != member);
                let remove = {
                    let member = member.clone();
                    on_remove.reform(move |_: MouseEvent| member.clone())
                };
                html! {
                    <li key={member.to_string()} class="member" data-user={member.to_string()}>
                        { avatar::person(&name, member.as_str(), Size::Large) }
                        <span class="member__name">{ name }</span>
                        if member == holder {
                            <span class="contact__job">{ lang.tr(Text::Holder) }</span>
                        }
                        if removable {
                            { controls::button(None, "member__remove button button--ghost", lang.tr(Text::Remove), remove, waiting) }
                        }
                    </li>
                }
            }) }
        </ul>
    }
}
