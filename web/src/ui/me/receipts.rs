//! 发送已读回执 (§16.5): whether others see what the user has read.

use crate::i18n::Text;
use crate::state::use_shared;
use crate::ui::operation::{Status, use_operation};
use penpen_core::sync::Operation;
use yew::prelude::*;

/// `#receipts-toggle[data-known][data-shared]` (disabled until the server
/// said how it is, and while a change is on its way), its hint, and
/// `#receipts-error` when a change was not saved.
#[component(ReceiptsSwitch)]
pub fn receipts_switch() -> Html {
    let shared = use_shared();
    let operation = use_operation();
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let known = shared.state.receipts_shared;
    let toggle = {
        let operation = operation.clone();
        Callback::from(move |_: Event| {
            if let Some(shared) = known {
                operation.run(Operation::SetReceipts { shared: !shared });
            }
        })
    };
    let failed = match &*operation.status {
        Status::Failed(why) => Some(why.clone()),
        _ => None,
    };
    html! {
        <section class="me__section">
            <h3 class="me__heading">{ lang.tr(Text::Privacy) }</h3>
            <label class="switch">
                <input id="receipts-toggle" type="checkbox" checked={known.unwrap_or(true)}
                    data-known={known.is_some().to_string()}
                    data-shared={known.map(|shared| shared.to_string())}
                    disabled={known.is_none() || operation.waiting()} onchange={toggle} />
                <span>{ lang.tr(Text::ReceiptsSetting) }</span>
            </label>
            <p class="me__hint">{ lang.tr(Text::ReceiptsSettingHint) }</p>
            if let Some(why) = failed {
                <p id="receipts-error" class="me__hint me__hint--error" role="alert">
                    { lang.fill(Text::ReceiptsSettingFailed, &[&why]) }
                </p>
            }
        </section>
    }
}
