//! Tenant isolation as a property: random sequences of reads and writes by
//! several companies and their end users through the HTTP API (in-process):
//! customer users, tokens, agents, and conversations on both the company and
//! the chat side (isolation/isolation_chat.rs). No answer may contain another
//! company's ids, and another company's id must be answered exactly as an id
//! that never existed.

use crate::harness;
mod isolation_chat;
mod isolation_ops;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Method;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use harness::{Reply, Tenant, TestApp};
use isolation_chat::{ChatToken, Conv};
use isolation_ops::{op, Op};
use performchat::domain::{new_id, IdKind};
use performchat::store::Backend;

pub const TENANTS: usize = 3;

/// What the test knows exists, and whose it is.
struct World {
    app: TestApp,
    tenants: Vec<Tenant>,
    /// Every id each company owns (company, agents, key, users).
    owned: Vec<HashSet<String>>,
    users: Vec<(String, usize)>,
    by_external: HashMap<(usize, u8), String>,
    chat_tokens: Vec<ChatToken>,
    /// Customer user id → how often its tokens were invalidated.
    versions: HashMap<String, u32>,
    convs: Vec<Conv>,
}

impl World {
    async fn new(backend: Backend) -> World {
        let app = TestApp::new(backend).await;
        let mut tenants = Vec::new();
        let mut owned = Vec::new();
        for i in 0..TENANTS {
            let t = app.tenant(&format!("Company {i}")).await;
            owned.push(HashSet::from([
                t.company.clone(),
                t.agent.clone(),
                t.inactive_agent.clone(),
                t.key.0.clone(),
            ]));
            tenants.push(t);
        }
        World {
            app,
            tenants,
            owned,
            users: Vec::new(),
            by_external: HashMap::new(),
            chat_tokens: Vec::new(),
            versions: HashMap::new(),
            convs: Vec::new(),
        }
    }

    /// No answer to tenant `t` names anything another tenant owns.
    fn no_leak(&self, t: usize, op: &Op, reply: &Reply) {
        for (other, ids) in self.owned.iter().enumerate().filter(|(o, _)| *o != t) {
            for id in ids {
                assert!(
                    !reply.text.contains(id.as_str()),
                    "{op:?}: company {t} was shown {id} of company {other}: {}",
                    reply.text
                );
            }
        }
    }

    fn no_leak_text(&self, t: usize, text: &str) {
        for (other, ids) in self.owned.iter().enumerate().filter(|(o, _)| *o != t) {
            for id in ids {
                assert!(
                    !text.contains(id.as_str()),
                    "company {t} was shown {id} of company {other}: {text}"
                );
            }
        }
    }

    fn record_user(&mut self, t: usize, ext: u8, id: &str) {
        match self.by_external.get(&(t, ext)) {
            Some(known) => assert_eq!(known, id, "external id e{ext} of company {t} changed user"),
            None => {
                self.by_external.insert((t, ext), id.to_owned());
                self.users.push((id.to_owned(), t));
                self.owned[t].insert(id.to_owned());
            }
        }
    }

    fn count(&self, t: usize) -> usize {
        self.users.iter().filter(|(_, o)| *o == t).count()
    }

    /// The user `pick` selects (of any company), or a never-existing id.
    fn pick_user(&self, pick: usize) -> (String, Option<usize>) {
        if self.users.is_empty() || pick.is_multiple_of(5) {
            return (new_id(IdKind::CustomerUser), None);
        }
        let (id, owner) = &self.users[pick % self.users.len()];
        (id.clone(), Some(*owner))
    }

    /// Sends the request built for `id`; when `id` is another company's,
    /// the answer must equal the one for an id that never existed.
    async fn by_id(
        &self,
        t: usize,
        owner: Option<usize>,
        id: &str,
        send: impl AsyncFn(&str) -> Reply,
    ) -> Reply {
        let reply = send(id).await;
        if owner != Some(t) {
            let missing = send(&new_id(IdKind::CustomerUser)).await;
            assert_eq!(
                (reply.status, &reply.body),
                (missing.status, &missing.body),
                "company {t}: another company's id answered unlike a missing one"
            );
            assert!(reply.status.is_client_error(), "{}", reply.text);
        } else {
            assert!(reply.status.is_success(), "own user: {}", reply.text);
        }
        reply
    }

    async fn apply(&mut self, op: &Op) {
        if let Op::Chat(chat) = op {
            if let Some((t, reply)) = self.apply_chat(chat).await {
                self.no_leak(t, op, &reply);
            }
            return;
        }
        let app = &self.app;
        let (tenant, t) = match op {
            Op::Token { t, .. }
            | Op::Get { t, .. }
            | Op::Put { t, .. }
            | Op::Patch { t, .. }
            | Op::Invalidate { t, .. }
            | Op::Upsert { t, .. }
            | Op::Bulk { t, .. }
            | Op::List { t }
            | Op::Export { t }
            | Op::Stats { t }
            | Op::Verify { t, .. }
            | Op::Agent { t, .. } => (&self.tenants[*t], *t),
            Op::Chat(_) => unreachable!("conversation operations return above"),
        };
        let users_path = |id: &str| format!("/rest/v1/customer-users/{id}");
        let reply = match op {
            Op::Token { ext, .. } => {
                let r = app
                    .post(
                        "/rest/v1/auth/token",
                        tenant
                            .body(json!({ "userId": format!("e{ext}"), "agentId": tenant.agent })),
                    )
                    .await;
                let body = r.assert_ok().clone();
                let id = body["customerUser"]["id"].as_str().unwrap().to_owned();
                self.chat_tokens.push(ChatToken {
                    token: body["token"].as_str().unwrap().to_owned(),
                    company: t,
                    version: self.versions.get(&id).copied().unwrap_or(0),
                    user: id.clone(),
                });
                self.record_user(t, *ext, &id);
                r
            }
            Op::Get { pick, .. } => {
                let (id, owner) = self.pick_user(*pick);
                let r = self
                    .by_id(t, owner, &id, async |id| {
                        app.get(&users_path(id), tenant.creds()).await
                    })
                    .await;
                if owner == Some(t) {
                    assert_eq!(r.body["id"], json!(id));
                }
                r
            }
            Op::Put { pick, .. } => {
                let (id, owner) = self.pick_user(*pick);
                self.by_id(t, owner, &id, async |id| {
                    app.put(&users_path(id), tenant.body(json!({ "name": "Renamed" })))
                        .await
                })
                .await
            }
            Op::Patch { pick, .. } => {
                let (id, owner) = self.pick_user(*pick);
                self.by_id(t, owner, &id, async |id| {
                    let body = tenant.body(json!({ "metadata": { "touched": true } }));
                    app.call(Method::PATCH, &users_path(id), Some(body)).await
                })
                .await
            }
            Op::Invalidate { pick, .. } => {
                let (id, owner) = self.pick_user(*pick);
                let r = self
                    .by_id(t, owner, &id, async |id| {
                        let body = tenant.body(json!({ "customerUserId": id }));
                        app.post("/rest/v1/auth/invalidate-token", body).await
                    })
                    .await;
                if owner == Some(t) {
                    *self.versions.entry(id).or_default() += 1;
                }
                r
            }
            Op::Upsert { ext, .. } => {
                let path = format!("/rest/v1/customer-users/by-external-id/e{ext}");
                let r = app
                    .put(&path, tenant.body(json!({ "name": "Upserted" })))
                    .await;
                let expected = if self.by_external.contains_key(&(t, *ext)) {
                    200
                } else {
                    201
                };
                assert_eq!(r.status.as_u16(), expected, "{}", r.text);
                let id = r.body["id"].as_str().unwrap().to_owned();
                self.record_user(t, *ext, &id);
                r
            }
            Op::Bulk { exts, create, .. } => {
                let updates: Vec<Value> = exts
                    .iter()
                    .map(|e| json!({ "external_id": format!("e{e}"), "create": create, "name": "Bulk" }))
                    .collect();
                let r = app
                    .post(
                        "/rest/v1/customer-users/bulk",
                        tenant.body(json!({ "updates": updates })),
                    )
                    .await;
                let results = r.assert_ok()["results"].as_array().unwrap().clone();
                for (e, result) in exts.iter().zip(&results) {
                    let known = self.by_external.contains_key(&(t, *e));
                    assert_eq!(result["success"], json!(known || *create), "{result}");
                    if let Some(id) = result["user"]["id"].as_str() {
                        self.record_user(t, *e, id);
                    }
                }
                r
            }
            Op::List { .. } => {
                let r = app
                    .get("/rest/v1/customer-users?limit=100", tenant.creds())
                    .await;
                let data = r.assert_ok()["data"].as_array().unwrap().clone();
                assert_eq!(data.len(), self.count(t), "{}", r.text);
                for u in &data {
                    assert!(self.owned[t].contains(u["id"].as_str().unwrap()), "{u}");
                }
                r
            }
            Op::Export { .. } => {
                let r = app
                    .get(
                        "/rest/v1/customer-users/export?format=ndjson",
                        tenant.creds(),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                let lines: Vec<&str> = r.text.lines().filter(|l| !l.is_empty()).collect();
                assert_eq!(lines.len(), self.count(t), "{}", r.text);
                r
            }
            Op::Stats { .. } => {
                let r = app
                    .get("/rest/v1/customer-users/stats", tenant.creds())
                    .await;
                assert_eq!(r.assert_ok()["total"], json!(self.count(t)), "{}", r.text);
                r
            }
            Op::Verify { pick, .. } => {
                let Some((token, owner)) = self
                    .chat_tokens
                    .get(pick % self.chat_tokens.len().max(1))
                    .map(|c| (c.token.clone(), c.company))
                else {
                    return;
                };
                let r = app
                    .post(
                        "/rest/v1/auth/verify-token",
                        tenant.body(json!({ "token": token })),
                    )
                    .await;
                if owner != t {
                    r.assert_error(401);
                }
                r
            }
            Op::Agent { of, .. } => {
                let agent = self.tenants[*of].agent.clone();
                let path = |id: &str| format!("/rest/v1/agents/{id}");
                let r = app.get(&path(&agent), tenant.creds()).await;
                if *of == t {
                    r.assert_ok();
                } else {
                    let missing = app.get(&path(&new_id(IdKind::Agent)), tenant.creds()).await;
                    assert_eq!((r.status, &r.body), (missing.status, &missing.body));
                    r.assert_error(404);
                }
                r
            }
            Op::Chat(_) => unreachable!("conversation operations return above"),
        };
        self.no_leak(t, op, &reply);
    }
}

fn run(backend: Backend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = AtomicUsize::new(0);
    let chat_ops = AtomicUsize::new(0);
    let conversations = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let ops = proptest::collection::vec(op(), 70..=100);
    let result = runner.run(&ops, |ops| {
        rt.block_on(async {
            let mut world = World::new(backend).await;
            for op in &ops {
                world.apply(op).await;
            }
            done.fetch_add(ops.len(), Ordering::Relaxed);
            let chat = ops.iter().filter(|o| matches!(o, Op::Chat(_))).count();
            chat_ops.fetch_add(chat, Ordering::Relaxed);
            conversations.fetch_add(world.convs.len(), Ordering::Relaxed);
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "{backend:?}: {} random operations over {cases} cases, {TENANTS} companies \
         ({} on conversations, {} conversations created): 0 leaks",
        done.load(Ordering::Relaxed),
        chat_ops.load(Ordering::Relaxed),
        conversations.load(Ordering::Relaxed),
    );
}

#[test]
fn no_company_ever_sees_another_sqlite() {
    run(Backend::Sqlite, 8);
}

#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL run skipped: set PERFORMCHAT_TEST_POSTGRES_URL"
)]
fn no_company_ever_sees_another_postgres() {
    run(Backend::Postgres, 3);
}
