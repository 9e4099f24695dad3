//! What the commands that talk to a server over HTTP (`users`, `token`) share:
//! where the server is and the API key.

use crate::domain::Secret;
use anyhow::Context;
use performchat_client::Client;

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
    pub key_secret: Option<Secret>,
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
            .as_ref()
            .map(Secret::expose)
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
