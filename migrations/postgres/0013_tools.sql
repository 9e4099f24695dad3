-- Agent tools (docs/API.md §10): HTTP endpoints a company declares for one of
-- its agents, called by the model through function calling. The signing
-- secrets are kept as the webhook endpoints keep theirs: the current one and,
-- for a day after a rotation, the previous one with the time it stops signing.
-- `parameters` is the JSON Schema text as the company sent it.
CREATE TABLE tools (
    company_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    parameters      TEXT NOT NULL,
    url             TEXT NOT NULL,
    timeout_ms      BIGINT NOT NULL,
    active          BOOLEAN NOT NULL,
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, agent_id) REFERENCES agents (company_id, id)
);
-- A name is unique per agent (the model calls tools by name); the index also
-- serves the agent's listing and the chat's read of its active tools.
CREATE UNIQUE INDEX tools_name_per_agent ON tools (company_id, agent_id, name);
