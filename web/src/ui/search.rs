//! Message search: over every cached conversation, or inside one; each hit
//! highlighted, and a click opens its conversation at it.

use super::avatar::{self, Size};
use super::format;
use crate::i18n::Text;
use crate::state::{Command, SearchResult, peer_name, person_name, use_shared};
use crate::ui::controls;
use penpen_core::Peer;
use penpen_core::search::highlight;
use penpen_core::time::ago;
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

/// `#search`: `#search-input`, `#search-summary[data-ms]`, and the hits
/// `.search-hit[data-peer][data-id]` with the matches in `<mark>`.
#[component(SearchPanel)]
pub fn search_panel(props: &SearchPanelProps) -> Html {
    let shared = use_shared();
    let input = use_node_ref();
    let result = use_state(|| None::<SearchResult>);
    let shown = use_state(|| HITS_PER_PAGE);
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
    let on_input = {
        let (command, within, result) =
            (shared.command.clone(), props.within.clone(), result.clone());
        let shown = shown.clone();
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
                query,
                within: within.clone(),
                reply,
            });
        })
    };
    let title = match &props.within {
        Some(peer) => lang.fill(Text::SearchIn, &[&peer_name(state, peer)]),
        None => lang.tr(Text::SearchMessages).to_owned(),
    };
    let now = super::now();
    let hits = result.as_ref().map(|result| {
        let query = result.query.clone();
        result
            .found
            .hits
            .iter()
            .take(*shown)
            .map(|hit| {
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
                html! {
                    <li key={hit.id.to_string()} class="search-hit"
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
                                    { for snippet(&hit.text, &query).into_iter().map(|(piece, matched)| {
                                        if matched { html! { <mark>{ piece }</mark> } } else { html! { piece } }
                                    }) }
                                </span>
                            </span>
                        </button>
                    </li>
                }
            })
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
            </div>
        </section>
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
