//! The root component.

use crate::config::ServerAddress;
use crate::home::Home;
use crate::i18n::{Lang, Text};
use crate::login::LoginScreen;
use crate::session::{self, Session, SessionError};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// The whole app.
#[component(App)]
pub fn app() -> Html {
    let lang = use_state(Lang::load);
    let server = use_memo((), |_| ServerAddress::from_page());
    let session = use_state(Session::load);
    let notice = use_state(|| None::<Text>);

    // A remembered session opens at once; it is checked with the server in the
    // background and only dropped if the server says it is no longer valid.
    {
        let (session, notice, server) = (session.clone(), notice.clone(), (*server).clone());
        use_effect_with((), move |_| {
            if let Some(remembered) = (*session).clone() {
                spawn_local(async move {
                    match session::resume(&server, &remembered).await {
                        Ok(fresh) => {
                            fresh.save();
                            session.set(Some(fresh));
                        }
                        Err(SessionError::Expired) => {
                            Session::forget();
                            notice.set(Some(Text::ErrSessionExpired));
                            session.set(None);
                        }
                        // Offline or the server is down: stay signed in.
                        Err(_) => {}
                    }
                });
            }
        });
    }

    let on_login = {
        let (session, notice) = (session.clone(), notice.clone());
        Callback::from(move |fresh: Session| {
            fresh.save();
            notice.set(None);
            session.set(Some(fresh));
        })
    };
    let on_logout = {
        let session = session.clone();
        Callback::from(move |()| session.set(None))
    };

    {
        let lang = *lang;
        use_effect_with(lang, move |_| {
            if let Some(root) = gloo::utils::document().document_element() {
                let _ = root.set_attribute("lang", lang.code());
            }
        });
    }

    let switch_language = {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| {
            let next = lang.other();
            next.save();
            lang.set(next);
        })
    };

    html! {
        <div class="app">
            <header class="topbar">
                <button id="switch-language" class="button button--ghost" type="button"
                    onclick={switch_language}>
                    { lang.tr(Text::SwitchLanguage) }
                </button>
            </header>
            <main class="app__main">
                if let Some(current) = (*session).clone() {
                    <Home lang={*lang} server={(*server).clone()} session={current} {on_logout} />
                } else {
                    <LoginScreen lang={*lang} server={(*server).clone()} {on_login} notice={*notice} />
                }
            </main>
        </div>
    }
}
