//! Avatars: initials on a colour, round for a person, square for a group.

use super::format::tint;
use crate::state::initials;
use yew::prelude::*;

/// How large an avatar is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// In the top bar.
    Small,
    /// Beside a bubble.
    Medium,
    /// In the conversation list.
    Large,
    /// On the call screen.
    Call,
}

/// A person's avatar: their initials on a colour chosen by `seed` (their
/// account), so the same person looks the same everywhere.
pub fn person(name: &str, seed: &str, size: Size) -> Html {
    let classes = classes!(
        "avatar",
        size_class(size),
        format!("avatar--tint{}", tint(seed))
    );
    html! { <span class={classes} aria-hidden="true">{ initials(name) }</span> }
}

/// A group's avatar: the first character of its name on a square, in a
/// colour of its own, so a group never looks like a person.
pub fn group(name: &str, size: Size) -> Html {
    let first: String = name
        .chars()
        .find(|c| !c.is_whitespace())
        .into_iter()
        .collect();
    html! {
        <span class={classes!("avatar", "avatar--group", size_class(size))} aria-hidden="true">
            { first }
        </span>
    }
}

fn size_class(size: Size) -> &'static str {
    match size {
        Size::Small => "avatar--small",
        Size::Medium => "avatar--medium",
        Size::Large => "avatar--large",
        Size::Call => "avatar--call",
    }
}
