//! The signed-in screen: who is signed in, and signing out.

use crate::config::ServerAddress;
use crate::i18n::{Lang, Text};
use crate::session::{self, Session};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// What the signed-in screen needs.
#[derive(Debug, Properties, PartialEq)]
pub struct HomeProps {
    /// The interface language.
    pub lang: Lang,
    /// The server.
    pub server: ServerAddress,
    /// The session.
    pub session: Session,
    /// Called once signed out.
    pub on_logout: Callback<()>,
}

/// Shows the account and offers to sign out. Signing out revokes the token on
/// the server; when the server cannot be reached the session is still
/// forgotten here, and the user is told.
#[component(Home)]
pub fn home(props: &HomeProps) -> Html {
    let lang = props.lang;
    let busy = use_state(|| false);
    let onclick = {
        let (busy, server, session, on_logout) = (
            busy.clone(),
            props.server.clone(),
            props.session.clone(),
            props.on_logout.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (server, session, on_logout) = (server.clone(), session.clone(), on_logout.clone());
            spawn_local(async move {
                if let Err(err) = session::log_out(&server, &session).await {
                    gloo::console::warn!(format!("logout could not reach the server: {err}"));
                }
                Session::forget();
                on_logout.emit(());
            });
        })
    };
    let initials: String = props
        .session
        .name
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    html! {
        <section class="home">
            <div class="avatar" aria-hidden="true">{ initials }</div>
            <h1 id="home-name" class="home__name">{ &props.session.name }</h1>
            <p class="home__account">{ lang.tr(Text::Account) }{ "：" }{ props.session.user.as_str() }</p>
            <p id="home-status" class="home__status">{ lang.tr(Text::SignedIn) }</p>
            <button id="logout" class="button button--secondary" type="button" {onclick} disabled={*busy}>
                { if *busy { lang.tr(Text::LoggingOut) } else { lang.tr(Text::LogOut) } }
            </button>
        </section>
    }
}
