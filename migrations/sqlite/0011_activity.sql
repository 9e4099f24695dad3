-- Who was active on which UTC day, for the console's daily chart
-- (`GET /rest/v1/stats/daily`): a user is active on a day when a token was
-- issued for them or they sent a chat message that day. `last_seen_at` keeps
-- only the latest day, so the days are kept here, one row per (company, day,
-- user), keyed company first like every tenant table.
--
-- Kept by triggers, in the same statement as the write that makes a user
-- active, so it is never behind and token generation needs no second
-- statement. The token write fires the update trigger only when
-- `last_seen_at` moves into a new UTC day (the WHEN is checked before the
-- body runs): most token calls write nothing extra. `day` is text
-- (YYYY-MM-DD) so that migrate-store can walk the key like the other tables'.
CREATE TABLE user_activity (
    company_id       TEXT NOT NULL,
    day              TEXT NOT NULL,
    customer_user_id TEXT NOT NULL,
    PRIMARY KEY (company_id, day, customer_user_id),
    -- Erasing a user erases their days too.
    FOREIGN KEY (company_id, customer_user_id) REFERENCES customer_users (company_id, id)
        ON DELETE CASCADE
) WITHOUT ROWID;

-- A user's first token creates them with `last_seen_at` set.
CREATE TRIGGER user_activity_created AFTER INSERT ON customer_users
WHEN new.last_seen_at IS NOT NULL BEGIN
    INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
    VALUES (new.company_id, strftime('%Y-%m-%d', new.last_seen_at / 1000, 'unixepoch'), new.id);
END;

CREATE TRIGGER user_activity_seen AFTER UPDATE OF last_seen_at ON customer_users
WHEN new.last_seen_at IS NOT NULL
    AND (old.last_seen_at IS NULL OR new.last_seen_at / 86400000 <> old.last_seen_at / 86400000)
BEGIN
    INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
    VALUES (new.company_id, strftime('%Y-%m-%d', new.last_seen_at / 1000, 'unixepoch'), new.id);
END;

-- A chat message the user sent (not the agent's replies).
CREATE TRIGGER user_activity_message AFTER INSERT ON messages
WHEN new.role = 'user' BEGIN
    INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
    SELECT company_id, strftime('%Y-%m-%d', new.created_at / 1000, 'unixepoch'), customer_user_id
    FROM conversations WHERE company_id = new.company_id AND id = new.conversation_id;
END;

-- The chart counts messages per day: a range on this index, not a scan of
-- every message the company has.
CREATE INDEX messages_by_creation ON messages (company_id, created_at);

-- What is known of the days before this migration.
INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
SELECT company_id, strftime('%Y-%m-%d', last_seen_at / 1000, 'unixepoch'), id
FROM customer_users WHERE last_seen_at IS NOT NULL;

INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
SELECT m.company_id, strftime('%Y-%m-%d', m.created_at / 1000, 'unixepoch'), c.customer_user_id
FROM messages m JOIN conversations c ON c.company_id = m.company_id AND c.id = m.conversation_id
WHERE m.role = 'user';
