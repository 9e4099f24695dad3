-- The daily-activity triggers on customer_users cost token issue about 30 %
-- of its rate (docs/PERFORMANCE.md, "Token issue and the daily-activity
-- triggers"), even on the calls where their WHEN was false. Token issue
-- keeps the days itself now (docs/API.md, "Daily stats"):
--
-- - a user's latest active day is the day of `last_seen_at`, so it needs no
--   row of its own; `GET /stats/daily` counts it from the
--   `(company_id, last_seen_at)` index;
-- - when a token moves `last_seen_at` into a later day, the day it leaves is
--   written to `user_activity` by the same statement (PostgreSQL) or
--   transaction (SQLite). The token statement learns that day from
--   `previous_seen_at`, which it sets to the value it overwrites and returns.
--
-- The chat-message trigger stays: it is not on the token path.
DROP TRIGGER user_activity_created;
DROP TRIGGER user_activity_seen;
ALTER TABLE customer_users ADD COLUMN previous_seen_at INTEGER;
