//! The admin CLI as a newcomer meets it: it never creates a database behind
//! the operator's back, lists refuse unknown companies, every error is one
//! line naming the cause and the fix, and `--json` speaks one casing.

use crate::harness::nodes;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use nodes::{cli, create_database, BIN};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("PERFORMCHAT_DATABASE_URL")
        .args(args)
        .output()
        .expect("run performchat")
}

/// The one-line error of a failed command.
fn error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn admin_commands_refuse_to_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["company", "list"][..],
        &["company", "create", "--name", "Acme"],
        &["agent", "list", "--company", "co_x"],
        &["api-key", "revoke", "pk_x"],
    ] {
        let err = error(&run(dir.path(), args));
        let expected = dir.path().join("performchat.db");
        assert!(
            err.contains(&format!("no database at {}", expected.display())),
            "names the absolute path it looked at: {err}"
        );
        assert!(
            err.contains("performchat serve") && err.contains("quickstart"),
            "{err}"
        );
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no file was created"
    );
    // The database options may also follow the command.
    let db = format!("sqlite://{}/elsewhere.db", dir.path().display());
    let err = error(&run(
        dir.path(),
        &["company", "list", "--database-url", &db],
    ));
    assert!(err.contains("elsewhere.db"), "{err}");
}

#[test]
fn serve_and_quickstart_create_it_and_say_when_a_folder_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["quickstart"]);
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("performchat.db").exists());
    let listed = run(dir.path(), &["company", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("My Company"));

    let missing = dir.path().join("no/such/folder/pc.db");
    let url = format!("sqlite://{}", missing.display());
    let err = error(&run(dir.path(), &["--database-url", &url, "quickstart"]));
    let folder = dir.path().join("no/such/folder");
    assert!(
        err.contains(&format!("the folder {} does not exist", folder.display())),
        "{err}"
    );
    assert!(err.contains("mkdir -p"), "{err}");
}

#[test]
fn empty_and_in_memory_sqlite_urls_are_refused_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let err = error(&run(dir.path(), &["--database-url", "sqlite://", "serve"]));
    assert!(err.contains("names no file"), "{err}");
    let err = error(&run(
        dir.path(),
        &["--database-url", "sqlite::memory:", "serve"],
    ));
    assert!(
        err.contains("in-memory") && err.contains("--in-memory"),
        "{err}"
    );
}

#[test]
fn a_read_only_database_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pc.db");
    let db = format!("sqlite://{}", file.display());
    create_database(&db);
    // mode=ro stands for a read-only file or mount (root ignores file modes).
    let ro = format!("{db}?mode=ro");
    let err = error(&run(
        dir.path(),
        &["--database-url", &ro, "serve", "--listen", "127.0.0.1:0"],
    ));
    assert!(
        err.contains(&format!("the database {} is read-only", file.display())),
        "{err}"
    );
}

#[test]
fn postgres_urls_that_cannot_work_say_why_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let err = error(&run(
        dir.path(),
        &["--database-url", "postgres://bad url", "company", "list"],
    ));
    assert!(
        err.contains("invalid PostgreSQL URL: invalid domain character;"),
        "{err}"
    );
    assert!(
        err.contains("postgres://USER[:PASSWORD]@HOST[:PORT]/DB"),
        "{err}"
    );
    // A port nobody listens on: refused at once, not after a pool timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/db");
    let err = error(&run(
        dir.path(),
        &["--database-url", &url, "company", "list"],
    ));
    assert!(
        err.contains(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused"
        )),
        "{err}"
    );
}

#[test]
fn lists_refuse_an_unknown_company_and_json_is_snake_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pc.db").display());
    create_database(&db);
    for args in [
        &["agent", "list", "--company", "co_nope"][..],
        &["api-key", "list", "--company", "co_nope"],
    ] {
        let err = error(&run(
            dir.path(),
            &[&["--database-url", &db][..], args].concat(),
        ));
        assert!(err.contains("no company with id co_nope"), "{err}");
    }
    let company = cli(&db, &["company", "list"])["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = cli(&db, &["api-key", "list", "--company", &company]);
    let outputs = [
        cli(&db, &["company", "list"]),
        cli(&db, &["agent", "list", "--company", &company]),
        keys.clone(),
        cli(&db, &["quickstart", "--company", "Another"]),
    ];
    for output in &outputs {
        assert_snake_case(output);
    }
    assert!(keys["data"][0]["created_at"].is_string(), "{keys}");
}

/// Every key is snake_case, except the credential pair the API spells
/// `keyId`/`keySecret` everywhere.
fn assert_snake_case(value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let credential = k == "keyId" || k == "keySecret";
                assert!(
                    credential || !k.chars().any(|c| c.is_ascii_uppercase()),
                    "{k} in {value}"
                );
                assert_snake_case(v);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_snake_case),
        _ => {}
    }
}

#[test]
fn quickstart_prints_the_environment_and_notices_a_namesake() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["quickstart"]);
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("export PERFORMCHAT_URL=http://127.0.0.1:8080 PERFORMCHAT_KEY_ID=pk_"),
        "{text}"
    );
    assert!(text.contains("export API_KEY_ID=pk_"), "{text}");
    assert!(
        first.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run(dir.path(), &["quickstart"]);
    assert!(second.status.success());
    let note = String::from_utf8_lossy(&second.stderr);
    assert!(
        note.contains("a company named \"My Company\" exists already"),
        "{note}"
    );
}

#[test]
fn subcommands_list_only_the_options_they_use() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for over_http in [&["users", "list"][..], &["token", "issue"]] {
        let text = help(over_http);
        assert!(!text.contains("--database-url"), "{over_http:?}: {text}");
        assert!(!text.contains("--db-pool-size"), "{over_http:?}: {text}");
    }
    assert!(help(&["company", "list"]).contains("--database-url"));
    assert!(help(&["serve"]).contains("--database-url"));
}
