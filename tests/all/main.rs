//! The integration tests, one binary (as crates.io's backend does): one
//! module per area, sharing the harness in `harness/` (a fresh database per
//! test on either backend, the app in-process or on real ports, the CLI,
//! a stand-in model). One binary links the crate once instead of once per
//! file, and its tests run in parallel across areas.
//!
//! Run one area with `cargo test --test all -- AREA::`, e.g.
//! `cargo test --test all -- tokens::`.

#[macro_use]
mod harness;

mod activity_days;
mod agents;
mod auth;
mod backup;
mod bulk_counts;
mod chat;
mod chat_limits;
mod chat_nodes;
mod chat_rules;
mod chat_write_limits;
mod cli_admin;
mod cli_conversations;
mod cli_events;
mod cli_export_formulas;
mod cli_knowledge;
mod cli_rights;
mod cli_users;
mod cli_users_recipes;
mod console;
mod content_type;
mod csv_formulas;
mod data_export;
mod docs;
mod durability;
mod erase;
mod errors;
mod events_feed;
mod events_nodes;
mod export;
mod export_large;
mod export_snapshot;
mod idempotency;
mod isolation;
mod knowledge;
mod knowledge_replies;
mod knowledge_scale;
mod knowledge_search;
mod layers;
mod limits;
mod limits_redis;
mod listing_totals;
mod lockout;
mod log_secrets;
mod metrics;
mod migrate_store;
mod multinode;
mod multinode_redis;
mod name_search;
mod openapi;
mod pg_connections;
#[cfg(unix)]
mod private_files;
mod process;
mod readme_quickstart;
mod recipes;
mod reply_cap;
mod reply_memory;
mod secrets;
mod serve_process;
mod slow_client;
mod smoke;
mod sqlite_wal;
mod stats_daily;
mod store_errors;
mod timeouts;
mod token_hardening;
mod tokens;
mod tool_chat;
mod tools_api;
mod tools_call;
mod tools_examples;
mod users;
mod webhook_delivery;
mod webhook_nodes;
mod webhook_window;
mod webhooks;
mod widget;
