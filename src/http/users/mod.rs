//! Customer users (docs/API.md §4): one resource, one module per kind of operation.

pub(super) mod bulk;
pub(super) mod data_export;
mod encode;
pub(super) mod erase;
pub(super) mod export;
pub(super) mod list;
pub(super) mod recipes;
pub(super) mod write;
