//! Customer users: list/search with pagination and filters, get one, update.

use crate::harness;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use harness::{Reply, Tenant, TestApp};

const USERS: &str = "/rest/v1/customer-users";

/// Creates a user through a token and sets `fields` on it; returns its id.
async fn make_user(app: &TestApp, t: &Tenant, external_id: &str, fields: Value) -> String {
    let tok = app.token(t, external_id).await;
    let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
    if fields.as_object().is_some_and(|f| !f.is_empty()) {
        app.put(&format!("{USERS}/{id}"), t.body(fields))
            .await
            .assert_ok();
    }
    id
}

async fn list(app: &TestApp, t: &Tenant, query: &str, filters: Value) -> Reply {
    app.get(&format!("{USERS}{query}"), t.body(filters)).await
}

/// The external ids a listing returns, in order.
fn external_ids(r: &Reply) -> Vec<String> {
    r.assert_ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["external_id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ts(v: &Value) -> DateTime<Utc> {
    let text = v.as_str().expect("timestamp string");
    assert!(text.ends_with('Z'), "{text}");
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn user_url(id: &str) -> String {
    format!("{USERS}/{id}")
}

async fn get_user(app: &TestApp, t: &Tenant, id: &str) -> Value {
    app.get(&user_url(id), t.creds()).await.assert_ok().clone()
}

fn nested(levels: usize) -> Value {
    let mut v = json!({ "leaf": true });
    for _ in 1..levels {
        v = json!({ "d": v });
    }
    v
}

backend_tests! {
    async fn list_has_the_documented_shape(app) {
        let t = app.tenant("Acme").await;
        let r = list(&app, &t, "", json!({})).await;
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(*r.assert_ok(), json!({ "data": [], "pagination": { "page": 1, "limit": 20, "total": 0, "total_pages": 0 } }));

        make_user(&app, &t, "user_1", json!({ "name": "Ann", "email": "ann@example.com", "metadata": { "plan": "premium" } })).await;
        let r = list(&app, &t, "", json!({})).await;
        let body = r.assert_ok();
        assert_eq!(body["pagination"], json!({ "page": 1, "limit": 20, "total": 1, "total_pages": 1 }));
        let user = &body["data"][0];
        let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            sorted(keys.iter().map(|s| s.to_string()).collect()),
            sorted(["id", "external_id", "name", "email", "metadata", "active", "created_at", "updated_at", "last_seen_at"].map(String::from).to_vec())
        );
        assert!(user["id"].as_str().unwrap().starts_with("cu_"));
        assert_eq!(user["name"], json!("Ann"));
        assert_eq!(user["email"], json!("ann@example.com"));
        assert_eq!(user["metadata"], json!({ "plan": "premium" }));
        assert_eq!(user["active"], json!(true));
        ts(&user["created_at"]);
        ts(&user["updated_at"]);
        ts(&user["last_seen_at"]);
    }

    async fn total_pages_is_the_ceiling_and_pages_past_the_end_are_empty(app) {
        let t = app.tenant("Acme").await;
        for i in 0..7 {
            make_user(&app, &t, &format!("u{i}"), json!({})).await;
        }
        for (limit, pages) in [(1, 7), (2, 4), (3, 3), (6, 2), (7, 1), (8, 1), (100, 1)] {
            let r = list(&app, &t, &format!("?limit={limit}"), json!({})).await;
            let body = r.assert_ok();
            assert_eq!(body["pagination"], json!({ "page": 1, "limit": limit, "total": 7, "total_pages": pages }));
            assert_eq!(body["data"].as_array().unwrap().len(), limit.min(7));
        }
        let r = list(&app, &t, "?page=3&limit=3", json!({})).await;
        assert_eq!(external_ids(&r).len(), 1);
        for page in ["4", "5", "1000", "4294967295"] {
            let r = list(&app, &t, &format!("?page={page}&limit=3"), json!({})).await;
            let body = r.assert_ok();
            assert_eq!(body["data"], json!([]), "page {page}");
            assert_eq!(body["pagination"]["total"], json!(7));
            assert_eq!(body["pagination"]["total_pages"], json!(3));
            assert_eq!(body["pagination"]["page"].to_string(), page);
        }
        // total_pages is 0 when a filter matches nobody.
        let r = list(&app, &t, "?limit=3", json!({ "external_id": "nobody" })).await;
        assert_eq!(r.assert_ok()["pagination"], json!({ "page": 1, "limit": 3, "total": 0, "total_pages": 0 }));
    }

    async fn paging_is_stable_and_sees_each_user_once(app) {
        let t = app.tenant("Acme").await;
        for i in 0..23 {
            make_user(&app, &t, &format!("u{i:02}"), json!({})).await;
        }
        let all = list(&app, &t, "?limit=100", json!({})).await;
        let all_users = all.assert_ok()["data"].as_array().unwrap().clone();
        assert_eq!(all_users.len(), 23);
        // Order is created_at, then id.
        for pair in all_users.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let key = |u: &Value| (ts(&u["created_at"]), u["id"].as_str().unwrap().to_owned());
            assert!(key(a) < key(b), "{a} before {b}");
        }
        let expected: Vec<String> = all_users.iter().map(|u| u["external_id"].as_str().unwrap().to_owned()).collect();

        // Page through while new users arrive: each old user is seen exactly once, in order.
        let mut seen = Vec::new();
        for page in 1..=5 {
            let r = list(&app, &t, &format!("?page={page}&limit=5"), json!({})).await;
            seen.extend(external_ids(&r));
            make_user(&app, &t, &format!("late{page}"), json!({})).await;
        }
        let old: Vec<String> = seen.iter().filter(|e| e.starts_with('u')).cloned().collect();
        assert_eq!(old, expected);
        assert_eq!(seen.len(), seen.iter().collect::<std::collections::BTreeSet<_>>().len(), "no duplicates");
    }

    async fn page_and_limit_are_strict(app) {
        let t = app.tenant("Acme").await;
        for bad in [
            "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=+5", "limit=1e1", "limit=%2010",
            "page=0", "page=-1", "page=x", "page=", "page=1.0", "page=99999999999", "page=1&page=2",
        ] {
            let r = list(&app, &t, &format!("?{bad}"), json!({})).await;
            let message = r.assert_error(400);
            let field = if bad.starts_with("limit") { "limit" } else { "page" };
            assert!(message.contains(field), "{bad}: {message}");
        }
        for (q, page, limit) in [("", 1, 20), ("?limit=1", 1, 1), ("?limit=100", 1, 100), ("?page=2", 2, 20)] {
            let r = list(&app, &t, q, json!({})).await;
            assert_eq!(r.assert_ok()["pagination"]["page"], json!(page));
            assert_eq!(r.body["pagination"]["limit"], json!(limit));
        }
    }

    async fn name_filter_is_a_case_insensitive_substring(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "elodie", json!({ "name": "élodie Martin" })).await;
        make_user(&app, &t, "ann", json!({ "name": "Ann Smith" })).await;
        make_user(&app, &t, "joann", json!({ "name": "JoANNa" })).await;
        make_user(&app, &t, "nameless", json!({})).await;
        for (query, expected) in [
            ("ann", vec!["ann", "joann"]),
            ("ANN", vec!["ann", "joann"]),
            ("smith", vec!["ann"]),
            ("n s", vec!["ann"]),
            ("ÉLODIE", vec!["elodie"]),
            ("Élodie mar", vec!["elodie"]),
            ("élodie", vec!["elodie"]),
            ("zzz", vec![]),
        ] {
            let r = list(&app, &t, "", json!({ "name": query })).await;
            assert_eq!(sorted(external_ids(&r)), expected, "body name={query}");
            let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let r = list(&app, &t, &format!("?name={encoded}"), json!({})).await;
            assert_eq!(sorted(external_ids(&r)), expected, "query name={query}");
        }
    }

    async fn name_filter_treats_wildcards_literally(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "pct", json!({ "name": "100% done" })).await;
        make_user(&app, &t, "plain", json!({ "name": "100 x done" })).await;
        make_user(&app, &t, "under", json!({ "name": "a_b" })).await;
        make_user(&app, &t, "axb", json!({ "name": "axb" })).await;
        make_user(&app, &t, "slash", json!({ "name": "back\\slash" })).await;
        make_user(&app, &t, "noslash", json!({ "name": "backslash" })).await;
        for (query, expected) in [
            ("%", vec!["pct"]),
            ("100%", vec!["pct"]),
            ("0% d", vec!["pct"]),
            ("_", vec!["under"]),
            ("a_b", vec!["under"]),
            ("\\", vec!["slash"]),
            ("k\\s", vec!["slash"]),
            ("\\%", vec![]),
            ("%%", vec![]),
        ] {
            let r = list(&app, &t, "", json!({ "name": query })).await;
            assert_eq!(sorted(external_ids(&r)), expected, "name={query}");
        }
    }

    async fn email_filter_is_case_insensitive_and_exact(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "ann", json!({ "email": "Ann@Example.com" })).await;
        make_user(&app, &t, "bob", json!({ "email": "bob@example.com" })).await;
        make_user(&app, &t, "none", json!({})).await;
        for (query, expected) in [
            ("ann@example.com", vec!["ann"]),
            ("ANN@EXAMPLE.COM", vec!["ann"]),
            ("Ann@Example.com", vec!["ann"]),
            ("ann@example", vec![]),
            ("example.com", vec![]),
            ("nn@example.com", vec![]),
        ] {
            let r = list(&app, &t, "", json!({ "email": query })).await;
            assert_eq!(external_ids(&r), expected, "email={query}");
        }
        let r = list(&app, &t, "?email=BOB%40example.com", json!({})).await;
        assert_eq!(external_ids(&r), vec!["bob"]);

        make_user(&app, &t, "elodie", json!({ "email": "Élodie@Exemple.fr" })).await;
        for query in ["élodie@exemple.fr", "ÉLODIE@EXEMPLE.FR", "Élodie@Exemple.fr"] {
            let r = list(&app, &t, "", json!({ "email": query })).await;
            assert_eq!(external_ids(&r), vec!["elodie"], "email={query}");
        }
    }

    async fn external_id_filter_is_exact(app) {
        let t = app.tenant("Acme").await;
        for e in ["user_1", "user_10", "USER_1", "user%"] {
            make_user(&app, &t, e, json!({})).await;
        }
        for (query, expected) in [("user_1", vec!["user_1"]), ("USER_1", vec!["USER_1"]), ("user_", vec![]), ("user%", vec!["user%"]), ("ser_1", vec![])] {
            let r = list(&app, &t, "", json!({ "external_id": query })).await;
            assert_eq!(external_ids(&r), expected, "external_id={query}");
        }
        let r = list(&app, &t, "?external_id=user_10", json!({})).await;
        assert_eq!(external_ids(&r), vec!["user_10"]);
    }

    async fn active_filter_and_filters_combine_with_and(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "ann_on", json!({ "name": "Ann", "email": "a@x.io" })).await;
        make_user(&app, &t, "ann_off", json!({ "name": "Ann", "active": false })).await;
        make_user(&app, &t, "bob_off", json!({ "name": "Bob", "active": false })).await;
        let cases = [
            (json!({ "active": true }), vec!["ann_on"]),
            (json!({ "active": false }), vec!["ann_off", "bob_off"]),
            (json!({ "name": "ann", "active": false }), vec!["ann_off"]),
            (json!({ "name": "ann", "active": true, "email": "A@X.IO" }), vec!["ann_on"]),
            (json!({ "name": "bob", "active": true }), vec![]),
            (json!({ "name": "ann", "external_id": "bob_off" }), vec![]),
            (json!({ "external_id": "bob_off", "active": false }), vec!["bob_off"]),
        ];
        for (filters, expected) in cases {
            let r = list(&app, &t, "", filters.clone()).await;
            assert_eq!(sorted(external_ids(&r)), expected, "{filters}");
            assert_eq!(r.body["pagination"]["total"], json!(expected.len()));
        }
        let r = list(&app, &t, "?active=false&name=ann", json!({})).await;
        assert_eq!(external_ids(&r), vec!["ann_off"]);
        let r = list(&app, &t, "?active=true", json!({})).await;
        assert_eq!(external_ids(&r), vec!["ann_on"]);
    }

    async fn body_filters_win_over_the_query_string(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "on", json!({ "name": "Ann" })).await;
        make_user(&app, &t, "off", json!({ "name": "Bob", "active": false })).await;
        let r = list(&app, &t, "?active=false", json!({ "active": true })).await;
        assert_eq!(external_ids(&r), vec!["on"]);
        let r = list(&app, &t, "?name=bob", json!({ "name": "ann" })).await;
        assert_eq!(external_ids(&r), vec!["on"]);
        // Different filters from each place still combine.
        let r = list(&app, &t, "?name=bob", json!({ "active": false })).await;
        assert_eq!(external_ids(&r), vec!["off"]);
        let r = list(&app, &t, "?name=bob", json!({ "active": true })).await;
        assert_eq!(external_ids(&r), Vec::<String>::new());
    }

    async fn bad_filters_are_400_naming_the_field(app) {
        let t = app.tenant("Acme").await;
        make_user(&app, &t, "u1", json!({})).await;
        for (filters, field) in [
            (json!({ "name": null }), "name"),
            (json!({ "email": null }), "email"),
            (json!({ "external_id": null }), "external_id"),
            (json!({ "active": null }), "active"),
            (json!({ "name": "" }), "name"),
            (json!({ "email": "" }), "email"),
            (json!({ "external_id": "" }), "external_id"),
            (json!({ "name": 5 }), "name"),
            (json!({ "email": ["a@b.c"] }), "email"),
            (json!({ "external_id": 1 }), "external_id"),
            (json!({ "active": "true" }), "active"),
            (json!({ "active": 1 }), "active"),
            (json!({ "externalId": "u1" }), "externalId"),
            (json!({ "Name": "u" }), "Name"),
            (json!({ "page": 2 }), "page"),
        ] {
            let r = list(&app, &t, "", filters.clone()).await;
            let message = r.assert_error(400);
            assert!(message.contains(field), "{filters}: {message}");
        }
        for (query, field) in [
            ("externalId=u1", "externalId"),
            ("search=u", "search"),
            ("keyId=x", "keyId"),
            ("name=", "name"),
            ("email=", "email"),
            ("external_id=", "external_id"),
            ("active=yes", "active"),
            ("active=1", "active"),
            ("active=", "active"),
            ("name=a&name=b", "name"),
        ] {
            let r = list(&app, &t, &format!("?{query}"), json!({})).await;
            let message = r.assert_error(400);
            assert!(message.contains(field), "{query}: {message}");
        }
    }

    async fn lists_never_show_another_companys_users(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        make_user(&app, &t, "mine", json!({ "name": "Shared Name", "email": "same@example.com" })).await;
        make_user(&app, &other, "theirs", json!({ "name": "Shared Name", "email": "same@example.com" })).await;
        make_user(&app, &other, "theirs2", json!({})).await;
        let r = list(&app, &t, "", json!({})).await;
        assert_eq!(external_ids(&r), vec!["mine"]);
        assert_eq!(r.body["pagination"]["total"], json!(1));
        for filters in [json!({ "name": "shared" }), json!({ "email": "same@example.com" })] {
            let r = list(&app, &t, "", filters).await;
            assert_eq!(external_ids(&r), vec!["mine"]);
        }
        let r = list(&app, &t, "", json!({ "external_id": "theirs" })).await;
        assert_eq!(r.assert_ok()["pagination"]["total"], json!(0));
        let r = list(&app, &other, "", json!({})).await;
        assert_eq!(r.assert_ok()["pagination"]["total"], json!(2));
    }
}

mod one;
