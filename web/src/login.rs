//! The login screen, with the server it logs in to in view. A server that a
//! link proposes is shown with its host and used only once the user accepts.

use crate::config::{ServerAddress, Servers};
use crate::i18n::{Lang, Text};
use crate::session::{self, Session, SessionError};
use crate::ui::controls;
use penpen_core::UserId;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the login screen needs from the app.
#[derive(Debug, Properties, PartialEq)]
pub struct LoginProps {
    /// The interface language.
    pub lang: Lang,
    /// The deployment's server nodes, where logins go by default.
    pub server: Servers,
    /// Another server the page's link names, offered for confirmation.
    #[prop_or_default]
    pub proposal: Option<ServerAddress>,
    /// The link named a server, but not a valid one.
    #[prop_or_default]
    pub proposal_invalid: bool,
    /// Called with the new session once the server accepts the login.
    pub on_login: Callback<Session>,
    /// A problem to show before anything is typed (an expired session).
    #[prop_or_default]
    pub notice: Option<Text>,
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
    let problem = use_state(|| props.notice.map(Problem::Local));
    let busy = use_state(|| false);
    let target = use_state(|| props.server.clone());
    let proposal_open = use_state(|| props.proposal.is_some());

    let onsubmit = {
        let (account, password) = (account.clone(), password.clone());
        let (problem, busy) = (problem.clone(), busy.clone());
        let server = (*target).clone();
        let on_login = props.on_login.clone();
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
            let (problem, busy, server, on_login) = (
                problem.clone(),
                busy.clone(),
                server.clone(),
                on_login.clone(),
            );
            spawn_local(async move {
                let result = session::log_in(&server, user, &secret).await;
                busy.set(false);
                match result {
                    Ok(session) => on_login.emit(session),
                    Err(err) => problem.set(Some(problem_for(err))),
                }
            });
        })
    };

    let message = (*problem).as_ref().map(|p| match p {
        Problem::Local(text) => lang.tr(*text).to_owned(),
        Problem::Server(text, reason) if reason.is_empty() => lang.tr(*text).to_owned(),
        Problem::Server(text, reason) => format!("{}：{reason}", lang.tr(*text)),
    });

    let proposal = props.proposal.clone().filter(|_| *proposal_open);
    let accept = {
        let (target, proposal_open) = (target.clone(), proposal_open.clone());
        let proposal = proposal.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(server) = &proposal {
                target.set(Servers::one(server.clone()));
            }
            proposal_open.set(false);
        })
    };
    let reject = {
        let proposal_open = proposal_open.clone();
        Callback::from(move |_: MouseEvent| proposal_open.set(false))
    };

    html! {
        <form class="login" {onsubmit} novalidate=true>
            <h1 class="login__brand">{ lang.tr(Text::AppName) }</h1>
            <p class="login__tagline">{ lang.tr(Text::Tagline) }</p>
            if let Some(proposed) = proposal {
                <div id="server-proposal" class="login__proposal" role="alert"
                    data-host={proposed.host.clone()}>
                    <span>{ lang.fill(Text::ServerProposal, &[&proposed.label()]) }</span>
                    <span class="login__proposal-host">{ proposed.label() }</span>
                    <span class="login__proposal-actions">
                        { controls::button(Some("server-proposal-accept"), "button button--secondary", lang.tr(Text::ServerProposalAccept), accept, false) }
                        { controls::button(Some("server-proposal-reject"), "button button--ghost", lang.tr(Text::ServerProposalReject), reject, false) }
                    </span>
                </div>
            }
            if props.proposal_invalid {
                <p id="server-proposal-invalid" class="login__server" role="status">
                    { lang.tr(Text::ServerProposalInvalid) }
                </p>
            }
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
            <p id="login-server" class="login__server" data-host={target.home().host.clone()}
                data-nodes={target.nodes().len().to_string()}>
                { lang.fill(Text::LoginServer, &[&target.home().label()]) }
            </p>
        </form>
    }
}

fn problem_for(err: SessionError) -> Problem {
    match err {
        SessionError::WrongPassword => Problem::Local(Text::ErrWrongPassword),
        SessionError::RateLimited => Problem::Local(Text::ErrRateLimited),
        SessionError::Expired => Problem::Local(Text::ErrSessionExpired),
        SessionError::Unreachable(_) => Problem::Local(Text::ErrUnreachable),
        SessionError::Refused(reason) => Problem::Server(Text::ErrServer, reason),
    }
}
