//! The isolation property's conversation operations: end users chatting
//! with their tokens, and companies reading conversations with their keys.
//! A conversation is its user's alone on the chat side (another user's, even
//! in the same company, answers as a missing one) and its company's alone on
//! the company side.

use proptest::prelude::*;
use serde_json::json;

use super::World;
use crate::harness::chat::{chat_get, chat_post, messages_uri};
use crate::harness::Reply;
use performchat::domain::{new_id, IdKind};

#[derive(Debug, Clone)]
pub enum ChatOp {
    Create { token: usize },
    Say { token: usize, conv: usize },
    History { token: usize, conv: usize },
    Mine { token: usize },
    CompanyGet { t: usize, conv: usize },
    CompanyMessages { t: usize, conv: usize },
    CompanyList { t: usize, user: usize },
}

pub fn chat_op(tenants: usize) -> impl Strategy<Value = ChatOp> {
    let pick = 0..10_000usize;
    let t = 0..tenants;
    prop_oneof![
        3 => pick.clone().prop_map(|token| ChatOp::Create { token }),
        3 => (pick.clone(), pick.clone()).prop_map(|(token, conv)| ChatOp::Say { token, conv }),
        1 => (pick.clone(), pick.clone()).prop_map(|(token, conv)| ChatOp::History { token, conv }),
        1 => pick.clone().prop_map(|token| ChatOp::Mine { token }),
        2 => (t.clone(), pick.clone()).prop_map(|(t, conv)| ChatOp::CompanyGet { t, conv }),
        1 => (t.clone(), pick.clone()).prop_map(|(t, conv)| ChatOp::CompanyMessages { t, conv }),
        1 => (t, pick).prop_map(|(t, user)| ChatOp::CompanyList { t, user }),
    ]
}

/// A conversation the test created, and what is in it.
pub struct Conv {
    pub id: String,
    pub company: usize,
    pub user: String,
    pub messages: usize,
}

/// A chat token the test was given; valid while its user's token version
/// has not moved on (an invalidation ends it).
pub struct ChatToken {
    pub token: String,
    pub company: usize,
    pub user: String,
    pub version: u32,
}

/// Another company's (or user's) conversation must be answered exactly as
/// one that never existed.
fn same_as_missing(op: &ChatOp, reply: &Reply, missing: &Reply) {
    assert_eq!(
        (reply.status, &reply.body),
        (missing.status, &missing.body),
        "{op:?}: a conversation not the caller's answered unlike a missing one"
    );
    reply.assert_error(404);
}

impl World {
    fn valid(&self, token: &ChatToken) -> bool {
        self.versions.get(&token.user).copied().unwrap_or(0) == token.version
    }

    /// The conversation `pick` selects (of anyone), or a never-existing id.
    fn pick_conv(&self, pick: usize) -> Option<&Conv> {
        if self.convs.is_empty() || pick.is_multiple_of(5) {
            return None;
        }
        Some(&self.convs[pick % self.convs.len()])
    }

    /// Runs one conversation operation; the company whose answer it is.
    pub async fn apply_chat(&mut self, op: &ChatOp) -> Option<(usize, Reply)> {
        let app = &self.app;
        let token_op = match op {
            ChatOp::Create { token }
            | ChatOp::Say { token, .. }
            | ChatOp::History { token, .. }
            | ChatOp::Mine { token } => Some(*token),
            _ => None,
        };
        if let Some(pick) = token_op {
            let token = self.chat_tokens.get(pick % self.chat_tokens.len().max(1))?;
            if !self.valid(token) {
                let r = chat_get(app, &token.token, "/rest/v1/chat/session").await;
                r.assert_error(401);
                return Some((token.company, r));
            }
        }
        let reply = match op {
            ChatOp::Create { token } => {
                let token = &self.chat_tokens[token % self.chat_tokens.len()];
                let r =
                    chat_post(app, &token.token, "/rest/v1/chat/conversations", json!({})).await;
                assert_eq!(r.status, 201, "{}", r.text);
                let id = r.body["id"].as_str().unwrap().to_owned();
                let company = token.company;
                self.owned[company].insert(id.clone());
                self.convs.push(Conv {
                    id,
                    company,
                    user: token.user.clone(),
                    messages: 0,
                });
                (company, r)
            }
            ChatOp::Say { token, conv } => {
                let token = &self.chat_tokens[token % self.chat_tokens.len()];
                let say = async |id: &str| {
                    let body = json!({ "content": "Hello from a property test" });
                    chat_post(app, &token.token, &messages_uri(id), body).await
                };
                let target = self
                    .pick_conv(*conv)
                    .map(|c| (c.id.clone(), c.user == token.user));
                let company = token.company;
                let r = match target {
                    Some((id, true)) => {
                        let r = say(&id).await;
                        assert_eq!(r.status, 201, "{}", r.text);
                        for which in ["userMessage", "assistantMessage"] {
                            let msg = r.body[which]["id"].as_str().unwrap().to_owned();
                            self.owned[company].insert(msg);
                        }
                        let conv = self.convs.iter_mut().find(|c| c.id == id).unwrap();
                        conv.messages += 2;
                        r
                    }
                    other => {
                        let id = other.map_or_else(|| new_id(IdKind::Conversation), |(id, _)| id);
                        let r = say(&id).await;
                        same_as_missing(op, &r, &say(&new_id(IdKind::Conversation)).await);
                        r
                    }
                };
                (company, r)
            }
            ChatOp::History { token, conv } => {
                let token = &self.chat_tokens[token % self.chat_tokens.len()];
                let get = async |id: &str| chat_get(app, &token.token, &messages_uri(id)).await;
                let r = match self.pick_conv(*conv) {
                    Some(c) if c.user == token.user => {
                        let r = get(&c.id).await;
                        let data = r.assert_ok()["data"].as_array().unwrap().len();
                        assert_eq!(data, c.messages.min(50), "{}", r.text);
                        r
                    }
                    other => {
                        let id =
                            other.map_or_else(|| new_id(IdKind::Conversation), |c| c.id.clone());
                        let r = get(&id).await;
                        same_as_missing(op, &r, &get(&new_id(IdKind::Conversation)).await);
                        r
                    }
                };
                (token.company, r)
            }
            ChatOp::Mine { token } => {
                let token = &self.chat_tokens[token % self.chat_tokens.len()];
                let r = chat_get(app, &token.token, "/rest/v1/chat/conversations?limit=100").await;
                let mut seen: Vec<&str> = r.assert_ok()["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_str().unwrap())
                    .collect();
                let mut expected: Vec<&str> = self
                    .convs
                    .iter()
                    .filter(|c| c.user == token.user)
                    .map(|c| c.id.as_str())
                    .collect();
                seen.sort_unstable();
                expected.sort_unstable();
                assert_eq!(seen, expected, "{}", r.text);
                (token.company, r)
            }
            ChatOp::CompanyGet { t, conv } | ChatOp::CompanyMessages { t, conv } => {
                let tenant = &self.tenants[*t];
                let messages = matches!(op, ChatOp::CompanyMessages { .. });
                let get = async |id: &str| {
                    let path = if messages {
                        format!("/rest/v1/conversations/{id}/messages")
                    } else {
                        format!("/rest/v1/conversations/{id}")
                    };
                    app.get(&path, tenant.creds()).await
                };
                let r = match self.pick_conv(*conv) {
                    Some(c) if c.company == *t => {
                        let r = get(&c.id).await;
                        let body = r.assert_ok();
                        if messages {
                            assert_eq!(
                                body["pagination"]["total"],
                                json!(c.messages),
                                "{}",
                                r.text
                            );
                        } else {
                            assert_eq!(body["message_count"], json!(c.messages), "{}", r.text);
                        }
                        r
                    }
                    other => {
                        let id =
                            other.map_or_else(|| new_id(IdKind::Conversation), |c| c.id.clone());
                        let r = get(&id).await;
                        same_as_missing(op, &r, &get(&new_id(IdKind::Conversation)).await);
                        r
                    }
                };
                (*t, r)
            }
            ChatOp::CompanyList { t, user } => {
                let tenant = &self.tenants[*t];
                let list = async |user: &str| {
                    let path = format!("/rest/v1/conversations?limit=100&customer_user_id={user}");
                    app.get(&path, tenant.creds()).await
                };
                let (user, owner) = self.pick_user(*user);
                let r = list(&user).await;
                let body = r.assert_ok();
                if owner == Some(*t) {
                    let expected = self.convs.iter().filter(|c| c.user == user).count();
                    assert_eq!(body["pagination"]["total"], json!(expected), "{}", r.text);
                } else {
                    // Another company's user filters like a user that does not exist.
                    let missing = list(&new_id(IdKind::CustomerUser)).await;
                    assert_eq!(body, &missing.body, "{op:?}");
                    assert_eq!(body["pagination"]["total"], json!(0));
                }
                let all = app
                    .get("/rest/v1/conversations?limit=100", tenant.creds())
                    .await;
                let expected = self.convs.iter().filter(|c| c.company == *t).count();
                assert_eq!(all.assert_ok()["pagination"]["total"], json!(expected));
                self.no_leak_text(*t, &all.text);
                (*t, r)
            }
        };
        Some(reply)
    }
}
