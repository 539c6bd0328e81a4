//! The login screen in headless Chromium: the server it logs in to is in
//! view, and a server that a link proposes is shown with its host and used
//! only once the user accepts it.

use crate::dom::{click, exists, js};
use penpen_web::config::{ServerAddress, Servers};
use penpen_web::i18n::Lang;
use penpen_web::login::{LoginProps, LoginScreen};
use wasm_bindgen_test::*;
use yew::prelude::*;

fn text(css: &str) -> String {
    js(&format!(
        "(e => e ? e.textContent : '')(document.querySelector('{css}'))"
    ))
    .as_string()
    .unwrap_or_default()
}

async fn settle() {
    gloo::timers::future::TimeoutFuture::new(120).await;
}

fn home() -> ServerAddress {
    ServerAddress {
        host: "im.example.cn".into(),
        port_offset: 0,
        tls: true,
    }
}

fn elsewhere() -> ServerAddress {
    ServerAddress {
        host: "203.0.113.9".into(),
        port_offset: 3,
        tls: false,
    }
}

struct Mounted {
    app: Option<AppHandle<LoginScreen>>,
    root: web_sys::Element,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.root.remove();
    }
}

async fn mount(proposal: Option<ServerAddress>, proposal_invalid: bool) -> Mounted {
    js("document.querySelectorAll('body > .login-root').forEach(old => old.remove())");
    let document = gloo::utils::document();
    let root = document.create_element("div").expect("a root element");
    root.set_class_name("login-root");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("the root");
    let props = LoginProps {
        lang: Lang::Zh,
        server: Servers::one(home()),
        proposal,
        proposal_invalid,
        on_login: Callback::noop(),
        notice: None,
    };
    let app = yew::Renderer::<LoginScreen>::with_root_and_props(root.clone(), props).render();
    settle().await;
    Mounted {
        app: Some(app),
        root,
    }
}

#[wasm_bindgen_test]
async fn the_deployments_server_is_shown_and_nothing_else_is_offered() {
    let _screen = mount(None, false).await;
    assert!(text("#login-server").contains("im.example.cn:20888"));
    assert!(!exists("#server-proposal"));
}

#[wasm_bindgen_test]
async fn a_linked_server_is_shown_with_its_host_and_used_only_once_accepted() {
    let _screen = mount(Some(elsewhere()), false).await;
    let proposal = text("#server-proposal");
    assert!(proposal.contains("203.0.113.9:20891"), "{proposal}");
    assert!(proposal.contains("另一台服务器"), "{proposal}");
    // Until accepted, logins go to the deployment's server.
    assert!(text("#login-server").contains("im.example.cn"));
    click("#server-proposal-accept");
    settle().await;
    assert!(!exists("#server-proposal"));
    assert!(text("#login-server").contains("203.0.113.9:20891"));
}

#[wasm_bindgen_test]
async fn an_ignored_proposal_leaves_the_deployments_server() {
    let _screen = mount(Some(elsewhere()), false).await;
    click("#server-proposal-reject");
    settle().await;
    assert!(!exists("#server-proposal"));
    assert!(text("#login-server").contains("im.example.cn:20888"));
}

#[wasm_bindgen_test]
async fn an_invalid_server_in_the_link_is_reported_not_offered() {
    let _screen = mount(None, true).await;
    assert!(!exists("#server-proposal"));
    assert!(text("#server-proposal-invalid").contains("无效"));
}
