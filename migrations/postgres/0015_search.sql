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
);

-- The counts of the chunks already stored: each chunk's distinct stems.
INSERT INTO knowledge_terms (company_id, term, chunks)
SELECT c.company_id, t.term, COUNT(*)
FROM knowledge_chunks c
CROSS JOIN LATERAL (
    SELECT DISTINCT x AS term
    FROM unnest(string_to_array(c.heading_terms || ' ' || c.body_terms, ' ')) AS x
    WHERE x <> ''
) t
GROUP BY c.company_id, t.term;

INSERT INTO knowledge_terms (company_id, term, chunks)
SELECT company_id, '', COUNT(*) FROM knowledge_chunks GROUP BY company_id;
