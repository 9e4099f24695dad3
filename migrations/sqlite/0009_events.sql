-- The outbox and change feed (docs/EVENTS.md). Triggers write each event in
-- the statement, and so the transaction, of the change it describes: every
-- write path (the group writer, bulk inserts, the chat store) is covered, a
-- rolled-back change leaves no event, a committed one always has its event.
-- `data` holds the changed row's columns as they were (raw: timestamps in
-- milliseconds); the server renders the endpoint's shape from it.
-- `seq` is assigned inside the write transaction and SQLite has one writer,
-- so seq order is commit order; `xid` is PostgreSQL's and stays 0 here.
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    xid              BIGINT NOT NULL DEFAULT 0,
    type             TEXT NOT NULL,
    -- Whose event it is, so that erasing a user can blank their events' data.
    customer_user_id TEXT,
    data             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (company_id, id)
);
CREATE INDEX events_by_position ON events (company_id, xid, seq);
CREATE INDEX events_by_age ON events (company_id, created_at);

CREATE TRIGGER events_user_created AFTER INSERT ON customer_users BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (new.company_id, 'evt_' || printf('%012x', new.created_at) || lower(hex(randomblob(8))),
            'customer_user.created', new.id,
            json_object('id', new.id, 'external_id', new.external_id, 'name', new.name,
                        'email', new.email, 'metadata', json(new.metadata), 'active', new.active,
                        'created_at', new.created_at, 'updated_at', new.updated_at,
                        'last_seen_at', new.last_seen_at),
            new.created_at);
END;

-- A write of the user's fields. Token generation moves only last_seen_at
-- (activity, not an update) and invalidation only token_version: neither
-- matches this WHEN.
CREATE TRIGGER events_user_updated AFTER UPDATE ON customer_users
WHEN old.name IS NOT new.name OR old.email IS NOT new.email OR old.metadata IS NOT new.metadata
  OR old.active IS NOT new.active OR old.updated_at IS NOT new.updated_at BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (new.company_id, 'evt_' || printf('%012x', new.updated_at) || lower(hex(randomblob(8))),
            'customer_user.updated', new.id,
            json_object('id', new.id, 'external_id', new.external_id, 'name', new.name,
                        'email', new.email, 'metadata', json(new.metadata), 'active', new.active,
                        'created_at', new.created_at, 'updated_at', new.updated_at,
                        'last_seen_at', new.last_seen_at),
            new.updated_at);
END;

CREATE TRIGGER events_tokens_invalidated AFTER UPDATE OF token_version ON customer_users
WHEN old.token_version IS NOT new.token_version BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (new.company_id,
            'evt_' || printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) || lower(hex(randomblob(8))),
            'tokens.invalidated', new.id,
            json_object('customer_user_id', new.id, 'new_token_version', new.token_version),
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER events_conversation_created AFTER INSERT ON conversations BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (new.company_id, 'evt_' || printf('%012x', new.created_at) || lower(hex(randomblob(8))),
            'conversation.created', new.customer_user_id,
            json_object('id', new.id, 'title', new.title, 'customer_user_id', new.customer_user_id,
                        'agent_id', new.agent_id, 'message_count', new.message_count,
                        'created_at', new.created_at, 'updated_at', new.updated_at),
            new.created_at);
END;

CREATE TRIGGER events_message_created AFTER INSERT ON messages
WHEN new.role IN ('user', 'assistant') BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    SELECT new.company_id, 'evt_' || printf('%012x', new.created_at) || lower(hex(randomblob(8))),
           'message.created', c.customer_user_id,
           json_object('id', new.id, 'content', new.content, 'role', new.role,
                       'conversation_id', new.conversation_id, 'created_at', new.created_at,
                       'customer_user_id', c.customer_user_id, 'agent_id', c.agent_id),
           new.created_at
    FROM conversations c WHERE c.company_id = new.company_id AND c.id = new.conversation_id;
END;

-- Webhook endpoints. `secret` signs; `previous_secret` keeps signing beside it
-- until `previous_until` after a rotation. (`after_xid`, `after_seq`) is how
-- far in the feed's order the dispatcher has turned events into deliveries.
CREATE TABLE webhook_endpoints (
    company_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    description     TEXT,
    active          BOOLEAN NOT NULL,
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  BIGINT,
    after_xid       BIGINT NOT NULL,
    after_seq       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX webhook_endpoints_by_creation ON webhook_endpoints (company_id, created_at, id);

-- One event to send to one endpoint: pending until delivered, failed or
-- dropped; `lease_owner`/`lease_until` say which node is sending it now.
CREATE TABLE webhook_deliveries (
    company_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (company_id, state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (company_id, endpoint_id, state);

-- Every attempt, for `GET /webhooks/:id/deliveries`.
CREATE TABLE webhook_attempts (
    company_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    status_code     BIGINT,
    error           TEXT,
    duration_ms     BIGINT NOT NULL,
    next_attempt_at BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (company_id, endpoint_id, created_at, id);
