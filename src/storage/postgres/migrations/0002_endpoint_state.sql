-- Hookyard schema 2 (PostgreSQL): delivery policies (auto-disable, backpressure, circuit breaker,
-- throttling). The same tables as SQLite's 0002.

-- One row per endpoint that has ever been attempted or throttled; absent = healthy and never throttled.
CREATE TABLE endpoint_state (
  endpoint_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  fail_since        BIGINT,                     -- first failed attempt since the last success; NULL when healthy
  last_success_at   BIGINT,
  unreachable_count INTEGER NOT NULL DEFAULT 0, -- consecutive attempts that got no response at all
  circuit           TEXT NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open')),
  next_probe_at     BIGINT,                     -- open circuit: when the next probe may start
  paused_until      BIGINT,                     -- backpressure: no attempts before this time
  throttle_tat      BIGINT                      -- throttling (GCRA): theoretical arrival time of the next message
);

-- Consecutive failed attempts of this delivery (reset by a success): message.attempt.failing/recovered.
-- A constant default: no table rewrite.
ALTER TABLE deliveries ADD COLUMN fail_streak INTEGER NOT NULL DEFAULT 0;

-- An endpoint's unfinished deliveries, for the bulk moves that hold, release or postpone them when a
-- policy blocks or unblocks the endpoint (deliveries_endpoint would also walk every finished row).
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at) WHERE status IN (1, 3);
