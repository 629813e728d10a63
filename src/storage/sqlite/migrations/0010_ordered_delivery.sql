-- Hookyard schema 10 (SQLite): ordered delivery for `fifoEndpoint` destinations (docs/destinations.md).
-- A fifoEndpoint gets no `deliveries` rows: its messages queue in `fifo_queue`, numbered per destination
-- in commit order, and `fifo_state` is the destination's position, lease and retry state. The state
-- machine is storage/sql/ordered-transitions.ts, the only writer of both tables.

CREATE TABLE fifo_state (
  endpoint_id       TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  last_seq          INTEGER NOT NULL DEFAULT 0,  -- the last number given to a queued message
  acked_seq         INTEGER NOT NULL DEFAULT 0,  -- every message up to here was acknowledged or skipped
  next_attempt_at   INTEGER,                     -- due time, or lease end while leased; NULL: idle or stopped
  lease_owner       TEXT,                        -- the worker holding the lease (NULL: none)
  lease_token       INTEGER NOT NULL DEFAULT 0,  -- bumped by every lease: a completion must name the current one
  attempts          INTEGER NOT NULL DEFAULT 0,  -- failed attempts of the head batch (0 after an ack)
  failure           TEXT,                        -- why the head batch last failed (NULL after an ack)
  last_acked_msg_id TEXT,
  last_acked_at     INTEGER,
  updated_at        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX fifo_state_due ON fifo_state (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Acknowledged rows are deleted, so the queue holds only what is still to be sent.
CREATE TABLE fifo_queue (
  endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  msg_id      TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, seq)
) STRICT;

-- A batch attempt covers messages msg_id .. last_msg_id (num_events of them); NULL: one message.
ALTER TABLE attempts ADD COLUMN last_msg_id TEXT;
ALTER TABLE attempts ADD COLUMN num_events INTEGER;
