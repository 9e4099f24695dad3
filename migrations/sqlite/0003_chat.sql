-- End-user chat (spec 6 and 8). Like every tenant table, keyed and indexed by
-- company_id first.

-- An agent may name its own OpenAI-compatible model; NULL means the server's.
ALTER TABLE agents ADD COLUMN llm_url TEXT;
ALTER TABLE agents ADD COLUMN llm_model TEXT;

CREATE TABLE conversations (
    company_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    customer_user_id TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    title            TEXT,
    message_count    BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    -- The reply lease: one reply in flight per conversation on every node.
    -- A node that dies mid-reply stops renewing it, and it lapses.
    lease_owner      TEXT,
    lease_until      BIGINT,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, customer_user_id) REFERENCES customer_users (company_id, id),
    FOREIGN KEY (company_id, agent_id) REFERENCES agents (company_id, id)
);
CREATE INDEX conversations_by_creation ON conversations (company_id, created_at, id);
CREATE INDEX conversations_by_user ON conversations (company_id, customer_user_id, created_at, id);
CREATE INDEX conversations_by_recent ON conversations (company_id, customer_user_id, agent_id, updated_at, id);

CREATE TABLE messages (
    company_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, conversation_id) REFERENCES conversations (company_id, id)
);
CREATE INDEX messages_by_conversation ON messages (company_id, conversation_id, created_at, id);
