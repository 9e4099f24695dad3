//! performchat: a self-hostable, PerformChat-compatible service.
//!
//! Modules depend downwards only:
//!
//! ```text
//! cli                      the binary's commands (admin ones call auth/store)
//!  └ http                  routes, extractors, JSON views, the route list and OpenAPI
//!     └ app                AppState and Config: the handles a request needs
//!        └ auth, chat, knowledge, limits, llm   use cases, free of HTTP types
//!           └ store        the Store trait and its SQL; its own StoreError
//!              └ domain    validated values, no I/O
//! ```
//!
//! `error` is the HTTP edge's error type (`ApiError`), used by `http` and by
//! the use cases that answer requests; it is where a `StoreError` becomes a
//! status. `store` never sees it.

pub mod app;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod domain;
pub mod error;
pub mod http;
pub mod knowledge;
pub mod limits;
pub mod llm;
pub mod store;
