-- Permissions added with the knowledge base, agent tools and events
-- (agents:write, knowledge:read, knowledge:write, events:read,
-- webhooks:write). A key created without a list holds every permission;
-- keys that held every permission there was before this version are given
-- the new ones too, so such a key keeps meaning "everything".
UPDATE api_keys
SET permissions = permissions || ',agents:write,knowledge:read,knowledge:write,events:read,webhooks:write'
WHERE permissions = 'chat:send,tools:use,rag:access,users:read,users:write,agents:read,conversations:read';
