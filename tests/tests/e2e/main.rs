//! Every end-to-end test, one module per feature, in one test binary: one
//! link step instead of one per file, which on two cores is most of a build.
//! `cargo test -p penpen-e2e NAME` still picks tests by name, e.g. `firefox`
//! or `faults::`.

mod broadcasts;
mod calls;
mod chat;
mod deployment;
mod faults;
mod files;
mod forward;
mod groups;
mod images;
mod installable;
mod login_screen;
mod meetings;
mod mentions;
mod nodes;
mod profile;
mod recall;
mod receipts;
mod search;
mod tls;
mod turn;
mod voice;
