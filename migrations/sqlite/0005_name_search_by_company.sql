-- The trigram index of migration 0002, keyed so that one company's entries
-- are one range of rowids: a name search's exact total is then counted on
-- the index alone (a range of its doclists), instead of fetching every
-- matching row of every company to check its company_id. For a common name
-- among a million users that is the difference between about a hundred
-- thousand row reads and none.
--
-- An entry's rowid is (company number << 40) | customer_users.seq: up to
-- 2^40 users ever inserted, and company numbers below 2^23. The numbers are
-- an INTEGER PRIMARY KEY, which VACUUM keeps (it may renumber implicit
-- rowids). The index stores no text of its own (content=''); the triggers
-- give it the old values a delete needs.
CREATE TABLE name_search_companies (
    company_id TEXT NOT NULL UNIQUE,
    num        INTEGER PRIMARY KEY
);

INSERT INTO name_search_companies (company_id) SELECT id FROM companies ORDER BY created_at, id;

CREATE TRIGGER name_search_companies_insert AFTER INSERT ON companies BEGIN
    INSERT INTO name_search_companies (company_id) VALUES (new.id);
END;

DROP TRIGGER customer_users_name_search_insert;
DROP TRIGGER customer_users_name_search_delete;
DROP TRIGGER customer_users_name_search_update;
DROP TABLE customer_users_name_search;

CREATE VIRTUAL TABLE customer_users_name_search USING fts5(
    name_folded,
    content = '',
    tokenize = 'trigram case_sensitive 1'
);

INSERT INTO customer_users_name_search (rowid, name_folded)
SELECT (n.num << 40) | u.seq, u.name_folded
FROM customer_users u JOIN name_search_companies n ON n.company_id = u.company_id
WHERE u.name_folded IS NOT NULL;

CREATE TRIGGER customer_users_name_search_insert AFTER INSERT ON customer_users
WHEN new.name_folded IS NOT NULL BEGIN
    INSERT INTO customer_users_name_search (rowid, name_folded)
    SELECT (num << 40) | new.seq, new.name_folded
    FROM name_search_companies WHERE company_id = new.company_id;
END;

CREATE TRIGGER customer_users_name_search_delete AFTER DELETE ON customer_users
WHEN old.name_folded IS NOT NULL BEGIN
    INSERT INTO customer_users_name_search (customer_users_name_search, rowid, name_folded)
    SELECT 'delete', (num << 40) | old.seq, old.name_folded
    FROM name_search_companies WHERE company_id = old.company_id;
END;

CREATE TRIGGER customer_users_name_search_update AFTER UPDATE OF name_folded ON customer_users BEGIN
    INSERT INTO customer_users_name_search (customer_users_name_search, rowid, name_folded)
    SELECT 'delete', (num << 40) | old.seq, old.name_folded
    FROM name_search_companies WHERE company_id = old.company_id AND old.name_folded IS NOT NULL;
    INSERT INTO customer_users_name_search (rowid, name_folded)
    SELECT (num << 40) | new.seq, new.name_folded
    FROM name_search_companies WHERE company_id = new.company_id AND new.name_folded IS NOT NULL;
END;
