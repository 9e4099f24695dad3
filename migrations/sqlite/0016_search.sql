-- How many of a company's knowledge chunks hold each term (docs/KNOWLEDGE.md,
-- "Bounded work per search"), and under the empty term '' how many chunks the
-- company has. A search reads the rows of its question's terms first, ranks
-- with the rarer ones and leaves out words most chunks hold, so its work is
-- bounded however large the company's knowledge base is. Kept by the store in
-- the transaction that writes or deletes a document's chunks.
CREATE TABLE knowledge_terms (
    company_id TEXT NOT NULL,
    term       TEXT NOT NULL,
    chunks     BIGINT NOT NULL,
    PRIMARY KEY (company_id, term)
) WITHOUT ROWID;

-- The counts of the chunks already stored, from the full-text index itself:
-- its instance table names each term's chunks (`doc` is a chunk's `seq`).
CREATE VIRTUAL TABLE temp.knowledge_vocab USING fts5vocab(main, knowledge_fts, 'instance');

INSERT INTO knowledge_terms (company_id, term, chunks)
SELECT c.company_id, v.term, COUNT(DISTINCT v.doc)
FROM temp.knowledge_vocab v JOIN knowledge_chunks c ON c.seq = v.doc
WHERE v.col IN ('heading_terms', 'body_terms')
GROUP BY c.company_id, v.term;

INSERT INTO knowledge_terms (company_id, term, chunks)
SELECT company_id, '', COUNT(*) FROM knowledge_chunks GROUP BY company_id;

DROP TABLE temp.knowledge_vocab;
