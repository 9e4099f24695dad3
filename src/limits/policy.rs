//! The named limits of docs/API.md §0.4 and their configurable rates.

use std::fmt;
use std::str::FromStr;

/// What a bucket counts. The names are the ones the `RateLimit-Policy` header uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Token generation, per API key.
    Tokens,
    /// Every other API-key request, per API key.
    Api,
    /// Chat messages, per customer user.
    Chat,
    /// Failed API-key authentications, per client IP.
    FailedAuth,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::Tokens,
        Policy::Api,
        Policy::Chat,
        Policy::FailedAuth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Tokens => "tokens",
            Policy::Api => "api",
            Policy::Chat => "chat",
            Policy::FailedAuth => "auth",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `limit` requests per `window_secs`, written `100/1m` (units `s`, `m`, `h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window_secs: u64,
}

impl Rate {
    pub const fn new(limit: u32, window_secs: u64) -> Rate {
        Rate { limit, window_secs }
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let bad =
            || format!("a rate is LIMIT/WINDOW such as 100/1m, 10/5m or 20/60s; got {text:?}");
        let (limit, window) = text.split_once('/').ok_or_else(bad)?;
        let limit: u32 = limit.trim().parse().map_err(|_| bad())?;
        let window = window.trim();
        let (digits, unit) = window.split_at(window.len().saturating_sub(1));
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => return Err(bad()),
        };
        let count: u64 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| bad())?
        };
        let window_secs = count.checked_mul(unit_secs).ok_or_else(bad)?;
        if limit == 0 || window_secs == 0 || window_secs > 86_400 {
            return Err(format!(
                "{text:?}: the limit must be at least 1 and the window between 1s and 24h"
            ));
        }
        // Each request must take at least a microsecond of the window.
        if window_secs * 1_000_000 < u64::from(limit) {
            return Err(format!("{text:?}: more than one request per microsecond"));
        }
        Ok(Rate { limit, window_secs })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.limit, self.window_secs)
    }
}

/// The rate of each policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    pub tokens: Rate,
    pub api: Rate,
    pub chat: Rate,
    pub failed_auth: Rate,
}

impl Default for Policies {
    /// The documented defaults.
    fn default() -> Self {
        Policies {
            tokens: Rate::new(100, 60),
            api: Rate::new(1000, 60),
            chat: Rate::new(20, 60),
            failed_auth: Rate::new(10, 300),
        }
    }
}

impl Policies {
    pub fn rate(&self, policy: Policy) -> Rate {
        match policy {
            Policy::Tokens => self.tokens,
            Policy::Api => self.api,
            Policy::Chat => self.chat,
            Policy::FailedAuth => self.failed_auth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!("100/1m".parse(), Ok(Rate::new(100, 60)));
        assert_eq!("10/5m".parse(), Ok(Rate::new(10, 300)));
        assert_eq!("20/60s".parse(), Ok(Rate::new(20, 60)));
        assert_eq!("5/h".parse(), Ok(Rate::new(5, 3600)));
        for bad in [
            "", "100", "0/1m", "100/0s", "100/1d", "x/1m", "100/1", "-1/1m", "10/25h",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?}");
        }
    }
}
