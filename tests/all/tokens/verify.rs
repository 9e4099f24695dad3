//! auth/verify-token, and the key details a token answer carries.

use super::*;

backend_tests! {
    async fn verify_returns_the_user_and_agent(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        let r = verify(&app, &t, tok["token"].as_str().unwrap()).await;
        let body = r.assert_ok();
        assert_eq!(body["valid"], json!(true));
        assert_eq!(body["customerUser"], get_user(&app, &t, &id).await);
        assert_eq!(body["agent"], json!({ "id": t.agent, "name": "Acme Support", "active": true }));
        assert_eq!(body["expiresAt"], tok["expiresAt"]);
    }

    async fn verify_refuses_forged_tokens(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let token = tok["token"].as_str().unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let claims = decode_part(token, 1);

        // Signed with another secret.
        let foreign = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"not the server's secret"),
        )
        .unwrap();
        // alg none, with and without a signature part.
        let none_header = encode_part(&json!({ "alg": "none", "typ": "JWT" }));
        let alg_none = format!("{none_header}.{}.", parts[1]);
        let alg_none_signed = format!("{none_header}.{}.{}", parts[1], parts[2]);
        // Another algorithm named in the header, original signature.
        let hs512 = format!("{}.{}.{}", encode_part(&json!({ "alg": "HS512", "typ": "JWT" })), parts[1], parts[2]);
        // Payload changed (another user), original signature.
        let mut changed = claims.clone();
        changed["tokenVersion"] = json!(7);
        changed["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
        let tampered = format!("{}.{}.{}", parts[0], encode_part(&changed), parts[2]);
        // Signature bytes changed.
        let mut sig = parts[2].to_owned();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        sig.replace_range(0..1, flipped);
        let bad_sig = format!("{}.{}.{sig}", parts[0], parts[1]);

        for forged in [foreign, alg_none, alg_none_signed, hs512, tampered, bad_sig, "not.a.token".into(), "garbage".into(), String::new()] {
            let r = verify(&app, &t, &forged).await;
            assert_eq!(r.assert_error(401), "Invalid token", "{forged}");
        }
        verify(&app, &t, token).await.assert_ok();
    }

    async fn verify_refuses_expired_tokens(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let r = issue_with_expiry(&app, &t, json!("1s")).await;
        let token = r.assert_ok()["token"].as_str().unwrap().to_owned();
        let id = r.body["customerUser"]["id"].as_str().unwrap().to_owned();
        // Every later check would fail too: expiry is checked before them.
        app.post(INVALIDATE, t.body(json!({ "customerUserId": id }))).await.assert_ok();
        app.put(&format!("/rest/v1/customer-users/{id}"), t.body(json!({ "active": false }))).await.assert_ok();
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        let r = verify(&app, &t, &token).await;
        assert_eq!(r.assert_error(401), "Token has expired");
        let r = verify(&app, &other, &token).await;
        assert_eq!(r.assert_error(401), "Token has expired");
    }

    async fn verify_checks_run_in_the_documented_order(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let tok = app.token(&t, "user_1").await;
        let token = tok["token"].as_str().unwrap().to_owned();
        let id = tok["customerUser"]["id"].as_str().unwrap().to_owned();
        // Failures are added from the last check to the first; each time the
        // earliest failing check is the one reported.
        assert!(app.store.set_agent_active(&t.company, &t.agent, false, now_ms()).await.unwrap());
        assert_eq!(verify(&app, &t, &token).await.assert_error(401), "Agent not found or inactive");
        app.post(INVALIDATE, t.body(json!({ "customerUserId": id }))).await.assert_ok();
        assert_eq!(verify(&app, &t, &token).await.assert_error(401), "Token has been invalidated");
        app.put(&format!("/rest/v1/customer-users/{id}"), t.body(json!({ "active": false }))).await.assert_ok();
        assert_eq!(verify(&app, &t, &token).await.assert_error(401), "Customer user not found or inactive");
        // The company comes before anything about the user.
        assert_eq!(verify(&app, &other, &token).await.assert_error(401), "Token does not belong to your company");
        let mut claims: performchat::auth::Claims = serde_json::from_value(decode_part(&token, 1)).unwrap();
        claims.exp = claims.iat + app.state.config.max_token_ttl_secs + 1;
        let too_long = app.state.signer.sign(&claims);
        assert_eq!(verify(&app, &other, &too_long).await.assert_error(401), "Token lifetime exceeds the maximum");
        let (head, sig) = too_long.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        let forged = format!("{head}.{flipped}{}", &sig[1..]);
        assert_eq!(verify(&app, &other, &forged).await.assert_error(401), "Invalid token");
    }

    async fn api_key_details_come_from_the_key_used(app) {
        let t = app.tenant("Acme").await;
        let (record, secret) = performchat::auth::create_api_key(
            app.store.as_ref(),
            &t.company,
            "Staging API Key",
            performchat::domain::Environment::Staging,
            performchat::domain::Permissions::parse_list("chat:send").unwrap(),
            None,
        )
        .await
        .unwrap();
        let r = app
            .post(TOKEN, harness::with_creds(&(record.id.clone(), secret), json!({ "userId": "u1", "agentId": t.agent })))
            .await;
        assert_eq!(r.assert_ok()["apiKey"], json!({ "id": record.id, "name": "Staging API Key", "environment": "staging" }));
    }

    async fn verify_refuses_tokens_of_inactive_users(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let id = tok["customerUser"]["id"].as_str().unwrap();
        app.put(&format!("/rest/v1/customer-users/{id}"), t.body(json!({ "active": false }))).await.assert_ok();
        let r = verify(&app, &t, tok["token"].as_str().unwrap()).await;
        assert_eq!(r.assert_error(401), "Customer user not found or inactive");
    }

    async fn verify_refuses_another_companys_key(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        let tok = app.token(&t, "user_1").await;
        let r = verify(&app, &other, tok["token"].as_str().unwrap()).await;
        assert_eq!(r.assert_error(401), "Token does not belong to your company");
    }

    async fn verify_refuses_tokens_of_deactivated_agents(app) {
        let t = app.tenant("Acme").await;
        let tok = app.token(&t, "user_1").await;
        let token = tok["token"].as_str().unwrap();
        assert!(app.store.set_agent_active(&t.company, &t.agent, false, now_ms()).await.unwrap());
        let r = verify(&app, &t, token).await;
        assert_eq!(r.assert_error(401), "Agent not found or inactive");
        assert!(app.store.set_agent_active(&t.company, &t.agent, true, now_ms()).await.unwrap());
        verify(&app, &t, token).await.assert_ok();
    }

    async fn verify_needs_a_string_token(app) {
        let t = app.tenant("Acme").await;
        for body in [json!({ "token": 5 }), json!({ "token": null }), json!({})] {
            let r = app.post(VERIFY, t.body(body)).await;
            assert!(r.assert_error(400).contains("token"), "{}", r.text);
        }
    }
}
