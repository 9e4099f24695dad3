-- A per-company version of the users' names: it moves, in the same
-- transaction, with every write that may change which names the company's
-- users have (an insert, a delete, a rename). A name search's total counted
-- at one version stays exact for as long as the version reads the same, so
-- the server remembers it (store/sql/counts.rs) instead of counting again for
-- every page of the same search. It sits in the per-company counts row of
-- migration 0004, which inserts and deletes update already; a rename now
-- updates it too (row by row, only when the name changes).
ALTER TABLE customer_user_counts ADD COLUMN names_version BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION customer_user_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_user_counts (company_id, total, active)
    SELECT company_id, COUNT(*), COUNT(*) FILTER (WHERE active) FROM inserted GROUP BY company_id
    ON CONFLICT (company_id) DO UPDATE
    SET total = customer_user_counts.total + excluded.total,
        active = customer_user_counts.active + excluded.active,
        names_version = customer_user_counts.names_version + 1;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION customer_user_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_user_counts c
    SET total = c.total - d.n, active = c.active - d.a, names_version = c.names_version + 1
    FROM (SELECT company_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE active) AS a
          FROM deleted GROUP BY company_id) d
    WHERE c.company_id = d.company_id;
    RETURN NULL;
END $$;

CREATE FUNCTION customer_user_counts_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_user_counts SET names_version = names_version + 1
    WHERE company_id = NEW.company_id;
    RETURN NULL;
END $$;
CREATE TRIGGER customer_user_counts_names AFTER UPDATE OF name_folded ON customer_users
FOR EACH ROW WHEN (OLD.name_folded IS DISTINCT FROM NEW.name_folded)
EXECUTE FUNCTION customer_user_counts_names();
