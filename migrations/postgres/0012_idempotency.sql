-- Answers kept for Idempotency-Key retries (docs/API.md §12), per API key.
-- A row is claimed by the insert of the first request (the primary key
-- makes a second claim conflict, on any node); `status` is NULL while that
-- request runs, and `lease_until` says when a claim left by a crashed
-- request may be taken over. Rows go 24 h after `created_at`
-- (`http::idempotency` prunes them).
CREATE TABLE idempotency_keys (
    company_id   TEXT NOT NULL,
    api_key_id   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  BYTEA NOT NULL,
    claim        TEXT NOT NULL,
    lease_until  BIGINT,
    status       BIGINT,
    headers      TEXT,
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (company_id, api_key_id, idem_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (company_id, created_at);
