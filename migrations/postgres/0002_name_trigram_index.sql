-- The name filter is a substring match (name_folded LIKE '%…%'), which no
-- btree can serve. A trigram GIN index can, for patterns of 3+ characters.
-- pg_trgm is a trusted extension (PostgreSQL 13+), so a database owner without
-- superuser rights may create it. A plain trigram index rather than a
-- composite (company_id, name_folded) one: the composite needs btree_gin as
-- well, and the planner already combines this index with the company_id
-- btrees (see docs/SCALING.md). IF NOT EXISTS lets an operator build it
-- beforehand with CREATE INDEX CONCURRENTLY on a large table.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS customer_users_name_trgm ON customer_users USING gin (name_folded gin_trgm_ops);
