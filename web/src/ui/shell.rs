//! The signed-in shell: the bar, the banners, and the list beside (desktop)
//! or instead of (phone) the open chat.

use super::avatar::{self, Size};
use super::{
    BroadcastList, BroadcastPage, CallOverlay, Chat, ConnectionIndicator, ContactPage,
    ConversationList, DirectoryList, GroupPage, MePage, MeetingOverlay, NewBroadcast, NewGroup,
    SearchPanel,
};
use crate::i18n::{Lang, Text};
use crate::state::{AppState, Command, Panel, Shared, use_shared};
use crate::ui::controls;
use yew::prelude::*;

/// What the shell needs beyond the shared state.
#[derive(Debug, Properties, PartialEq)]
pub struct MainProps {
    /// Switches the interface language (the app keeps the choice).
    pub on_switch_language: Callback<MouseEvent>,
}

/// The signed-in app. On a phone it shows the conversation list or the open
/// chat; from 768 px wide, both side by side (CSS decides, from `data-view`).
#[component(Main)]
pub fn main(props: &MainProps) -> Html {
    let shared = use_shared();
    let tab_shown = use_state(|| Tab::Chats);
    use_back_button(
        shared
            .as_ref()
            .is_some_and(|s| s.state.open.is_some() || s.panel.is_some()),
        shared.clone(),
    );
    // Opening a chat (from the list, a page, a notification) closes any page.
    {
        let open = shared
            .as_ref()
            .and_then(|s| s.state.open.as_ref().map(|o| o.peer.clone()));
        let panel = shared.as_ref().map(|s| s.panel.clone());
        use_effect_with(open, move |open| {
            if let (Some(_), Some(panel)) = (open, panel) {
                panel.set(None);
            }
        });
    }
    let unread = shared.as_ref().map_or(0, |s| s.state.unread_total);
    use_effect_with(unread, |&unread| {
        gloo::utils::document().set_title(&tab_title(unread));
        // Signed out, the login screen shows no count.
        || gloo::utils::document().set_title(&tab_title(0))
    });
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let open = state.open.as_ref().map(|open| open.peer.clone());
    let panel = (*shared.panel).clone();
    let select = |tab: Tab| {
        let tab_shown = tab_shown.clone();
        Callback::from(move |_: MouseEvent| tab_shown.set(tab))
    };
    let new_group = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::NewGroup)))
    };
    let search = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::Search(None))))
    };
    let (name, seed) = state
        .account
        .as_ref()
        .map(|a| (a.name.clone(), a.user.to_string()))
        .unwrap_or_default();

    html! {
        <div class="main" data-view={if open.is_some() || panel.is_some() { "chat" } else { "list" }}>
            <header class="bar">
                <span class="bar__me">
                    { avatar::person(&name, &seed, Size::Small) }
                    <span id="me-name" class="bar__name">{ name }</span>
                </span>
                <ConnectionIndicator />
                <span class="bar__actions">
                    { controls::button(Some("switch-language"), "button button--ghost", lang.tr(Text::SwitchLanguage), props.on_switch_language.clone(), false) }
                    <super::LogoutButton id="logout" class={classes!("button", "button--ghost")} />
                </span>
            </header>
            { banner(state, lang, &shared.command) }
            <super::DingBanner />
            <div class="main__panes">
                <nav class="main__list" aria-label={lang.tr(Text::Conversations)}>
                    <div class="tabs" role="tablist">
                        { tab("tab-chats", lang.tr(Text::TabChats), *tab_shown == Tab::Chats, select(Tab::Chats)) }
                        { tab("tab-contacts", lang.tr(Text::TabContacts), *tab_shown == Tab::Contacts, select(Tab::Contacts)) }
                        { tab("tab-broadcasts", &super::broadcasts::tab_label(lang, state.unread_broadcasts),
                            *tab_shown == Tab::Broadcasts, select(Tab::Broadcasts)) }
                        { tab("tab-me", lang.tr(Text::TabMe), *tab_shown == Tab::Me, select(Tab::Me)) }
                    </div>
                    // One element per tab, so switching never reuses another
                    // tab's inputs.
                    <div class="main__tab" key={format!("{:?}", *tab_shown)}>
                        { match *tab_shown {
                            Tab::Chats => html! {
                                <>
                                    <div class="list-actions">
                                        <button id="search-messages" class="button button--ghost list-actions__search"
                                            type="button" onclick={search}>
                                            { "🔍 " }{ lang.tr(Text::SearchMessages) }
                                        </button>
                                        <button id="new-group" class="button button--ghost" type="button" onclick={new_group}>
                                            { "＋ " }{ lang.tr(Text::NewGroup) }
                                        </button>
                                    </div>
                                    <ConversationList />
                                </>
                            },
                            Tab::Contacts => html! { <DirectoryList /> },
                            Tab::Broadcasts => html! { <BroadcastList /> },
                            Tab::Me => html! { <MePage on_switch_language={props.on_switch_language.clone()} /> },
                        } }
                    </div>
                </nav>
                <section class="main__chat">
                    if let Some(panel) = panel {
                        { match panel {
                            Panel::Contact(user) => html! { <ContactPage key={format!("c{user}")} user={user.clone()} /> },
                            Panel::Group(gid) => html! { <GroupPage key={format!("g{gid}")} {gid} /> },
                            Panel::NewGroup => html! { <NewGroup key="new-group" /> },
                            Panel::Broadcast(id) => html! { <BroadcastPage key={format!("b{id}")} {id} /> },
                            Panel::NewBroadcast => html! { <NewBroadcast key="new-broadcast" /> },
                            Panel::Search(within) => html! {
                                <SearchPanel key={format!("s{within:?}")} within={within.clone()} />
                            },
                        } }
                    } else if let Some(peer) = open {
                        // Keyed: another conversation is a fresh view, with
                        // its own scroll position and composer.
                        <Chat key={peer.to_string()} />
                    } else {
                        <div id="chat-empty" class="chat-empty">
                            <p>{ lang.tr(Text::PickConversation) }</p>
                        </div>
                    }
                </section>
            </div>
            // Over every page while a call is on.
            <CallOverlay />
            <MeetingOverlay />
        </div>
    }
}

/// The tabs of the list pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Chats,
    Contacts,
    Broadcasts,
    Me,
}

/// The history entry an open chat or page adds, so the browser's (or the
/// phone's) back button closes it instead of leaving the app.
const CHAT_ENTRY: &str = "penpen-chat";

#[hook]
fn use_back_button(chat_open: bool, shared: Option<Shared>) {
    // Set while the app itself goes back (a chat or page closed in the app):
    // that step is not the user pressing back, and must close nothing.
    let going_back = use_mut_ref(|| false);
    let ours_going_back = going_back.clone();
    use_effect_with(chat_open, move |&chat_open| {
        let Ok(history) = gloo::utils::window().history() else {
            return;
        };
        let ours = history
            .state()
            .ok()
            .and_then(|s| s.as_string())
            .is_some_and(|s| s == CHAT_ENTRY);
        if chat_open && !ours {
            let _ = history.push_state(&CHAT_ENTRY.into(), "");
        } else if !chat_open && ours {
            // Closed in the app: drop the entry it added.
            *ours_going_back.borrow_mut() = true;
            let _ = history.back();
        }
    });
    // The state changes with each render of the app; the listener follows it.
    use_effect_with(shared, move |shared| {
        let shared = shared.clone();
        let listener =
            gloo::events::EventListener::new(&gloo::utils::window(), "popstate", move |_| {
                if std::mem::take(&mut *going_back.borrow_mut()) {
                    return;
                }
                // A page over a chat goes first; the chat, next.
                if let Some(shared) = &shared {
                    if shared.panel.is_some() {
                        shared.panel.set(None);
                    } else {
                        shared.command.emit(Command::Close);
                    }
                }
            });
        move || drop(listener)
    });
}

/// One tab of the list pane.
fn tab(id: &'static str, label: &str, selected: bool, onclick: Callback<MouseEvent>) -> Html {
    html! {
        <button {id} type="button" role="tab" aria-selected={selected.to_string()}
            class={classes!("tabs__tab", selected.then_some("tabs__tab--selected"))} {onclick}>
            { label }
        </button>
    }
}

/// Why the session or the cache needs attention, if they do.
fn banner(state: &AppState, lang: Lang, command: &Callback<Command>) -> Html {
    if let Some(reason) = &state.signed_out {
        let log_in = {
            let command = command.clone();
            // The server ended the session: the messages stay, as after any
            // logout the user did not ask to remove them in.
            Callback::from(move |_: MouseEvent| {
                command.emit(Command::LogOut {
                    keep_messages: true,
                })
            })
        };
        return html! {
            <div id="banner" class="banner banner--danger" data-kind="signed-out" role="alert">
                <span>{ lang.fill(Text::SignedOutBanner, &[reason]) }</span>
                { controls::button(None, "button button--ghost", lang.tr(Text::LogInAgain), log_in, false) }
            </div>
        };
    }
    if let Some(problem) = &state.cache_problem {
        return html! {
            <div id="banner" class="banner" data-kind="cache-problem" role="alert">
                { lang.fill(Text::CacheProblemBanner, &[problem]) }
            </div>
        };
    }
    html! {}
}

/// The tab's title: the unread count first, so it shows in a narrow tab.
fn tab_title(unread: u32) -> String {
    if unread > 0 {
        format!("({unread}) penpen")
    } else {
        "penpen".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tab_title_counts_unread_messages() {
        assert_eq!(tab_title(0), "penpen");
        assert_eq!(tab_title(12), "(12) penpen");
    }
}
