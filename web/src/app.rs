//! The root component.

use crate::config::ServerAddress;
use crate::i18n::{Lang, Text};
use crate::login::LoginScreen;
use yew::prelude::*;

/// The whole app.
#[component(App)]
pub fn app() -> Html {
    let lang = use_state(Lang::load);
    let server = use_memo((), |_| ServerAddress::from_page());

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
                <LoginScreen lang={*lang} server={(*server).clone()} />
            </main>
        </div>
    }
}
