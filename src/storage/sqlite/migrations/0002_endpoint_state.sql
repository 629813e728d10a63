-- Hookyard schema 2 (SQLite): delivery policies (auto-disable, backpressure, circuit breaker, throttling).

-- One row per endpoint that has ever been attempted or throttled; absent = healthy and never throttled.
CREATE TABLE endpoint_state (
  endpoint_id       TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  fail_since        INTEGER,                    -- first failed attempt since the last success; NULL when healthy
  last_success_at   INTEGER,
  unreachable_count INTEGER NOT NULL DEFAULT 0, -- consecutive attempts that got no response at all
  circuit           TEXT NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open')),
  next_probe_at     INTEGER,                    -- open circuit: when the next probe may start
  paused_until      INTEGER,                    -- backpressure: no attempts before this time
  throttle_tat      INTEGER                     -- throttling (GCRA): theoretical arrival time of the next message
) STRICT;

-- Consecutive failed attempts of this delivery (reset by a success): message.attempt.failing/recovered.
ALTER TABLE deliveries ADD COLUMN fail_streak INTEGER NOT NULL DEFAULT 0;

-- An endpoint's unfinished deliveries, for the bulk moves that hold, release or postpone them when a
-- policy blocks or unblocks the endpoint (deliveries_endpoint would also walk every finished row).
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at) WHERE status IN (1, 3);
