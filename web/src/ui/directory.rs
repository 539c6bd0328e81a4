//! The company directory (通讯录): departments as collapsible sections, each
//! person with initials, name, job, signature and presence; a search; a click
//! opens their page.

use super::avatar::{self, Size};
use crate::i18n::Text;
use crate::pinyin::Initials;
use crate::state::{Panel, Shared, use_shared};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::profile::Presence;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// `id="directory"`: the search box `#contact-search`, sections
/// `.department[data-department]`, rows `.contact[data-user][data-presence]`.
#[component(DirectoryList)]
pub fn directory_list() -> Html {
    let query = use_state(String::new);
    let shared = use_shared();
    let initials = use_initials(shared.as_ref());
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let Some(directory) = shared.state.directory.clone() else {
        return html! {
            <div id="directory" class="directory">
                <p class="directory__empty">{ lang.tr(Text::DirectoryLoading) }</p>
            </div>
        };
    };
    let me = shared.state.account.as_ref().map(|a| a.user.clone());
    let on_input = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                query.set(input.value());
            }
        })
    };
    let sections = sections(&directory, &initials, &query);
    let rows = |contacts: Vec<&Contact>| -> Html {
        contacts
            .into_iter()
            .map(|contact| {
                let open = {
                    let (panel, user) = (shared.panel.clone(), contact.user.clone());
                    Callback::from(move |_: MouseEvent| panel.set(Some(Panel::Contact(user.clone()))))
                };
                let job = directory.jobs.get(&contact.job).cloned().unwrap_or_default();
                let is_me = me.as_ref() == Some(&contact.user);
                html! {
                    <li key={contact.user.to_string()} class="contact" data-user={contact.user.to_string()}
                        data-presence={presence_code(contact.presence)}>
                        <button type="button" class="contact__open" onclick={open}>
                            <span class="contact__avatar">
                                { avatar::person(&contact.name, contact.user.as_str(), Size::Large) }
                                <span class={classes!("presence", format!("presence--{}", presence_code(contact.presence)))}
                                    title={lang.tr(presence_text(contact.presence))}></span>
                            </span>
                            <span class="contact__text">
                                <span class="contact__name">
                                    { &contact.name }
                                    if is_me { <span class="contact__me">{ lang.tr(Text::MeMark) }</span> }
                                    if !job.is_empty() { <span class="contact__job">{ job }</span> }
                                </span>
                                <span class="contact__signature">{ &contact.signing }</span>
                            </span>
                        </button>
                    </li>
                }
            })
            .collect()
    };
    html! {
        <div id="directory" class="directory">
            // Not bound to the query: a re-render must never rewrite what is
            // being typed (an IME composition, or keys arriving fast).
            <input id="contact-search" class="directory__search" type="search"
                placeholder={lang.tr(Text::SearchContacts)} oninput={on_input} />
            // The sections change in number as the search narrows: in their
            // own element, so the search box beside them is never re-created
            // (losing focus and what is being typed) when they do.
            <div class="directory__sections">
                if sections.is_empty() {
                    <p class="directory__empty">{ lang.tr(Text::NoContacts) }</p>
                }
                { for sections.into_iter().map(|(department, name, contacts)| html! {
                    // Searching opens every section that has a match.
                    <details key={department.to_string()} class="department"
                        data-department={department.to_string()} open=true>
                        <summary class="department__name">
                            { name }<span class="department__count">{ contacts.len() }</span>
                        </summary>
                        <ul class="department__people">{ rows(contacts) }</ul>
                    </details>
                }) }
            </div>
        </div>
    }
}

/// The pinyin initials of everyone in the directory (`[i]` belongs to
/// `contacts[i]`), worked out once per directory, not on every keystroke.
#[hook]
pub(crate) fn use_initials(shared: Option<&Shared>) -> Rc<Vec<String>> {
    use_memo(
        shared.and_then(|s| s.state.directory.clone()),
        |directory| {
            let pinyin = Initials::new();
            directory
                .as_ref()
                .map(|d| d.contacts.iter().map(|c| pinyin.of(&c.name)).collect())
                .unwrap_or_default()
        },
    )
}

/// The departments in number order, each with its people matching `query`
/// (by name, account, or pinyin initials — `initials[i]` belongs to
/// `directory.contacts[i]`; empty: everyone), leaving out departments with none.
pub(super) fn sections<'a>(
    directory: &'a Directory,
    initials: &[String],
    query: &str,
) -> Vec<(penpen_core::DepartmentId, String, Vec<&'a Contact>)> {
    let query = query.trim().to_lowercase();
    let matches = |index: usize, contact: &Contact| {
        query.is_empty()
            || contact.name.to_lowercase().contains(&query)
            || contact.user.as_str().contains(&query)
            || initials.get(index).is_some_and(|i| i.contains(&query))
    };
    directory
        .departments
        .iter()
        .map(|(id, name)| {
            let people: Vec<&Contact> = directory
                .contacts
                .iter()
                .enumerate()
                .filter(|(index, c)| c.department == *id && matches(*index, c))
                .map(|(_, c)| c)
                .collect();
            (*id, name.clone(), people)
        })
        .filter(|(_, _, people)| !people.is_empty())
        .collect()
}

pub(super) fn presence_code(presence: Presence) -> &'static str {
    match presence {
        Presence::Online => "online",
        Presence::Away => "away",
        Presence::Busy => "busy",
        Presence::Offline => "offline",
    }
}

pub(super) fn presence_text(presence: Presence) -> Text {
    match presence {
        Presence::Online => Text::PresenceOnline,
        Presence::Away => Text::PresenceAway,
        Presence::Busy => Text::PresenceBusy,
        Presence::Offline => Text::PresenceOffline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::{DepartmentId, JobId, State, UserId};
    use std::collections::BTreeMap;

    fn directory() -> Directory {
        let contact = |id: &str, name: &str, department: u64| Contact {
            name: name.into(),
            user: UserId::parse(id).expect("id"),
            department: DepartmentId(department),
            job: JobId(1),
            signing: String::new(),
            presence: Presence::Offline,
        };
        Directory {
            state: State::SUCCESS,
            departments: BTreeMap::from([
                (DepartmentId(1), "总经理".into()),
                (DepartmentId(2), "技术部".into()),
                (DepartmentId(3), "财务部".into()),
            ]),
            jobs: BTreeMap::from([(JobId(1), "软件工程师".into())]),
            contacts: vec![
                contact("13800000001", "王建国", 1),
                contact("13800000003", "张伟", 2),
                contact("13800000005", "陈静", 2),
            ],
        }
    }

    #[test]
    fn departments_keep_their_order_and_drop_empty_ones() {
        let directory = directory();
        let all = sections(&directory, &[], "");
        let names: Vec<&str> = all.iter().map(|(_, name, _)| name.as_str()).collect();
        assert_eq!(names, vec!["总经理", "技术部"]);
        assert_eq!(all[1].2.len(), 2);
    }

    #[test]
    fn search_matches_names_and_accounts() {
        let directory = directory();
        let by_name = sections(&directory, &[], " 张 ");
        assert_eq!(by_name.len(), 1);
        assert_eq!(by_name[0].2[0].name, "张伟");
        let by_account = sections(&directory, &[], "00005");
        assert_eq!(by_account[0].2[0].name, "陈静");
        assert!(sections(&directory, &[], "nobody").is_empty());
        let initials = ["wjg".to_owned(), "zw".to_owned(), "cj".to_owned()];
        let by_initials = sections(&directory, &initials, "ZW");
        assert_eq!(by_initials[0].2[0].name, "张伟");
    }
}
