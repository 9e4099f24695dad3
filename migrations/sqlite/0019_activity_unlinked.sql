-- `user_activity` without its foreign key to customer_users. On PostgreSQL
-- the key made every user chat message (whose trigger inserts the day's
-- row) take a share lock on the user after the lock on its conversation,
-- while an erasure locks the user, then the conversations: the opposite
-- order, and a deadlock when the two raced (seen in the erase tests). The
-- erasure now deletes the user's days itself (docs/API.md §12), found by
-- the index below. The schema is kept alike on both databases; SQLite
-- drops a foreign key by rebuilding the table, and the message trigger,
-- which names the table, is made again after it.
DROP TRIGGER user_activity_message;

CREATE TABLE user_activity_unlinked (
    company_id       TEXT NOT NULL,
    day              TEXT NOT NULL,
    customer_user_id TEXT NOT NULL,
    PRIMARY KEY (company_id, day, customer_user_id)
) WITHOUT ROWID;
INSERT INTO user_activity_unlinked (company_id, day, customer_user_id)
SELECT company_id, day, customer_user_id FROM user_activity;
DROP TABLE user_activity;
ALTER TABLE user_activity_unlinked RENAME TO user_activity;

CREATE INDEX user_activity_by_user ON user_activity (company_id, customer_user_id);

-- A chat message the user sent (not the agent's replies).
CREATE TRIGGER user_activity_message AFTER INSERT ON messages
WHEN new.role = 'user' BEGIN
    INSERT OR IGNORE INTO user_activity (company_id, day, customer_user_id)
    SELECT company_id, strftime('%Y-%m-%d', new.created_at / 1000, 'unixepoch'), customer_user_id
    FROM conversations WHERE company_id = new.company_id AND id = new.conversation_id;
END;
