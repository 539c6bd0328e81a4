//! The login screen.

use crate::config::ServerAddress;
use crate::i18n::{Lang, Text};
use crate::socket;
use penpen_core::digest::password_digest;
use penpen_core::packets::login::Login;
use penpen_core::{Encoding, ErrorReply, Frame, Service, State, UserId};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the login screen needs from the app.
#[derive(Debug, Properties, PartialEq)]
pub struct LoginProps {
    /// The interface language.
    pub lang: Lang,
    /// The server to log in to.
    pub server: ServerAddress,
}

/// Why a login attempt did not go through, as shown under the form.
#[derive(Debug, Clone, PartialEq)]
enum Problem {
    Local(Text),
    Server(Text, String),
}

/// Account and password, checked here first so that malformed input never
/// reaches the server, then sent to the login service (20888).
#[component(LoginScreen)]
pub fn login_screen(props: &LoginProps) -> Html {
    let lang = props.lang;
    let account = use_node_ref();
    let password = use_node_ref();
    let problem = use_state(|| None::<Problem>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (account, password) = (account.clone(), password.clone());
        let (problem, busy) = (problem.clone(), busy.clone());
        let server = props.server.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            let value = |node: &NodeRef| {
                node.cast::<HtmlInputElement>()
                    .map(|input| input.value())
                    .unwrap_or_default()
            };
            let Ok(user) = UserId::parse(&value(&account)) else {
                problem.set(Some(Problem::Local(Text::ErrAccountFormat)));
                return;
            };
            let secret = value(&password);
            if secret.is_empty() {
                problem.set(Some(Problem::Local(Text::ErrPasswordEmpty)));
                return;
            }
            problem.set(None);
            busy.set(true);
            let login = Login {
                user,
                password: password_digest(&secret),
            };
            let (problem, busy) = (problem.clone(), busy.clone());
            let url = server.websocket_url(Service::Login);
            spawn_local(async move {
                problem.set(Some(log_in(&url, &login).await));
                busy.set(false);
            });
        })
    };

    let message = (*problem).as_ref().map(|p| match p {
        Problem::Local(text) => lang.tr(*text).to_owned(),
        Problem::Server(text, reason) if reason.is_empty() => lang.tr(*text).to_owned(),
        Problem::Server(text, reason) => format!("{}：{reason}", lang.tr(*text)),
    });

    html! {
        <form class="login" {onsubmit} novalidate=true>
            <h1 class="login__brand">{ lang.tr(Text::AppName) }</h1>
            <p class="login__tagline">{ lang.tr(Text::Tagline) }</p>
            <label class="field">
                <span class="field__label">{ lang.tr(Text::Account) }</span>
                <input id="login-account" ref={account} type="tel" inputmode="numeric"
                    autocomplete="username" maxlength="11"
                    placeholder={lang.tr(Text::AccountHint)} />
            </label>
            <label class="field">
                <span class="field__label">{ lang.tr(Text::Password) }</span>
                <input id="login-password" ref={password} type="password"
                    autocomplete="current-password" placeholder={lang.tr(Text::PasswordHint)} />
            </label>
            if let Some(message) = message {
                <p id="login-error" class="login__error" role="alert">{ message }</p>
            }
            <button id="login-submit" class="button button--primary" type="submit" disabled={*busy}>
                { if *busy { lang.tr(Text::LoggingIn) } else { lang.tr(Text::LogIn) } }
            </button>
        </form>
    }
}

async fn log_in(url: &str, login: &Login) -> Problem {
    let request = match Frame::encode(Encoding::Base64, login) {
        Ok(frame) => frame,
        Err(err) => return Problem::Server(Text::ErrServer, err.to_string()),
    };
    let reply = match socket::request(url, &request).await {
        Ok(reply) => reply,
        Err(_) => return Problem::Server(Text::ErrUnreachable, String::new()),
    };
    let reply = Frame::decode(&reply).and_then(|frame| frame.packet::<ErrorReply>());
    match reply {
        Ok(reply) if reply.state == State::LOGIN_FAILED => {
            Problem::Server(Text::ErrWrongPassword, String::new())
        }
        Ok(reply) => Problem::Server(Text::ErrServer, reply.error),
        Err(err) => Problem::Server(Text::ErrServer, err.to_string()),
    }
}
