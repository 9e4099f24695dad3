-- Exact per-company counts of customer users, for the stats endpoint: counting
-- a million-user company row by row takes a quarter of a second, reading this
-- row takes microseconds. Triggers keep it in the same transaction as every
-- write, so it is never behind. The last-day and last-week figures are not
-- kept here (they move with the clock): they are range counts on the
-- (company_id, last_seen_at) index.
CREATE TABLE customer_user_counts (
    company_id TEXT PRIMARY KEY REFERENCES companies (id),
    total      BIGINT NOT NULL,
    active     BIGINT NOT NULL
);

INSERT INTO customer_user_counts (company_id, total, active)
SELECT company_id, COUNT(*), COUNT(*) FILTER (WHERE active)
FROM customer_users GROUP BY company_id;

-- Inserts count once per statement (a bulk create of 1000 users updates the
-- row once, not 1000 times), from the statement's inserted rows.
CREATE FUNCTION customer_user_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_user_counts (company_id, total, active)
    SELECT company_id, COUNT(*), COUNT(*) FILTER (WHERE active) FROM inserted GROUP BY company_id
    ON CONFLICT (company_id) DO UPDATE
    SET total = customer_user_counts.total + excluded.total,
        active = customer_user_counts.active + excluded.active;
    RETURN NULL;
END $$;
CREATE TRIGGER customer_user_counts_insert AFTER INSERT ON customer_users
REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION customer_user_counts_insert();

CREATE FUNCTION customer_user_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_user_counts c
    SET total = c.total - d.n, active = c.active - d.a
    FROM (SELECT company_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE active) AS a
          FROM deleted GROUP BY company_id) d
    WHERE c.company_id = d.company_id;
    RETURN NULL;
END $$;
CREATE TRIGGER customer_user_counts_delete AFTER DELETE ON customer_users
REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION customer_user_counts_delete();

-- Per row, but only for the rare update that flips `active` (the WHEN is
-- checked without calling the function): the frequent last_seen_at writes of
-- token generation never run it.
CREATE FUNCTION customer_user_counts_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_user_counts
    SET active = active + CASE WHEN NEW.active THEN 1 ELSE -1 END
    WHERE company_id = NEW.company_id;
    RETURN NULL;
END $$;
CREATE TRIGGER customer_user_counts_active AFTER UPDATE OF active ON customer_users
FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
EXECUTE FUNCTION customer_user_counts_active();
