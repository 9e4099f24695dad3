//! `performchat tools …`: an agent's tools over the HTTP API (docs/TOOLS.md),
//! with an API key holding `agents:write`; `tools try` calls a tool's
//! endpoint from this machine exactly as the server does (`tools::call`:
//! the same body, signature, address rule, timeout and answer handling).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use performchat_client::{Client, NewTool, Tool};
use serde_json::{json, Value};

use super::output::{one_line, show, table};
use super::remote::ApiArgs;
use crate::domain::{ActiveTool, CustomerUser, Metadata, Secret};
use crate::outbound::OutboundRule;
use crate::tools::{call, ToolClient, ToolInvocation, ToolStatus};

#[derive(clap::Args, Debug)]
pub struct ToolsArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: ToolsCommand,
}

/// Which tool and the arguments: `TOOL_ID ARGUMENTS`, or `--agent A --name N
/// ARGUMENTS` (clap cannot put an optional positional before a required one,
/// so the two positionals are read together and checked here).
#[derive(clap::Args, Debug)]
pub struct Which {
    /// [TOOL_ID] ARGUMENTS: the tool's id (tool_…) unless --agent and
    /// --name name it, then the model's arguments (a JSON object).
    #[arg(value_name = "TOOL_ID_AND_ARGUMENTS", num_args = 1..=2, required = true)]
    pub positional: Vec<String>,
    /// The agent whose tool named --name to call, instead of an id.
    #[arg(long, requires = "name")]
    pub agent: Option<String>,
    #[arg(long, requires = "agent")]
    pub name: Option<String>,
}

impl Which {
    /// The tool's id (when given) and the arguments.
    fn split(&self) -> anyhow::Result<(Option<&str>, &str)> {
        match (self.agent.is_some(), self.positional.as_slice()) {
            (true, [args]) => Ok((None, args)),
            (false, [id, args]) => Ok((Some(id), args)),
            (true, _) => anyhow::bail!("with --agent and --name, give only the ARGUMENTS"),
            (false, _) => {
                anyhow::bail!("give TOOL_ID and ARGUMENTS, or --agent, --name and ARGUMENTS")
            }
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ToolsCommand {
    /// Declare a tool for an agent; prints its secret, which is shown only now.
    Add {
        #[arg(long)]
        agent: String,
        /// The function name the model calls (a-z, A-Z, 0-9, _ and -; at most 64).
        #[arg(long)]
        name: String,
        /// Where the server POSTs the calls (https; http only to allowed
        /// networks). Not `--url`: that names the performchat server.
        #[arg(long, value_name = "TOOL_URL")]
        endpoint: String,
        /// A file holding the arguments' JSON Schema (an object, at most 16 KiB).
        #[arg(long, value_name = "FILE")]
        parameters: PathBuf,
        /// What the tool does, for the model (defaults to the name).
        #[arg(long)]
        description: Option<String>,
        /// 100 to 30 000 (default 10 000).
        #[arg(long)]
        timeout_ms: Option<i64>,
    },
    /// List an agent's tools.
    List {
        #[arg(long)]
        agent: String,
    },
    /// Delete a tool.
    Remove { id: String },
    /// A new secret; the old one keeps signing for 24 hours.
    #[command(name = "rotate-secret")]
    RotateSecret { id: String },
    /// Call a tool's endpoint as the server would, with ARGUMENTS (a JSON
    /// object) as the model's arguments, and print its answer.
    Try {
        #[command(flatten)]
        which: Which,
        /// The tool's secret (tsec_…), shown when it was made or rotated:
        /// the call is signed with it, as the server signs.
        #[arg(long, env = "PERFORMCHAT_TOOL_SECRET", hide_env_values = true)]
        secret: Secret,
        /// A customer user (cu_…) to send as `customer_user` (read with the
        /// key, which then needs users:read); without it, a sample user
        /// whose id is `cu_sample`.
        #[arg(long)]
        user: Option<String>,
        /// The networks besides public addresses the call may reach, as for
        /// `serve --outbound-allow`.
        #[arg(long, env = "PERFORMCHAT_OUTBOUND_ALLOW", default_value = "")]
        outbound_allow: String,
    },
}

/// The stand-in customer user of `tools try` without `--user`: plainly a
/// sample, so an endpoint's log does not mistake it for a real one.
fn sample_user() -> CustomerUser {
    let metadata = Metadata::parse(json!({ "sample": true })).unwrap_or_default();
    CustomerUser {
        id: "cu_sample".into(),
        company_id: String::new(),
        external_id: "sample-user".into(),
        name: Some("Sample User (performchat tools try)".into()),
        email: Some("sample.user@example.com".into()),
        metadata,
        active: true,
        token_version: 0,
        created_at: 0,
        updated_at: 0,
        last_seen_at: None,
    }
}

async fn customer_user(client: &Client, id: Option<&str>) -> anyhow::Result<CustomerUser> {
    let Some(id) = id else {
        return Ok(sample_user());
    };
    let u = client.get_user(id).await?;
    let metadata = Metadata::parse(Value::Object(u.metadata))
        .map_err(|e| anyhow::anyhow!("the user's metadata: {e}"))?;
    Ok(CustomerUser {
        id: u.id,
        company_id: String::new(),
        external_id: u.external_id,
        name: u.name,
        email: u.email,
        metadata,
        active: u.active,
        token_version: 0,
        created_at: 0,
        updated_at: 0,
        last_seen_at: None,
    })
}

async fn find(client: &Client, which: &Which, id: Option<&str>) -> anyhow::Result<Tool> {
    if let Some(id) = id {
        return Ok(client.get_tool(id).await?);
    }
    let (agent, name) = (
        which.agent.as_deref().unwrap_or_default(),
        which.name.as_deref().unwrap_or_default(),
    );
    client
        .list_tools(agent)
        .await?
        .data
        .into_iter()
        .find(|t| t.name == name)
        .with_context(|| format!("agent {agent} has no tool named {name}"))
}

fn print_tools(as_json: bool, tools: &[Tool]) -> anyhow::Result<()> {
    show(as_json, tools, |tools| {
        let rows: Vec<Vec<String>> = tools
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.name.clone(),
                    if t.active { "yes" } else { "no" }.into(),
                    format!("{} ms", t.timeout_ms),
                    one_line(&t.url),
                ]
            })
            .collect();
        println!(
            "{}",
            table(&["ID", "NAME", "ACTIVE", "TIMEOUT", "URL"], &rows)
        );
    })
}

pub async fn run(args: &ToolsArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        ToolsCommand::Add {
            agent,
            name,
            endpoint,
            parameters,
            description,
            timeout_ms,
        } => {
            let text = std::fs::read_to_string(parameters)
                .with_context(|| format!("reading {}", parameters.display()))?;
            let schema: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", parameters.display()))?;
            let new = NewTool {
                name: name.clone(),
                description: description.clone().unwrap_or_else(|| name.clone()),
                parameters: schema,
                url: endpoint.clone(),
                timeout_ms: *timeout_ms,
                active: None,
            };
            let made = client.create_tool(agent, &new).await?;
            show(as_json, &made, |made| {
                println!("id      {}", made.id);
                println!("secret  {}", made.secret.as_deref().unwrap_or_default());
                eprintln!("keep the secret now: it is not shown again (rotate to get a new one)");
            })
        }
        ToolsCommand::List { agent } => print_tools(as_json, &client.list_tools(agent).await?.data),
        ToolsCommand::Remove { id } => {
            client.delete_tool(id).await?;
            show(as_json, &json!({ "deleted": id }), |_| {
                println!("deleted {id}")
            })
        }
        ToolsCommand::RotateSecret { id } => {
            let rotated = client.rotate_tool_secret(id).await?;
            show(as_json, &rotated, |rotated| {
                println!("secret  {}", rotated.secret.as_deref().unwrap_or_default());
                eprintln!("the previous secret keeps signing for 24 hours");
            })
        }
        ToolsCommand::Try {
            which,
            secret,
            user,
            outbound_allow,
        } => {
            let rule = OutboundRule::parse(outbound_allow)
                .map_err(|e| anyhow::anyhow!("--outbound-allow: {e}"))?;
            let (id, arguments) = which.split()?;
            let tool = find(&client, which, id).await?;
            let customer = customer_user(&client, user.as_deref()).await?;
            let active = ActiveTool {
                id: tool.id,
                agent_id: tool.agent_id,
                name: tool.name,
                description: tool.description,
                parameters: tool.parameters,
                url: tool.url,
                timeout_ms: tool.timeout_ms,
                secrets: vec![secret.expose().to_owned()],
            };
            let call_id = format!("call_try_{}", ulid::Ulid::new());
            let outcome = call(
                &ToolClient::new(rule)?,
                &active,
                ToolInvocation {
                    call_id: &call_id,
                    arguments,
                    customer_user: &customer,
                    conversation_id: "conv_tools_try",
                    agent_id: &active.agent_id,
                },
            )
            .await;
            let shown = json!({ "status": outcome.status.as_str(), "content": outcome.content });
            show(as_json, &shown, |_| {
                eprintln!("{} (call {call_id})", outcome.status.as_str());
                println!("{}", outcome.content);
            })?;
            anyhow::ensure!(
                outcome.status == ToolStatus::Ok,
                "the call ended in an error"
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Probe {
        #[command(subcommand)]
        tools: super::ToolsCommand,
    }

    #[test]
    fn try_takes_an_id_or_an_agent_and_name() {
        Probe::command().debug_assert();
        let parse = |args: &[&str]| {
            let probe =
                Probe::try_parse_from([&["probe", "try", "--secret", "tsec_x"], args].concat())?;
            let super::ToolsCommand::Try { which, .. } = probe.tools else {
                unreachable!()
            };
            Ok::<_, clap::Error>(
                which
                    .split()
                    .map(|(id, a)| (id.map(str::to_owned), a.to_owned()))
                    .map_err(|e| e.to_string()),
            )
        };
        assert_eq!(
            parse(&["tool_1", "{}"]).unwrap(),
            Ok((Some("tool_1".into()), "{}".into()))
        );
        assert_eq!(
            parse(&["--agent", "a", "--name", "n", "{}"]).unwrap(),
            Ok((None, "{}".into()))
        );
        assert!(parse(&["--agent", "a", "--name", "n", "tool_1", "{}"])
            .unwrap()
            .is_err());
        assert!(parse(&["{}"]).unwrap().is_err());
        assert!(
            parse(&["--agent", "a", "{}"]).is_err(),
            "--agent needs --name"
        );
    }
}
