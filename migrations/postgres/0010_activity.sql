-- Who was active on which UTC day, for the console's daily chart
-- (`GET /rest/v1/stats/daily`): a user is active on a day when a token was
-- issued for them or they sent a chat message that day. `last_seen_at` keeps
-- only the latest day, so the days are kept here, one row per (company, day,
-- user), keyed company first like every tenant table.
--
-- Kept by triggers, in the same statement as the write that makes a user
-- active, so it is never behind and token generation needs no second
-- statement. The token write runs the update trigger only when
-- `last_seen_at` moves into a new UTC day (the WHEN is checked without
-- calling the function): most token calls write nothing extra. `day` is text
-- (YYYY-MM-DD) so that migrate-store can walk the key like the other tables'.
CREATE TABLE user_activity (
    company_id       TEXT NOT NULL,
    day              TEXT NOT NULL,
    customer_user_id TEXT NOT NULL,
    PRIMARY KEY (company_id, day, customer_user_id),
    -- Erasing a user erases their days too.
    FOREIGN KEY (company_id, customer_user_id) REFERENCES customer_users (company_id, id)
        ON DELETE CASCADE
);

CREATE FUNCTION user_activity_day(ms BIGINT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(to_timestamp(ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
$$;

CREATE FUNCTION user_activity_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_activity (company_id, day, customer_user_id)
    VALUES (NEW.company_id, user_activity_day(NEW.last_seen_at), NEW.id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- A user's first token creates them with `last_seen_at` set.
CREATE TRIGGER user_activity_created AFTER INSERT ON customer_users
FOR EACH ROW WHEN (NEW.last_seen_at IS NOT NULL)
EXECUTE FUNCTION user_activity_seen();

CREATE TRIGGER user_activity_seen AFTER UPDATE OF last_seen_at ON customer_users
FOR EACH ROW WHEN (NEW.last_seen_at IS NOT NULL
    AND (OLD.last_seen_at IS NULL OR NEW.last_seen_at / 86400000 <> OLD.last_seen_at / 86400000))
EXECUTE FUNCTION user_activity_seen();

-- A chat message the user sent (not the agent's replies).
CREATE FUNCTION user_activity_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_activity (company_id, day, customer_user_id)
    SELECT company_id, user_activity_day(NEW.created_at), customer_user_id
    FROM conversations WHERE company_id = NEW.company_id AND id = NEW.conversation_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER user_activity_message AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.role = 'user')
EXECUTE FUNCTION user_activity_message();

-- The chart counts messages per day: a range on this index, not a scan of
-- every message the company has.
CREATE INDEX messages_by_creation ON messages (company_id, created_at);

-- What is known of the days before this migration.
INSERT INTO user_activity (company_id, day, customer_user_id)
SELECT company_id, user_activity_day(last_seen_at), id
FROM customer_users WHERE last_seen_at IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO user_activity (company_id, day, customer_user_id)
SELECT m.company_id, user_activity_day(m.created_at), c.customer_user_id
FROM messages m JOIN conversations c ON c.company_id = m.company_id AND c.id = m.conversation_id
WHERE m.role = 'user'
ON CONFLICT DO NOTHING;
