//! A group's page: its name (renamed by anyone), its members (removed by
//! the holder, added by anyone), and leaving it.

use super::members;
use super::picker::{MemberPicker, toggled};
use crate::i18n::{Lang, Text};
use crate::state::{AppState, Panel, person_name, use_shared};
use crate::ui::avatar::{self, Size};
use crate::ui::controls;
use crate::ui::operation::{Handle, Status, use_operation};
use crate::ui::panel;
use penpen_core::packets::groups::{Group, MembersAction};
use penpen_core::sync::Operation;
use penpen_core::{GroupId, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

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
    let shared = use_shared();
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
                { panel::header(&shared, &format!("#{}", props.gid)) }
                <p class="panel__empty">{ lang.tr(Text::NotInGroup) }</p>
            </section>
        };
    };
    let me = state.account.as_ref().map(|a| a.user.clone());
    let member = me.as_ref().is_some_and(|me| group.member.contains(me));
    let holding = member && me.as_ref() == Some(&group.holder);
    let members = group.member.deduplicated().0;
    let gid = group.gid;
    let actions = Actions::new(
        gid,
        &rename,
        &operation,
        Modes {
            adding: adding.clone(),
            to_add: to_add.clone(),
            leaving: leaving.clone(),
        },
        &shared.panel,
    );
    // The holder removes anyone but themselves.
    let removable = if holding { me.clone() } else { None };
    let status = match &*operation.status {
        Status::Waiting => Some(("waiting", lang.tr(Text::Saving).to_owned())),
        Status::Done(_) => Some(("done", lang.tr(Text::Saved).to_owned())),
        Status::Failed(why) => Some(("failed", why.clone())),
        Status::Idle => None,
    };
    html! {
        <section id="group-page" class="panel" data-gid={gid.to_string()}>
            { panel::header(&shared, lang.tr(Text::GroupDetail)) }
            <div class="panel__body">
                { hero(state, lang, &group) }
                if !member {
                    <p id="group-left" class="panel__empty">{ lang.tr(Text::NotInGroup) }</p>
                }
                if member {
                    <crate::ui::mute::MuteSwitch peer={penpen_core::Peer::Group(gid)} />
                }
                if member {
                <form class="me__row" onsubmit={actions.rename}>
                    <input id="group-rename-input" ref={rename} class="me__input" type="text"
                        maxlength={penpen_core::limits::MAX_GROUP_NAME_CHARS.to_string()}
                        placeholder={lang.tr(Text::Rename)} />
                    { controls::submit("group-rename-save", "button button--secondary", lang.tr(Text::Rename), operation.waiting()) }
                </form>
                }
                <h3 class="me__heading">
                    { lang.tr(Text::Members) }
                    <span class="department__count">{ members.len() }</span>
                </h3>
                { members::list(state, lang, &group.holder, &members, removable, actions.remove, operation.waiting()) }
                if member {
                <div class="panel__actions">
                    { controls::button(Some("group-add"), "button button--secondary", lang.tr(Text::AddMembers), actions.toggle_adding, false) }
                    { controls::button(Some("group-leave"), "button button--danger", lang.tr(Text::LeaveGroup), actions.ask_leave, false) }
                </div>
                }
                if *leaving {
                    { leave_confirm(lang, actions.leave, actions.cancel_leave) }
                }
                if *adding {
                    <div id="group-add-picker">
                        <MemberPicker selected={(*to_add).clone()} excluded={members.clone()} on_toggle={actions.toggle} />
                        { controls::button(Some("group-add-confirm"), "button button--primary", lang.tr(Text::Add), actions.add, to_add.is_empty() || operation.waiting()) }
                    </div>
                }
                if let Some((code, text)) = status {
                    { status_line(code, text) }
                }
            </div>
        </section>
    }
}

/// The page's modes the actions switch: picking members to add (and whom),
/// and asking before leaving.
struct Modes {
    adding: UseStateHandle<bool>,
    to_add: UseStateHandle<Vec<UserId>>,
    leaving: UseStateHandle<bool>,
}

/// What the page's controls do; every change goes through the page's one
/// operation, so its status line tells the last of them.
struct Actions {
    rename: Callback<SubmitEvent>,
    remove: Callback<UserId>,
    toggle_adding: Callback<MouseEvent>,
    toggle: Callback<UserId>,
    add: Callback<MouseEvent>,
    ask_leave: Callback<MouseEvent>,
    cancel_leave: Callback<MouseEvent>,
    leave: Callback<MouseEvent>,
}

impl Actions {
    fn new(
        gid: GroupId,
        rename: &NodeRef,
        operation: &Handle,
        modes: Modes,
        panel: &UseStateHandle<Option<Panel>>,
    ) -> Actions {
        let Modes {
            adding,
            to_add,
            leaving,
        } = modes;
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
        let rename = {
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
        let remove = {
            let operation = operation.clone();
            Callback::from(move |user: UserId| {
                operation.run(Operation::ChangeMembers {
                    gid,
                    action: MembersAction::Remove,
                    members: vec![user],
                })
            })
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
        let leave = {
            let run = change(MembersAction::Leave, Vec::new());
            let (leaving, panel) = (leaving.clone(), panel.clone());
            Callback::from(move |_: MouseEvent| {
                run();
                leaving.set(false);
                // The chat stays open, read-only.
                panel.set(None);
            })
        };
        Actions {
            rename,
            remove,
            toggle_adding: {
                let adding = adding.clone();
                Callback::from(move |_: MouseEvent| adding.set(!*adding))
            },
            toggle: Callback::from(move |user: UserId| to_add.set(toggled(&to_add, user))),
            add,
            ask_leave: {
                let leaving = leaving.clone();
                Callback::from(move |_: MouseEvent| leaving.set(true))
            },
            cancel_leave: Callback::from(move |_: MouseEvent| leaving.set(false)),
            leave,
        }
    }
}

/// The group's avatar, name, gid and holder.
fn hero(state: &AppState, lang: Lang, group: &Group) -> Html {
    html! {
        <div class="panel__hero">
            { avatar::group(&group.name, Size::Large) }
            <div>
                <h2 id="group-name" class="panel__title">{ &group.name }</h2>
                <p class="panel__sub">
                    { lang.tr(Text::GroupId) }{ "：" }<span id="group-gid">{ group.gid.to_string() }</span>
                    { " · " }{ lang.tr(Text::Holder) }{ "：" }
                    <span id="group-holder">{ person_name(state, &group.holder) }</span>
                </p>
            </div>
        </div>
    }
}

/// Asks before leaving: a member who leaves sees no new messages.
fn leave_confirm(lang: Lang, leave: Callback<MouseEvent>, cancel: Callback<MouseEvent>) -> Html {
    html! {
        <div class="panel__confirm" role="alertdialog">
            <p>{ lang.tr(Text::ConfirmLeave) }</p>
            { controls::button(Some("group-leave-confirm"), "button button--danger", lang.tr(Text::Leave), leave, false) }
            { controls::button(None, "button button--ghost", lang.tr(Text::Cancel), cancel, false) }
        </div>
    }
}

/// `#group-status`: the page's last operation, waiting, done or failed.
fn status_line(code: &'static str, text: String) -> Html {
    html! {
        <p id="group-status" class={classes!("me__status", format!("me__status--{code}"))}
            data-state={code} role="status">{ text }</p>
    }
}
