//! The @mention picker under the composer of a group: `ul#mention-picker`
//! with `li.mention-picker__item[data-user]` (`data-user="all"` for
//! @所有人), the highlighted one `aria-selected="true"`.

use super::mention::{Candidate, Member};
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::state::Shared;
use crate::ui::avatar::{self, Size};
use penpen_core::{Peer, UserId};
use yew::prelude::*;

/// The `@word` being typed: where its `@` is (bytes), the caret (UTF-16
/// units), the word, and which choice is highlighted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub at: usize,
    pub caret: usize,
    pub query: String,
    pub highlighted: usize,
}

/// Who can be mentioned in `peer` (a group): its other current members
/// with their names and initials, and whether the user holds it.
pub fn members(shared: &Shared, peer: &Peer, initials: &[String]) -> (Vec<Member>, bool) {
    let state = &*shared.state;
    let Peer::Group(gid) = peer else {
        return (Vec::new(), false);
    };
    let Some(group) = state.groups.iter().find(|g| g.gid == *gid) else {
        return (Vec::new(), false);
    };
    let me: Option<&UserId> = state.account.as_ref().map(|a| &a.user);
    let contacts = state
        .directory
        .as_ref()
        .map(|d| &d.contacts[..])
        .unwrap_or(&[]);
    let members = group
        .member
        .0
        .iter()
        .filter(|user| Some(*user) != me)
        .map(|user| {
            let index = contacts.iter().position(|c| &c.user == user);
            Member {
                user: user.clone(),
                name: index.map_or_else(|| user.to_string(), |i| contacts[i].name.clone()),
                initials: index
                    .and_then(|i| initials.get(i).cloned())
                    .unwrap_or_default(),
            }
        })
        .collect();
    (members, me == Some(&group.holder))
}

/// The list of choices; `on_choose` gets the index of the one clicked or
/// tapped.
pub fn picker(
    lang: Lang,
    found: &[Candidate],
    highlighted: usize,
    on_choose: Callback<usize>,
) -> Html {
    html! {
        <ul id="mention-picker" class="mention-picker" role="listbox"
            aria-label={lang.tr(Text::MentionPicker)}>
            { for found.iter().enumerate().map(|(index, candidate)| {
                let selected = index == highlighted;
                let (user, face) = match candidate {
                    Candidate::Everyone => ("all".to_owned(), avatar::group(lang.tr(Text::MentionAll), Size::Small)),
                    Candidate::Member(user, name) => (user.to_string(), avatar::person(name, user.as_str(), Size::Small)),
                };
                let label = match candidate {
                    Candidate::Everyone => lang.tr(Text::MentionAll).to_owned(),
                    Candidate::Member(_, name) => name.clone(),
                };
                // Pressing must not take the focus from the field (a
                // phone would close its keyboard); the click chooses.
                let keep_focus = Callback::from(|event: PointerEvent| event.prevent_default());
                let choose = {
                    let on_choose = on_choose.clone();
                    Callback::from(move |_: MouseEvent| on_choose.emit(index))
                };
                html! {
                    <li key={user.clone()} class={classes!("mention-picker__item", selected.then_some("mention-picker__item--active"))}
                        role="option" aria-selected={selected.to_string()} data-user={user}
                        onpointerdown={keep_focus} onclick={choose}>
                        { face }
                        <span class="mention-picker__name">{ label }</span>
                    </li>
                }
            }) }
        </ul>
    }
}
