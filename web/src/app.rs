//! The root component: finds the deployment's server, then shows the login
//! screen, or a signed-in session running the sync driver (with the server
//! that issued its token) behind the chat screens.

use crate::calls::CallScreen;
use crate::config::{self, PageLocation, Servers};
use crate::driver::{self, DriverHandle, Input};
use crate::i18n::{Lang, Text};
use crate::login::LoginScreen;
use crate::meetings::MeetingScreen;
use crate::notify;
use crate::session::Session;
use crate::state::{AppState, Shared, Update, UpdateSink, Upload};
use crate::ui::Main;
use crate::ui::controls;
use web_sys::NotificationPermission;
use yew::prelude::*;

/// The whole app: waits for the deployment's server (`penpen.json`, else
/// the page's host), then runs [`Root`].
#[component(App)]
pub fn app() -> Html {
    let server = use_state(|| None::<Servers>);
    {
        let server = server.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                server.set(Some(crate::deployment::load().await));
            });
        });
    }
    match &*server {
        Some(server) => html! { <Root server={server.clone()} /> },
        None => html! { <div id="app-loading" class="app app--loading"></div> },
    }
}

/// What the app needs once the deployment is known.
#[derive(Debug, Properties, PartialEq)]
pub struct RootProps {
    /// The deployment's server nodes.
    pub server: Servers,
}

/// The login screen or the signed-in session.
#[component(Root)]
pub fn root(props: &RootProps) -> Html {
    let lang = use_state(Lang::load);
    let server = props.server.clone();
    // A server named in the link is only offered, never used unasked.
    let proposal = use_memo(server.clone(), |server| {
        config::proposed_server(&PageLocation::current(), server.home())
    });
    // A remembered session opens at once, from the cache; the driver resumes
    // it with the server in the background and ends it only if the server
    // says the token is no longer valid. It follows the nodes its deployment
    // lists now.
    let session = {
        let server = server.clone();
        use_state(move || Session::load().map(|session| session.with_nodes_of(&server)))
    };
    let notice = use_state(|| None::<Text>);

    let on_login = {
        let (session, notice) = (session.clone(), notice.clone());
        Callback::from(move |fresh: Session| {
            fresh.save();
            notice.set(None);
            session.set(Some(fresh));
        })
    };
    let on_signed_out = {
        let (session, notice) = (session.clone(), notice.clone());
        Callback::from(move |reason: String| {
            Session::forget();
            // A logout the user chose needs no explanation.
            notice.set((!reason.is_empty()).then_some(Text::ErrSessionExpired));
            session.set(None);
        })
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
            if let Some((current, key)) = (*session).clone().map(|s| { let key = s.token.clone(); (s, key) }) {
                <SignedIn {key} lang={*lang}
                    session={current} {on_signed_out} on_switch_language={switch_language} />
            } else {
                <header class="topbar">
                    { controls::button(Some("switch-language"), "button button--ghost", lang.tr(Text::SwitchLanguage), switch_language, false) }
                </header>
                <main class="app__main">
                    <LoginScreen lang={*lang} {server} {on_login} notice={*notice}
                        proposal={(*proposal).clone().ok().flatten()}
                        proposal_invalid={(*proposal).is_err()} />
                </main>
            }
        </div>
    }
}

/// What a signed-in session needs.
#[derive(Debug, Properties, PartialEq)]
pub struct SignedInProps {
    /// The interface language.
    pub lang: Lang,
    /// The session, with the server it belongs to.
    pub session: Session,
    /// Called when the session ends, with the server's reason (empty when the
    /// user logged out).
    pub on_signed_out: Callback<String>,
    /// Switches the interface language.
    pub on_switch_language: Callback<MouseEvent>,
}

/// A signed-in session: starts the driver and shares its state.
#[component(SignedIn)]
fn signed_in(props: &SignedInProps) -> Html {
    let state = use_reducer(AppState::default);
    let upload = use_state(Upload::default);
    let call = use_state(CallScreen::default);
    let meeting = use_state(MeetingScreen::default);
    let driver = use_state(|| None::<DriverHandle>);
    let panel = use_state(|| None);

    {
        let session = props.session.clone();
        let sink = UpdateSink {
            state: state.dispatcher(),
            upload: upload.setter(),
            call: call.setter(),
            meeting: meeting.setter(),
        };
        let driver = driver.clone();
        use_effect_with((), move |_| {
            let update = Callback::from(move |update: Update| sink.emit(update));
            let handle = driver::start(session, update);
            driver.set(Some(handle.clone()));
            move || handle.send(Input::Shutdown)
        });
    }
    {
        let on_signed_out = props.on_signed_out.clone();
        use_effect_with(state.signed_out.clone(), move |signed_out| {
            if let Some(reason) = signed_out {
                on_signed_out.emit(reason.clone());
            }
        });
    }

    let command = {
        let driver = driver.clone();
        Callback::from(move |command| {
            if let Some(driver) = &*driver {
                driver.send(Input::Command(command));
            }
        })
    };
    let shared = Shared {
        state,
        command,
        lang: props.lang,
        utc_offset_minutes: -(js_sys::Date::new_0().get_timezone_offset() as i32),
        panel,
    };
    html! {
        <ContextProvider<Shared> context={shared}>
            <ContextProvider<Upload> context={*upload}>
            <ContextProvider<CallScreen> context={(*call).clone()}>
            <ContextProvider<MeetingScreen> context={(*meeting).clone()}>
                <NotificationPrompt lang={props.lang} />
                <Main on_switch_language={props.on_switch_language.clone()} />
            </ContextProvider<MeetingScreen>>
            </ContextProvider<CallScreen>>
            </ContextProvider<Upload>>
        </ContextProvider<Shared>>
    }
}

const PROMPT_DISMISSED_KEY: &str = "penpen.notifications.dismissed";

/// What the notification prompt needs.
#[derive(Debug, Properties, PartialEq)]
pub struct PromptProps {
    /// The interface language.
    pub lang: Lang,
}

/// Asks, once and politely, whether desktop notifications are welcome; the
/// browser's own prompt only appears after a click on "enable".
#[component(NotificationPrompt)]
fn notification_prompt(props: &PromptProps) -> Html {
    let storage = gloo::utils::window().local_storage().ok().flatten();
    let dismissed = storage
        .as_ref()
        .and_then(|s| s.get_item(PROMPT_DISMISSED_KEY).ok().flatten())
        .is_some();
    let shown = use_state(move || {
        !dismissed && notify::permission() == Some(NotificationPermission::Default)
    });
    if !*shown {
        return html! {};
    }
    let dismiss = {
        let shown = shown.clone();
        move || {
            if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
                // Forgetting only means asking again next time.
                let _ = storage.set_item(PROMPT_DISMISSED_KEY, "1");
            }
            shown.set(false);
        }
    };
    let enable = {
        let dismiss = dismiss.clone();
        Callback::from(move |_: MouseEvent| {
            notify::ask_permission();
            dismiss();
        })
    };
    let later = Callback::from(move |_: MouseEvent| dismiss());
    let lang = props.lang;
    html! {
        <div id="notification-prompt" class="prompt" role="status">
            <span>{ lang.tr(Text::NotificationsAsk) }</span>
            { controls::button(None, "button button--primary", lang.tr(Text::NotificationsEnable), enable, false) }
            { controls::button(None, "button button--ghost", lang.tr(Text::NotificationsLater), later, false) }
        </div>
    }
}
