//! Customer-user fields. Lengths are counted in Unicode code points.

use super::check_text;

/// Case folding used for every case-insensitive comparison. It is done here,
/// not in SQL, so SQLite and PostgreSQL agree on non-ASCII text.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn check_length(field: &str, value: &str, min: usize, max: usize) -> Result<(), String> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(if min == 0 {
            format!("{field} must be at most {max} characters")
        } else {
            format!("{field} must be between {min} and {max} characters")
        });
    }
    check_text(field, value)
}

/// The caller's own id for a customer user (`userId` / `external_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    pub const MAX: usize = 255;

    pub fn parse(field: &str, value: String) -> Result<Self, String> {
        check_length(field, &value, 1, Self::MAX)?;
        Ok(ExternalId(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: non-empty, at most 255 code points. Clearing is `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX: usize = 255;

    pub fn parse(value: String) -> Result<Self, String> {
        if value.is_empty() {
            return Err("name must not be empty (send null to clear it)".into());
        }
        check_length("name", &value, 1, Self::MAX)?;
        Ok(Name(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// A syntactically valid e-mail address of at most 320 code points, stored as
/// given; comparisons use its folded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 320;

    pub fn parse(value: String) -> Result<Self, String> {
        check_length("email", &value, 1, Self::MAX)?;
        if !email_address::EmailAddress::is_valid(&value) {
            return Err(format!(
                "email must be a valid e-mail address, got {value:?}"
            ));
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// A name filter turned into a `LIKE` pattern over the folded name, with `%`,
/// `_` and `\` in the user's text escaped so they only match themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameQuery {
    folded: String,
    pattern: String,
}

impl NameQuery {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("name filter must not be empty".into());
        }
        check_length("name", value, 1, Name::MAX)?;
        let folded = fold(value);
        let mut pattern = String::with_capacity(value.len() + 2);
        pattern.push('%');
        for c in folded.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Ok(NameQuery { folded, pattern })
    }

    /// The pattern for `LIKE ... ESCAPE '\'`.
    pub fn like_pattern(&self) -> &str {
        &self.pattern
    }

    /// The search as one quoted FTS5 phrase, which a trigram index answers as
    /// a substring match; `None` below three characters, the shortest
    /// substring a trigram index can look up.
    pub fn trigram_phrase(&self) -> Option<String> {
        (self.folded.chars().count() >= 3)
            .then(|| format!("\"{}\"", self.folded.replace('"', "\"\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_query_escapes_wildcards() {
        assert_eq!(
            NameQuery::parse("100%_A\\").unwrap().like_pattern(),
            "%100\\%\\_a\\\\%"
        );
        assert!(NameQuery::parse("").is_err());
        assert_eq!(NameQuery::parse("Jo").unwrap().trigram_phrase(), None);
        assert_eq!(
            NameQuery::parse("Say \"Hi\"")
                .unwrap()
                .trigram_phrase()
                .unwrap(),
            "\"say \"\"hi\"\"\""
        );
    }

    #[test]
    fn lengths_count_code_points() {
        assert!(ExternalId::parse("userId", "é".repeat(255)).is_ok());
        assert!(ExternalId::parse("userId", "é".repeat(256)).is_err());
        assert!(ExternalId::parse("userId", String::new()).is_err());
        assert!(Name::parse("😀".repeat(255)).is_ok());
        assert!(Name::parse("x".repeat(256)).is_err());
        assert!(ExternalId::parse("userId", "a\0b".into()).is_err());
    }

    #[test]
    fn emails_are_checked() {
        assert!(Email::parse("ann@example.com".into()).is_ok());
        assert!(Email::parse("not-an-email".into()).is_err());
        assert!(Email::parse(format!("{}@example.com", "a".repeat(320))).is_err());
        assert_eq!(
            Email::parse("Ann@Example.COM".into()).unwrap().folded(),
            "ann@example.com"
        );
    }
}
