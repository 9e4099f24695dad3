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

-- SQLite only: `seq` is a stable integer key for the full-text index below,
-- which VACUUM cannot renumber as it may an implicit rowid. `scope` is the
-- company as one token, so a search reads only its company's postings;
-- `heading_terms` / `body_terms` are the normalised stems (src/knowledge/terms.rs).
-- `agent_ids` is the document's, copied so a search filters without a join.
CREATE TABLE knowledge_chunks (
    seq           INTEGER PRIMARY KEY,
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
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, document_id) REFERENCES knowledge_documents (company_id, id)
);
CREATE INDEX knowledge_chunks_by_document ON knowledge_chunks (company_id, document_id, position);

-- BM25 over the stems (external content, kept current by the triggers). The
-- stems are already folded, so the tokenizer only splits on spaces.
CREATE VIRTUAL TABLE knowledge_fts USING fts5(
    scope,
    heading_terms,
    body_terms,
    content = 'knowledge_chunks',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (rowid, scope, heading_terms, body_terms)
    VALUES (new.seq, new.scope, new.heading_terms, new.body_terms);
END;

CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, scope, heading_terms, body_terms)
    VALUES ('delete', old.seq, old.scope, old.heading_terms, old.body_terms);
END;

-- The sources an assistant message cites, as JSON ('[]' when none); NULL
-- for user messages and for replies stored before this version.
ALTER TABLE messages ADD COLUMN sources TEXT;
