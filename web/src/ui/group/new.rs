//! The form that creates a group.

use super::picker::{MemberPicker, toggled};
use crate::i18n::Text;
use crate::state::{Command, use_shared};
use crate::ui::controls;
use crate::ui::operation::{Status, use_operation};
use crate::ui::panel;
use penpen_core::sync::{Operation, Outcome};
use penpen_core::{Peer, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// `#new-group`: `#new-group-name`, the picker, `#new-group-create`,
/// `#new-group-status`. Created, it opens the new group's chat.
#[component(NewGroup)]
pub fn new_group() -> Html {
    let shared = use_shared();
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
            { panel::header(&shared, lang.tr(Text::NewGroup)) }
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
                    { controls::submit("new-group-create", "button button--primary", lang.tr(Text::Create), operation.waiting()) }
                    if let Some(status) = status {
                        <p id="new-group-status" class="me__status me__status--failed" role="status">{ status }</p>
                    }
                </div>
            </form>
        </section>
    }
}
