-- The knowledge base (docs/KNOWLEDGE.md): documents and their chunks. Like
-- every tenant table, keyed and indexed by company_id first.

-- `agent_ids` is stored as ",agent_a,agent_b," ('' = every agent), so one
-- LIKE serves both databases; `content` is the extracted text.
CREATE TABLE knowledge_documents (
    company_id   TEXT NOT NULL REFERENCES companies (id),
    id           TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT,
    external_id  TEXT,
    content_type TEXT NOT NULL,
    agent_ids    TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    content      TEXT NOT NULL,
    chars        BIGINT NOT NULL,
    chunk_count  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX knowledge_documents_by_external_id
    ON knowledge_documents (company_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX knowledge_documents_by_creation ON knowledge_documents (company_id, created_at, id);

-- `scope` is the company as one token, so a search reads only its company's
-- postings; `heading_terms` / `body_terms` are the normalised stems
-- (src/knowledge/terms.rs), indexed as one tsvector: the heading at weight A,
-- the body at B, the scope at D (weighted 0 when ranking). `agent_ids` is the
-- document's, copied so a search filters without a join.
CREATE TABLE knowledge_chunks (
    company_id    TEXT NOT NULL,
    id            TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    position      BIGINT NOT NULL,
    agent_ids     TEXT NOT NULL,
    heading       TEXT NOT NULL,
    text          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    heading_terms TEXT NOT NULL,
    body_terms    TEXT NOT NULL,
    terms         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', scope), 'D')
        || setweight(to_tsvector('simple', heading_terms), 'A')
        || setweight(to_tsvector('simple', body_terms), 'B')
    ) STORED,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, document_id) REFERENCES knowledge_documents (company_id, id)
);
CREATE INDEX knowledge_chunks_by_document ON knowledge_chunks (company_id, document_id, position);
-- A GIN index cannot lead with company_id without btree_gin; the scope token
-- inside the vector gives the same per-company reach.
CREATE INDEX knowledge_chunks_terms ON knowledge_chunks USING gin (terms);

-- The sources an assistant message cites, as JSON ('[]' when none); NULL
-- for user messages and for replies stored before this version.
ALTER TABLE messages ADD COLUMN sources TEXT;
