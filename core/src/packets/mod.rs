//! The typed payloads of every service, one module per service.

pub mod login;
