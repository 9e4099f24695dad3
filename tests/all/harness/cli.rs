//! The CLI's API commands (`performchat users …`, `knowledge …`) run as a
//! user would run them: the real binary against a served app, credentials
//! from the environment.

use std::process::{Command, Output};

use serde_json::Value;

pub struct Cli {
    /// The served app's root URL.
    pub url: String,
    /// The API key: id and secret.
    pub key: (String, String),
}

impl Cli {
    /// Runs the binary off the async runtime, so the served app keeps answering.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_performchat"));
        cmd.args(args)
            .env("PERFORMCHAT_URL", &self.url)
            .env("PERFORMCHAT_KEY_ID", &self.key.0)
            .env("PERFORMCHAT_KEY_SECRET", &self.key.1)
            // Must never be opened by these commands.
            .env("PERFORMCHAT_DATABASE_URL", "sqlite:///nonexistent/dir/x.db");
        tokio::task::spawn_blocking(move || cmd.output().expect("run performchat"))
            .await
            .unwrap()
    }

    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// [`Cli::json`] with nothing on stderr either (no progress bar, no
    /// warning), as a script reading `--json` output expects.
    pub async fn json_quiet(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all).await;
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }
}

/// One API command against `url` with `key`: whether it succeeded, its
/// stdout and its stderr.
pub async fn run_api(url: &str, key: &(String, String), args: &[&str]) -> (bool, String, String) {
    let cli = Cli {
        url: url.to_owned(),
        key: key.clone(),
    };
    let out = cli.run(args).await;
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}
