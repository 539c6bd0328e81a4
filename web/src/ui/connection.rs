//! The connection indicator, always on screen: connected, connecting or
//! offline, how many messages wait to be sent, and a retry when offline.

use crate::i18n::Text;
use crate::state::{Command, use_shared};
use crate::ui::controls;
use penpen_core::sync::Connection;
use yew::prelude::*;

/// `id="connection"` with `data-state` `connected|connecting|offline`, and
/// `data-node` (also its title) naming the server node in use, `host:port`:
/// of a deployment of several nodes, the one the app moved to last.
#[component(ConnectionIndicator)]
pub fn connection_indicator() -> Html {
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let lang = shared.lang;
    let (state, label) = match shared.state.connection {
        Connection::Connected => ("connected", Text::Connected),
        Connection::Connecting => ("connecting", Text::Connecting),
        Connection::Offline => ("offline", Text::Offline),
    };
    let queued = shared.state.queued;
    let node = shared
        .state
        .files
        .as_ref()
        .map(|files| files.server.label())
        .unwrap_or_default();
    let reconnect = {
        let command = shared.command.clone();
        Callback::from(move |_: MouseEvent| command.emit(Command::Reconnect))
    };
    html! {
        <div id="connection" class="connection" data-state={state}
            data-synced={shared.state.caught_up.to_string()} data-node={node.clone()} title={node}
            role="status" aria-live="polite">
            <span class="connection__dot" aria-hidden="true"></span>
            <span class="connection__label">{ lang.tr(label) }</span>
            if queued > 0 {
                <span id="queued" class="connection__queued">
                    { lang.fill(Text::Queued, &[&queued.to_string()]) }
                </span>
            }
            if shared.state.connection == Connection::Offline {
                { controls::button(Some("reconnect"), "connection__retry", lang.tr(Text::Reconnect), reconnect, false) }
            }
        </div>
    }
}
