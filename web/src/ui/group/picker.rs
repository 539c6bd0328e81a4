//! The member picker: the directory's people, by department, with a search
//! and a checkbox each.

use crate::i18n::Text;
use crate::state::use_shared;
use crate::ui::avatar::{self, Size};
use crate::ui::directory::{sections, use_initials};
use penpen_core::UserId;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub(super) struct PickerProps {
    /// Who is ticked.
    pub selected: Vec<UserId>,
    /// People who cannot be picked (already members, oneself).
    pub excluded: Vec<UserId>,
    /// Ticks or unticks someone.
    pub on_toggle: Callback<UserId>,
}

/// `.picker`: a search (`.picker__search`) and the departments, each person a
/// checkbox `.picker__person[data-user] input`.
#[component(MemberPicker)]
pub(super) fn member_picker(props: &PickerProps) -> Html {
    let shared = use_shared();
    let query = use_state(String::new);
    let initials = use_initials(shared.as_ref());
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let Some(directory) = shared.state.directory.clone() else {
        return html! { <p class="directory__empty">{ lang.tr(Text::DirectoryLoading) }</p> };
    };
    let on_input = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                query.set(input.value());
            }
        })
    };
    let found = sections(&directory, &initials, &query);
    html! {
        <div class="picker">
            <input class="picker__search directory__search" type="search"
                placeholder={lang.tr(Text::SearchContacts)} oninput={on_input} />
            <div class="picker__sections">
                { for found.into_iter().map(|(department, name, people)| {
                    let people: Vec<_> = people
                        .into_iter()
                        .filter(|c| !props.excluded.contains(&c.user))
                        .collect();
                    html! {
                        <details key={department.to_string()} class="department" open=true>
                            <summary class="department__name">{ name }</summary>
                            <ul class="department__people">
                                { for people.into_iter().map(|contact| {
                                    let toggle = {
                                        let (on_toggle, user) = (props.on_toggle.clone(), contact.user.clone());
                                        Callback::from(move |_: Event| on_toggle.emit(user.clone()))
                                    };
                                    html! {
                                        <li key={contact.user.to_string()} class="picker__person"
                                            data-user={contact.user.to_string()}>
                                            <label>
                                                <input type="checkbox" onchange={toggle}
                                                    checked={props.selected.contains(&contact.user)} />
                                                { avatar::person(&contact.name, contact.user.as_str(), Size::Medium) }
                                                <span>{ &contact.name }</span>
                                            </label>
                                        </li>
                                    }
                                }) }
                            </ul>
                        </details>
                    }
                }) }
            </div>
        </div>
    }
}

/// Ticks `user` if unticked, unticks if ticked.
pub(super) fn toggled(selected: &[UserId], user: UserId) -> Vec<UserId> {
    let mut next = selected.to_vec();
    if let Some(at) = next.iter().position(|u| *u == user) {
        next.remove(at);
    } else {
        next.push(user);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggling_ticks_and_unticks() {
        let a = UserId::parse("13800000001").expect("id");
        let b = UserId::parse("13800000002").expect("id");
        let once = toggled(&[], a.clone());
        assert_eq!(once, vec![a.clone()]);
        let twice = toggled(&once, b.clone());
        assert_eq!(twice, vec![a.clone(), b.clone()]);
        assert_eq!(toggled(&twice, a), vec![b]);
    }
}
