//! `performchat users …`: customer users over the HTTP API, with the same
//! key an integration would use (not the database: these work against any
//! server, hosted or not).

mod bulk;
mod export;
mod rights;

use anyhow::{bail, Context};
use clap::Subcommand;
use performchat_client::{Client, CustomerUser, Metadata, UserFilter, UserUpdate};

use super::output::{one_line, print, show, table, user_text};
use super::remote::ApiArgs;

#[derive(clap::Args, Debug)]
pub struct UsersArgs {
    #[command(flatten)]
    pub api: ApiArgs,

    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List customer users, a page at a time (a table, or the page as JSON with --json).
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Users per page, 1–100.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one customer user, by id, external id or e-mail.
    Get(GetArgs),
    /// Change a customer user's name, e-mail, metadata or active flag.
    Update(UpdateArgs),
    /// Write every matching user as CSV or NDJSON, streamed; or, given an
    /// id, everything stored about that user as one JSON document.
    Export(export::ExportArgs),
    /// Erase a customer user with their conversations and messages (asks
    /// first unless --yes).
    Erase(rights::EraseArgs),
    /// Totals and recent activity.
    Stats,
    /// Apply changes from a JSON-lines file, in batches of 1000; prints one
    /// line per item and exits non-zero when any item failed.
    BulkUpdate(bulk::BulkArgs),
}

/// Filters shared by `list` and `export`; they combine with AND.
#[derive(clap::Args, Debug)]
pub struct FilterArgs {
    /// Case-insensitive substring of the name.
    #[arg(long)]
    name: Option<String>,
    /// Case-insensitive exact e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Exact external id.
    #[arg(long)]
    external_id: Option<String>,
    /// true or false.
    #[arg(long)]
    active: Option<bool>,
}

impl FilterArgs {
    fn filter(&self) -> UserFilter {
        UserFilter {
            name: self.name.clone(),
            email: self.email.clone(),
            external_id: self.external_id.clone(),
            active: self.active,
        }
    }
}

#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct GetArgs {
    /// Internal id (cu_…).
    id: Option<String>,
    /// Look the user up by your own id for it instead.
    #[arg(long)]
    external_id: Option<String>,
    /// Look the user up by e-mail address instead.
    #[arg(long)]
    email: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// Internal id (cu_…).
    id: String,
    /// New name.
    #[arg(long, conflicts_with = "clear_name")]
    name: Option<String>,
    /// Remove the name.
    #[arg(long)]
    clear_name: bool,
    /// New e-mail address.
    #[arg(long, conflicts_with = "clear_email")]
    email: Option<String>,
    /// Remove the e-mail address.
    #[arg(long)]
    clear_email: bool,
    /// true or false.
    #[arg(long)]
    active: Option<bool>,
    /// A JSON object that replaces the stored metadata.
    #[arg(long, conflicts_with = "merge_metadata")]
    metadata: Option<String>,
    /// A JSON object merged into the stored metadata on the server (keys set
    /// to null are removed); other keys are kept even under concurrent writes.
    #[arg(long)]
    merge_metadata: Option<String>,
}

pub async fn run(args: &UsersArgs, as_json: bool) -> anyhow::Result<()> {
    let client = args.api.client()?;
    match &args.command {
        UsersCommand::List {
            filter,
            page,
            limit,
        } => list(&client, &filter.filter(), *page, *limit, as_json).await,
        UsersCommand::Get(get_args) => get(&client, get_args, as_json).await,
        UsersCommand::Update(update_args) => update(&client, update_args, as_json).await,
        UsersCommand::Export(export_args) => export::run(&client, export_args).await,
        UsersCommand::Erase(erase_args) => rights::erase(&client, erase_args, as_json).await,
        UsersCommand::Stats => stats(&client, as_json).await,
        UsersCommand::BulkUpdate(bulk_args) => bulk::run(&client, bulk_args, as_json).await,
    }
}

async fn list(
    client: &Client,
    filter: &UserFilter,
    page: u32,
    limit: u32,
    as_json: bool,
) -> anyhow::Result<()> {
    let result = client.list_users(filter, page, limit).await?;
    show(as_json, &result, |result| {
        let rows: Vec<Vec<String>> = result
            .data
            .iter()
            .map(|u| {
                let text = |v: &Option<String>| one_line(v.as_deref().unwrap_or("-"));
                vec![
                    u.id.clone(),
                    one_line(&u.external_id),
                    text(&u.name),
                    text(&u.email),
                    if u.active { "yes" } else { "no" }.into(),
                    text(&u.last_seen_at),
                ]
            })
            .collect();
        let headers = ["ID", "EXTERNAL ID", "NAME", "EMAIL", "ACTIVE", "LAST SEEN"];
        println!("{}", table(&headers, &rows));
        let p = &result.pagination;
        println!(
            "page {} of {}, {} user{} in all",
            p.page,
            p.total_pages,
            p.total,
            if p.total == 1 { "" } else { "s" }
        );
    })
}

async fn get(client: &Client, args: &GetArgs, as_json: bool) -> anyhow::Result<()> {
    let user = match (&args.id, &args.external_id, &args.email) {
        (Some(id), _, _) => client.get_user(id).await?,
        (_, Some(ext), _) => client
            .find_by_external_id(ext)
            .await?
            .with_context(|| format!("no customer user with external id {ext:?}"))?,
        (_, _, Some(email)) => client
            .find_by_email(email)
            .await?
            .with_context(|| format!("no customer user with e-mail {email:?}"))?,
        (None, None, None) => bail!("give an id, --external-id or --email"),
    };
    show_user(&user, as_json)
}

fn show_user(user: &CustomerUser, as_json: bool) -> anyhow::Result<()> {
    print(as_json, user, || user_text(user))
}

fn json_object(flag: &str, text: &str) -> anyhow::Result<Metadata> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => bail!("{flag} must be a JSON object, like '{{\"plan\":\"premium\"}}'"),
        Err(e) => bail!("{flag} is not valid JSON: {e}"),
    }
}

async fn update(client: &Client, args: &UpdateArgs, as_json: bool) -> anyhow::Result<()> {
    let mut changes = UserUpdate::new();
    if let Some(name) = &args.name {
        changes = changes.name(name);
    }
    if args.clear_name {
        changes = changes.clear_name();
    }
    if let Some(email) = &args.email {
        changes = changes.email(email);
    }
    if args.clear_email {
        changes = changes.clear_email();
    }
    if let Some(active) = args.active {
        changes = changes.active(active);
    }
    let merge = match (&args.metadata, &args.merge_metadata) {
        (Some(text), _) => {
            changes = changes.metadata(json_object("--metadata", text)?);
            false
        }
        (_, Some(text)) => {
            changes = changes.metadata(json_object("--merge-metadata", text)?);
            true
        }
        _ => false,
    };
    if changes.is_empty() {
        bail!("nothing to change: give --name, --email, --active, --metadata, --merge-metadata or a --clear-* flag");
    }
    let user = if merge {
        client.patch_user(&args.id, &changes).await?
    } else {
        client.update_user(&args.id, &changes).await?
    };
    show_user(&user, as_json)
}

async fn stats(client: &Client, as_json: bool) -> anyhow::Result<()> {
    let s = client.user_stats().await?;
    show(as_json, &s, |s| {
        println!("total      {}", s.total);
        println!("active     {}", s.active);
        println!("last day   {}", s.last_day);
        println!("last week  {}", s.last_week);
    })
}
