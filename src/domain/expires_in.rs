/// A token lifetime as the docs write it: a positive integer and exactly one
/// unit of `s`, `m`, `h` or `d`, bounded by the server's maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresIn {
    seconds: i64,
}

pub const DEFAULT_EXPIRES_IN: ExpiresIn = ExpiresIn { seconds: 24 * 3600 };

impl ExpiresIn {
    pub fn parse(text: &str, max_seconds: i64) -> Result<Self, String> {
        let bad = || {
            format!(
                "expiresIn must be a positive integer followed by s, m, h or d (e.g. \"30m\", \"24h\", \"7d\"), got {text:?}"
            )
        };
        let unit = text.chars().next_back().ok_or_else(bad)?;
        let digits = &text[..text.len() - unit.len_utf8()];
        let unit_seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        // Leading zeros, signs, spaces and decimals are all refused: the value
        // must read exactly as the documented examples do.
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let seconds = digits
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_seconds))
            .filter(|s| *s <= max_seconds)
            .ok_or_else(|| format!("expiresIn must not exceed {}", describe(max_seconds)))?;
        Ok(ExpiresIn { seconds })
    }

    /// The default lifetime (24 h), or the configured maximum when that is shorter.
    pub fn default_within(max_seconds: i64) -> Self {
        ExpiresIn {
            seconds: DEFAULT_EXPIRES_IN.seconds.min(max_seconds),
        }
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }
}

fn describe(seconds: i64) -> String {
    if seconds % 86_400 == 0 {
        format!("{}d", seconds / 86_400)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = 30 * 86_400;

    #[test]
    fn accepts_each_unit() {
        for (text, secs) in [
            ("3600s", 3600),
            ("30m", 1800),
            ("24h", 86_400),
            ("7d", 604_800),
            ("30d", MAX),
        ] {
            assert_eq!(
                ExpiresIn::parse(text, MAX).unwrap().seconds(),
                secs,
                "{text}"
            );
        }
    }

    #[test]
    fn the_default_never_exceeds_the_maximum() {
        assert_eq!(ExpiresIn::default_within(MAX).seconds(), 86_400);
        assert_eq!(ExpiresIn::default_within(3600).seconds(), 3600);
    }

    #[test]
    fn refuses_everything_else() {
        for text in [
            "",
            "0s",
            "-1h",
            "10",
            "1w",
            "1.5h",
            " 1h",
            "1h ",
            "1 h",
            "h",
            "31d",
            "01h",
            "+1h",
            "99999999999999999999d",
            "1H",
            "1٣h",
            "1٣",
            "é",
        ] {
            assert!(
                ExpiresIn::parse(text, MAX).is_err(),
                "{text:?} should be refused"
            );
        }
    }
}
