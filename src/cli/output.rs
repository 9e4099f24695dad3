//! What the commands print, in one place: with `--json`, one JSON value a
//! line for scripts; otherwise text for people (tables, `key: value` lines,
//! one line per item).

use performchat_client::CustomerUser;
use serde::Serialize;

/// `value` as one line of JSON with `--json`, else the line `human` makes.
pub fn print(
    as_json: bool,
    value: &impl Serialize,
    human: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    show(as_json, value, |_| println!("{}", human()))
}

/// `value` as one line of JSON with `--json`, else what `human` prints of it.
pub fn show<T: Serialize + ?Sized>(
    as_json: bool,
    value: &T,
    human: impl FnOnce(&T),
) -> anyhow::Result<()> {
    if as_json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        human(value);
    }
    Ok(())
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
