//! The server's integration tests, one binary (one link on a 2-core machine
//! instead of one per file): each module speaks real frames to a real server.

mod common;

mod admin;
mod call_machines;
mod calls;
mod catch_up_pages;
mod change_limits;
mod crash;
mod delivery;
mod demo_flag;
mod file_safety;
mod files;
mod forward;
mod groups_paging;
mod groups_profile_broadcasts;
mod handshake;
mod heartbeat;
mod limits;
mod login_limits;
mod meetings;
mod migrate;
mod mute_mentions;
mod nodes;
mod nodes_calls;
mod recall;
mod receipts;
mod revocation;
mod search;
mod services;
mod sfu;
mod store_conformance;
mod store_truth;
mod tickets;
mod tls;
mod uploads;
