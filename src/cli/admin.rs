//! Operator commands: companies, agents and API keys.

use clap::Subcommand;
use serde_json::json;

use crate::auth::{hash_key_secret, new_key_secret};
use crate::domain::Field;
use crate::domain::{
    format_ms, new_id, now_ms, parse_rfc3339_ms, Agent, ApiKeyRecord, Company, Environment, IdKind,
    Permissions,
};
use crate::store::{AgentChanges, PageRequest, Store};

#[derive(clap::Args, Debug)]
pub struct QuickstartArgs {
    #[arg(long, default_value = "My Company")]
    company: String,
    #[arg(long, default_value = "Support Agent")]
    agent: String,
    /// The server's address, used in the printed example request.
    #[arg(long, env = "PERFORMCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
}

#[derive(Subcommand, Debug)]
pub enum CompanyCommand {
    /// Create a company.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List every company.
    List,
    /// Deactivate a company: its API keys stop working at once.
    Deactivate { company_id: String },
    /// Reactivate a company.
    Activate { company_id: String },
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Create an agent in a company.
    Create {
        #[arg(long)]
        company: String,
        #[arg(long)]
        name: String,
        /// Create it inactive (tokens cannot be issued for it).
        #[arg(long)]
        inactive: bool,
        #[arg(long)]
        prompt_template: Option<String>,
        #[command(flatten)]
        model: AgentModelArgs,
    },
    /// Change an agent's name, prompt template, model or active state; what
    /// is left out stays as it is.
    Update {
        #[arg(long)]
        company: String,
        agent_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "clear_prompt_template")]
        prompt_template: Option<String>,
        /// Remove the prompt template (no system message is sent).
        #[arg(long)]
        clear_prompt_template: bool,
        #[command(flatten)]
        model: AgentModelArgs,
        /// Forget the agent's own model: it uses the server's again.
        #[arg(long, conflicts_with_all = ["llm_url", "llm_model"])]
        clear_llm: bool,
        #[arg(long, conflicts_with = "inactive")]
        active: bool,
        #[arg(long)]
        inactive: bool,
    },
    /// List a company's agents.
    List {
        #[arg(long)]
        company: String,
    },
    /// Deactivate an agent: new tokens are refused and existing ones stop verifying.
    Deactivate {
        #[arg(long)]
        company: String,
        agent_id: String,
    },
    /// Reactivate an agent.
    Activate {
        #[arg(long)]
        company: String,
        agent_id: String,
    },
}

/// An agent's own OpenAI-compatible model, overriding the server's default.
#[derive(clap::Args, Debug, Default)]
pub struct AgentModelArgs {
    /// Base URL of the model server, e.g. http://127.0.0.1:11434/v1.
    #[arg(long)]
    pub llm_url: Option<String>,
    /// Model name at that server (or at the server's default URL).
    #[arg(long)]
    pub llm_model: Option<String>,
}

impl AgentModelArgs {
    fn changes(&self, changes: &mut AgentChanges) -> anyhow::Result<()> {
        if let Some(url) = &self.llm_url {
            crate::llm::check_base_url(url).map_err(|e| anyhow::anyhow!("--llm-url: {e}"))?;
            changes.llm_url = Field::Set(url.clone());
        }
        if let Some(model) = &self.llm_model {
            anyhow::ensure!(!model.trim().is_empty(), "--llm-model must not be empty");
            changes.llm_model = Field::Set(model.clone());
        }
        Ok(())
    }
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create an API key. The secret is printed once and never stored.
    Create {
        #[arg(long)]
        company: String,
        #[arg(long)]
        name: String,
        /// production, staging or development.
        #[arg(long, default_value = "production")]
        environment: String,
        /// Comma-separated permissions; all of them when left out.
        #[arg(long)]
        permissions: Option<String>,
        /// RFC 3339 time after which the key is refused.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List a company's API keys (never their secrets).
    List {
        #[arg(long)]
        company: String,
    },
    /// Revoke a key: every node refuses it from its next request.
    Revoke { key_id: String },
}

fn print(as_json: bool, value: serde_json::Value, human: impl FnOnce() -> String) {
    if as_json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

fn company_json(c: &Company) -> serde_json::Value {
    json!({ "id": c.id, "name": c.name, "active": c.active, "created_at": format_ms(c.created_at) })
}

fn agent_json(a: &Agent) -> serde_json::Value {
    json!({
        "id": a.id, "company_id": a.company_id, "name": a.name, "active": a.active,
        "prompt_template": a.prompt_template, "llm_url": a.llm_url, "llm_model": a.llm_model,
        "created_at": format_ms(a.created_at), "updated_at": format_ms(a.updated_at),
    })
}

fn key_json(k: &ApiKeyRecord) -> serde_json::Value {
    json!({
        "keyId": k.id, "companyId": k.company_id, "name": k.name,
        "environment": k.environment.as_str(), "permissions": k.permissions.names().collect::<Vec<_>>(),
        "expiresAt": k.expires_at.map(format_ms), "revokedAt": k.revoked_at.map(format_ms),
        "createdAt": format_ms(k.created_at), "lastUsedAt": k.last_used_at.map(format_ms),
    })
}

async fn require_company(store: &dyn Store, company_id: &str) -> anyhow::Result<()> {
    let known = store
        .list_companies()
        .await?
        .iter()
        .any(|c| c.id == company_id);
    anyhow::ensure!(known, "no company with id {company_id}");
    Ok(())
}

pub async fn company(store: &dyn Store, cmd: &CompanyCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        CompanyCommand::Create { name } => {
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let c = store.create_company(name, now_ms()).await?;
            print(as_json, company_json(&c), || {
                format!("created company {} ({})", c.id, c.name)
            });
        }
        CompanyCommand::List => {
            let all = store.list_companies().await?;
            print(
                as_json,
                json!({ "data": all.iter().map(company_json).collect::<Vec<_>>() }),
                || {
                    all.iter()
                        .map(|c| {
                            format!(
                                "{}  {}  {}",
                                c.id,
                                if c.active { "active  " } else { "inactive" },
                                c.name
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        CompanyCommand::Deactivate { company_id } | CompanyCommand::Activate { company_id } => {
            let active = matches!(cmd, CompanyCommand::Activate { .. });
            anyhow::ensure!(
                store.set_company_active(company_id, active).await?,
                "no company with id {company_id}"
            );
            print(
                as_json,
                json!({ "id": company_id, "active": active }),
                || {
                    format!(
                        "company {company_id} is now {}",
                        if active { "active" } else { "inactive" }
                    )
                },
            );
        }
    }
    Ok(())
}

pub async fn agent(store: &dyn Store, cmd: &AgentCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        AgentCommand::Create {
            company,
            name,
            inactive,
            prompt_template,
            model,
        } => {
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let mut changes = AgentChanges::default();
            model.changes(&mut changes)?;
            require_company(store, company).await?;
            let now = now_ms();
            let mut a = store
                .create_agent(company, name, prompt_template.as_deref(), !inactive, now)
                .await?;
            if !changes.llm_url.is_absent() || !changes.llm_model.is_absent() {
                a = store
                    .update_agent(company, &a.id, &changes, now)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("agent {} vanished", a.id))?;
            }
            print(as_json, agent_json(&a), || {
                format!("created agent {} ({})", a.id, a.name)
            });
        }
        AgentCommand::Update {
            company,
            agent_id,
            name,
            prompt_template,
            clear_prompt_template,
            model,
            clear_llm,
            active,
            inactive,
        } => {
            let mut changes = AgentChanges {
                name: name.clone(),
                ..AgentChanges::default()
            };
            if let Some(n) = name {
                anyhow::ensure!(!n.trim().is_empty(), "--name must not be empty");
            }
            if let Some(t) = prompt_template {
                changes.prompt_template = Field::Set(t.clone());
            } else if *clear_prompt_template {
                changes.prompt_template = Field::Null;
            }
            model.changes(&mut changes)?;
            if *clear_llm {
                changes.llm_url = Field::Null;
                changes.llm_model = Field::Null;
            }
            if *active || *inactive {
                changes.active = Some(*active);
            }
            let a = store
                .update_agent(company, agent_id, &changes, now_ms())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no agent {agent_id} in company {company}"))?;
            print(as_json, agent_json(&a), || {
                format!("updated agent {} ({})", a.id, a.name)
            });
        }
        AgentCommand::List { company } => {
            let mut all = Vec::new();
            for page in 1.. {
                let (batch, total) = store
                    .list_agents(company, PageRequest { page, limit: 100 })
                    .await?;
                all.extend(batch);
                if all.len() as i64 >= total {
                    break;
                }
            }
            print(
                as_json,
                json!({ "data": all.iter().map(agent_json).collect::<Vec<_>>() }),
                || {
                    all.iter()
                        .map(|a| {
                            format!(
                                "{}  {}  {}",
                                a.id,
                                if a.active { "active  " } else { "inactive" },
                                a.name
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        AgentCommand::Deactivate { company, agent_id }
        | AgentCommand::Activate { company, agent_id } => {
            let active = matches!(cmd, AgentCommand::Activate { .. });
            anyhow::ensure!(
                store
                    .set_agent_active(company, agent_id, active, now_ms())
                    .await?,
                "no agent {agent_id} in company {company}"
            );
            print(as_json, json!({ "id": agent_id, "active": active }), || {
                format!(
                    "agent {agent_id} is now {}",
                    if active { "active" } else { "inactive" }
                )
            });
        }
    }
    Ok(())
}

pub async fn api_key(store: &dyn Store, cmd: &ApiKeyCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        ApiKeyCommand::Create {
            company,
            name,
            environment,
            permissions,
            expires_at,
        } => {
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let environment = Environment::parse(environment).map_err(anyhow::Error::msg)?;
            let permissions = match permissions {
                Some(list) => Permissions::parse_list(list).map_err(anyhow::Error::msg)?,
                None => Permissions::all(),
            };
            let now = now_ms();
            let expires_at = match expires_at {
                None => None,
                Some(text) => {
                    let at = parse_rfc3339_ms(text).ok_or_else(|| {
                        anyhow::anyhow!("--expires-at must be an RFC 3339 time, got {text:?}")
                    })?;
                    anyhow::ensure!(at > now, "--expires-at must be in the future");
                    Some(at)
                }
            };
            let (key, secret) =
                create_api_key(store, company, name, environment, permissions, expires_at).await?;
            let mut value = key_json(&key);
            value["keySecret"] = json!(secret);
            print(as_json, value, || {
                format!(
                    "created API key {}\nsecret: {secret}\nStore the secret now: it is shown only this once.",
                    key.id
                )
            });
        }
        ApiKeyCommand::List { company } => {
            let all = store.list_api_keys(company).await?;
            print(
                as_json,
                json!({ "data": all.iter().map(key_json).collect::<Vec<_>>() }),
                || {
                    all.iter()
                        .map(|k| {
                            let state = if k.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active "
                            };
                            format!(
                                "{}  {state}  {:<11}  {}  [{}]",
                                k.id,
                                k.environment.as_str(),
                                k.name,
                                k.permissions.to_list()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        ApiKeyCommand::Revoke { key_id } => {
            anyhow::ensure!(
                store.revoke_api_key(key_id, now_ms()).await?,
                "no API key with id {key_id}"
            );
            print(as_json, json!({ "keyId": key_id, "revoked": true }), || {
                format!("revoked API key {key_id}")
            });
        }
    }
    Ok(())
}

/// Mints a key for a company and stores its hash; returns the record and the
/// secret, which exists nowhere else afterwards.
pub async fn create_api_key(
    store: &dyn Store,
    company_id: &str,
    name: &str,
    environment: Environment,
    permissions: Permissions,
    expires_at: Option<i64>,
) -> anyhow::Result<(ApiKeyRecord, String)> {
    require_company(store, company_id).await?;
    let id = new_id(IdKind::ApiKey);
    let secret = new_key_secret();
    let key = ApiKeyRecord {
        secret_hash: hash_key_secret(&id, &secret),
        id,
        company_id: company_id.to_owned(),
        name: name.to_owned(),
        environment,
        permissions,
        expires_at,
        revoked_at: None,
        created_at: now_ms(),
        last_used_at: None,
        company_active: true,
    };
    store.create_api_key(&key).await?;
    Ok((key, secret))
}

pub async fn quickstart(
    store: &dyn Store,
    args: &QuickstartArgs,
    as_json: bool,
) -> anyhow::Result<()> {
    let now = now_ms();
    let company = store.create_company(&args.company, now).await?;
    let agent = store
        .create_agent(
            &company.id,
            &args.agent,
            Some("You are a helpful assistant."),
            true,
            now,
        )
        .await?;
    let (key, secret) = create_api_key(
        store,
        &company.id,
        "Quickstart key",
        Environment::Development,
        Permissions::all(),
        None,
    )
    .await?;
    let body = json!({ "userId": "user_123", "agentId": agent.id });
    let curl = format!(
        "curl -s -u {}:{secret} -H 'Content-Type: application/json' -d '{body}' http://{}/rest/v1/auth/token",
        key.id, args.listen
    );
    print(
        as_json,
        json!({ "companyId": company.id, "agentId": agent.id, "keyId": key.id, "keySecret": secret, "curl": curl }),
        || {
            format!(
                "company  {}\nagent    {}\nkey id   {}\nsecret   {secret}   (shown only this once)\n\nTry it:\n{curl}",
                company.id, agent.id, key.id
            )
        },
    );
    Ok(())
}
