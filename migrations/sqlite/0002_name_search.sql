-- A trigram index over folded names, so a name "contains" search of three or
-- more characters reads only the matching rows instead of every user of the
-- company. It indexes customer_users.name_folded in place (external content),
-- kept current by the triggers below.
CREATE VIRTUAL TABLE customer_users_name_search USING fts5(
    name_folded,
    content = 'customer_users',
    content_rowid = 'seq',
    tokenize = 'trigram case_sensitive 1'
);
INSERT INTO customer_users_name_search (customer_users_name_search) VALUES ('rebuild');

CREATE TRIGGER customer_users_name_search_insert AFTER INSERT ON customer_users
WHEN new.name_folded IS NOT NULL BEGIN
    INSERT INTO customer_users_name_search (rowid, name_folded) VALUES (new.seq, new.name_folded);
END;

CREATE TRIGGER customer_users_name_search_delete AFTER DELETE ON customer_users
WHEN old.name_folded IS NOT NULL BEGIN
    INSERT INTO customer_users_name_search (customer_users_name_search, rowid, name_folded)
    VALUES ('delete', old.seq, old.name_folded);
END;

CREATE TRIGGER customer_users_name_search_update AFTER UPDATE OF name_folded ON customer_users BEGIN
    INSERT INTO customer_users_name_search (customer_users_name_search, rowid, name_folded)
    SELECT 'delete', old.seq, old.name_folded WHERE old.name_folded IS NOT NULL;
    INSERT INTO customer_users_name_search (rowid, name_folded)
    SELECT new.seq, new.name_folded WHERE new.name_folded IS NOT NULL;
END;
