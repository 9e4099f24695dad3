-- Erasing a customer user (docs/API.md §12, docs/EVENTS.md). The erase runs
-- in one transaction (store/sql/rights.rs): it blanks the data of the user's
-- events, and of the webhook deliveries made of them, then deletes the
-- user's messages, conversations and the user row. These indexes let it find
-- those events and deliveries without reading the whole feed.
CREATE INDEX events_by_user ON events (company_id, customer_user_id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (company_id, event_id);

-- The outbox event of an erasure, written by the statement that deletes the
-- user (so in its transaction, like every other event): only the ids stay.
-- Nothing but an erasure deletes a customer user.
CREATE FUNCTION events_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE now_ms BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (OLD.company_id, events_new_id(now_ms), 'customer_user.deleted', OLD.id,
            json_build_object('id', OLD.id, 'external_id', OLD.external_id)::text, now_ms);
    RETURN NULL;
END $$;
CREATE TRIGGER events_user_deleted AFTER DELETE ON customer_users FOR EACH ROW
EXECUTE FUNCTION events_user_deleted();
