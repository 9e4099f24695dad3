//! The export's two formats, one user at a time, written straight into the
//! output buffer: no record or JSON value is built per row, except for
//! NDJSON's metadata (below). The bytes are those of the `csv` crate's
//! writer (RFC 4180, CRLF, quoting only where needed) and of serde_json
//! writing a [`UserView`](crate::http::views::UserView), which the tests
//! compare them with.

use crate::domain::{write_ms, Metadata};
use crate::store::ExportUser;

pub(super) const CSV_HEADER: &[u8] =
    b"id,external_id,name,email,active,created_at,last_seen_at,metadata\r\n";

/// A CSV row whose text cells cannot run as a spreadsheet formula (OWASP's
/// CSV injection advice): the export's default, since `external_id` and
/// `name` come from end users.
pub(super) fn csv_user(u: &ExportUser<'_>, out: &mut Vec<u8>) {
    csv_row(u, out, true)
}

/// The row as stored, for machine consumers (`csv_formulas=raw`).
pub(super) fn csv_user_raw(u: &ExportUser<'_>, out: &mut Vec<u8>) {
    csv_row(u, out, false)
}

fn csv_row(u: &ExportUser<'_>, out: &mut Vec<u8>, guard: bool) {
    csv_field(out, u.id.as_bytes(), guard);
    out.push(b',');
    csv_field(out, u.external_id.as_bytes(), guard);
    out.push(b',');
    csv_field(out, u.name.unwrap_or_default().as_bytes(), guard);
    out.push(b',');
    csv_field(out, u.email.unwrap_or_default().as_bytes(), guard);
    out.extend_from_slice(if u.active { b",true," } else { b",false," });
    // Timestamps and booleans never hold a byte that needs quoting.
    write_ms(out, u.created_at);
    out.push(b',');
    if let Some(t) = u.last_seen_at {
        write_ms(out, t);
    }
    out.push(b',');
    // Compact JSON objects start with `{`: never a formula.
    csv_field(out, u.metadata.as_bytes(), guard);
    out.extend_from_slice(b"\r\n");
}

/// Whether a spreadsheet would read a cell starting like this as a formula.
fn formula_like(field: &[u8]) -> bool {
    matches!(
        field.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// The `csv` crate's `QuoteStyle::Necessary` with a comma, `"` and CRLF:
/// quoted when the field holds any of `,"\r\n`, quotes doubled inside. With
/// `guard`, a formula-like field gets a leading `'` (inside the quotes, so
/// the cell's text is `'` and the field).
fn csv_field(out: &mut Vec<u8>, field: &[u8], guard: bool) {
    let prefix: &[u8] = if guard && formula_like(field) {
        b"'"
    } else {
        b""
    };
    if !field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.extend_from_slice(prefix);
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    out.extend_from_slice(prefix);
    let mut rest = field;
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        out.extend_from_slice(&rest[..=at]);
        out.push(b'"');
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// `UserView`'s fields in its order, compact, one line per user.
pub(super) fn ndjson_user(u: &ExportUser<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    json_str(out, Some(u.id));
    out.extend_from_slice(b",\"external_id\":");
    json_str(out, Some(u.external_id));
    out.extend_from_slice(b",\"name\":");
    json_str(out, u.name);
    out.extend_from_slice(b",\"email\":");
    json_str(out, u.email);
    out.extend_from_slice(b",\"metadata\":");
    if u.metadata == "{}" {
        out.extend_from_slice(b"{}");
    } else {
        // Parsed and written again as the other users endpoints do, so keys
        // come out in serde_json's order and numbers in its spelling whatever
        // wrote the stored text (another backend, an older version).
        json_value(out, &Metadata::from_stored(u.metadata).into_value());
    }
    out.extend_from_slice(if u.active {
        b",\"active\":true"
    } else {
        b",\"active\":false"
    });
    out.extend_from_slice(b",\"created_at\":\"");
    write_ms(out, u.created_at);
    out.extend_from_slice(b"\",\"updated_at\":\"");
    write_ms(out, u.updated_at);
    out.extend_from_slice(b"\",\"last_seen_at\":");
    match u.last_seen_at {
        Some(t) => {
            out.push(b'"');
            write_ms(out, t);
            out.extend_from_slice(b"\"}\n");
        }
        None => out.extend_from_slice(b"null}\n"),
    }
}

/// A JSON string with serde_json's escapes, or `null`.
fn json_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => json_value(out, &text),
        None => out.extend_from_slice(b"null"),
    }
}

/// serde_json writing into a `Vec` cannot fail: the `Vec` takes every byte,
/// and strings and JSON values always serialize.
fn json_value<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if let Err(e) = serde_json::to_writer(out, value) {
        tracing::error!(error = %e, "export: a value did not serialize");
    }
}
