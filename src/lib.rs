//! performchat: a self-hostable, PerformChat-compatible service.
//!
//! Data flows one way: `http` → `domain` → `store`. `app` wires them together
//! and `cli` is the binary's front door.

pub mod app;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod domain;
pub mod error;
pub mod http;
pub mod limits;
pub mod llm;
pub mod store;
