//! `migrate-store`: copies a whole store from one database to another, either
//! way between SQLite and PostgreSQL.
//!
//! The source is read in one snapshot transaction, so the copy is consistent
//! even if nodes still write to it. The target is written in one transaction,
//! so an interrupted copy leaves it as it was and the command can be rerun.
//! Rows move in keyset-paginated batches, so memory stays bounded however many
//! users there are.

use sqlx::{Postgres, Row, Sqlite, Transaction};

mod tables;

use super::dialect::Pools;
use super::SqlStore;
use tables::{Kind, Table, TABLES};

pub use tables::schema_drift;

/// Rows read per query and inserted per PostgreSQL statement; 1000 users bind
/// 13 000 parameters, well under PostgreSQL's limit of 65 535.
const BATCH: usize = 1000;

/// SQLite looks up `$N` parameters by name in a list, so a statement's cost
/// grows with the square of its parameters: many small INSERTs beat one big
/// one. On 300k users this took the copy into SQLite from 212 s to 49 s.
const SQLITE_ROWS_PER_INSERT: usize = 50;

enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection; the body
/// is compiled once per backend, like `on_pool!`.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// How far a copy has got: sent after every batch and when a table is done.
pub struct Progress<'a> {
    pub table: &'a str,
    pub copied: u64,
    pub total: u64,
}

/// Rows copied per table (settings first), each verified on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(String, u64)>,
}

/// Copies every row of `from` into `to`, which must hold no tenant data.
pub async fn copy_store(
    from: &SqlStore,
    to: &SqlStore,
    progress: &mut dyn FnMut(Progress<'_>),
) -> anyhow::Result<CopyReport> {
    let mut src = begin_snapshot(from).await?;
    let mut dst = begin_write(to).await?;
    refuse_unknown_data(&mut src).await?;

    let mut occupied = Vec::new();
    for table in TABLES {
        let n = count(&mut dst, table.name).await?;
        if n > 0 {
            occupied.push(format!("{n} {}", table.name));
        }
    }
    anyhow::ensure!(
        occupied.is_empty(),
        "the target database is not empty (it holds {}); migrate-store only copies into an \
         empty store: point --to at a new database",
        occupied.join(", ")
    );

    let mut report = CopyReport { tables: Vec::new() };
    let settings = copy_settings(&mut src, &mut dst).await?;
    progress(Progress {
        table: "settings",
        copied: settings,
        total: settings,
    });
    report.tables.push(("settings".into(), settings));

    for table in TABLES {
        if table.name == "events" {
            // The target's triggers wrote events as users, conversations and
            // messages landed; the source's own events replace them.
            on_tx!(&mut dst, |c| sqlx::query("DELETE FROM events")
                .execute(c)
                .await
                .map(|_| ())?);
        }
        let total = count(&mut src, table.name).await?;
        let mut copied = 0u64;
        let mut after: Option<Vec<String>> = None;
        loop {
            let rows = read_batch(&mut src, table, after.as_deref()).await?;
            if rows.is_empty() {
                break;
            }
            after = Some(key_of(table, rows.last().unwrap_or(&Vec::new()))?);
            copied += rows.len() as u64;
            insert_batch(&mut dst, table, rows).await?;
            progress(Progress {
                table: table.name,
                copied,
                total,
            });
        }
        let landed = count(&mut dst, table.name).await?;
        anyhow::ensure!(
            copied == total && landed == total,
            "{}: the source holds {total} rows but {copied} were read and the target holds \
             {landed}; nothing was committed",
            table.name
        );
        if total == 0 {
            progress(Progress {
                table: table.name,
                copied,
                total,
            });
        }
        report.tables.push((table.name.into(), total));
    }

    match dst {
        Tx::Sqlite(tx) => tx.commit().await?,
        Tx::Postgres(tx) => tx.commit().await?,
    }
    Ok(report)
}

async fn begin_snapshot(store: &SqlStore) -> anyhow::Result<Tx> {
    Ok(match store.pools() {
        // In WAL mode a read transaction sees one snapshot from its first read.
        Pools::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
        Pools::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
            Tx::Postgres(tx)
        }
    })
}

async fn begin_write(store: &SqlStore) -> anyhow::Result<Tx> {
    Ok(match store.pools() {
        Pools::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
        Pools::Postgres(pool) => Tx::Postgres(pool.begin().await?),
    })
}

/// A table this module does not know (added by a later feature) would be
/// silently left behind: refuse instead, unless it is empty.
async fn refuse_unknown_data(src: &mut Tx) -> anyhow::Result<()> {
    let names: Vec<String> = match src {
        // Only ordinary tables: FTS indexes and their shadow tables are
        // derived from customer_users and rebuilt by triggers on insert.
        Tx::Sqlite(tx) => {
            sqlx::query_scalar(
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            )
            .fetch_all(&mut **tx)
            .await?
        }
        Tx::Postgres(tx) => {
            sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_all(&mut **tx)
            .await?
        }
    };
    for name in names {
        if !tables::known_table(&name) {
            let n = count(src, &format!("\"{}\"", name.replace('"', "\"\""))).await?;
            anyhow::ensure!(
                n == 0,
                "the source table {name} holds {n} rows, which this version of migrate-store \
                 does not know how to copy; nothing was copied"
            );
        }
    }
    Ok(())
}

async fn count(tx: &mut Tx, table: &str) -> anyhow::Result<u64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(&sql).fetch_one(c).await?);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Copies the settings (the JWT secret among them). A setting the target
/// already has must be equal: a different JWT secret there would make every
/// token issued by the source fail to verify.
async fn copy_settings(src: &mut Tx, dst: &mut Tx) -> anyhow::Result<u64> {
    const SQL: &str = "SELECT name, value FROM settings ORDER BY name";
    let wanted: Vec<(String, String)> = on_tx!(src, |c| sqlx::query_as(SQL).fetch_all(c).await?);
    let present: Vec<(String, String)> = on_tx!(dst, |c| sqlx::query_as(SQL).fetch_all(c).await?);
    let mut copied = 0;
    for (name, value) in &wanted {
        match present.iter().find(|(n, _)| n == name) {
            Some((_, existing)) if existing == value => {}
            Some(_) => anyhow::bail!(
                "the target database already has a different {name} setting{}; copy into a \
                 database no server has started on, or delete that row first",
                if name == "jwt_secret" {
                    " (tokens issued by the source would not verify there)"
                } else {
                    ""
                }
            ),
            None => {
                on_tx!(dst, |c| sqlx::query(
                    "INSERT INTO settings (name, value) VALUES ($1, $2)"
                )
                .bind(name)
                .bind(value)
                .execute(c)
                .await
                .map(|_| ())?);
            }
        }
        copied += 1;
    }
    Ok(copied)
}

fn column_list(table: &Table) -> String {
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Decodes one row by the table's column kinds; expands once per backend.
macro_rules! decode_row {
    ($row:expr, $table:expr) => {{
        let mut values = Vec::with_capacity($table.columns.len());
        for (i, (_, kind)) in $table.columns.iter().enumerate() {
            values.push(match kind {
                Kind::Text => Value::Text($row.try_get(i)?),
                Kind::Int => Value::Int($row.try_get(i)?),
                Kind::Bool => Value::Bool($row.try_get(i)?),
                Kind::Bytes => Value::Bytes($row.try_get(i)?),
            });
        }
        values
    }};
}

/// The next `BATCH` rows in key order after `after` (from the start when `None`).
async fn read_batch(
    tx: &mut Tx,
    table: &Table,
    after: Option<&[String]>,
) -> anyhow::Result<Vec<Vec<Value>>> {
    let key = table.key.join(", ");
    let filter = match after {
        None => String::new(),
        Some(_) => {
            let marks: Vec<String> = (1..=table.key.len()).map(|i| format!("${i}")).collect();
            format!("WHERE ({key}) > ({})", marks.join(", "))
        }
    };
    let sql = format!(
        "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT {BATCH}",
        column_list(table),
        table.name
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query(&sql);
        for value in after.unwrap_or_default() {
            query = query.bind(value.as_str());
        }
        let rows = query.fetch_all(c).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(decode_row!(row, table));
        }
        Ok(out)
    })
}

fn key_of(table: &Table, row: &[Value]) -> anyhow::Result<Vec<String>> {
    table
        .key
        .iter()
        .map(|k| {
            let i = table.columns.iter().position(|(name, _)| name == k);
            match i.and_then(|i| row.get(i)) {
                Some(Value::Text(Some(v))) => Ok(v.clone()),
                _ => anyhow::bail!("{}: a row has no {k}", table.name),
            }
        })
        .collect()
}

/// Binds values in order onto a query; expands once per backend.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Text(v) => query.bind(v),
                Value::Int(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}

fn insert_sql(table: &Table, rows: usize) -> String {
    let width = table.columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let merge = if tables::ALSO_DERIVED.contains(&table.name) {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    format!(
        "INSERT INTO {} ({}) VALUES {}{merge}",
        table.name,
        column_list(table),
        tuples.join(", ")
    )
}

/// PostgreSQL gets one multi-row INSERT per batch: one round trip. SQLite has
/// no round trip to save and gets smaller statements (see
/// `SQLITE_ROWS_PER_INSERT`).
async fn insert_batch(tx: &mut Tx, table: &Table, rows: Vec<Vec<Value>>) -> anyhow::Result<()> {
    match tx {
        Tx::Postgres(tx) => {
            let sql = insert_sql(table, rows.len());
            bind_values!(sqlx::query(&sql), rows.into_iter().flatten())
                .execute(&mut **tx)
                .await?;
        }
        Tx::Sqlite(tx) => {
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<Vec<Value>> = rows.by_ref().take(SQLITE_ROWS_PER_INSERT).collect();
                let sql = insert_sql(table, chunk.len());
                bind_values!(sqlx::query(&sql), chunk.into_iter().flatten())
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}
