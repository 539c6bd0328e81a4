//! Message search: over every cached conversation, or inside one, at once;
//! then the server's search of all history (§17) adds the hits this device
//! never cached below them. Each hit highlighted, and a click opens its
//! conversation at it (loading the history down to it when not cached).

mod server;

use super::avatar::{self, Size};
use super::format;
use crate::i18n::Text;
use crate::state::{Command, SearchResult, ServerSearchResult, peer_name, person_name, use_shared};
use crate::ui::controls;
use gloo::timers::callback::Timeout;
use penpen_core::search::{Hit, highlight};
use penpen_core::time::ago;
use penpen_core::{MessageId, Peer};
use server::{Phase, ServerSearch};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Characters of a hit shown before its first match.
const LEAD_CHARS: usize = 16;
/// Hits drawn at first, and added by each "more": drawing all 200 of a
/// common word would take longer than the search itself.
const HITS_PER_PAGE: usize = 50;

/// What to search.
#[derive(Debug, Properties, PartialEq)]
pub struct SearchPanelProps {
    /// One conversation, or none for all.
    pub within: Option<Peer>,
}

/// How long typing must pause before the server is asked (the cache is
/// searched at every key).
const SERVER_DELAY_MS: u32 = 350;

/// `#search`: `#search-input`, `#search-summary[data-ms]`, and the hits
/// `.search-hit[data-peer][data-id]` with the matches in `<mark>`; below
/// them `#search-server[data-state]` and the server's hits the cache lacks
/// (`.search-hit--server`), with `#search-server-more`.
#[component(SearchPanel)]
pub fn search_panel(props: &SearchPanelProps) -> Html {
    let shared = use_shared();
    let input = use_node_ref();
    let result = use_state(|| None::<SearchResult>);
    let shown = use_state(|| HITS_PER_PAGE);
    // Held outside the render's snapshot: the answers of one query build on
    // each other (pages, automatic next pages), then redraw.
    let server = use_mut_ref(ServerSearch::default);
    let redraw = use_force_update();
    // The server is asked once typing pauses; a newer key cancels it.
    let pending = use_mut_ref(|| None::<Timeout>);
    // The cached hits as of now, for the server's answers to skip.
    let cached = use_mut_ref(Vec::<Hit>::new);
    if let Some(result) = result.as_ref() {
        *cached.borrow_mut() = result.found.hits.clone();
    }
    // The box is ready to type in, and the index is built while typing.
    {
        let input = input.clone();
        let command = shared.as_ref().map(|s| s.command.clone());
        use_effect_with((), move |_| {
            if let Some(field) = input.cast::<HtmlInputElement>() {
                let _ = field.focus();
            }
            if let Some(command) = command {
                command.emit(Command::PrepareSearch);
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    // Asks the server for `query`'s page before `before`; the answer lands
    // only while the box still holds that query.
    let ask_server = {
        let server = Server {
            command: shared.command.clone(),
            within: props.within.clone(),
            state: server.clone(),
            redraw: redraw.clone(),
            input: input.clone(),
            cached: cached.clone(),
        };
        Rc::new(move |query: String, before: Option<MessageId>| server.ask(query, before))
    };
    let on_input = {
        let (command, within, result) =
            (shared.command.clone(), props.within.clone(), result.clone());
        let (shown, server, pending) = (shown.clone(), server.clone(), pending.clone());
        let redraw = redraw.clone();
        let ask_server = ask_server.clone();
        Callback::from(move |event: InputEvent| {
            let Some(field) = event.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let query = field.value();
            let (result, shown) = (result.clone(), shown.clone());
            // Answers come in order; a late one for an older query is dropped.
            let field = field.clone();
            let reply = Callback::from(move |found: SearchResult| {
                if field.value() == found.query {
                    shown.set(HITS_PER_PAGE);
                    result.set(Some(found));
                }
            });
            command.emit(Command::Search {
                query: query.clone(),
                within: within.clone(),
                reply,
            });
            pending.borrow_mut().take();
            if query.trim().is_empty() {
                *server.borrow_mut() = ServerSearch::default();
                redraw.force_update();
                return;
            }
            *server.borrow_mut() = ServerSearch::asking(&query);
            redraw.force_update();
            let ask_server = ask_server.clone();
            *pending.borrow_mut() = Some(Timeout::new(SERVER_DELAY_MS, move || {
                ask_server(query, None)
            }));
        })
    };
    let title = match &props.within {
        Some(peer) => lang.fill(Text::SearchIn, &[&peer_name(state, peer)]),
        None => lang.tr(Text::SearchMessages).to_owned(),
    };
    let now = super::now();
    let row = |hit: &Hit, query: &str, on_server: bool| {
        let open = {
            let (command, panel) = (shared.command.clone(), shared.panel.clone());
            let (peer, id) = (hit.conversation.clone(), hit.id);
            Callback::from(move |_: MouseEvent| {
                panel.set(None);
                command.emit(Command::OpenAt(peer.clone(), id));
            })
        };
        let place = peer_name(state, &hit.conversation);
        let sender = hit
            .from
            .as_ref()
            .map(|user| person_name(state, user))
            .unwrap_or_default();
        let avatar = match &hit.conversation {
            Peer::User(user) => avatar::person(&place, user.as_str(), Size::Large),
            Peer::Group(_) => avatar::group(&place, Size::Large),
        };
        let class = if on_server {
            "search-hit search-hit--server"
        } else {
            "search-hit"
        };
        html! {
            <li key={hit.id.to_string()} {class}
                data-peer={hit.conversation.to_string()} data-id={hit.id.to_string()}>
                <button type="button" class="conversation__open" onclick={open}>
                    { avatar }
                    <span class="conversation__body">
                        <span class="conversation__top">
                            <span class="conversation__name">{ place }</span>
                            <span class="conversation__time">
                                { format::ago_label(lang, ago(hit.ts, now, shared.utc_offset_minutes)) }
                            </span>
                        </span>
                        <span class="search-hit__text">
                            if hit.conversation.group().is_some() && !sender.is_empty() {
                                { lang.fill(Text::SenderSaid, &[&sender, ""]) }
                            }
                            { for snippet(&hit.text, query).into_iter().map(|(piece, matched)| {
                                if matched { html! { <mark>{ piece }</mark> } } else { html! { piece } }
                            }) }
                        </span>
                    </span>
                </button>
            </li>
        }
    };
    let hits = result.as_ref().map(|result| {
        result
            .found
            .hits
            .iter()
            .take(*shown)
            .map(|hit| row(hit, &result.query, false))
            .collect::<Html>()
    });
    let summary = result
        .as_ref()
        .filter(|r| !r.query.trim().is_empty())
        .map(|r| {
            let text = if r.found.total == 0 {
                lang.tr(Text::NoSearchHits).to_owned()
            } else {
                lang.fill(Text::SearchHits, &[&r.found.total.to_string()])
            };
            html! {
                <p id="search-summary" class="search__summary" data-ms={format::tenths(r.took_ms)}
                    data-total={r.found.total.to_string()} data-query={r.query.clone()}>{ text }</p>
            }
        });
    let cached_hits = result.as_ref().map(|r| &r.found.hits[..]).unwrap_or(&[]);
    let server_now = server.borrow().clone();
    let server_hits: Vec<&Hit> = server_now.shown(cached_hits).collect();
    let server_note = match &server_now.phase {
        Phase::Idle => None,
        Phase::Searching => Some(lang.tr(Text::SearchingServer).to_owned()),
        Phase::Offline => Some(lang.tr(Text::SearchOfflineLocalOnly).to_owned()),
        Phase::Failed(reason) => Some(lang.fill(Text::ServerSearchFailed, &[reason])),
        Phase::Done if server_hits.is_empty() => Some(lang.tr(Text::NoServerHits).to_owned()),
        Phase::Done => None,
    };
    let server_section = (server_now.phase != Phase::Idle).then(|| {
        let more = (server_now.phase == Phase::Done && server_now.more).then(|| {
            let (ask_server, query, last) = (
                ask_server.clone(),
                server_now.query.clone(),
                server_now.last,
            );
            let (server, redraw) = (server.clone(), redraw.clone());
            controls::button(
                Some("search-server-more"),
                "button button--ghost search__more",
                lang.tr(Text::MoreFromServer),
                Callback::from(move |_: MouseEvent| {
                    let more = server.borrow().asking_more();
                    *server.borrow_mut() = more;
                    redraw.force_update();
                    ask_server(query.clone(), last);
                }),
                false,
            )
        });
        html! {
            <>
                <h3 id="search-server" class="search__server" data-state={server_now.phase.name()}
                    data-count={server_hits.len().to_string()}>
                    { lang.tr(Text::FoundOnServer) }
                </h3>
                if let Some(note) = server_note {
                    <p class="search__summary search__server-note">{ note }</p>
                }
                <ul class="conversations search__hits">
                    { for server_hits.iter().map(|hit| row(hit, &server_now.query, true)) }
                </ul>
                { more }
            </>
        }
    });
    html! {
        <section id="search" class="panel">
            { super::panel::header(&shared, &title) }
            <div class="search__bar">
                <input id="search-input" ref={input} class="directory__search" type="search"
                    placeholder={lang.tr(Text::SearchHint)} oninput={on_input} />
            </div>
            <div class="panel__body search__body">
                { summary }
                <ul class="conversations search__hits">{ hits }</ul>
                if result.as_ref().is_some_and(|r| r.found.hits.len() > *shown) {
                    { controls::button(Some("search-more"), "button button--ghost search__more", lang.tr(Text::ShowMore), {
                            let shown = shown.clone();
                            Callback::from(move |_: MouseEvent| shown.set(*shown + HITS_PER_PAGE))
                        }, false) }
                }
                { server_section }
            </div>
        </section>
    }
}

/// What asking the server for hits needs.
#[derive(Clone)]
struct Server {
    command: Callback<Command>,
    within: Option<Peer>,
    state: Rc<RefCell<ServerSearch>>,
    redraw: UseForceUpdateHandle,
    input: NodeRef,
    /// The cached hits shown, which the server's are not shown again.
    cached: Rc<RefCell<Vec<Hit>>>,
}

impl Server {
    /// Asks for a page of `query` (before `before`); its answer is added
    /// while the box still holds the query, and a page that brought only
    /// cached hits asks for the next at once.
    fn ask(&self, query: String, before: Option<MessageId>) {
        let reply = {
            let (this, query) = (self.clone(), query.clone());
            Callback::from(move |answer: ServerSearchResult| this.answered(&query, answer))
        };
        self.command.emit(Command::SearchServer {
            query,
            within: self.within.clone(),
            before,
            reply,
        });
    }

    fn answered(&self, query: &str, answer: ServerSearchResult) {
        let current = self
            .input
            .cast::<HtmlInputElement>()
            .is_some_and(|field| field.value() == query)
            && self.state.borrow().query == query;
        if !current {
            return;
        }
        let (again, last) = {
            let mut state = self.state.borrow_mut();
            let again = match answer {
                Ok(page) => state.page(page, &self.cached.borrow()),
                Err(failure) => {
                    state.failed(failure);
                    false
                }
            };
            (again, state.last)
        };
        self.redraw.force_update();
        if again {
            self.ask(query.to_owned(), last);
        }
    }
}

/// The part of a hit's text to show, cut into highlighted pieces: a long
/// text starts shortly before its first match, so the match is in sight.
pub fn snippet(text: &str, query: &str) -> Vec<(String, bool)> {
    let mut pieces = highlight(text, query);
    if let Some(first) = pieces.iter().position(|(_, matched)| *matched)
        && let Some(before) = first.checked_sub(1)
    {
        let lead: Vec<char> = pieces[before].0.chars().collect();
        if lead.len() > LEAD_CHARS {
            let kept: String = lead[lead.len() - LEAD_CHARS..].iter().collect();
            pieces[before].0 = format!("…{kept}");
            pieces.drain(..before);
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_shown_from_shortly_before_its_match() {
        let text = format!("{}明天开会{}", "很长的前文".repeat(10), "后文");
        let pieces = snippet(&text, "开会");
        assert!(pieces[0].0.starts_with('…'));
        assert_eq!(pieces[0].0.chars().count(), LEAD_CHARS + 1);
        assert_eq!(pieces[1], ("开会".to_owned(), true));
        assert_eq!(snippet("开会吗", "开会")[0], ("开会".to_owned(), true));
    }
}
