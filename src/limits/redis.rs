//! The shared store: one Lua script per decision, run atomically by Redis on
//! its own clock (`TIME`), so every node sees one bucket and node clocks do
//! not matter. The arithmetic is that of [`super::gcra`].

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::{Bucket, Step};

/// KEYS[1] is charged one request; KEYS[2], when given, is a guard that must
/// have room for one more (it is read, never written). ARGV holds each key's
/// interval and capacity in microseconds. The answer is `{code, backlog}`:
/// 0 = refused by the guard (the guard's backlog), 1 = charged, 2 = refused
/// (KEYS[1]'s backlog before the request). The timestamp is written with
/// `%.0f` because Lua's default number format would round it, and expires
/// when the bucket is full again, so idle buckets cost Redis nothing.
const GCRA_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function backlog(key)
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat <= now then return 0 end
  return tat - now
end
if #KEYS == 2 then
  local b = backlog(KEYS[2])
  if b + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return {0, b} end
end
local interval = tonumber(ARGV[1])
local b = backlog(KEYS[1])
if b + interval > tonumber(ARGV[2]) then return {2, b} end
local after = b + interval
redis.call('SET', KEYS[1], string.format('%.0f', now + after), 'PX', math.ceil(after / 1000))
return {1, b}
"#;

/// How long one Redis call may take before the node decides alone.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

pub struct RedisStore {
    conn: ConnectionManager,
    script: Script,
    prefix: String,
}

impl RedisStore {
    /// Does not connect yet: the node starts even when Redis is away.
    pub fn new(url: &str, prefix: &str) -> Result<RedisStore, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            // Reconnection is retried by the next call or health probe; a
            // long backoff inside one call would only hold that call up.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisStore {
            conn,
            script: Script::new(GCRA_LUA),
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, bucket: &Bucket<'_>) -> String {
        format!("{}{}:{}", self.prefix, bucket.policy.name(), bucket.subject)
    }

    pub async fn step(
        &self,
        guard: Option<&Bucket<'_>>,
        charge: &Bucket<'_>,
    ) -> Result<Step, redis::RedisError> {
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.key(charge))
            .arg(charge.gcra.interval_us)
            .arg(charge.gcra.capacity_us);
        if let Some(guard) = guard {
            invocation
                .key(self.key(guard))
                .arg(guard.gcra.interval_us)
                .arg(guard.gcra.capacity_us);
        }
        let mut conn = self.conn.clone();
        // EVALSHA, and EVAL when Redis lost its script cache (a restart).
        let (code, backlog): (i64, i64) = invocation.invoke_async(&mut conn).await?;
        let backlog_us = backlog.max(0) as u64;
        Ok(match code {
            0 => Step::Guarded { backlog_us },
            1 => Step::Charged {
                backlog_us,
                allowed: true,
            },
            _ => Step::Charged {
                backlog_us,
                allowed: false,
            },
        })
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await
    }
}
