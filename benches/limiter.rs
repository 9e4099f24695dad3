//! What the rate limiter costs per request: `cargo bench --bench limiter`.
//! Prints figures (it asserts nothing) in about half a minute: the bucket
//! step alone, in process and through Redis, and whole in-process HTTP
//! requests with limits off, in memory and in Redis. Redis is
//! `PERFORMCHAT_BENCH_REDIS_URL` (default redis://127.0.0.1:6379); its parts
//! are skipped when it does not answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use performchat::app::{AppState, Config};
use performchat::auth::create_api_key;
use performchat::domain::{now_ms, Environment, Permissions};
use performchat::limits::{
    Bucket, Clock, Gcra, LimitsConfig, MemoryLimiter, Policy, Rate, RateLimits,
};
use performchat::store::{ConnectOptions, SqlStore, Store, TenantStore};

fn per_op(total: Duration, ops: u64) -> String {
    let ns = total.as_nanos() as f64 / ops as f64;
    if ns >= 10_000.0 {
        format!("{:>8.1} µs/op", ns / 1000.0)
    } else {
        format!("{ns:>8.0} ns/op")
    }
}

/// Limits that never refuse, so every request does the whole bookkeeping.
fn roomy(store_url: Option<String>) -> LimitsConfig {
    let mut config = LimitsConfig {
        store_url,
        key_prefix: format!("bench:{}:", ulid::Ulid::new()),
        ..LimitsConfig::default()
    };
    config.policies.api = Rate::new(100_000_000, 60);
    config
}

fn bucket_steps() {
    let store = MemoryLimiter::new(100_000, Clock::system());
    let gcra = Gcra::new(Rate::new(100_000_000, 60));
    let n = 1_000_000u64;
    let hot = Bucket {
        policy: Policy::Api,
        subject: "pk_hot",
        gcra,
    };
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(store.step_now(None, &hot));
    }
    println!("in process, one key            {}", per_op(t.elapsed(), n));
    let names: Vec<String> = (0..200_000).map(|i| format!("pk_{i:08}")).collect();
    let t = Instant::now();
    for name in names.iter().cycle().take(n as usize) {
        let b = Bucket {
            policy: Policy::Api,
            subject: name,
            gcra,
        };
        std::hint::black_box(store.step_now(None, &b));
    }
    println!(
        "in process, 200 000 keys       {}  (past the 100 000-bucket cap: evicting)",
        per_op(t.elapsed(), n)
    );
}

async fn redis_steps(url: &str) {
    let limits = RateLimits::start(&roomy(Some(url.to_owned())))
        .await
        .unwrap();
    let ip = Some("192.0.2.1".parse().unwrap());
    let n = 5_000u64;
    let mut best = Duration::MAX;
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..n / 10 {
            std::hint::black_box(limits.check_key(ip, Policy::Api, "pk_bench").await);
        }
        best = best.min(t.elapsed());
    }
    println!(
        "Redis, one at a time           {}  (one round trip; best of 10 rounds)",
        per_op(best, n / 10)
    );
    let limits = Arc::new(limits);
    let tasks = 32u64;
    let t = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let limits = Arc::clone(&limits);
            tokio::spawn(async move {
                let key = format!("pk_{i}");
                for _ in 0..n / tasks {
                    limits.check_key(ip, Policy::Api, &key).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let elapsed = t.elapsed();
    println!(
        "Redis, 32 concurrent           {}  ({:.0} decisions/s on one connection)",
        per_op(elapsed, n),
        n as f64 / elapsed.as_secs_f64()
    );
}

/// An in-process router on a fresh SQLite database, and an API key for it.
async fn app(limits: LimitsConfig) -> (axum::Router, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(
        SqlStore::connect(
            &url,
            &ConnectOptions {
                pool_size: 4,
                create: true,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap(),
    );
    let company = store.create_company("Bench", now_ms()).await.unwrap().id;
    let (key, secret) = create_api_key(
        store.as_ref(),
        &company,
        "bench",
        Environment::Production,
        Permissions::all(),
        None,
    )
    .await
    .unwrap();
    let config = Config {
        limits,
        ..Config::default()
    };
    let state = AppState::new(store as Arc<dyn Store>, None, config)
        .await
        .unwrap();
    (performchat::http::router(state), key.id, secret, dir)
}

/// Whole requests through the router (GET /rest/v1/agents on SQLite), the
/// modes taking turns in rounds and each reported by its best round, so that
/// a burst of other work on a shared machine does not land on one mode only.
async fn requests(modes: Vec<(&str, LimitsConfig)>) {
    let mut apps = Vec::new();
    for (label, limits) in modes {
        apps.push((label, app(limits).await, Duration::MAX));
    }
    let n = 200u64;
    for round in 0..31 {
        for (_, (router, key, secret, _), best) in apps.iter_mut() {
            let t = Instant::now();
            for _ in 0..n {
                let req = Request::get("/rest/v1/agents")
                    .header("x-api-key-id", key.as_str())
                    .header("x-api-key-secret", secret.as_str())
                    .body(Body::empty())
                    .unwrap();
                let res = router.clone().oneshot(req).await.unwrap();
                assert_eq!(res.status(), 200);
            }
            // The first round warms caches and pools.
            if round > 0 {
                *best = (*best).min(t.elapsed());
            }
        }
    }
    for (label, _, best) in apps {
        println!("request, limits {label:<14} {}", per_op(best, n));
    }
}

async fn redis_answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let connect = client.get_multiplexed_async_connection();
    match tokio::time::timeout(Duration::from_secs(1), connect).await {
        Ok(Ok(mut conn)) => redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .is_ok(),
        _ => false,
    }
}

fn main() {
    let url = std::env::var("PERFORMCHAT_BENCH_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    println!("bucket step");
    bucket_steps();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let redis = redis_answers(&url).await;
        if redis {
            redis_steps(&url).await;
        } else {
            println!("Redis at {url} does not answer: its figures are skipped");
        }
        println!(
            "\nwhole request (in-process router, GET /rest/v1/agents, SQLite, best of 30 rounds)"
        );
        let mut modes = vec![("off", LimitsConfig::off()), ("in memory", roomy(None))];
        if redis {
            modes.push(("in Redis", roomy(Some(url.clone()))));
        }
        requests(modes).await;
    });
}
