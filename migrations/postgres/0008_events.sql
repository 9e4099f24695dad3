-- The outbox and change feed (docs/EVENTS.md). Triggers write each event in
-- the statement, and so the transaction, of the change it describes: every
-- write path (bulk inserts, the hot token statement, the chat store) is
-- covered, a rolled-back change leaves no event, a committed one always has
-- its event. `data` holds the changed row's columns as they were (raw:
-- timestamps in milliseconds); the server renders the endpoint's shape.
-- `xid` is the writing transaction's id: the feed is ordered by (xid, seq)
-- and shows only events whose xid is below the oldest transaction still
-- running, so an event committed late is never skipped by a cursor.
CREATE TABLE events (
    company_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    xid              BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type             TEXT NOT NULL,
    -- Whose event it is, so that erasing a user can blank their events' data.
    customer_user_id TEXT,
    data             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX events_by_position ON events (company_id, xid, seq);
CREATE INDEX events_by_age ON events (company_id, created_at);

CREATE FUNCTION events_new_id(ms BIGINT) RETURNS TEXT LANGUAGE sql VOLATILE AS $$
    SELECT 'evt_' || lpad(to_hex(ms), 12, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)
$$;

CREATE FUNCTION events_user_json(u customer_users) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', u.id, 'external_id', u.external_id, 'name', u.name,
                             'email', u.email, 'metadata', u.metadata::json, 'active', u.active,
                             'created_at', u.created_at, 'updated_at', u.updated_at,
                             'last_seen_at', u.last_seen_at)::text
$$;

-- Once per statement: a bulk create of 1000 users is one INSERT ... SELECT.
CREATE FUNCTION events_user_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    SELECT i.company_id, events_new_id(i.created_at), 'customer_user.created', i.id,
           events_user_json(i), i.created_at
    FROM inserted i;
    RETURN NULL;
END $$;
CREATE TRIGGER events_user_created AFTER INSERT ON customer_users
REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION events_user_created();

-- A write of the user's fields. Token generation moves only last_seen_at
-- (activity, not an update) and invalidation only token_version: neither
-- matches this WHEN, which is checked without calling the function.
CREATE FUNCTION events_user_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (NEW.company_id, events_new_id(NEW.updated_at), 'customer_user.updated', NEW.id,
            events_user_json(NEW), NEW.updated_at);
    RETURN NULL;
END $$;
CREATE TRIGGER events_user_updated AFTER UPDATE ON customer_users FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
      OR OLD.metadata IS DISTINCT FROM NEW.metadata OR OLD.active IS DISTINCT FROM NEW.active
      OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
EXECUTE FUNCTION events_user_updated();

CREATE FUNCTION events_tokens_invalidated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE now_ms BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (NEW.company_id, events_new_id(now_ms), 'tokens.invalidated', NEW.id,
            json_build_object('customer_user_id', NEW.id, 'new_token_version', NEW.token_version)::text,
            now_ms);
    RETURN NULL;
END $$;
CREATE TRIGGER events_tokens_invalidated AFTER UPDATE OF token_version ON customer_users FOR EACH ROW
WHEN (OLD.token_version IS DISTINCT FROM NEW.token_version)
EXECUTE FUNCTION events_tokens_invalidated();

CREATE FUNCTION events_conversation_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (NEW.company_id, events_new_id(NEW.created_at), 'conversation.created', NEW.customer_user_id,
            json_build_object('id', NEW.id, 'title', NEW.title, 'customer_user_id', NEW.customer_user_id,
                              'agent_id', NEW.agent_id, 'message_count', NEW.message_count,
                              'created_at', NEW.created_at, 'updated_at', NEW.updated_at)::text,
            NEW.created_at);
    RETURN NULL;
END $$;
CREATE TRIGGER events_conversation_created AFTER INSERT ON conversations FOR EACH ROW
EXECUTE FUNCTION events_conversation_created();

CREATE FUNCTION events_message_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    SELECT NEW.company_id, events_new_id(NEW.created_at), 'message.created', c.customer_user_id,
           json_build_object('id', NEW.id, 'content', NEW.content, 'role', NEW.role,
                             'conversation_id', NEW.conversation_id, 'created_at', NEW.created_at,
                             'customer_user_id', c.customer_user_id, 'agent_id', c.agent_id)::text,
           NEW.created_at
    FROM conversations c WHERE c.company_id = NEW.company_id AND c.id = NEW.conversation_id;
    RETURN NULL;
END $$;
CREATE TRIGGER events_message_created AFTER INSERT ON messages FOR EACH ROW
WHEN (NEW.role IN ('user', 'assistant'))
EXECUTE FUNCTION events_message_created();

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
