//! Bounded work per knowledge search, on both backends: the per-company term
//! counts follow every write of chunks, a search ranks with the rare terms
//! of a question when a common one is held by more chunks than the budget,
//! and the store's window ranks only as many matches as it is given.

use crate::harness::knowledge;

use axum::http::Method;
use serde_json::json;

use knowledge::*;
use performchat::knowledge::plan::BUDGET;
use performchat::knowledge::terms;
use performchat::store::{ChunkQuery, KnowledgeStore, TermCounts};

/// The counts of `words` (as stems) in the company, as a search reads them.
async fn counts(app: &crate::harness::TestApp, company: &str, words: &[&str]) -> TermCounts {
    let stems: Vec<String> = words.iter().map(|w| terms::indexed(w)).collect();
    app.store.term_counts(company, &stems).await.unwrap()
}

backend_tests! {
    async fn term_counts_follow_creates_replaces_and_deletes(app) {
        let t = app.tenant("Acme").await;
        let other = app.tenant("Other").await;
        add_doc(&app, &other, json!({"title": "Theirs", "content": "Walrus walrus."})).await;
        let doc = add_doc(&app, &t, markdown("Zoo", "# Zoo\n\nWalrus feeding.\n\n## Pool\n\nThe walrus pool and the penguin pool.")).await;
        let chunks = doc["chunk_count"].as_i64().unwrap();
        assert_eq!(chunks, 2, "{doc}");
        assert_eq!(counts(&app, &t.company, &["walrus", "penguin", "toaster"]).await,
                   TermCounts { chunks: 2, terms: vec![2, 1, 0] });

        let uri = format!("{DOCS}/by-external-id/kitchen");
        let first = app.put(&uri, t.body(json!({"title": "Kitchen", "content": "Toaster walrus."}))).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(counts(&app, &t.company, &["walrus", "toaster"]).await,
                   TermCounts { chunks: 3, terms: vec![3, 1] });
        let second = app.put(&uri, t.body(json!({"title": "Kitchen", "content": "Kettle only."}))).await;
        assert_eq!(second.status, 200, "{}", second.text);
        assert_eq!(counts(&app, &t.company, &["walrus", "toaster", "kettle"]).await,
                   TermCounts { chunks: 3, terms: vec![2, 0, 1] });

        let gone = app.call(Method::DELETE, &format!("{DOCS}/{}", id(&doc)), Some(t.creds())).await;
        assert_eq!(gone.status, 204, "{}", gone.text);
        assert_eq!(counts(&app, &t.company, &["walrus", "kettle"]).await,
                   TermCounts { chunks: 1, terms: vec![0, 1] });
        assert_eq!(counts(&app, &other.company, &["walrus"]).await,
                   TermCounts { chunks: 1, terms: vec![1] });
    }

    async fn the_window_ranks_only_as_many_matches_as_it_is_given(app) {
        let t = app.tenant("Acme").await;
        for n in 0..3 {
            add_doc(&app, &t, json!({"title": format!("Note {n}"), "content": "Gondola timetable."})).await;
        }
        let scope = terms::scope_token(&t.company);
        let stems = vec![terms::indexed("gondola")];
        let query = |window| ChunkQuery {
            scope: &scope, terms: &stems, agent: None, any_agent: terms::ANY_AGENT,
            limit: 10, per_document: 2, window,
        };
        assert_eq!(app.store.search_chunks(&t.company, &query(None)).await.unwrap().len(), 3);
        assert_eq!(app.store.search_chunks(&t.company, &query(Some(2))).await.unwrap().len(), 2);
        assert_eq!(app.store.search_chunks(&t.company, &query(Some(5))).await.unwrap().len(), 3);
    }

    async fn a_rare_term_is_found_when_a_common_one_fills_the_budget(app) {
        let t = app.tenant("Acme").await;
        // Written first, so it is the oldest match of "harbour" (outside
        // SQLite's window of the newest), and long, so "harbour" alone
        // would not rank it first.
        let rare = add_doc(&app, &t, json!({"title": "Keepers", "content":
            "The harbour lighthouse keeper logs ships, storms, tides, supplies, visitors and repairs."})).await;
        // More chunks than the budget hold "harbour": one heading each.
        let sections = (0..=BUDGET).map(|n| format!("## Pier {n}\n\nThe harbour crane {n} lifts crates."))
            .collect::<Vec<_>>().join("\n\n");
        let big = add_doc(&app, &t, markdown("Harbour", &sections)).await;
        assert!(big["chunk_count"].as_i64().unwrap() > BUDGET, "{}", big["chunk_count"]);
        let hits = found(&app, &t, "harbour lighthouse").await;
        assert_eq!(hits.first(), Some(&id(&rare)), "{hits:?}");
        // Only the common term: still an answer, from a bounded window.
        let hits = found(&app, &t, "harbour").await;
        assert!(!hits.is_empty());
    }
}
