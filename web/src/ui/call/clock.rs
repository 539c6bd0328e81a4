//! The call's running clock: a tick every second while a call is under
//! way, in the screen itself (the driver has no reason to know the time
//! shown).

use gloo::timers::callback::Interval;
use yew::prelude::*;

/// The current time (ms), renewed every second while `running`.
#[hook]
pub fn use_ticking_now(running: bool) -> i64 {
    let now = use_state(super::super::now);
    {
        let now = now.clone();
        use_effect_with(running, move |&running| {
            if running {
                now.set(super::super::now());
            }
            let interval =
                running.then(|| Interval::new(1_000, move || now.set(super::super::now())));
            move || drop(interval)
        });
    }
    *now
}
