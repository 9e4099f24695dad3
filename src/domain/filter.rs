//! The customer-user list filters, declared once. The `user_filters!` list
//! below yields the typed filter the store reads ([`UserFilter`]), the body
//! the list and export accept ([`UserFilterBody`]), the accepted query
//! parameter names ([`UserFilter::NAMES`]) and both OpenAPI descriptions.
//!
//! Adding a filter: one line in the list below (name, typed value, the raw
//! JSON type, its documented bounds), and its condition in the store's
//! `user_where`.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{fold, Field, NameQuery};

/// An e-mail filter, folded as the stored `email_folded` column is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailQuery(String);

impl EmailQuery {
    pub fn folded(&self) -> &str {
        &self.0
    }
}

/// An external-id filter, matched exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdQuery(String);

impl ExternalIdQuery {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A filter's value, read from the body (already of its JSON type) or from
/// the query string (text). Errors name the filter.
pub trait FilterValue: Sized {
    type Raw;
    fn from_body(name: &str, raw: Self::Raw) -> Result<Self, String>;
    fn from_query(name: &str, text: &str) -> Result<Self, String>;
}

/// Longer than any stored text (e-mails go up to 320 code points): such a
/// filter could only ever match nothing, so it is refused as a mistake.
const MAX_FILTER_CHARS: usize = 320;

fn filter_text(name: &str, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{name} filter must not be empty"));
    }
    if text.chars().count() > MAX_FILTER_CHARS || text.contains('\0') {
        return Err(format!("{name} filter is not a value any user can have"));
    }
    Ok(())
}

/// Text filters read the same from either source.
macro_rules! text_filter {
    ($ty:ty, |$text:ident| $make:expr) => {
        impl FilterValue for $ty {
            type Raw = String;
            fn from_body(name: &str, raw: String) -> Result<Self, String> {
                Self::from_query(name, &raw)
            }
            fn from_query(name: &str, $text: &str) -> Result<Self, String> {
                filter_text(name, $text)?;
                $make
            }
        }
    };
}

text_filter!(NameQuery, |text| NameQuery::parse(text));
text_filter!(EmailQuery, |text| Ok(EmailQuery(fold(text))));
text_filter!(ExternalIdQuery, |text| Ok(ExternalIdQuery(text.to_owned())));

impl FilterValue for bool {
    type Raw = bool;
    fn from_body(_: &str, raw: bool) -> Result<Self, String> {
        Ok(raw)
    }
    fn from_query(name: &str, text: &str) -> Result<Self, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("{name} must be true or false, got {other:?}")),
        }
    }
}

macro_rules! user_filters {
    ($( $(#[doc = $doc:literal])* $name:ident: $ty:ty as $raw:ty { $($key:ident = $val:tt),* }, )*) => {
        /// Filters of the customer-user list; they combine with AND.
        #[derive(Debug, Clone, Default, PartialEq, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct UserFilter {
            $( $(#[doc = $doc])* #[param(value_type = Option<$raw> $(, $key = $val)*)]
               pub $name: Option<$ty>, )*
        }

        /// Filters sent in the body, as the docs' clients do. `null` is refused.
        #[derive(Deserialize, ToSchema, Default)]
        #[serde(deny_unknown_fields)]
        pub struct UserFilterBody {
            $( $(#[doc = $doc])* #[serde(default)] #[schema(value_type = $raw $(, $key = $val)*)]
               pub $name: Field<$raw>, )*
        }

        impl UserFilter {
            /// The filters' query parameter names.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Each filter from the body, else from the query string.
            pub fn read<'q>(
                body: UserFilterBody,
                query: impl Fn(&str) -> Option<&'q str>,
            ) -> Result<Self, String> {
                Ok(UserFilter {
                    $( $name: read_one(stringify!($name), body.$name, &query)?, )*
                })
            }
        }
    };
}

// Each filter: its name, its typed value, its JSON type, and the bounds the
// OpenAPI document states for it.
user_filters! {
    /// Case-insensitive substring of the name; `%`, `_`, `\` are literal.
    name: NameQuery as String { min_length = 1, max_length = 255, format = "text" },
    /// Case-insensitive exact e-mail.
    email: EmailQuery as String { min_length = 1, max_length = 320, format = "text" },
    /// Exact external id.
    external_id: ExternalIdQuery as String { min_length = 1, max_length = 320, format = "text" },
    /// `true` or `false`.
    active: bool as bool {},
}

fn read_one<'q, T: FilterValue>(
    name: &str,
    body: Field<T::Raw>,
    query: &impl Fn(&str) -> Option<&'q str>,
) -> Result<Option<T>, String> {
    // Both places are checked even where the body wins, so a bad value is
    // refused wherever it was sent.
    let from_query = query(name)
        .map(|text| T::from_query(name, text))
        .transpose()?;
    match body {
        Field::Null => Err(format!("{name} filter must not be null")),
        Field::Set(raw) => T::from_body(name, raw).map(Some),
        Field::Absent => Ok(from_query),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'q>(pairs: &'q [(&'q str, &'q str)]) -> impl Fn(&str) -> Option<&'q str> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    #[test]
    fn body_filters_win_over_query_filters() {
        let body = UserFilterBody {
            email: Field::Set("B@x.io".into()),
            ..Default::default()
        };
        let pairs = [("email", "Q@x.io"), ("active", "false")];
        let filter = UserFilter::read(body, query(&pairs)).unwrap();
        assert_eq!(
            filter.email.as_ref().map(EmailQuery::folded),
            Some("b@x.io")
        );
        assert_eq!(filter.active, Some(false));
    }

    #[test]
    fn filters_refuse_null_empty_and_impossible_values() {
        let null = UserFilterBody {
            name: Field::Null,
            ..Default::default()
        };
        assert!(UserFilter::read(null, query(&[])).is_err());
        let empty = UserFilterBody {
            external_id: Field::Set(String::new()),
            ..Default::default()
        };
        assert!(UserFilter::read(empty, query(&[])).is_err());
        let yes = [("active", "yes")];
        assert!(UserFilter::read(UserFilterBody::default(), query(&yes)).is_err());
        let long = "x".repeat(321);
        let too_long = [("email", long.as_str())];
        assert!(UserFilter::read(UserFilterBody::default(), query(&too_long)).is_err());
    }

    #[test]
    fn names_follow_the_declaration() {
        assert_eq!(
            UserFilter::NAMES,
            ["name", "email", "external_id", "active"]
        );
    }
}
