//! Operator commands: companies and API keys (agents: `agents.rs`), and the
//! quickstart. They work on the database directly and never create one. With `--json`, every output is one
//! JSON object in snake_case, as the API's resources are; the only camelCase
//! fields are `keyId` and `keySecret`, spelt as every credential is in the API.

use clap::Subcommand;
use serde_json::json;

use crate::auth::{
    create_api_key, new_signing_secret, require_company, revoke_api_key, Claims, TokenSigner,
};
use crate::domain::{
    format_ms, now_ms, parse_rfc3339_ms, ApiKeyRecord, Company, Environment, Permissions,
};
use crate::store::{Store, TokenUser};

use super::DbArgs;

#[derive(clap::Args, Debug)]
pub struct CompanyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: CompanyCommand,
}

#[derive(clap::Args, Debug)]
pub struct ApiKeyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: ApiKeyCommand,
}

#[derive(clap::Args, Debug)]
pub struct QuickstartArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, default_value = "My Company")]
    company: String,
    #[arg(long, default_value = "Support Agent")]
    agent: String,
    /// The address the server listens on; the printed links use it when
    /// --public-url is not given (an unspecified address such as 0.0.0.0
    /// becomes 127.0.0.1).
    #[arg(long, env = "PERFORMCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The server's URL as clients reach it (e.g. https://chat.example.com
    /// behind a proxy), used in the printed links and export lines.
    #[arg(long, env = "PERFORMCHAT_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// The server's token signing secret, when it is configured rather than
    /// kept in the database (so the printed chat link opens on that server).
    #[arg(long, env = "PERFORMCHAT_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
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

pub(super) fn print(as_json: bool, value: serde_json::Value, human: impl FnOnce() -> String) {
    if as_json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

fn company_json(c: &Company) -> serde_json::Value {
    json!({ "id": c.id, "name": c.name, "active": c.active, "created_at": format_ms(c.created_at) })
}

fn key_json(k: &ApiKeyRecord) -> serde_json::Value {
    json!({
        "keyId": k.id, "company_id": k.company_id, "name": k.name,
        "environment": k.environment.as_str(), "permissions": k.permissions.names().collect::<Vec<_>>(),
        "expires_at": k.expires_at.map(format_ms), "revoked_at": k.revoked_at.map(format_ms),
        "created_at": format_ms(k.created_at), "last_used_at": k.last_used_at.map(format_ms),
    })
}

/// A listing's line for a company or an agent: id, state, name, in columns.
pub(super) fn state_line(id: &str, active: bool, name: &str) -> String {
    let state = if active { "active  " } else { "inactive" };
    format!("{id}  {state}  {name}")
}

/// Human output of a listing: one line per item, or a line saying there are none.
pub(super) fn lines<T>(items: &[T], none: &str, line: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return none.to_owned();
    }
    items.iter().map(line).collect::<Vec<_>>().join("\n")
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
                    lines(&all, "no companies yet (create one with `performchat company create --name NAME`)", |c| {
                        state_line(&c.id, c.active, &c.name)
                    })
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
            require_company(store, company).await?;
            let all = store.list_api_keys(company).await?;
            print(
                as_json,
                json!({ "data": all.iter().map(key_json).collect::<Vec<_>>() }),
                || {
                    lines(&all, "no API keys in this company yet", |k| {
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
                },
            );
        }
        ApiKeyCommand::Revoke { key_id } => {
            revoke_api_key(store, key_id).await?;
            print(as_json, json!({ "keyId": key_id, "revoked": true }), || {
                format!("revoked API key {key_id}")
            });
        }
    }
    Ok(())
}

pub async fn quickstart(
    store: &dyn Store,
    args: &QuickstartArgs,
    as_json: bool,
) -> anyhow::Result<()> {
    // Checked before anything is created, so a mistyped URL costs nothing.
    let base = super::public_url::public_base(args.public_url.as_deref(), &args.listen)
        .map_err(anyhow::Error::msg)?;
    let now = now_ms();
    let namesakes = store.companies_named(&args.company).await?;
    if let Some(first) = namesakes.first() {
        // A second run is how one gets a fresh secret, so go on, but say so.
        eprintln!(
            "note: a company named {:?} exists already ({}); creating another. Pass --company NAME to tell them apart.",
            args.company, first.id
        );
    }
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
    let demo = format!(
        "{base}/chat-demo#token={}",
        demo_token(store, args, &company.id, &agent.id).await?
    );
    let body = json!({ "userId": "user_123", "agentId": agent.id });
    let curl = format!(
        "curl -s -u {}:{secret} -H 'Content-Type: application/json' -d '{body}' {base}/rest/v1/auth/token",
        key.id
    );
    let cli_env = format!(
        "export PERFORMCHAT_URL={base} PERFORMCHAT_KEY_ID={} PERFORMCHAT_KEY_SECRET={secret}",
        key.id
    );
    let seed_env = format!("export API_KEY_ID={} API_KEY_SECRET={secret}", key.id);
    print(
        as_json,
        json!({
            "company_id": company.id, "agent_id": agent.id, "keyId": key.id, "keySecret": secret,
            "curl": curl, "cli_env": cli_env, "client_env": seed_env, "chat_demo": demo,
            "existing_companies_named_alike": namesakes.iter().map(|c| &c.id).collect::<Vec<_>>(),
        }),
        || {
            format!(
                "company  {}\nagent    {}\nkey id   {}\nsecret   {secret}   (shown only this once)\n\n\
                 Try it (with the server running):\n{curl}\n\n\
                 For the performchat CLI (`performchat users list`, `performchat token issue ...`):\n{cli_env}\n\n\
                 For the docs' example clients (set their base URL to {base}/rest/v1):\n{seed_env}\n\n\
                 Chat as user_123 in your browser (the link holds a 24 h chat token):\n{demo}",
                company.id, agent.id, key.id
            )
        },
    );
    Ok(())
}

/// A 24 h chat token for `user_123`, signed as the server signs: with the
/// configured secret, else the one kept in the database.
async fn demo_token(
    store: &dyn Store,
    args: &QuickstartArgs,
    company_id: &str,
    agent_id: &str,
) -> anyhow::Result<String> {
    let secret = match args.jwt_secret.clone().filter(|s| !s.is_empty()) {
        Some(secret) => secret,
        None => store.shared_jwt_secret(&new_signing_secret()).await?,
    };
    let now = now_ms();
    let user = match store
        .user_for_token(company_id, agent_id, "user_123", now, None)
        .await?
    {
        TokenUser::Issued { user, .. } => user,
        _ => anyhow::bail!("the quickstart agent {agent_id} could not issue a token"),
    };
    // The quickstart's key holds every permission, so its token may too.
    let claims = Claims::for_user(&user, company_id, agent_id, now.div_euclid(1000), 86_400)
        .with_chat_permissions(crate::domain::Permissions::all());
    Ok(TokenSigner::new(secret.as_bytes()).sign(&claims))
}
