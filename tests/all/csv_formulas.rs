//! The CSV export does not hand a spreadsheet formulas: a cell starting with
//! `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP's CSV injection
//! advice), `csv_formulas=raw` gives the cells as stored, and NDJSON is never
//! altered. End users choose their `userId`, which becomes `external_id`.

use crate::harness;

use serde_json::{json, Value};

use harness::{Tenant, TestApp};

const EXPORT: &str = "/rest/v1/customer-users/export";

/// (external_id, name) pairs a spreadsheet would run, and harmless ones.
const PLANTED: &[(&str, &str)] = &[
    ("=HYPERLINK(\"http://evil.example\",\"x\")", "=1+1"),
    ("+441234", "+cmd|' /C calc'!A0"),
    ("-2,3", "-sum"),
    ("@SUM(A1)", "@x"),
    ("\ttab", "\rcr"),
    ("plain", "a=b"),
];

async fn seed(app: &TestApp, t: &Tenant) {
    let updates: Vec<Value> = PLANTED
        .iter()
        .map(|(ext, name)| json!({ "external_id": ext, "name": name, "create": true }))
        .collect();
    app.bulk_ok(t, json!(updates)).await;
}

/// The export's rows after the header, as (external_id, name) cells.
async fn csv_cells(app: &TestApp, t: &Tenant, query: &str) -> Vec<(String, String)> {
    let r = app.get(&format!("{EXPORT}{query}"), t.creds()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut reader = csv::ReaderBuilder::new().from_reader(r.text.as_bytes());
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (row[1].to_owned(), row[2].to_owned())
        })
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

backend_tests! {
    async fn formula_cells_are_escaped_unless_raw_is_asked_for(app) {
        let t = app.tenant("Acme").await;
        seed(&app, &t).await;
        let guarded = |s: &str| {
            if matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')) {
                format!("'{s}")
            } else {
                s.to_owned()
            }
        };
        let escaped: Vec<(String, String)> =
            PLANTED.iter().map(|(e, n)| (guarded(e), guarded(n))).collect();
        let raw: Vec<(String, String)> =
            PLANTED.iter().map(|(e, n)| (e.to_string(), n.to_string())).collect();
        assert_eq!(sorted(csv_cells(&app, &t, "").await), sorted(escaped.clone()));
        assert_eq!(
            sorted(csv_cells(&app, &t, "?csv_formulas=escape&format=csv").await),
            sorted(escaped)
        );
        assert_eq!(sorted(csv_cells(&app, &t, "?csv_formulas=raw").await), sorted(raw));

        // NDJSON is never altered, whatever csv_formulas says.
        for query in ["?format=ndjson", "?format=ndjson&csv_formulas=escape"] {
            let r = app.get(&format!("{EXPORT}{query}"), t.creds()).await;
            let mut lines: Vec<(String, String)> = r
                .text
                .lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    (v["external_id"].as_str().unwrap().into(), v["name"].as_str().unwrap().into())
                })
                .collect();
            lines.sort();
            let mut expected: Vec<(String, String)> =
                PLANTED.iter().map(|(e, n)| (e.to_string(), n.to_string())).collect();
            expected.sort();
            assert_eq!(lines, expected, "{query}");
        }
    }

    async fn csv_formulas_is_strict(app) {
        let t = app.tenant("Acme").await;
        for bad in ["RAW", "", "off", "raw&csv_formulas=raw"] {
            let r = app.get(&format!("{EXPORT}?csv_formulas={bad}"), t.creds()).await;
            let message = r.assert_error(400);
            assert!(message.contains("csv_formulas"), "{bad:?}: {message}");
        }
        let doc = app.get("/rest/v1/openapi.json", json!({})).await;
        let params = doc.body["paths"]["/rest/v1/customer-users/export"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone();
        let param = params.iter().find(|p| p["name"] == "csv_formulas").expect("documented");
        assert_eq!(param["in"], "query");
        assert_eq!(param["schema"]["enum"], json!(["escape", "raw"]), "{param}");
    }
}
