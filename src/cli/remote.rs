//! What the commands that talk to a server over HTTP (`users`, `token`) share:
//! where the server is, the API key, and output helpers.

use anyhow::Context;
use performchat_client::{Client, CustomerUser};

/// The server and key, from flags or the environment.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Server and API key")]
pub struct ApiArgs {
    /// Base URL of the server.
    #[arg(
        long,
        global = true,
        env = "PERFORMCHAT_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,

    /// API key id (pk_…).
    #[arg(long, global = true, env = "PERFORMCHAT_KEY_ID")]
    pub key_id: Option<String>,

    /// API key secret (sk_…). Prefer the environment variable: a flag is
    /// visible to other users of the machine.
    #[arg(
        long,
        global = true,
        env = "PERFORMCHAT_KEY_SECRET",
        hide_env_values = true
    )]
    pub key_secret: Option<String>,
}

impl ApiArgs {
    pub fn client(&self) -> anyhow::Result<Client> {
        // Not `required` in clap: global arguments cannot be, and this way
        // the message can name both the flag and the variable.
        let key_id = self
            .key_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .context("no API key id: set PERFORMCHAT_KEY_ID or pass --key-id")?;
        let secret = self
            .key_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .context("no API key secret: set PERFORMCHAT_KEY_SECRET or pass --key-secret")?;
        Ok(Client::new(&self.url, key_id, secret)?)
    }
}

/// A failure to reach the server says so in one line, with the two ways to
/// fix it, instead of the HTTP client's nested transport error.
pub fn explain(err: anyhow::Error, url: &str) -> anyhow::Error {
    let unreachable = err.chain().find_map(|e| match e.downcast_ref() {
        Some(performchat_client::Error::Transport(t)) if t.is_connect() || t.is_timeout() => {
            Some(t)
        }
        _ => None,
    });
    let Some(transport) = unreachable else {
        return err;
    };
    let mut cause: &dyn std::error::Error = transport;
    while let Some(next) = cause.source() {
        cause = next;
    }
    anyhow::anyhow!(
        "cannot reach the performchat server at {url} ({cause}): start it with `performchat serve`, or set PERFORMCHAT_URL (or --url) to the address it listens on"
    )
}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// A user as `key: value` lines.
pub fn user_text(u: &CustomerUser) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    [
        ("id", u.id.clone()),
        ("external_id", u.external_id.clone()),
        ("name", or_dash(&u.name)),
        ("email", or_dash(&u.email)),
        ("active", u.active.to_string()),
        (
            "metadata",
            serde_json::Value::Object(u.metadata.clone()).to_string(),
        ),
        ("created_at", u.created_at.clone()),
        ("updated_at", u.updated_at.clone()),
        ("last_seen_at", or_dash(&u.last_seen_at)),
    ]
    .iter()
    .map(|(k, v)| format!("{k:<13} {}", one_line(v)))
    .collect::<Vec<_>>()
    .join("\n")
}

/// Control characters (a newline in a name) shown escaped, so one value
/// stays on one line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Left-aligned columns, two spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_escape() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["cu_1".into(), one_line("a\nb")],
                vec!["cu_22".into(), "é".into()],
            ],
        );
        assert_eq!(t, "ID     NAME\ncu_1   a\\nb\ncu_22  é");
    }
}
