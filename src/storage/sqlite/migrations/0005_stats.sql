-- Hookyard schema 5 (SQLite): the stats rollup. One row per endpoint per minute, added to in the same
-- transaction that records the attempts (src/storage/sql/stats.ts), so charts read aggregates and never
-- scan attempts. No foreign keys: a deleted endpoint's history still counts in its application's and the
-- server's totals until retention (HOOKYARD_STATS_RETENTION) drops it, and a completion racing a delete
-- must not fail its batch. l0..l15 count successful attempts by accepted-to-delivered latency
-- (src/domain/latency-histogram.ts has the bucket bounds).

CREATE TABLE endpoint_stats (
  endpoint_id      TEXT NOT NULL,
  app_id           TEXT NOT NULL,
  minute           INTEGER NOT NULL,           -- start of the minute, ms since the epoch
  succeeded        INTEGER NOT NULL DEFAULT 0,
  failed           INTEGER NOT NULL DEFAULT 0,
  duration_ms_sum  INTEGER NOT NULL DEFAULT 0, -- sum of response times of every attempt
  last_attempt_at  INTEGER NOT NULL,
  l0               INTEGER NOT NULL DEFAULT 0,
  l1               INTEGER NOT NULL DEFAULT 0,
  l2               INTEGER NOT NULL DEFAULT 0,
  l3               INTEGER NOT NULL DEFAULT 0,
  l4               INTEGER NOT NULL DEFAULT 0,
  l5               INTEGER NOT NULL DEFAULT 0,
  l6               INTEGER NOT NULL DEFAULT 0,
  l7               INTEGER NOT NULL DEFAULT 0,
  l8               INTEGER NOT NULL DEFAULT 0,
  l9               INTEGER NOT NULL DEFAULT 0,
  l10              INTEGER NOT NULL DEFAULT 0,
  l11              INTEGER NOT NULL DEFAULT 0,
  l12              INTEGER NOT NULL DEFAULT 0,
  l13              INTEGER NOT NULL DEFAULT 0,
  l14              INTEGER NOT NULL DEFAULT 0,
  l15              INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (endpoint_id, minute)
) STRICT, WITHOUT ROWID;
CREATE INDEX endpoint_stats_app ON endpoint_stats (app_id, minute);
CREATE INDEX endpoint_stats_minute ON endpoint_stats (minute);

-- The dashboard's explorer finds a message by its eventId across applications (storage/sql/explore.ts).
CREATE INDEX messages_uid ON messages (uid) WHERE uid IS NOT NULL;
