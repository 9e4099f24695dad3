//! The in-process store: one GCRA timestamp per bucket, in a sharded map whose
//! size is capped, so no number of keys or client addresses can grow it
//! without end.
//!
//! Why not the `governor` crate: the failed-authentication lockout must ask
//! "is this address locked out?" without spending a unit (a correct request
//! from a locked address must not count), which governor cannot do; its keyed
//! store has no size cap (`retain_recent` drops only full buckets, none of
//! which exist during a flood of fresh keys); and the Redis script must do the
//! same arithmetic, which is simpler to keep identical when it is our own
//! twenty lines ([`super::gcra`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Bucket, Step};

const SHARDS: usize = 16;

/// Buckets kept per node unless configured otherwise: about 4 MiB at most.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Where the in-process store reads the time: the monotonic clock, or a
/// clock that only moves when a test says so.
#[derive(Debug, Clone)]
pub enum Clock {
    System(Instant),
    Manual(ManualClock),
}

impl Clock {
    pub fn system() -> Clock {
        Clock::System(Instant::now())
    }

    fn now_us(&self) -> u64 {
        match self {
            Clock::System(anchor) => anchor.elapsed().as_micros() as u64,
            Clock::Manual(manual) => manual.0.load(Ordering::Acquire),
        }
    }
}

/// A clock for tests: time stands still until [`ManualClock::advance`].
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_micros() as u64, Ordering::AcqRel);
    }
}

/// Bucket keys are already hashes (of policy and subject, with a per-process
/// random seed): hashing them again would be wasted work.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Bucket hash → theoretical arrival time, in µs of [`Clock`].
type Shard = HashMap<u64, u64, BuildHasherDefault<PassThrough>>;

pub struct MemoryLimiter {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
    seed: RandomState,
    clock: Clock,
}

impl MemoryLimiter {
    /// `capacity`: the most buckets kept at once.
    pub fn new(capacity: usize, clock: Clock) -> MemoryLimiter {
        MemoryLimiter {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
            seed: RandomState::new(),
            clock,
        }
    }

    /// One decision: see [`super::Limiter::step`].
    pub fn step_now(&self, guard: Option<&Bucket<'_>>, charge: &Bucket<'_>) -> Step {
        let now = self.clock.now_us();
        if let Some(guard) = guard {
            let hash = self.hash(guard);
            let backlog = backlog(&self.shard(hash), hash, now);
            if !guard.gcra.fits(backlog) {
                return Step::Guarded {
                    backlog_us: backlog,
                };
            }
        }
        let hash = self.hash(charge);
        let mut shard = self.shard(hash);
        let backlog = backlog(&shard, hash, now);
        let allowed = charge.gcra.fits(backlog);
        if allowed {
            let tat = now + backlog + charge.gcra.interval_us;
            if shard.len() >= self.shard_capacity && !shard.contains_key(&hash) {
                make_room(&mut shard, now, self.shard_capacity);
            }
            shard.insert(hash, tat);
        }
        Step::Charged {
            backlog_us: backlog,
            allowed,
        }
    }

    /// Drops the buckets that are full again (they hold nothing a fresh
    /// bucket would not) and gives memory back after a burst of keys.
    pub fn evict_idle(&self) {
        let now = self.clock.now_us();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.retain(|_, tat| *tat > now);
            if shard.capacity() > 64 && shard.len() < shard.capacity() / 4 {
                shard.shrink_to_fit();
            }
        }
    }

    /// Buckets held right now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most buckets this store keeps.
    pub fn capacity(&self) -> usize {
        self.shard_capacity * SHARDS
    }

    /// Bytes the maps have allocated for their entries (keys, values and
    /// control bytes), as a check that memory follows the bucket count.
    pub fn allocated_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| lock(s).capacity() * (2 * size_of::<u64>() + 1))
            .sum()
    }

    fn hash(&self, bucket: &Bucket<'_>) -> u64 {
        self.seed.hash_one((bucket.policy, bucket.subject))
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Shard> {
        // The map uses the low bits for the slot and the top seven as tags:
        // take the shard from bits in between.
        lock(&self.shards[(hash >> 32) as usize % SHARDS])
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding a shard leaves only timestamps behind: keep going.
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

fn backlog(shard: &Shard, hash: u64, now: u64) -> u64 {
    shard.get(&hash).map_or(0, |tat| tat.saturating_sub(now))
}

/// A full shard first loses its idle buckets; if that is not enough, the
/// quarter nearest to full goes (forgetting them costs their owners least),
/// so one sweep pays for many inserts.
fn make_room(shard: &mut Shard, now: u64, capacity: usize) {
    shard.retain(|_, tat| *tat > now);
    if shard.len() < capacity {
        return;
    }
    let mut tats: Vec<u64> = shard.values().copied().collect();
    let drop = shard.len() - capacity * 3 / 4;
    let (_, cut, _) = tats.select_nth_unstable(drop - 1);
    let cut = *cut;
    shard.retain(|_, tat| *tat > cut);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::gcra::Gcra;
    use crate::limits::policy::{Policy, Rate};

    fn bucket(subject: &str, rate: Rate) -> Bucket<'_> {
        Bucket {
            policy: Policy::Api,
            subject,
            gcra: Gcra::new(rate),
        }
    }

    fn allowed(step: Step) -> bool {
        matches!(step, Step::Charged { allowed: true, .. })
    }

    #[test]
    fn buckets_refill_with_the_clock() {
        let clock = ManualClock::default();
        let store = MemoryLimiter::new(1000, Clock::Manual(clock.clone()));
        let b = bucket("k", Rate::new(3, 3));
        assert!((0..3).all(|_| allowed(store.step_now(None, &b))));
        assert!(!allowed(store.step_now(None, &b)));
        clock.advance(Duration::from_millis(999));
        assert!(!allowed(store.step_now(None, &b)));
        clock.advance(Duration::from_millis(1));
        assert!(allowed(store.step_now(None, &b)));
        assert!(!allowed(store.step_now(None, &b)));
    }

    #[test]
    fn a_full_store_drops_idle_buckets_before_busy_ones() {
        let clock = ManualClock::default();
        let store = MemoryLimiter::new(SHARDS * 8, Clock::Manual(clock.clone()));
        let rate = Rate::new(2, 60);
        // Empty for the next ten minutes, unlike any of the others.
        let hot = bucket("hot", Rate::new(2, 600));
        assert!(allowed(store.step_now(None, &hot)));
        assert!(allowed(store.step_now(None, &hot)));
        let names: Vec<String> = (0..store.capacity() * 4).map(|i| format!("k{i}")).collect();
        for name in &names {
            store.step_now(None, &bucket(name, rate));
            // 512 × 0.1 s: the hot bucket stays empty throughout.
            clock.advance(Duration::from_millis(100));
            assert!(store.len() <= store.capacity());
        }
        assert!(
            !allowed(store.step_now(None, &hot)),
            "the busy bucket was forgotten"
        );
    }
}
