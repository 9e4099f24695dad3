//! Every page of a listing carries the exact total, and the same listing asked
//! again sees every write made since, through any path. The server answers
//! some totals without counting rows (src/store/sql/counts.rs): a listing on
//! nothing or on `active` alone from the per-company counts, and a name
//! search from a total remembered with the company's names version.
//! These tests ask the same listings before and after each kind of write.

use crate::harness;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};

const USERS: &str = "/rest/v1/customer-users";

/// The totals of the listings under test, in order: no filter, active,
/// inactive, "smith", "SMITH" (the same search folded), "lee".
async fn totals(app: &TestApp, t: &Tenant) -> [i64; 6] {
    let filters = [
        json!({}),
        json!({ "active": true }),
        json!({ "active": false }),
        json!({ "name": "smith" }),
        json!({ "name": "SMITH" }),
        json!({ "name": "lee" }),
    ];
    let mut out = [0; 6];
    for (slot, filter) in out.iter_mut().zip(filters) {
        // Twice: the second may be answered from what the first remembered.
        let mut seen = Vec::new();
        for page in [1, 2] {
            let r = app
                .get(
                    &format!("{USERS}?limit=2&page={page}"),
                    t.body(filter.clone()),
                )
                .await;
            seen.push(r.assert_ok()["pagination"]["total"].as_i64().unwrap());
        }
        assert_eq!(seen[0], seen[1], "{filter}");
        *slot = seen[0];
    }
    out
}

/// The user id of `external_id` in `t`.
async fn id_of(app: &TestApp, t: &Tenant, external_id: &str) -> String {
    let r = app
        .get(USERS, t.body(json!({ "external_id": external_id })))
        .await;
    r.assert_ok()["data"][0]["id"].as_str().unwrap().to_owned()
}

backend_tests! {
    async fn a_repeated_listing_sees_every_write_since(app) {
        let a = app.tenant("A").await;
        let b = app.tenant("B").await;
        let people = |prefix: &str, n: usize, name: &str| -> Value {
            (0..n)
                .map(|i| json!({ "external_id": format!("{prefix}{i}"), "name": format!("{name} {i}"), "create": true }))
                .collect()
        };
        app.bulk_ok(&a, people("s", 10, "Anna Smith")).await;
        app.bulk_ok(&a, people("l", 5, "Lee")).await;
        app.bulk_ok(&b, people("s", 3, "Bo Smith")).await;
        assert_eq!(totals(&app, &a).await, [15, 15, 0, 10, 10, 5]);
        assert_eq!(totals(&app, &b).await, [3, 3, 0, 3, 3, 0]);

        // A new Smith, and a user without a name.
        app.bulk_ok(&a, json!([
            { "external_id": "s10", "name": "Zoë SMITH", "create": true },
            { "external_id": "nameless", "create": true },
        ])).await;
        assert_eq!(totals(&app, &a).await, [17, 17, 0, 11, 11, 5]);

        // Renamed one at a time: a Lee becomes a Smith, a Smith loses the name.
        let lee = id_of(&app, &a, "l0").await;
        app.put(&format!("{USERS}/{lee}"), a.body(json!({ "name": "Lee Smithson" }))).await.assert_ok();
        assert_eq!(totals(&app, &a).await, [17, 17, 0, 12, 12, 5]);
        let smith = id_of(&app, &a, "s0").await;
        app.put(&format!("{USERS}/{smith}"), a.body(json!({ "name": null }))).await.assert_ok();
        assert_eq!(totals(&app, &a).await, [17, 17, 0, 11, 11, 5]);

        // Renamed in bulk, and deactivated: a Smith becomes a Lee.
        app.bulk_ok(&a, json!([
            { "external_id": "s1", "name": "Lee Jones" },
            { "external_id": "s2", "active": false },
            { "external_id": "l1", "active": false },
        ])).await;
        assert_eq!(totals(&app, &a).await, [17, 15, 2, 10, 10, 6]);

        // The same name again changes nothing.
        app.bulk_ok(&a, json!([{ "external_id": "s3", "name": "Anna Smith 3" }])).await;
        assert_eq!(totals(&app, &a).await, [17, 15, 2, 10, 10, 6]);

        // Tokens for a new user and a known one (a new user has no name).
        app.token(&a, "token-only").await;
        app.token(&a, "s4").await;
        assert_eq!(totals(&app, &a).await, [18, 16, 2, 10, 10, 6]);

        // Written behind the server's back, on a connection of its own, as
        // another process would: a Smith deleted, a Lee inserted.
        app.db.execute(&format!(
            "DELETE FROM customer_users WHERE company_id = '{}' AND external_id = 's5'",
            a.company
        )).await;
        assert_eq!(totals(&app, &a).await, [17, 15, 2, 9, 9, 6]);
        app.db.execute(&format!(
            "UPDATE customer_users SET name = 'Smith Lee', name_folded = 'smith lee' \
             WHERE company_id = '{}' AND external_id = 'nameless'",
            a.company
        )).await;
        assert_eq!(totals(&app, &a).await, [17, 15, 2, 10, 10, 7]);

        // The other company saw none of it.
        assert_eq!(totals(&app, &b).await, [3, 3, 0, 3, 3, 0]);
    }
}
