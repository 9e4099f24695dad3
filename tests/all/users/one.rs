//! Customer users one at a time: get one, and update (PUT).

use super::*;

backend_tests! {
    async fn get_one_returns_the_full_object(app) {
        let t = app.tenant("Acme").await;
        let id = make_user(&app, &t, "user_1", json!({ "name": "Ann", "email": "ann@example.com", "metadata": { "plan": "premium" } })).await;
        let r = app.get(&user_url(&id), t.creds()).await;
        assert_eq!(r.headers["content-type"], "application/json");
        let user = r.assert_ok();
        assert_eq!(user["id"], json!(id));
        assert_eq!(user["external_id"], json!("user_1"));
        assert_eq!(user["name"], json!("Ann"));
        assert_eq!(user["email"], json!("ann@example.com"));
        assert_eq!(user["metadata"], json!({ "plan": "premium" }));
        assert_eq!(user["active"], json!(true));
        assert_eq!(user.as_object().unwrap().len(), 9);
        let listed = list(&app, &t, "", json!({})).await;
        assert_eq!(listed.body["data"][0], *user);
        // The alias prefix serves the same object.
        let alias = app.get(&format!("/rest/v1/v1/customer-users/{id}"), t.creds()).await;
        assert_eq!(alias.assert_ok(), user);
    }

    async fn unknown_and_foreign_users_are_the_same_404(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let theirs = make_user(&app, &other, "theirs", json!({ "name": "Theirs" })).await;
        let unknown = "cu_01ARZ3NDEKTSV4RRFFQ69G5FAV";
        let a = app.get(&user_url(&theirs), t.creds()).await;
        let b = app.get(&user_url(unknown), t.creds()).await;
        assert_eq!(a.assert_error(404), "Customer user not found");
        assert_eq!(b.assert_error(404), "Customer user not found");
        assert_eq!(a.text, b.text);

        let a = app.put(&user_url(&theirs), t.body(json!({ "name": "Mine now" }))).await;
        let b = app.put(&user_url(unknown), t.body(json!({ "name": "Mine now" }))).await;
        assert_eq!(a.assert_error(404), "Customer user not found");
        assert_eq!(a.text, b.text);
        assert_eq!(get_user(&app, &other, &theirs).await["name"], json!("Theirs"), "not changed");
    }

    async fn put_updates_fields_and_returns_the_full_object(app) {
        let t = app.tenant("Acme").await;
        let id = make_user(&app, &t, "user_1", json!({})).await;
        let before = get_user(&app, &t, &id).await;
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;

        let r = app
            .put(&user_url(&id), t.body(json!({ "name": "Ann", "email": "Ann@Example.com", "metadata": { "plan": "premium", "n": [1, 2] } })))
            .await;
        let after = r.assert_ok().clone();
        assert_eq!(after["name"], json!("Ann"));
        assert_eq!(after["email"], json!("Ann@Example.com"));
        assert_eq!(after["metadata"], json!({ "plan": "premium", "n": [1, 2] }));
        assert_eq!(after["active"], json!(true));
        assert_eq!(after["external_id"], json!("user_1"));
        assert_eq!(after["created_at"], before["created_at"]);
        assert_eq!(after["last_seen_at"], before["last_seen_at"]);
        assert!(ts(&after["updated_at"]) > ts(&before["updated_at"]), "updated_at moves");
        assert_eq!(get_user(&app, &t, &id).await, after, "the response is what was stored");

        // Fields left out stay; metadata replaces rather than merges.
        let r = app.put(&user_url(&id), t.body(json!({ "metadata": { "tier": 2 } }))).await;
        let body = r.assert_ok();
        assert_eq!(body["metadata"], json!({ "tier": 2 }));
        assert_eq!(body["name"], json!("Ann"));
        assert_eq!(body["email"], json!("Ann@Example.com"));

        // null clears name and email; {} empties metadata.
        let r = app.put(&user_url(&id), t.body(json!({ "name": null, "email": null, "metadata": {} }))).await;
        let body = r.assert_ok();
        assert_eq!(body["name"], Value::Null);
        assert_eq!(body["email"], Value::Null);
        assert_eq!(body["metadata"], json!({}));

        let r = app.put(&user_url(&id), t.body(json!({ "active": false }))).await;
        assert_eq!(r.assert_ok()["active"], json!(false));
        let r = app.put(&user_url(&id), t.body(json!({ "active": true }))).await;
        assert_eq!(r.assert_ok()["active"], json!(true));
    }

    async fn put_accepts_the_limits_exactly(app) {
        let t = app.tenant("Acme").await;
        let id = make_user(&app, &t, "user_1", json!({})).await;
        let domain = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        let email = format!("{}@{domain}", "l".repeat(64));
        for body in [
            json!({ "name": "😀".repeat(255) }),
            json!({ "name": "x".repeat(255) }),
            json!({ "name": "É" }),
            json!({ "email": email }),
            json!({ "metadata": nested(8) }),
            // Arrays are levels too: the object, then seven arrays.
            json!({ "metadata": { "a": [[[[[[[1]]]]]]] } }),
            // {"b":"…"} is 8 bytes plus the string: exactly 16 KiB.
            json!({ "metadata": { "b": "x".repeat(16 * 1024 - 8) } }),
            json!({ "metadata": { "emoji": "😀", "nested": { "list": [1, "two", null, true] } } }),
        ] {
            let r = app.put(&user_url(&id), t.body(body.clone())).await;
            let stored = r.assert_ok();
            for (k, v) in body.as_object().unwrap() {
                assert_eq!(&stored[k], v, "{k}");
            }
        }
    }

    async fn metadata_size_is_counted_in_compact_utf8_bytes(app) {
        let t = app.tenant("Acme").await;
        let id = make_user(&app, &t, "user_1", json!({})).await;
        // {"b":"…"} is 8 bytes plus the string; "é" is 2 bytes.
        let ok = json!({ "metadata": { "b": "é".repeat((16 * 1024 - 8) / 2) } });
        app.put(&user_url(&id), t.body(ok)).await.assert_ok();
        let over = json!({ "metadata": { "b": "é".repeat((16 * 1024 - 8) / 2 + 1) } });
        let r = app.put(&user_url(&id), t.body(over)).await;
        assert!(r.assert_error(400).contains("metadata"), "{}", r.text);

        // Whitespace in the request does not count: only the compact form does.
        let value = "x".repeat(16 * 1024 - 8);
        let spaced = format!(
            r#"{{ "keyId" : "{}", "keySecret" : "{}", "metadata" : {{ {pad} "b" {pad} : {pad} "{value}" {pad} }} }}"#,
            t.key.0,
            t.key.1,
            pad = " ".repeat(2_000)
        );
        let req = axum::http::Request::put(user_url(&id))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(spaced))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.assert_ok()["metadata"]["b"], json!(value));
    }

    async fn put_validation_refuses_and_writes_nothing(app) {
        let t = app.tenant("Acme").await;
        let id = make_user(&app, &t, "user_1", json!({ "name": "Ann", "email": "ann@example.com", "metadata": { "plan": "premium" } })).await;
        let before = get_user(&app, &t, &id).await;
        let long_email = format!("{}@{}.com", "a".repeat(64), "b".repeat(320));
        for (body, field) in [
            (json!({ "email": "not-an-email" }), "email"),
            (json!({ "email": "ann@" }), "email"),
            (json!({ "email": "@example.com" }), "email"),
            (json!({ "email": "a b@example.com" }), "email"),
            (json!({ "email": long_email }), "email"),
            (json!({ "email": "" }), "email"),
            (json!({ "email": 5 }), "email"),
            (json!({ "name": "" }), "name"),
            (json!({ "name": "x".repeat(256) }), "name"),
            (json!({ "name": "😀".repeat(256) }), "name"),
            (json!({ "name": 5 }), "name"),
            (json!({ "name": ["Ann"] }), "name"),
            (json!({ "metadata": null }), "metadata"),
            (json!({ "metadata": [1] }), "metadata"),
            (json!({ "metadata": "{}" }), "metadata"),
            (json!({ "metadata": 5 }), "metadata"),
            (json!({ "metadata": nested(9) }), "metadata"),
            (json!({ "metadata": { "a": [[[[[[[[1]]]]]]]] } }), "metadata"),
            (json!({ "metadata": { "b": "x".repeat(16 * 1024 - 7) } }), "metadata"),
            (json!({ "active": "false" }), "active"),
            (json!({ "active": 0 }), "active"),
            (json!({ "active": null }), "active"),
            (json!({ "external_id": "other" }), "external_id"),
            (json!({ "external_id": "user_1" }), "external_id"),
            (json!({ "externalId": "other" }), "externalId"),
            (json!({ "nickname": "Annie" }), "nickname"),
            (json!({ "id": "cu_other" }), "id"),
            // A valid change next to a bad one is not applied either.
            (json!({ "name": "Changed", "email": "bad" }), "email"),
            (json!({ "name": "Changed", "metadata": [] }), "metadata"),
            (json!({ "name": "Changed", "surprise": 1 }), "surprise"),
        ] {
            let r = app.put(&user_url(&id), t.body(body.clone())).await;
            let message = r.assert_error(400);
            assert!(message.contains(field), "{body}: {message}");
            assert_eq!(get_user(&app, &t, &id).await, before, "nothing written for {body}");
        }
    }
}
