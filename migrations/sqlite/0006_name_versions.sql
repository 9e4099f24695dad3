-- A per-company version of the users' names: it moves, in the same
-- transaction, with every write that may change which names the company's
-- users have (an insert, a delete, a rename). A name search's total counted
-- at one version stays exact for as long as the version reads the same, so
-- the server remembers it (store/sql/counts.rs) instead of counting again for
-- every page of the same search. The version lives in the file, so a write by
-- any process moves it. It sits in the per-company counts row of migration
-- 0004, which inserts and deletes update already.
ALTER TABLE customer_user_counts ADD COLUMN names_version BIGINT NOT NULL DEFAULT 0;

DROP TRIGGER customer_user_counts_insert;
DROP TRIGGER customer_user_counts_delete;

CREATE TRIGGER customer_user_counts_insert AFTER INSERT ON customer_users BEGIN
    INSERT INTO customer_user_counts (company_id, total, active)
    VALUES (new.company_id, 1, CASE WHEN new.active THEN 1 ELSE 0 END)
    ON CONFLICT (company_id) DO UPDATE
    SET total = total + 1, active = active + excluded.active,
        names_version = names_version + 1;
END;

CREATE TRIGGER customer_user_counts_delete AFTER DELETE ON customer_users BEGIN
    UPDATE customer_user_counts
    SET total = total - 1, active = active - CASE WHEN old.active THEN 1 ELSE 0 END,
        names_version = names_version + 1
    WHERE company_id = old.company_id;
END;

CREATE TRIGGER customer_user_counts_names AFTER UPDATE OF name_folded ON customer_users
WHEN new.name_folded IS NOT old.name_folded BEGIN
    UPDATE customer_user_counts SET names_version = names_version + 1
    WHERE company_id = new.company_id;
END;
