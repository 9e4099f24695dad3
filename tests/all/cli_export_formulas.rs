//! `users export --csv-formulas`: the CLI's CSV escapes formula-like cells
//! as the server does by default, and gives them as stored with `raw`.

use crate::harness;

use std::process::Command;

use harness::TestApp;
use performchat::store::Backend;

async fn export(url: &str, key: &(String, String), extra: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_performchat"));
    cmd.args(["users", "export", "--format", "csv"])
        .args(extra)
        .env("PERFORMCHAT_URL", url)
        .env("PERFORMCHAT_KEY_ID", &key.0)
        .env("PERFORMCHAT_KEY_SECRET", &key.1);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_escapes_formulas_unless_asked_for_raw_cells() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.tenant("Acme").await;
    let served = app.serve().await;
    let url = served.url("");
    app.token(&t, "=HYPERLINK(\"http://evil.example\")").await;

    let escaped = export(&url, &t.key, &[]).await;
    assert!(
        escaped.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\","),
        "{escaped}"
    );
    let same = export(&url, &t.key, &["--csv-formulas", "escape"]).await;
    assert_eq!(same, escaped);
    let raw = export(&url, &t.key, &["--csv-formulas", "raw"]).await;
    assert!(
        raw.contains(",\"=HYPERLINK(\"\"http://evil.example\"\")\","),
        "{raw}"
    );
}
