//! The kill -9 test's ledger of acknowledged writes, and the checks that
//! every one of them survived.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::Value;

use super::nodes::{CliTenant, Node};

/// Everything the server acknowledged, and the one write each writer may have
/// had in flight when the process died (it may or may not have landed).
#[derive(Default)]
pub struct Ledger {
    /// External ids of users a 200 from `/auth/token` or bulk create vouched for.
    pub users: HashSet<String>,
    /// Customer user id → (last acknowledged name, name sent but not acknowledged).
    pub names: HashMap<String, (Option<String>, Option<String>)>,
    /// Customer user id → metadata keys acknowledged by a PATCH merge.
    pub merged: HashMap<String, Vec<String>>,
    /// Conversation id → the messages a 201 from a chat message vouched for
    /// (id, role, content): the question and the model's stored reply.
    pub messages: HashMap<String, Vec<(String, String, String)>>,
    pub exchanges: usize,
    pub renames: usize,
    pub merges: usize,
    pub bulk_calls: usize,
    pub tokens: usize,
    /// Requests that got no answer (the kill) or an error answer.
    pub unacknowledged: usize,
    /// Acknowledgements in the current cycle; the kill waits on this.
    pub acks_this_cycle: usize,
    /// Writers of the current cycle that have stopped (or panicked).
    pub writers_done: usize,
}

/// Checks every acknowledged write against what the restarted server serves.
pub async fn verify(node: &Node, tenant: &CliTenant, ledger: &Mutex<Ledger>) {
    // Read without holding the lock across the requests.
    let conversations = ledger.lock().unwrap().messages.clone();
    for (conversation, acked) in &conversations {
        let stored = node.all_messages(&tenant.key, conversation).await;
        let missing: Vec<&(String, String, String)> =
            acked.iter().filter(|m| !stored.contains(m)).collect();
        assert!(
            missing.is_empty(),
            "conversation {conversation}: acknowledged messages lost: {missing:?}"
        );
    }
    let users = node.all_users(&tenant.key).await;
    let ledger = ledger.lock().unwrap();
    let by_external: HashMap<&str, &Value> = users
        .iter()
        .map(|u| (u["external_id"].as_str().unwrap(), u))
        .collect();
    let by_id: HashMap<&str, &Value> = users
        .iter()
        .map(|u| (u["id"].as_str().unwrap(), u))
        .collect();

    let lost: Vec<&String> = ledger
        .users
        .iter()
        .filter(|e| !by_external.contains_key(e.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged users lost: {lost:?}");

    for (id, (acked, in_flight)) in &ledger.names {
        let stored = by_id[id.as_str()]["name"].as_str().map(str::to_owned);
        assert!(
            stored == *acked || (in_flight.is_some() && stored == *in_flight),
            "user {id}: name {stored:?}, acknowledged {acked:?}, in flight {in_flight:?}"
        );
    }
    for (id, keys) in &ledger.merged {
        let metadata = &by_id[id.as_str()]["metadata"];
        let missing: Vec<&String> = keys
            .iter()
            .filter(|k| metadata.get(k.as_str()).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "user {id}: acknowledged merges lost: {missing:?} (metadata {metadata})"
        );
    }
}

/// The outbox across kill -9: every stored user has exactly one
/// `customer_user.created` event and every event names a stored user (no
/// committed change without its event, no event without its change), and
/// every stored message of the ledger's conversations has its event.
pub async fn verify_events(node: &Node, tenant: &CliTenant, ledger: &Mutex<Ledger>) {
    let mut events: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/rest/v1/events?limit=100&after={a}"),
            None => "/rest/v1/events?limit=100".to_owned(),
        };
        let (status, body) = node.get(&path, &tenant.key).await;
        assert_eq!(status, 200, "{body}");
        let page = body["data"].as_array().unwrap().clone();
        after = page.last().map(|e| e["id"].as_str().unwrap().to_owned());
        events.extend(page);
        if body["has_more"] != Value::Bool(true) {
            break;
        }
    }
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut messages: HashSet<String> = HashSet::new();
    for e in &events {
        let id = e["data"]["id"].as_str().unwrap_or_default().to_owned();
        match e["type"].as_str() {
            Some("customer_user.created") => *created.entry(id).or_default() += 1,
            Some("message.created") => {
                messages.insert(id);
            }
            _ => {}
        }
    }
    let users = node.all_users(&tenant.key).await;
    let stored: HashSet<String> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let wrong: Vec<(&String, usize)> = stored
        .iter()
        .map(|u| (u, created.get(u).copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "users without exactly one created event: {wrong:?}"
    );
    let orphans: Vec<&String> = created.keys().filter(|u| !stored.contains(*u)).collect();
    assert!(
        orphans.is_empty(),
        "created events for users that are not stored: {orphans:?}"
    );
    let conversations: Vec<String> = ledger.lock().unwrap().messages.keys().cloned().collect();
    for conversation in conversations {
        for (id, _, _) in node.all_messages(&tenant.key, &conversation).await {
            assert!(
                messages.contains(&id),
                "message {id} is stored but has no event"
            );
        }
    }
}

pub async fn sqlite_integrity(url: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the SQLite file");
    let result: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("PRAGMA integrity_check");
    assert_eq!(result, "ok", "integrity_check after kill -9");
    conn.close().await.expect("close");
}
