-- Tool calls and their results are messages with role 'tool' (docs/API.md §10).
-- What makes one a call or a result (the calls' ids, names and arguments; the
-- result's call id, tool name and status) is one JSON text: it is only ever
-- read with its message, never searched, so one column serves both shapes.
ALTER TABLE messages ADD COLUMN tool TEXT;
