-- Hookyard schema 4 (SQLite): message tags and scheduled delivery (deliverAt), and the background
-- tasks of the bulk operations (bulk replay, replay missing, expunge all contents).
-- deliveries.status may now also be 4 (canceled: see delivery-transitions.ts).

ALTER TABLE messages ADD COLUMN tags TEXT;            -- JSON array or NULL
ALTER TABLE messages ADD COLUMN deliver_at INTEGER;   -- first attempt not before; NULL = at once

CREATE TABLE background_tasks (
  id         TEXT PRIMARY KEY,
  task       TEXT NOT NULL,
  status     TEXT NOT NULL,
  data       TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
