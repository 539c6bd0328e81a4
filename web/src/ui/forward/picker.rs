//! Where forwarded messages go: recent conversations, the groups and the
//! directory, searched by name, account or pinyin initials; several may be
//! ticked, and 发送 forwards to all of them.

use super::super::operation::failure_text;
use crate::i18n::{Lang, Text};
use crate::pinyin::Initials;
use crate::state::{AppState, Command, OperationResult, forward_requests, peer_name, use_shared};
use crate::ui::avatar::{self, Size};
use penpen_core::{MessageId, Peer};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// How many recent conversations the picker offers first.
const RECENT: usize = 10;

/// Which list a target is offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSection {
    /// A conversation the user had lately.
    Recent,
    /// A group of the user's.
    Groups,
    /// Someone in the directory.
    People,
}

/// A conversation messages can be forwarded to.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The conversation.
    pub peer: Peer,
    /// Its name as the list shows it.
    pub name: String,
    /// Where it is offered.
    pub section: TargetSection,
}

/// Every target, each once: the recent conversations first (as the list
/// orders them), then the other groups, then the other people (not oneself).
pub fn targets(state: &AppState) -> Vec<Target> {
    let me = state.account.as_ref().map(|a| &a.user);
    let mut all: Vec<Target> = state
        .conversations
        .iter()
        .filter(|c| !c.hidden)
        .filter(|c| !matches!(&c.peer, Peer::User(user) if Some(user) == me))
        .take(RECENT)
        .map(|c| Target {
            peer: c.peer.clone(),
            name: peer_name(state, &c.peer),
            section: TargetSection::Recent,
        })
        .collect();
    let groups: Vec<Target> = state
        .groups
        .iter()
        .map(|g| Peer::Group(g.gid))
        .filter(|peer| !all.iter().any(|t| &t.peer == peer))
        .map(|peer| Target {
            name: peer_name(state, &peer),
            peer,
            section: TargetSection::Groups,
        })
        .collect();
    let people: Vec<Target> = state
        .directory
        .iter()
        .flat_map(|d| d.contacts.iter())
        .filter(|c| Some(&c.user) != me)
        .map(|c| Peer::User(c.user.clone()))
        .filter(|peer| !all.iter().any(|t| &t.peer == peer))
        .map(|peer| Target {
            name: peer_name(state, &peer),
            peer,
            section: TargetSection::People,
        })
        .collect();
    all.extend(groups);
    all.extend(people);
    all
}

/// The targets whose name, account or gid, or pinyin initials
/// (`initials[i]` belongs to `targets[i]`) contain `query` (all when empty).
pub fn matching_targets<'a>(
    targets: &'a [Target],
    initials: &[String],
    query: &str,
) -> Vec<&'a Target> {
    let query = query.trim().to_lowercase();
    targets
        .iter()
        .enumerate()
        .filter(|(index, target)| {
            query.is_empty()
                || target.name.to_lowercase().contains(&query)
                || target.peer.to_string().contains(&query)
                || initials.get(*index).is_some_and(|i| i.contains(&query))
        })
        .map(|(_, target)| target)
        .collect()
}

/// What the picker forwards.
#[derive(Debug, Properties, PartialEq)]
pub struct PickerProps {
    /// The messages, oldest first.
    pub ids: Vec<MessageId>,
    /// One chat record per target.
    pub merge: bool,
    /// Closed without forwarding.
    pub on_close: Callback<()>,
    /// Every request was answered with success.
    pub on_done: Callback<()>,
}

/// Where a forward is.
#[derive(Debug, Clone, PartialEq)]
enum Sending {
    Idle,
    Waiting,
    Failed(String),
}

/// `#forward-picker` (a dialog): `.forward-picker__search`, the targets as
/// `.forward-picker__target[data-peer] input[type=checkbox]` under
/// `.forward-picker__section` headings, `#forward-send` (发送 (N)) and
/// `#forward-picker-cancel`; `#forward-error` says why a forward failed.
#[component(ForwardPicker)]
pub fn forward_picker(props: &PickerProps) -> Html {
    let shared = use_shared();
    let query = use_state(String::new);
    let chosen = use_state(Vec::<Peer>::new);
    let sending = use_state(|| Sending::Idle);
    let answers = use_mut_ref(|| (0usize, None::<String>));
    let all = use_memo(shared.as_ref().map(|s| s.state.clone()), |state| {
        state.as_ref().map(|s| targets(s)).unwrap_or_default()
    });
    let initials = use_memo(all.clone(), |all| {
        let pinyin = Initials::new();
        all.iter().map(|t| pinyin.of(&t.name)).collect::<Vec<_>>()
    });
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let on_input = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                query.set(input.value());
            }
        })
    };
    let send = {
        let (command, chosen, sending) = (shared.command.clone(), chosen.clone(), sending.clone());
        let (ids, merge, on_done) = (props.ids.clone(), props.merge, props.on_done.clone());
        Callback::from(move |_: MouseEvent| {
            if chosen.is_empty() || *sending == Sending::Waiting {
                return;
            }
            let expected = forward_requests(ids.len(), chosen.len(), merge);
            *answers.borrow_mut() = (0, None);
            sending.set(Sending::Waiting);
            let reply = answer_counter(
                lang,
                expected,
                answers.clone(),
                sending.clone(),
                on_done.clone(),
            );
            command.emit(Command::Forward {
                ids: ids.clone(),
                targets: (*chosen).clone(),
                merge,
                reply,
            });
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let found = matching_targets(&all, &initials, &query);
    let section = |which: TargetSection, heading: Text| {
        let rows: Vec<&Target> = found
            .iter()
            .copied()
            .filter(|t| t.section == which)
            .collect();
        (!rows.is_empty()).then(|| {
            html! {
                <section class="forward-picker__section" data-section={section_code(which)}>
                    <h3 class="forward-picker__heading">{ lang.tr(heading) }</h3>
                    <ul class="forward-picker__targets">
                        { for rows.into_iter().map(|target| target_row(target, &chosen)) }
                    </ul>
                </section>
            }
        })
    };
    let waiting = *sending == Sending::Waiting;
    html! {
        <div class="dialog-backdrop">
            <div id="forward-picker" class="dialog forward-picker" role="dialog" aria-modal="true"
                aria-label={lang.tr(Text::ForwardTo)} data-merge={props.merge.to_string()}>
                <h2 class="forward-picker__title">{ lang.tr(Text::ForwardTo) }</h2>
                <input class="forward-picker__search" type="search"
                    placeholder={lang.tr(Text::SearchTargets)} oninput={on_input} />
                <div class="forward-picker__list">
                    { section(TargetSection::Recent, Text::RecentChats) }
                    { section(TargetSection::Groups, Text::GroupChats) }
                    { section(TargetSection::People, Text::People) }
                </div>
                if let Sending::Failed(why) = &*sending {
                    <p id="forward-error" class="forward-picker__error" role="alert">{ why }</p>
                }
                <div class="forward-picker__actions">
                    <button id="forward-picker-cancel" type="button" class="button button--secondary"
                        onclick={close}>{ lang.tr(Text::Cancel) }</button>
                    <button id="forward-send" type="button" class="button button--primary"
                        disabled={chosen.is_empty() || waiting} onclick={send}>
                        { lang.fill(Text::SendToCount, &[&chosen.len().to_string()]) }
                    </button>
                </div>
            </div>
        </div>
    }
}

/// The callback that hears each request's answer: done once all succeeded,
/// failed (with the first reason) once all were heard or none was sent.
fn answer_counter(
    lang: Lang,
    expected: usize,
    answers: Rc<RefCell<(usize, Option<String>)>>,
    sending: UseStateHandle<Sending>,
    on_done: Callback<()>,
) -> Callback<OperationResult> {
    Callback::from(move |result: OperationResult| {
        let mut answers = answers.borrow_mut();
        let not_sent = matches!(result, Err(crate::state::OperationFailure::NotSent(_)));
        answers.0 += 1;
        if let Err(failure) = &result
            && answers.1.is_none()
        {
            answers.1 = Some(lang.fill(Text::ForwardFailed, &[&failure_text(lang, failure)]));
        }
        if not_sent || answers.0 >= expected {
            match answers.1.clone() {
                Some(why) => sending.set(Sending::Failed(why)),
                None => on_done.emit(()),
            }
        }
    })
}

fn section_code(section: TargetSection) -> &'static str {
    match section {
        TargetSection::Recent => "recent",
        TargetSection::Groups => "groups",
        TargetSection::People => "people",
    }
}

fn target_row(target: &Target, chosen: &UseStateHandle<Vec<Peer>>) -> Html {
    let ticked = chosen.contains(&target.peer);
    let toggle = {
        let (chosen, peer) = (chosen.clone(), target.peer.clone());
        Callback::from(move |_: Event| {
            let mut next = (*chosen).clone();
            match next.iter().position(|p| *p == peer) {
                Some(at) => {
                    next.remove(at);
                }
                None => next.push(peer.clone()),
            }
            chosen.set(next);
        })
    };
    let face = match &target.peer {
        Peer::User(user) => avatar::person(&target.name, user.as_str(), Size::Medium),
        Peer::Group(_) => avatar::group(&target.name, Size::Medium),
    };
    html! {
        <li key={target.peer.to_string()} class="forward-picker__target"
            data-peer={target.peer.to_string()}>
            <label>
                <input type="checkbox" checked={ticked} onchange={toggle} />
                { face }
                <span class="forward-picker__name">{ &target.name }</span>
            </label>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::{GroupId, UserId};

    fn target(peer: Peer, name: &str, section: TargetSection) -> Target {
        Target {
            peer,
            name: name.into(),
            section,
        }
    }

    #[test]
    fn targets_are_found_by_name_account_or_pinyin_initials() {
        let all = vec![
            target(
                Peer::Group(GroupId::new(1).expect("gid")),
                "技术部",
                TargetSection::Recent,
            ),
            target(
                Peer::User(UserId::parse("13800000004").expect("id")),
                "刘洋",
                TargetSection::People,
            ),
        ];
        let initials = ["jsb".to_owned(), "ly".to_owned()];
        let names = |query: &str| {
            matching_targets(&all, &initials, query)
                .into_iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(""), ["技术部", "刘洋"]);
        assert_eq!(names(" LY "), ["刘洋"]);
        assert_eq!(names("技术"), ["技术部"]);
        assert_eq!(names("00004"), ["刘洋"]);
        assert!(names("nobody").is_empty());
    }

    #[test]
    fn a_forward_asks_once_per_message_per_target_or_once_per_target_merged() {
        assert_eq!(forward_requests(3, 2, false), 6);
        assert_eq!(forward_requests(3, 2, true), 2);
    }
}
