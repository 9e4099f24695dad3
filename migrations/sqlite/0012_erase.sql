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
CREATE TRIGGER events_user_deleted AFTER DELETE ON customer_users BEGIN
    INSERT INTO events (company_id, id, type, customer_user_id, data, created_at)
    VALUES (old.company_id,
            'evt_' || printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) || lower(hex(randomblob(8))),
            'customer_user.deleted', old.id,
            json_object('id', old.id, 'external_id', old.external_id),
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
