//! `GET /metrics` in the Prometheus text format, on its own listen address
//! (`--metrics-listen`), never on the API port: what it shows (routes,
//! volumes, pool use) is for the operator, not for API keys' holders.
//!
//! Without `--metrics-listen` no recorder is installed and the calls in the
//! request log cost next to nothing.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::store::PoolWatch;

const DURATION: &str = "http_request_duration_seconds";
/// The chat module's model timings (`model_reply_duration_seconds`,
/// `model_first_delta_seconds`): replies take seconds, not milliseconds.
const MODEL_TIMINGS: &str = "model_";

/// Counts one answered request; `route` is the matched route pattern, never
/// the raw path, so the number of series stays bounded.
pub fn record_request(method: &str, route: &str, status: u16, seconds: f64) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!(
        "http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route).record(seconds);
}

/// Counts one request turned away by a rate limit (`policy`: tokens, api, chat,
/// or auth for the failed-authentication lockout).
pub fn record_refusal(policy: &'static str) {
    metrics::counter!("rate_limit_refusals_total", "policy" => policy).increment(1);
}

/// Installs the process's recorder and serves `/metrics` on `listener`.
pub fn start(listener: TcpListener, pools: PoolWatch) -> anyhow::Result<()> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(DURATION.into()),
            &[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Prefix(MODEL_TIMINGS.into()),
            &[
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
            ],
        )?
        .install_recorder()?;
    let app = Router::new().route(
        "/metrics",
        get(move || std::future::ready(scrape(handle.clone(), pools.clone()))),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

fn scrape(handle: PrometheusHandle, pools: PoolWatch) -> impl IntoResponse {
    // Pool use is read at scrape time: it is a level, not an event.
    for usage in pools.usage() {
        let in_use = usage.open.saturating_sub(usage.idle as u32);
        metrics::gauge!("db_pool_connections_open", "pool" => usage.pool).set(usage.open);
        metrics::gauge!("db_pool_connections_in_use", "pool" => usage.pool).set(in_use);
        metrics::gauge!("db_pool_connections_max", "pool" => usage.pool).set(usage.max);
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}
