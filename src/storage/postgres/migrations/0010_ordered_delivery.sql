-- Hookyard schema 10 (PostgreSQL): ordered delivery for `fifoEndpoint` destinations
-- (docs/destinations.md). The same tables as SQLite's 0010; the row of `fifo_state` is also what
-- serialises concurrent ingests into one destination, so its numbers follow commit order.

CREATE TABLE fifo_state (
  endpoint_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  last_seq          BIGINT NOT NULL DEFAULT 0,
  acked_seq         BIGINT NOT NULL DEFAULT 0,
  next_attempt_at   BIGINT,
  lease_owner       TEXT,
  lease_token       BIGINT NOT NULL DEFAULT 0,
  attempts          INTEGER NOT NULL DEFAULT 0,
  failure           TEXT,
  last_acked_msg_id TEXT,
  last_acked_at     BIGINT,
  updated_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX fifo_state_due ON fifo_state (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TABLE fifo_queue (
  endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  seq         BIGINT NOT NULL,
  msg_id      TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (endpoint_id, seq)
);

ALTER TABLE attempts ADD COLUMN last_msg_id TEXT;
ALTER TABLE attempts ADD COLUMN num_events INTEGER;
