-- Timestamps are milliseconds since the Unix epoch. Per-tenant tables are keyed
-- and indexed by company_id first.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE companies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE agents (
    company_id      TEXT NOT NULL REFERENCES companies (id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    prompt_template TEXT,
    active          BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX agents_by_creation ON agents (company_id, created_at, id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    company_id   TEXT NOT NULL REFERENCES companies (id),
    name         TEXT NOT NULL,
    environment  TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX api_keys_by_company ON api_keys (company_id, created_at, id);

-- SQLite only: `seq` is a stable integer key for the name-search index
-- (0002), which VACUUM cannot renumber as it may an implicit rowid.
CREATE TABLE customer_users (
    seq           INTEGER PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (id),
    id            TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    name          TEXT,
    name_folded   TEXT,
    email         TEXT,
    email_folded  TEXT,
    metadata      TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    token_version BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_seen_at  BIGINT,
    UNIQUE (company_id, id),
    UNIQUE (company_id, external_id)
);
CREATE INDEX customer_users_by_creation ON customer_users (company_id, created_at, id);
CREATE INDEX customer_users_by_email ON customer_users (company_id, email_folded);
CREATE INDEX customer_users_by_active ON customer_users (company_id, active, created_at, id);
CREATE INDEX customer_users_by_last_seen ON customer_users (company_id, last_seen_at);
