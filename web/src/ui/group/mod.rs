//! Discussion groups (讨论组): the form that creates one (`new`), a group's
//! page (`page`: rename, members, leave), and the member picker both use
//! (`picker`).

mod members;
mod new;
mod page;
mod picker;

pub use new::NewGroup;
pub use page::GroupPage;
