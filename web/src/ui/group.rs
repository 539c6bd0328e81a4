//! Discussion groups (讨论组): the form that creates one, a group's page
//! (rename, members, leave), and the member picker both use.

use super::avatar::{self, Size};
use super::directory::{sections, use_initials};
use super::operation::{Status, use_operation};
use crate::i18n::Text;
use crate::state::{Command, Shared, person_name};
use penpen_core::packets::groups::MembersAction;
use penpen_core::sync::{Operation, Outcome};
use penpen_core::{GroupId, Peer, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
struct PickerProps {
    /// Who is ticked.
    selected: Vec<UserId>,
    /// People who cannot be picked (already members, oneself).
    excluded: Vec<UserId>,
    /// Ticks or unticks someone.
    on_toggle: Callback<UserId>,
}

/// `.picker`: a search (`.picker__search`) and the departments, each person a
/// checkbox `.picker__person[data-user] input`.
#[component(MemberPicker)]
fn member_picker(props: &PickerProps) -> Html {
    let shared = use_context::<Shared>();
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
fn toggled(selected: &[UserId], user: UserId) -> Vec<UserId> {
    let mut next = selected.to_vec();
    if let Some(at) = next.iter().position(|u| *u == user) {
        next.remove(at);
    } else {
        next.push(user);
    }
    next
}

/// The pane's header with its back button.
pub(super) fn panel_header(shared: &Shared, title: &str) -> Html {
    let close = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(None))
    };
    let lang = shared.lang;
    html! {
        <header class="chat__header">
            <button id="panel-back" class="chat__back" type="button"
                aria-label={lang.tr(Text::Back)} title={lang.tr(Text::Back)} onclick={close}>
                <span aria-hidden="true">{ "‹" }</span>
            </button>
            <h2 class="chat__title"><span class="chat__name">{ title }</span></h2>
        </header>
    }
}

/// `#new-group`: `#new-group-name`, the picker, `#new-group-create`,
/// `#new-group-status`. Created, it opens the new group's chat.
#[component(NewGroup)]
pub fn new_group() -> Html {
    let shared = use_context::<Shared>();
    let name = use_node_ref();
    let selected = use_state(Vec::<UserId>::new);
    let invalid = use_state(|| None::<Text>);
    let operation = use_operation();
    {
        let shared = shared.clone();
        use_effect_with((*operation.status).clone(), move |status| {
            if let (Status::Done(Outcome::GroupCreated(gid)), Some(shared)) = (status, shared) {
                shared.panel.set(None);
                shared.command.emit(Command::Open(Peer::Group(*gid)));
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let me = shared.state.account.as_ref().map(|a| a.user.clone());
    // An edit makes the last complaint stale.
    let on_toggle = {
        let (selected, invalid) = (selected.clone(), invalid.clone());
        Callback::from(move |user: UserId| {
            invalid.set(None);
            selected.set(toggled(&selected, user));
        })
    };
    let on_name = {
        let invalid = invalid.clone();
        Callback::from(move |_: InputEvent| invalid.set(None))
    };
    let on_submit = {
        let (name, selected, invalid, operation) = (
            name.clone(),
            selected.clone(),
            invalid.clone(),
            operation.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let group_name = name
                .cast::<HtmlInputElement>()
                .map(|f| f.value().trim().to_owned())
                .unwrap_or_default();
            if group_name.is_empty() {
                invalid.set(Some(Text::ErrGroupName));
            } else if selected.is_empty() {
                invalid.set(Some(Text::ErrNoMembers));
            } else {
                invalid.set(None);
                operation.run(Operation::CreateGroup {
                    name: group_name,
                    members: (*selected).clone(),
                });
            }
        })
    };
    let status = match (&*invalid, &*operation.status) {
        (Some(problem), _) => Some(lang.tr(*problem).to_owned()),
        (None, Status::Waiting) => Some(lang.tr(Text::Creating).to_owned()),
        (None, Status::Failed(why)) => Some(why.clone()),
        _ => None,
    };
    html! {
        <section id="new-group" class="panel">
            { panel_header(&shared, lang.tr(Text::NewGroup)) }
            <form class="panel__body" onsubmit={on_submit}>
                <label class="field">
                    <span class="field__label">{ lang.tr(Text::GroupName) }</span>
                    <input id="new-group-name" ref={name} type="text" oninput={on_name}
                        maxlength={penpen_core::limits::MAX_GROUP_NAME_CHARS.to_string()}
                        placeholder={lang.tr(Text::GroupNameHint)} />
                </label>
                <h3 class="me__heading">
                    { lang.tr(Text::PickMembers) }
                    <span id="new-group-count" class="department__count">
                        { lang.fill(Text::Selected, &[&selected.len().to_string()]) }
                    </span>
                </h3>
                <MemberPicker selected={(*selected).clone()} excluded={me.into_iter().collect::<Vec<_>>()}
                    {on_toggle} />
                <div class="panel__actions panel__actions--sticky">
                    <button id="new-group-create" class="button button--primary" type="submit"
                        disabled={operation.waiting()}>
                        { lang.tr(Text::Create) }
                    </button>
                    if let Some(status) = status {
                        <p id="new-group-status" class="me__status me__status--failed" role="status">{ status }</p>
                    }
                </div>
            </form>
        </section>
    }
}

/// What the page is about.
#[derive(Debug, Properties, PartialEq)]
pub struct GroupPageProps {
    /// Which group.
    pub gid: GroupId,
}

/// `#group-page[data-gid]`: `#group-name`, `#group-gid`, `#group-holder`;
/// `#group-rename-input` and `#group-rename-save`; the members
/// `.member[data-user]` (with `.member__remove` for the holder); `#group-add`
/// opening a picker and `#group-add-confirm`; `#group-leave` and
/// `#group-leave-confirm`; `#group-status`.
#[component(GroupPage)]
pub fn group_page(props: &GroupPageProps) -> Html {
    let shared = use_context::<Shared>();
    let rename = use_node_ref();
    let adding = use_state(|| false);
    let to_add = use_state(Vec::<UserId>::new);
    let leaving = use_state(|| false);
    let operation = use_operation();
    // An addition that went through closes the picker.
    {
        let (adding, to_add) = (adding.clone(), to_add.clone());
        let done = matches!(*operation.status, Status::Done(_));
        use_effect_with(done, move |&done| {
            if done {
                adding.set(false);
                to_add.set(Vec::new());
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(group) = state.groups.iter().find(|g| g.gid == props.gid).cloned() else {
        return html! {
            <section id="group-page" class="panel" data-gid={props.gid.to_string()}>
                { panel_header(&shared, &format!("#{}", props.gid)) }
                <p class="panel__empty">{ lang.tr(Text::NotInGroup) }</p>
            </section>
        };
    };
    let me = state.account.as_ref().map(|a| a.user.clone());
    let member = me.as_ref().is_some_and(|me| group.member.contains(me));
    let holding = member && me.as_ref() == Some(&group.holder);
    let members = group.member.deduplicated().0;
    let gid = group.gid;
    let on_rename = {
        let (rename, operation) = (rename.clone(), operation.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let name = rename
                .cast::<HtmlInputElement>()
                .map(|f| f.value().trim().to_owned())
                .unwrap_or_default();
            if !name.is_empty() {
                operation.run(Operation::RenameGroup { gid, name });
            }
        })
    };
    let change = |action: MembersAction, members: Vec<UserId>| {
        let operation = operation.clone();
        move || {
            operation.run(Operation::ChangeMembers {
                gid,
                action,
                members: members.clone(),
            })
        }
    };
    let toggle_adding = {
        let adding = adding.clone();
        Callback::from(move |_: MouseEvent| adding.set(!*adding))
    };
    let on_toggle = {
        let to_add = to_add.clone();
        Callback::from(move |user: UserId| to_add.set(toggled(&to_add, user)))
    };
    let add = {
        let run = change(MembersAction::Add, (*to_add).clone());
        let empty = to_add.is_empty();
        Callback::from(move |_: MouseEvent| {
            if !empty {
                run();
            }
        })
    };
    let ask_leave = {
        let leaving = leaving.clone();
        Callback::from(move |_: MouseEvent| leaving.set(true))
    };
    let cancel_leave = {
        let leaving = leaving.clone();
        Callback::from(move |_: MouseEvent| leaving.set(false))
    };
    let leave = {
        let run = change(MembersAction::Leave, Vec::new());
        let (leaving, panel) = (leaving.clone(), shared.panel.clone());
        Callback::from(move |_: MouseEvent| {
            run();
            leaving.set(false);
            // The chat stays open, read-only.
            panel.set(None);
        })
    };
    let status = match &*operation.status {
        Status::Waiting => Some(("waiting", lang.tr(Text::Saving).to_owned())),
        Status::Done(_) => Some(("done", lang.tr(Text::Saved).to_owned())),
        Status::Failed(why) => Some(("failed", why.clone())),
        Status::Idle => None,
    };
    html! {
        <section id="group-page" class="panel" data-gid={gid.to_string()}>
            { panel_header(&shared, lang.tr(Text::GroupDetail)) }
            <div class="panel__body">
                <div class="panel__hero">
                    { avatar::group(&group.name, Size::Large) }
                    <div>
                        <h2 id="group-name" class="panel__title">{ &group.name }</h2>
                        <p class="panel__sub">
                            { lang.tr(Text::GroupId) }{ "：" }<span id="group-gid">{ gid.to_string() }</span>
                            { " · " }{ lang.tr(Text::Holder) }{ "：" }
                            <span id="group-holder">{ person_name(state, &group.holder) }</span>
                        </p>
                    </div>
                </div>
                if !member {
                    <p id="group-left" class="panel__empty">{ lang.tr(Text::NotInGroup) }</p>
                }
                if member {
                <form class="me__row" onsubmit={on_rename}>
                    <input id="group-rename-input" ref={rename} class="me__input" type="text"
                        maxlength={penpen_core::limits::MAX_GROUP_NAME_CHARS.to_string()}
                        placeholder={lang.tr(Text::Rename)} />
                    <button id="group-rename-save" class="button button--secondary" type="submit"
                        disabled={operation.waiting()}>{ lang.tr(Text::Rename) }</button>
                </form>
                }
                <h3 class="me__heading">
                    { lang.tr(Text::Members) }
                    <span class="department__count">{ members.len() }</span>
                </h3>
                <ul class="members">
                    { for members.iter().map(|member| {
                        let name = person_name(state, member);
                        let removable = holding && me.as_ref() != Some(member);
                        let remove = {
                            let run = change(MembersAction::Remove, vec![member.clone()]);
                            Callback::from(move |_: MouseEvent| run())
                        };
                        html! {
                            <li key={member.to_string()} class="member" data-user={member.to_string()}>
                                { avatar::person(&name, member.as_str(), Size::Large) }
                                <span class="member__name">{ name }</span>
                                if *member == group.holder {
                                    <span class="contact__job">{ lang.tr(Text::Holder) }</span>
                                }
                                if removable {
                                    <button class="member__remove button button--ghost" type="button"
                                        onclick={remove} disabled={operation.waiting()}>
                                        { lang.tr(Text::Remove) }
                                    </button>
                                }
                            </li>
                        }
                    }) }
                </ul>
                if member {
                <div class="panel__actions">
                    <button id="group-add" class="button button--secondary" type="button" onclick={toggle_adding}>
                        { lang.tr(Text::AddMembers) }
                    </button>
                    <button id="group-leave" class="button button--danger" type="button" onclick={ask_leave}>
                        { lang.tr(Text::LeaveGroup) }
                    </button>
                </div>
                }
                if *leaving {
                    <div class="panel__confirm" role="alertdialog">
                        <p>{ lang.tr(Text::ConfirmLeave) }</p>
                        <button id="group-leave-confirm" class="button button--danger" type="button" onclick={leave}>
                            { lang.tr(Text::Leave) }
                        </button>
                        <button class="button button--ghost" type="button" onclick={cancel_leave}>
                            { lang.tr(Text::Cancel) }
                        </button>
                    </div>
                }
                if *adding {
                    <div id="group-add-picker">
                        <MemberPicker selected={(*to_add).clone()} excluded={members.clone()} {on_toggle} />
                        <button id="group-add-confirm" class="button button--primary" type="button"
                            onclick={add} disabled={to_add.is_empty() || operation.waiting()}>
                            { lang.tr(Text::Add) }
                        </button>
                    </div>
                }
                if let Some((code, text)) = status {
                    <p id="group-status" class={classes!("me__status", format!("me__status--{code}"))}
                        data-state={code} role="status">{ text }</p>
                }
            </div>
        </section>
    }
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
