-- `user_activity` without its foreign key to customer_users. The key made
-- every user chat message (whose trigger inserts the day's row) take a share
-- lock on the user after the lock on its conversation, while an erasure
-- locks the user, then the conversations: the opposite order, and a
-- deadlock when the two raced (seen in the erase tests). The erasure now
-- deletes the user's days itself (docs/API.md §12), found by the index
-- below.
ALTER TABLE user_activity DROP CONSTRAINT user_activity_company_id_customer_user_id_fkey;
CREATE INDEX user_activity_by_user ON user_activity (company_id, customer_user_id);
