//! The arithmetic of the generic cell rate algorithm, shared by the in-process
//! store and (written out again in Lua) by the Redis script, so both answer
//! with the same numbers.
//!
//! A bucket is one number, its theoretical arrival time (TAT). What matters
//! is the *backlog*, `max(TAT - now, 0)`: how far the bucket is from full, in
//! microseconds. Each request adds one emission interval; a request is allowed
//! when the backlog it leaves is at most `limit` intervals, so the burst
//! equals the per-window limit and a bucket refills smoothly over the window.

use super::policy::Rate;

pub const MICROS: u64 = 1_000_000;

/// A rate in the units the stores work in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Microseconds between two requests at the sustained rate.
    pub interval_us: u64,
    /// `limit × interval_us`: the largest backlog a bucket may hold.
    pub capacity_us: u64,
    pub limit: u32,
}

impl Gcra {
    pub fn new(rate: Rate) -> Gcra {
        let limit = rate.limit.max(1);
        // Rates are validated so that the interval is at least one microsecond.
        let interval_us = (rate.window_secs * MICROS / u64::from(limit)).max(1);
        Gcra {
            interval_us,
            capacity_us: interval_us * u64::from(limit),
            limit,
        }
    }

    /// Whether one more request fits on a bucket with this backlog.
    pub fn fits(&self, backlog_us: u64) -> bool {
        backlog_us + self.interval_us <= self.capacity_us
    }

    /// The facts a client is told, from the backlog before this request and
    /// whether it was allowed (and so added to the backlog).
    pub fn outcome(&self, backlog_before_us: u64, allowed: bool) -> Outcome {
        if allowed {
            let after = backlog_before_us + self.interval_us;
            Outcome {
                allowed,
                remaining: ((self.capacity_us - after) / self.interval_us) as u32,
                reset_secs: after.div_ceil(MICROS),
                retry_after_secs: 0,
            }
        } else {
            let wait = (backlog_before_us + self.interval_us).saturating_sub(self.capacity_us);
            Outcome {
                allowed,
                remaining: 0,
                reset_secs: backlog_before_us.div_ceil(MICROS),
                // Rounded up, and at least 1: a client that waits this long
                // is allowed.
                retry_after_secs: wait.div_ceil(MICROS).max(1),
            }
        }
    }
}

/// What one GCRA step decided, in whole seconds as the headers carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allowed: bool,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until a request is allowed; 0 when this one was.
    pub retry_after_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(limit: u32) -> Gcra {
        Gcra::new(Rate {
            limit,
            window_secs: 60,
        })
    }

    #[test]
    fn a_burst_of_the_limit_fits_and_one_more_does_not() {
        let g = per_minute(100);
        let mut backlog = 0;
        for n in 1..=100u32 {
            assert!(g.fits(backlog), "request {n}");
            let o = g.outcome(backlog, true);
            assert_eq!(o.remaining, 100 - n);
            backlog += g.interval_us;
        }
        assert!(!g.fits(backlog));
        let refused = g.outcome(backlog, false);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset_secs, 60);
        // One interval (0.6 s) frees one request: rounded up to 1 s.
        assert_eq!(refused.retry_after_secs, 1);
    }

    #[test]
    fn reset_is_the_time_until_full_and_retry_after_the_time_until_one_fits() {
        let g = Gcra::new(Rate {
            limit: 10,
            window_secs: 300,
        });
        assert_eq!(g.interval_us, 30 * MICROS);
        let full = g.capacity_us;
        let o = g.outcome(full, false);
        assert_eq!((o.reset_secs, o.retry_after_secs), (300, 30));
        let first = g.outcome(0, true);
        assert_eq!((first.remaining, first.reset_secs), (9, 30));
    }

    #[test]
    fn uneven_rates_keep_the_burst() {
        let g = Gcra::new(Rate {
            limit: 7,
            window_secs: 60,
        });
        assert!(g.fits(6 * g.interval_us));
        assert!(!g.fits(7 * g.interval_us));
    }
}
