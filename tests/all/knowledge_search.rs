//! Ranking rules of `/knowledge/search`, the ranking replies use, on both
//! backends: folding, stemming, any-term, heading weight, the per-document
//! cap, agent and company scope, and whole versions under concurrent upserts.

use crate::harness::knowledge;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::json;

use knowledge::*;
use performchat::domain::now_ms;
use performchat::store::TenantStore;

backend_tests! {
    async fn case_and_diacritics_are_folded_and_english_is_stemmed(app) {
        let t = app.tenant("Acme").await;
        let accented = add_doc(&app, &t, json!({"title": "Workshops", "content": "Ask Élodie about the crème brûlée class."})).await;
        let plain = add_doc(&app, &t, json!({"title": "Pasta", "content": "zoe runs the gnocchi class."})).await;
        let money = add_doc(&app, &t, json!({"title": "Money back", "content": "A refund is issued to the card."})).await;
        for (q, doc) in [("elodie", &accented), ("ÉLODIE", &accented), ("creme brulee", &accented),
                         ("Zoë", &plain), ("refunds", &money), ("REFUNDED", &money)] {
            assert!(found(&app, &t, q).await.contains(&id(doc)), "{q}");
        }
        assert_eq!(found(&app, &t, "the of and").await, Vec::<String>::new(), "stop words decide nothing");
    }

    async fn any_term_matches_and_the_most_relevant_comes_first(app) {
        let t = app.tenant("Acme").await;
        let right = add_doc(&app, &t, json!({"title": "Warranty claims",
            "content": "To file a warranty claim for a broken toaster, send the serial number of the toaster."})).await;
        let bakery = add_doc(&app, &t, json!({"title": "Bakery", "content": "Our bakery sells loaves; claim yours early."})).await;
        add_doc(&app, &t, json!({"title": "Gift cards", "content": "Gift cards never lapse."})).await;
        let hits = found(&app, &t, "Hello! How can I make a warranty claim for my toaster? It stopped.").await;
        assert_eq!(hits, vec![id(&right), id(&bakery)], "any term matches, best first");
    }

    async fn the_heading_path_weighs_more_than_the_body(app) {
        let t = app.tenant("Acme").await;
        let body_only = add_doc(&app, &t, json!({"title": "Coastal walks",
            "content": "The trail passes the lighthouse, then the old lighthouse, before the bay and the dunes."})).await;
        let headed = add_doc(&app, &t, markdown("Opening hours",
            "# Opening hours\n\n## Lighthouse\n\nThe tower opens at ten before the bay and the dunes.")).await;
        // Twice in one body loses to once in a heading.
        assert_eq!(found(&app, &t, "lighthouse").await, vec![id(&headed), id(&body_only)]);
        let r = search(&app, &t, "q=lighthouse&limit=1").await;
        let hit = &r.assert_ok()["data"][0];
        assert_eq!(hit["heading"], "Opening hours › Lighthouse");
        assert_eq!(hit["title"], "Opening hours");
        assert!(hit["score"].as_f64().unwrap() > 0.0);
    }

    async fn one_document_gives_at_most_two_chunks_and_limit_bounds_the_rest(app) {
        let t = app.tenant("Acme").await;
        let sections: Vec<String> = (1..=6).map(|n| {
            let para = (0..12).map(|i| format!("Zeppelin hangar {n} keeps ballast for flight {n}{i}.")).collect::<Vec<_>>().join(" ");
            format!("## Hangar {n}\n\n{para}")
        }).collect();
        let long = add_doc(&app, &t, markdown("Fleet", &sections.join("\n\n"))).await;
        assert!(long["chunk_count"].as_i64().unwrap() >= 3, "{long}");
        let short = add_doc(&app, &t, json!({"title": "Shop", "content": "A zeppelin kit."})).await;
        let hits = found(&app, &t, "zeppelin").await;
        assert_eq!(hits.iter().filter(|d| **d == id(&long)).count(), 2, "{hits:?}");
        assert!(hits.contains(&id(&short)));
        let r = search(&app, &t, "q=zeppelin&limit=1").await;
        assert_eq!(r.assert_ok()["data"].as_array().unwrap().len(), 1);
        for bad in ["limit=0", "limit=21", "limit=x", "limit=1.5"] {
            assert!(search(&app, &t, &format!("q=zeppelin&{bad}")).await.assert_error(400).contains("limit"));
        }
        assert!(search(&app, &t, "limit=2").await.assert_error(400).contains('q'));
        assert!(search(&app, &t, "q=%20").await.assert_error(400).contains('q'));
        assert!(search(&app, &t, "q=a&colour=red").await.assert_error(400).contains("colour"));
    }

    async fn the_longest_question_fits_in_a_request_line(app) {
        // Over a real connection: the request line's own limit is the HTTP
        // layer's, and the longest question, in 4-byte characters
        // percent-encoded, must get an answer from us, not a bare 414.
        let t = app.tenant("Acme").await;
        let served = app.serve().await;
        let client = reqwest::Client::new();
        for (n, status) in [(1000, 200), (1001, 400)] {
            let q: String = form_urlencoded::byte_serialize("🏻".repeat(n).as_bytes()).collect();
            let url = served.url(&format!("/rest/v1/knowledge/search?q={q}"));
            let r = client.get(&url).basic_auth(&t.key.0, Some(&t.key.1)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{n} characters");
            if status == 400 {
                let body: serde_json::Value = r.json().await.unwrap();
                assert!(body["message"].as_str().unwrap().starts_with("q "), "{body}");
            }
        }
    }

    async fn documents_are_scoped_to_their_agents_and_company(app) {
        let t = app.tenant("Acme").await;
        let b = app.tenant("Globex").await;
        let other = app.store.create_agent(&t.company, "Other", None, true, now_ms()).await.unwrap().id;
        let mine = add_doc(&app, &t, json!({"title": "Care", "content": "Armadillo sand.", "agent_ids": [t.agent]})).await;
        let all = add_doc(&app, &t, json!({"title": "Facts", "content": "Armadillo breath.", "agent_ids": []})).await;
        let mut first = found_for(&app, &t, "armadillo", Some(&t.agent)).await;
        first.sort();
        let mut both = vec![id(&mine), id(&all)];
        both.sort();
        assert_eq!(first, both);
        assert_eq!(found_for(&app, &t, "armadillo", Some(&other)).await, vec![id(&all)]);
        assert_eq!(found(&app, &t, "armadillo").await.len(), 2, "without agent_id, every document");
        add_doc(&app, &b, json!({"title": "Theirs", "content": "Armadillo elsewhere."})).await;
        let theirs = found(&app, &b, "armadillo").await;
        assert_eq!(theirs.len(), 1);
        assert!(!theirs.contains(&id(&mine)) && !theirs.contains(&id(&all)));
    }

    async fn readers_see_a_whole_version_while_upserts_replace_it(app) {
        let t = app.tenant("Acme").await;
        let version = |word: &str| {
            let sections: Vec<String> = (0..4)
                .map(|n| format!("## Part {n}\n\n{}", format!("The {word} policy, section {n}. ").repeat(50)))
                .collect();
            markdown("Policy", &sections.join("\n\n"))
        };
        let uri = format!("{DOCS}/by-external-id/policy");
        assert_eq!(app.put(&uri, t.body(version("alpha"))).await.status, 201);
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (app_router, t, done) = (app.router.clone(), t.clone(), Arc::clone(&done));
            let uri = uri.clone();
            tokio::spawn(async move {
                for i in 0..12 {
                    let word = if i % 2 == 0 { "beta" } else { "alpha" };
                    let req = axum::http::Request::put(&uri)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(t.body(version(word)).to_string()))
                        .unwrap();
                    let res = tower::ServiceExt::oneshot(app_router.clone(), req).await.unwrap();
                    assert_eq!(res.status(), 200);
                }
                done.store(true, Ordering::SeqCst);
            })
        };
        let mut searches = 0;
        while !done.load(Ordering::SeqCst) || searches < 5 {
            let r = search(&app, &t, "q=alpha%20beta%20policy&limit=20").await;
            let hits = r.assert_ok()["data"].as_array().unwrap().clone();
            assert_eq!(hits.len(), 2, "the document is never missing: {hits:?}");
            let alpha = hits.iter().filter(|h| h["text"].as_str().unwrap().contains("alpha")).count();
            assert!(alpha == 0 || alpha == 2, "a mix of versions: {hits:?}");
            searches += 1;
        }
        writer.await.unwrap();
    }
}
