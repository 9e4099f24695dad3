//! Operator commands for agents: create (optionally with a model of its own),
//! update, list, activate and deactivate.

use clap::Subcommand;
use serde_json::json;

use super::output::{lines, print, state_line};
use super::DbArgs;
use crate::auth::require_company;
use crate::domain::{format_ms, now_ms, Agent, Field};
use crate::store::{AgentChanges, PageRequest, Store};

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Create an agent in a company.
    Create(CreateAgent),
    /// Change an agent's name, prompt template, model or active state; what
    /// is left out stays as it is.
    Update(UpdateAgent),
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

#[derive(clap::Args, Debug)]
pub struct CreateAgent {
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
}

#[derive(clap::Args, Debug)]
pub struct UpdateAgent {
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

fn agent_json(a: &Agent) -> serde_json::Value {
    json!({
        "id": a.id, "company_id": a.company_id, "name": a.name, "active": a.active,
        "prompt_template": a.prompt_template, "llm_url": a.llm_url, "llm_model": a.llm_model,
        "created_at": format_ms(a.created_at), "updated_at": format_ms(a.updated_at),
    })
}

pub async fn agent(store: &dyn Store, cmd: &AgentCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        AgentCommand::Create(args) => create(store, args, as_json).await?,
        AgentCommand::Update(args) => update(store, args, as_json).await?,
        AgentCommand::List { company } => {
            require_company(store, company).await?;
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
                &json!({ "data": all.iter().map(agent_json).collect::<Vec<_>>() }),
                || {
                    lines(&all, "no agents in this company yet", |a| {
                        state_line(&a.id, a.active, &a.name)
                    })
                },
            )?;
        }
        AgentCommand::Deactivate { company, agent_id }
        | AgentCommand::Activate { company, agent_id } => {
            let active = matches!(cmd, AgentCommand::Activate { .. });
            require_company(store, company).await?;
            anyhow::ensure!(
                store
                    .set_agent_active(company, agent_id, active, now_ms())
                    .await?,
                "no agent {agent_id} in company {company}"
            );
            print(
                as_json,
                &json!({ "id": agent_id, "active": active }),
                || {
                    format!(
                        "agent {agent_id} is now {}",
                        if active { "active" } else { "inactive" }
                    )
                },
            )?;
        }
    }
    Ok(())
}

async fn create(store: &dyn Store, args: &CreateAgent, as_json: bool) -> anyhow::Result<()> {
    let CreateAgent {
        company,
        name,
        inactive,
        prompt_template,
        model,
    } = args;
    anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
    // A URL alone would send an empty model name unless the server
    // has a default; say so now rather than at the first chat.
    anyhow::ensure!(
        model.llm_url.is_none() || model.llm_model.is_some(),
        "--llm-url needs --llm-model too"
    );
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
    print(as_json, &agent_json(&a), || {
        format!("created agent {} ({})", a.id, a.name)
    })?;
    Ok(())
}

async fn update(store: &dyn Store, args: &UpdateAgent, as_json: bool) -> anyhow::Result<()> {
    let UpdateAgent {
        company,
        agent_id,
        name,
        prompt_template,
        clear_prompt_template,
        model,
        clear_llm,
        active,
        inactive,
    } = args;
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
    require_company(store, company).await?;
    let a = store
        .update_agent(company, agent_id, &changes, now_ms())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no agent {agent_id} in company {company}"))?;
    print(as_json, &agent_json(&a), || {
        format!("updated agent {} ({})", a.id, a.name)
    })?;
    Ok(())
}
