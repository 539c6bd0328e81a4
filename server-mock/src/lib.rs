//! `penpen-server-mock`: the local PENPEN 1.0 backend.
//!
//! One listener per service port, each serving the protocol's WebSocket at `/`.
//! It is the stand-in for the production server in local runs and tests, so it
//! behaves like it: frames are checked by `penpen-core`, and every frame gets
//! exactly one reply.

#![warn(missing_docs)]

pub mod admin;
pub mod auth;
pub mod bus;
pub mod calls;
pub mod change_limits;
pub mod cli;
pub mod config;
mod connection;
pub mod context;
pub mod demo;
pub mod hub;
pub mod limits;
mod listener;
pub mod login_limits;
pub mod meetings;
mod origin;
pub mod policy;
pub mod reads;
pub mod revocation;
pub mod server;
mod services;
pub mod sfu;
mod tickets;
pub use penpen_core::sniff;
pub mod store;
pub mod tls;
pub mod uploads;

pub use config::{MediaSettings, PortPlan, ServerConfig};
pub use limits::ConnectionLimits;
pub use policy::AuthPolicy;
pub use server::{RunningServer, StartError};
pub use tls::TlsConfig;
