//! A name search finds exactly the users whose name contains the text,
//! ignoring case, with an exact total, in one company only, through every
//! write that changes names. SQLite counts a search on its trigram index
//! alone, keyed by company (migration 0005); these tests hold that count to
//! a plain substring count, on awkward text, beside another company.

use crate::harness;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};

/// Characters that trip up LIKE patterns, FTS5 query syntax and case
/// folding, a space, and a few letters so that substrings repeat.
const ALPHABET: &[char] = &[
    'a', 'b', 'A', 'B', 'é', 'É', 'ß', ' ', '%', '_', '\\', '"', '*', '1',
];

/// A small deterministic generator: the same awkward names on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn text(&mut self, min: usize, max: usize) -> String {
        let len = min + self.below(max - min + 1);
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }

    /// A name, or none for one user in eight.
    fn name(&mut self) -> Option<String> {
        (self.below(8) != 0).then(|| self.text(1, 9))
    }
}

/// What each company holds: external id → (name, active).
type Users = BTreeMap<String, (Option<String>, bool)>;

/// Names every user of `users` with a fresh random name (or none).
async fn rename_all(app: &TestApp, t: &Tenant, users: &mut Users, rng: &mut Rng, create: bool) {
    let mut items = Vec::new();
    for (external_id, (name, active)) in users.iter_mut() {
        *name = rng.name();
        items.push(json!({
            "external_id": external_id, "create": create, "name": name, "active": *active,
        }));
    }
    app.bulk_ok(t, Value::Array(items)).await;
}

/// The external ids a plain substring search would find.
fn expected(users: &Users, needle: &str, active: Option<bool>) -> Vec<String> {
    let needle = needle.to_lowercase();
    users
        .iter()
        .filter(|(_, (name, a))| {
            name.as_ref()
                .is_some_and(|n| n.to_lowercase().contains(&needle))
                && active.is_none_or(|want| *a == want)
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Every needle, alone and with an `active` filter: the total and the page
/// (which holds every match: fewer users than the largest page) agree with
/// the plain search.
async fn check(app: &TestApp, t: &Tenant, users: &Users, needles: &[String]) {
    for needle in needles {
        for active in [None, Some(true)] {
            let mut filters = json!({ "name": needle });
            if let Some(a) = active {
                filters["active"] = json!(a);
            }
            let r = app
                .get("/rest/v1/customer-users?limit=100", t.body(filters))
                .await;
            let body = r.assert_ok();
            let mut found: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["external_id"].as_str().unwrap().to_owned())
                .collect();
            found.sort();
            let want = expected(users, needle, active);
            assert_eq!(
                body["pagination"]["total"],
                json!(want.len()),
                "total for {needle:?} (active {active:?})"
            );
            assert_eq!(found, want, "matches for {needle:?} (active {active:?})");
        }
    }
}

/// Needles: pieces of the stored names (so most find something), of one to
/// five characters, and random text (so some find nothing).
fn needles(rng: &mut Rng, users: &[&Users]) -> Vec<String> {
    let names: Vec<&String> = users
        .iter()
        .flat_map(|u| u.values().filter_map(|(n, _)| n.as_ref()))
        .collect();
    let mut out = Vec::new();
    for _ in 0..40 {
        let chars: Vec<char> = names[rng.below(names.len())].chars().collect();
        let len = 1 + rng.below(chars.len().min(5));
        let start = rng.below(chars.len() - len + 1);
        out.push(chars[start..start + len].iter().collect());
    }
    for _ in 0..10 {
        out.push(rng.text(1, 5));
    }
    out
}

backend_tests! {
    async fn totals_and_matches_equal_a_plain_substring_search(app) {
        let a = app.tenant("A").await;
        let b = app.tenant("B").await;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut users_a: Users = (0..80)
            .map(|i| (format!("a-{i}"), (None, i % 3 != 0)))
            .collect();
        let mut users_b: Users = (0..60).map(|i| (format!("b-{i}"), (None, true))).collect();
        rename_all(&app, &a, &mut users_a, &mut rng, true).await;
        rename_all(&app, &b, &mut users_b, &mut rng, true).await;
        let n = needles(&mut rng, &[&users_a, &users_b]);
        check(&app, &a, &users_a, &n).await;
        check(&app, &b, &users_b, &n).await;

        // Every name changes (some to none, some from none): the index must
        // forget the old names and learn the new ones.
        rename_all(&app, &a, &mut users_a, &mut rng, false).await;
        let n = needles(&mut rng, &[&users_a, &users_b]);
        check(&app, &a, &users_a, &n).await;
        check(&app, &b, &users_b, &n).await;

        // Rows deleted behind the API's back leave the index too.
        let gone: Vec<String> = users_a.keys().step_by(4).cloned().collect();
        let list = gone.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
        app.db
            .execute(&format!(
                "DELETE FROM customer_users WHERE company_id = '{}' AND external_id IN ({list})",
                a.company
            ))
            .await;
        for id in &gone {
            users_a.remove(id);
        }
        check(&app, &a, &users_a, &n).await;
        check(&app, &b, &users_b, &n).await;
    }

    async fn a_common_name_counts_exactly_past_the_dense_threshold(app) {
        // More matches than a page walk's threshold (2000): the total still
        // comes from the index, the page from walking in list order.
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        for (tenant, n) in [(&t, 4200), (&other, 1200)] {
            for chunk in (0..n).collect::<Vec<usize>>().chunks(1000) {
                let items = chunk
                    .iter()
                    .map(|i| {
                        let name = if i % 2 == 0 { format!("Anna Smith {i}") } else { format!("Lee {i}") };
                        json!({ "external_id": format!("u-{i}"), "create": true, "name": name })
                    })
                    .collect();
                app.bulk_ok(tenant, Value::Array(items)).await;
            }
        }
        for (needle, total) in [("smith", 2100), ("SMITH 1", 5 + 50 + 500), ("lee", 2100), ("ee 25", 1 + 5 + 50)] {
            let r = app.get("/rest/v1/customer-users?limit=5", t.body(json!({ "name": needle }))).await;
            let body = r.assert_ok();
            assert_eq!(body["pagination"]["total"], json!(total), "{needle}");
            let first: Vec<&str> = body["data"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
            assert_eq!(first.len(), 5, "{needle}");
            assert!(first.iter().all(|n| n.to_lowercase().contains(&needle.to_lowercase())), "{first:?}");
        }
    }
}
