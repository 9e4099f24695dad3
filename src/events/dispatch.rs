//! The webhook dispatcher, one per node. Work is shared through the
//! database: each round turns newly committed events into deliveries
//! (`DeliveryQueue::fan_out`, off the API's request path, a window per
//! endpoint at a time), then sends the due ones this node could lease. A
//! lease outlives one attempt (the timeout is shorter), so a node that dies
//! mid-delivery lets it lapse and another node sends the same event again
//! with the same `webhook-id`. Each endpoint gets a few concurrent sends at
//! most, and every send has a timeout, so a slow endpoint holds neither the
//! others nor other companies' deliveries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use crate::domain::{now_ms, secrets_in_force};
use crate::outbound::OutboundRule;
use crate::signing::signature_header;
use crate::store::{AttemptOutcome, FannedOut, LeasedDelivery, Store, StoreResult};

/// How long after a failed attempt the next one comes, then given up.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The dispatcher's timings and bounds; tests shorten the durations.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Between rounds when there was nothing to do.
    pub poll: Duration,
    /// A delivery's lease: longer than `timeout`, so only a dead node's lapses.
    pub lease: Duration,
    pub timeout: Duration,
    pub retries: Vec<Duration>,
    /// Concurrent sends to one endpoint from this node.
    pub per_endpoint: usize,
    /// Concurrent sends from this node.
    pub in_flight: usize,
    /// Events read from the feed per endpoint and round.
    pub fan_out_batch: u32,
    /// Deliveries an endpoint may have queued and not yet failed; the rest
    /// of its events wait in the feed (docs/EVENTS.md, "How fan-out is
    /// paced").
    pub fan_out_window: u32,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            poll: Duration::from_millis(250),
            lease: Duration::from_secs(60),
            timeout: Duration::from_secs(15),
            retries: RETRY_SCHEDULE.to_vec(),
            per_endpoint: 4,
            in_flight: 64,
            fan_out_batch: 500,
            // Refilled once half is sent, so 128 stay queued: 32 times a
            // node's 4 concurrent sends to one endpoint, enough for 32
            // nodes sending at once. A round comes as each send ends, so
            // the refill follows within one round, while the 128 still
            // queued last a good part of a second at the few hundred
            // deliveries a second measured (docs/PERFORMANCE.md, "Events"):
            // the senders do not wait for the fan-out. More would only write
            // rows earlier than they can be sent; fewer, more and smaller
            // fan-out transactions.
            fan_out_window: 256,
        }
    }
}

/// When the attempt after `attempts` failed ones comes: the schedule's
/// step, ±20 % so that many deliveries failed together do not return
/// together; `None` once the schedule is spent.
pub fn next_attempt(retries: &[Duration], attempts: usize, now: i64) -> Option<i64> {
    let step = retries.get(attempts)?.as_millis() as f64;
    let jittered = step * rand::thread_rng().gen_range(0.8..=1.2);
    Some(now + jittered as i64)
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    rule: OutboundRule,
    config: DispatchConfig,
    client: reqwest::Client,
    /// This process's name on the leases it takes.
    owner: String,
    sending: Mutex<HashMap<String, usize>>,
    slots: Arc<Semaphore>,
    /// Rung when a send ends: its endpoint may take the next delivery now,
    /// instead of after the idle poll (which capped one endpoint at a few
    /// batches of `per_endpoint` a second).
    freed: Notify,
    /// When this node last fanned out, and whether the last round left it
    /// out for being too soon after ([`FAN_OUT_GAP`]).
    fanned_at: Mutex<Option<Instant>>,
    fan_out_skipped: AtomicBool,
}

/// The least time between two fan-outs of a node while its sends keep it
/// busy. A round comes as each send ends, hundreds a second, and each
/// fan-out reads every active endpoint's pending count: on PostgreSQL a
/// round trip paid by the server and the database for every delivery,
/// while a window needs refilling only once per half of it sent
/// (docs/PERFORMANCE.md, "With the fan-out window"). An idle node's rounds
/// are a poll apart, longer than this, so they always fan out.
const FAN_OUT_GAP: Duration = Duration::from_millis(20);

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        rule: OutboundRule,
        config: DispatchConfig,
    ) -> anyhow::Result<Arc<Self>> {
        let client = rule.client(config.timeout)?;
        Ok(Arc::new(Dispatcher {
            store,
            rule,
            client,
            owner: format!("node_{}", ulid::Ulid::new()),
            sending: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(config.in_flight)),
            freed: Notify::new(),
            fanned_at: Mutex::new(None),
            fan_out_skipped: AtomicBool::new(false),
            config,
        }))
    }

    /// Runs rounds for as long as the process does.
    pub fn spawn(self: Arc<Self>) {
        tokio::spawn(async move {
            let mut gauges_at = Instant::now();
            loop {
                match self.round().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook dispatch round failed"),
                }
                if gauges_at.elapsed() >= Duration::from_secs(5) {
                    gauges_at = Instant::now();
                    self.update_gauges().await;
                }
                // A fan-out left out as too soon comes at the latest once
                // the gap is over, whatever wakes the loop before.
                let wait = if self.fan_out_skipped.load(Ordering::Relaxed) {
                    self.config.poll.min(FAN_OUT_GAP)
                } else {
                    self.config.poll
                };
                // A send that ended during the round left a permit: no wait.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.freed.notified() => {}
                }
            }
        });
    }

    /// One round; true when it found work (so the next comes at once).
    pub async fn round(self: &Arc<Self>) -> StoreResult<bool> {
        let now = now_ms();
        // A full window queues nothing here; the sends ending wake the
        // rounds that refill it (`freed`), so a backlog drains at the send
        // rate, not a window per idle poll.
        let fanned = if self.fan_out_due() {
            self.store
                .fan_out(now, self.config.fan_out_batch, self.config.fan_out_window)
                .await?
        } else {
            FannedOut::default()
        };
        // Events passed without being queued (types nobody asked for) are
        // work too: the next round reads on at once.
        let moved = fanned.passed > 0;
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(moved);
        }
        let busy: Vec<String> = {
            let sending = self.sending.lock().unwrap_or_else(|e| e.into_inner());
            sending
                .iter()
                .filter(|(_, n)| **n >= self.config.per_endpoint)
                .map(|(id, _)| id.clone())
                .collect()
        };
        let due = self
            .store
            .due_deliveries(now, &busy, u32::try_from(free).unwrap_or(u32::MAX))
            .await?;
        let mut started = 0;
        for d in due {
            if !self.reserve(&d.endpoint_id) {
                continue;
            }
            let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else {
                self.release(&d.endpoint_id);
                break;
            };
            let until = now + self.config.lease.as_millis() as i64;
            match self
                .store
                .lease_delivery(&d.company_id, &d.id, &self.owner, now, until)
                .await
            {
                Ok(true) => {
                    started += 1;
                    let me = Arc::clone(self);
                    tokio::spawn(async move {
                        me.deliver(&d).await;
                        me.release(&d.endpoint_id);
                        drop(permit);
                        me.freed.notify_one();
                    });
                }
                Ok(false) => self.release(&d.endpoint_id),
                Err(e) => {
                    self.release(&d.endpoint_id);
                    return Err(e);
                }
            }
        }
        Ok(moved || started > 0)
    }

    /// Whether this round fans out: not within [`FAN_OUT_GAP`] of the
    /// last one. Noted either way, for the loop's wait.
    fn fan_out_due(&self) -> bool {
        let now = Instant::now();
        let mut at = self.fanned_at.lock().unwrap_or_else(|e| e.into_inner());
        let due = at.is_none_or(|t| now.duration_since(t) >= FAN_OUT_GAP);
        if due {
            *at = Some(now);
        }
        self.fan_out_skipped.store(!due, Ordering::Relaxed);
        due
    }

    fn reserve(&self, endpoint: &str) -> bool {
        let mut sending = self.sending.lock().unwrap_or_else(|e| e.into_inner());
        let n = sending.entry(endpoint.to_owned()).or_insert(0);
        if *n >= self.config.per_endpoint {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, endpoint: &str) {
        let mut sending = self.sending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = sending.get_mut(endpoint) {
            *n -= 1;
            if *n == 0 {
                sending.remove(endpoint);
            }
        }
    }

    /// One attempt, recorded whatever happens.
    async fn deliver(&self, d: &LeasedDelivery) {
        let started = Instant::now();
        let (status, error) = match self.send(d).await {
            Ok(status) => (Some(i64::from(status)), None),
            Err(e) => (None, Some(e)),
        };
        let now = now_ms();
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let gone = status == Some(410);
        let attempts = usize::try_from(d.attempts).unwrap_or(usize::MAX);
        let next = if ok || gone {
            None
        } else {
            next_attempt(&self.config.retries, attempts, now)
        };
        let outcome = match (ok, gone, next) {
            (true, _, _) => "delivered",
            (_, true, _) => "gone",
            (_, _, Some(_)) => "retrying",
            _ => "failed",
        };
        metrics::counter!("webhook_deliveries_total", "outcome" => outcome).increment(1);
        let record = AttemptOutcome {
            status_code: status,
            error,
            duration_ms: started.elapsed().as_millis() as i64,
            next_attempt_at: next,
            gone,
        };
        if let Err(e) = self
            .store
            .record_attempt(d, &self.owner, &record, now)
            .await
        {
            // The lease lapses and the delivery is tried again.
            tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt failed");
        }
    }

    /// Sends the delivery; the status code, or why there was none.
    async fn send(&self, d: &LeasedDelivery) -> Result<u16, String> {
        let target = &d.target;
        // Checked again now: the name may resolve elsewhere than when set.
        self.rule
            .check(&target.url)
            .await
            .map_err(|e| e.to_string())?;
        let now = now_ms();
        let timestamp = now / 1000;
        let secrets = secrets_in_force(
            &target.secret,
            target.previous_secret.as_deref(),
            target.previous_until,
            now,
        );
        let signature = signature_header(
            &secrets,
            crate::events::SECRET_PREFIX,
            &d.event_id,
            timestamp,
            d.body.as_bytes(),
        );
        let res = self
            .client
            .post(&target.url)
            .header("content-type", "application/json")
            .header("user-agent", "performchat-webhooks")
            .header("webhook-id", &d.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(res.status().as_u16())
    }

    async fn update_gauges(&self) {
        if let Ok((depth, oldest)) = self.store.delivery_backlog().await {
            metrics::gauge!("webhook_queue_depth").set(depth as f64);
            let age = oldest.map_or(0.0, |t| (now_ms() - t).max(0) as f64 / 1000.0);
            metrics::gauge!("webhook_oldest_pending_seconds").set(age);
        }
    }
}

/// A send error as the deliveries log shows it (no URL: it is the endpoint's).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect (refused, unreachable or a non-public address)".into()
    } else {
        e.without_url().to_string()
    }
}
