//! performchat: a self-hostable, PerformChat-compatible service.
//!
//! Modules depend downwards only:
//!
//! ```text
//! cli                      the binary's commands (admin ones call auth/store)
//!  └ http                  routes, extractors, JSON views, the route list and OpenAPI
//!     └ error              the HTTP edge's error type (`ApiError`): where each
//!        │                 use case's error (`StoreError`, `ChatError`,
//!        │                 `TokenRejected`) becomes a status, once
//!        └ app             AppState and Config: the handles a request needs
//!           └ auth, chat, events, limits   use cases, free of HTTP types and
//!              │                   of one another, each with its own errors
//!              │                   (events: the webhook dispatcher)
//!              └ knowledge, tools   the knowledge base: extraction, chunking and
//!                 │          retrieval (chat asks it for a reply's excerpts);
//!                 │          agent tools: the model's functions and one call
//!                 │          of a company's tool endpoint, signed
//!                 └ store, llm, outbound, signing   the Store trait and its
//!                    │          SQL (its own StoreError); the language models'
//!                    │          clients; the outbound address rule; Standard
//!                    │          Webhooks signatures
//!                    └ domain   validated values, no I/O
//! ```
//!
//! `tests/all/layers.rs` holds the crate to this from its sources: no upward
//! dependency, no HTTP types below `app`, and no import circle between
//! sibling modules.

pub mod app;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod knowledge;
pub mod limits;
pub mod llm;
pub mod outbound;
pub mod signing;
pub mod store;
pub mod tools;
