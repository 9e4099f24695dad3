//! Query-string parsing: strict `page`/`limit`, and refusal of any parameter
//! the endpoint does not document, so a misspelt filter fails loudly.

use crate::error::ApiError;
use crate::store::PageRequest;

pub const MAX_LIMIT: u32 = 100;

/// The paging parameters of every listing.
pub const PAGE: &[&str] = &["page", "limit"];

/// The query string's parameters, each name at most once.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses the raw query, refusing names outside `allowed` and repeats.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !allowed.contains(&name.as_ref()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{name}`; expected one of: {}",
                    allowed.join(", ")
                )));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::bad_request(format!(
                    "query parameter `{name}` given more than once"
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(QueryParams(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `page` (≥ 1, default 1) and `limit` (1..=100, default `default_limit`).
    pub fn page(&self, default_limit: u32) -> Result<PageRequest, ApiError> {
        let page = match self.get("page") {
            None => 1,
            Some(v) => parse_int(v, 1, u32::MAX).ok_or_else(|| {
                ApiError::bad_request(format!("page must be an integer of at least 1, got {v:?}"))
            })?,
        };
        let limit = match self.get("limit") {
            None => default_limit,
            Some(v) => parse_int(v, 1, MAX_LIMIT).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be an integer between 1 and {MAX_LIMIT}, got {v:?}"
                ))
            })?,
        };
        Ok(PageRequest { page, limit })
    }
}

/// Plain decimal digits only: no sign, spaces, decimals or exponent.
pub fn parse_int(text: &str, min: u32, max: u32) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_and_limit_are_strict() {
        let page = |q: &str| {
            QueryParams::parse(Some(q), &["page", "limit"])
                .unwrap()
                .page(20)
        };
        assert_eq!(page("").unwrap(), PageRequest { page: 1, limit: 20 });
        assert_eq!(
            page("page=3&limit=100").unwrap(),
            PageRequest {
                page: 3,
                limit: 100
            }
        );
        for bad in [
            "limit=0",
            "limit=101",
            "limit=abc",
            "limit=-1",
            "page=0",
            "page=x",
            "limit=1.5",
            "limit=",
            "limit=+5",
            "page=99999999999",
        ] {
            assert!(page(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_rejected() {
        assert!(QueryParams::parse(Some("externalId=x"), &["page"]).is_err());
        assert!(QueryParams::parse(Some("page=1&page=2"), &["page"]).is_err());
    }
}
