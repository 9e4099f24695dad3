//! `performchat chat`: a terminal chat as the end user, with a chat token —
//! what the widget does in a browser. Each line read is sent; the reply is
//! printed as it streams in.

use std::io::{BufRead, Write};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::llm::sse::{SseEvent, SseParser};

#[derive(clap::Args, Debug)]
pub struct ChatArgs {
    /// Base URL of the server.
    #[arg(long, env = "PERFORMCHAT_URL", default_value = "http://127.0.0.1:8080")]
    url: String,

    /// The end user's chat token (from POST /rest/v1/auth/token).
    #[arg(long, env = "PERFORMCHAT_CHAT_TOKEN", hide_env_values = true)]
    token: String,

    /// Continue this conversation (conv_…) instead of starting a new one.
    #[arg(long)]
    conversation: Option<String>,
}

pub async fn run(args: &ChatArgs) -> anyhow::Result<()> {
    let base = format!("{}/rest/v1/chat", args.url.trim_end_matches('/'));
    let http = reqwest::Client::new();
    let session = answer(http.get(format!("{base}/session")).bearer_auth(&args.token)).await?;
    let conversation = match &args.conversation {
        Some(id) => id.clone(),
        None => {
            let created = answer(
                http.post(format!("{base}/conversations"))
                    .bearer_auth(&args.token)
                    .json(&json!({})),
            )
            .await?;
            created["id"]
                .as_str()
                .context("no conversation id")?
                .to_owned()
        }
    };
    let agent = session["agent"]["name"]
        .as_str()
        .unwrap_or("agent")
        .to_owned();
    eprintln!("chatting with {agent} in {conversation}; one message per line, Ctrl-D to end");
    let uri = format!("{base}/conversations/{conversation}/messages");
    while let Some(line) = read_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let res = http
            .post(&uri)
            .bearer_auth(&args.token)
            .header("accept", "text/event-stream")
            .json(&json!({ "content": line }))
            .send()
            .await?;
        if !res.status().is_success() {
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            eprintln!("error {status}: {}", body["message"].as_str().unwrap_or(""));
            continue;
        }
        print!("{agent}: ");
        stream_reply(res).await?;
    }
    Ok(())
}

/// Prints `delta` events as they arrive; ends at `assistant_message` or `error`.
async fn stream_reply(mut res: reqwest::Response) -> anyhow::Result<()> {
    let mut parser = SseParser::new();
    let mut out = std::io::stdout();
    while let Some(chunk) = res.chunk().await? {
        for event in parser.feed(&chunk) {
            if show(&event, &mut out)? {
                return Ok(());
            }
        }
    }
    bail!("the reply stream ended early")
}

/// Shows one event; true when the reply is over.
fn show(event: &SseEvent, out: &mut std::io::Stdout) -> anyhow::Result<bool> {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    match event.event.as_deref() {
        Some("delta") => {
            write!(out, "{}", data["content"].as_str().unwrap_or(""))?;
            out.flush()?;
            Ok(false)
        }
        Some("assistant_message") => {
            writeln!(out)?;
            Ok(true)
        }
        Some("error") => {
            writeln!(out)?;
            eprintln!("error: {}", data["message"].as_str().unwrap_or("unknown"));
            Ok(true)
        }
        _ => Ok(false),
    }
}

async fn answer(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let res = request.send().await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{status}: {}", body["message"].as_str().unwrap_or(""));
    }
    Ok(body)
}

/// One line of standard input, read off the async runtime; `None` at its end.
async fn read_line() -> anyhow::Result<Option<String>> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let n = std::io::stdin().lock().read_line(&mut line)?;
        Ok(if n == 0 {
            None
        } else {
            Some(line.trim_end_matches(['\r', '\n']).to_owned())
        })
    })
    .await?
}
