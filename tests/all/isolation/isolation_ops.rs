//! The isolation property's operations on customer users, tokens and
//! agents (conversations: isolation_chat.rs), and how often each is drawn.

use proptest::prelude::*;

use super::isolation_chat::{chat_op, ChatOp};
use super::TENANTS;

#[derive(Debug, Clone)]
pub enum Op {
    Token {
        t: usize,
        ext: u8,
    },
    Get {
        t: usize,
        pick: usize,
    },
    Put {
        t: usize,
        pick: usize,
    },
    Patch {
        t: usize,
        pick: usize,
    },
    Invalidate {
        t: usize,
        pick: usize,
    },
    Upsert {
        t: usize,
        ext: u8,
    },
    Bulk {
        t: usize,
        exts: Vec<u8>,
        create: bool,
    },
    List {
        t: usize,
    },
    Export {
        t: usize,
    },
    Stats {
        t: usize,
    },
    Verify {
        t: usize,
        pick: usize,
    },
    Agent {
        t: usize,
        of: usize,
    },
    Chat(ChatOp),
}

pub fn op() -> impl Strategy<Value = Op> {
    let t = 0..TENANTS;
    let pick = 0..10_000usize;
    let ext = 0..6u8;
    prop_oneof![
        3 => (t.clone(), ext.clone()).prop_map(|(t, ext)| Op::Token { t, ext }),
        2 => (t.clone(), pick.clone()).prop_map(|(t, pick)| Op::Get { t, pick }),
        2 => (t.clone(), pick.clone()).prop_map(|(t, pick)| Op::Put { t, pick }),
        2 => (t.clone(), pick.clone()).prop_map(|(t, pick)| Op::Patch { t, pick }),
        1 => (t.clone(), pick.clone()).prop_map(|(t, pick)| Op::Invalidate { t, pick }),
        2 => (t.clone(), ext.clone()).prop_map(|(t, ext)| Op::Upsert { t, ext }),
        2 => (t.clone(), proptest::collection::vec(ext, 1..5), any::<bool>())
            .prop_map(|(t, exts, create)| Op::Bulk { t, exts, create }),
        1 => t.clone().prop_map(|t| Op::List { t }),
        1 => t.clone().prop_map(|t| Op::Export { t }),
        1 => t.clone().prop_map(|t| Op::Stats { t }),
        2 => (t.clone(), pick).prop_map(|(t, pick)| Op::Verify { t, pick }),
        1 => (t.clone(), 0..TENANTS).prop_map(|(t, of)| Op::Agent { t, of }),
        8 => chat_op(TENANTS).prop_map(Op::Chat),
    ]
}
