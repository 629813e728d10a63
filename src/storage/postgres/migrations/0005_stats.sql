-- Hookyard schema 5 (PostgreSQL): the stats rollup, the same table as SQLite's 0005 (see there).

CREATE TABLE endpoint_stats (
  endpoint_id      TEXT COLLATE "C" NOT NULL,
  app_id           TEXT COLLATE "C" NOT NULL,
  minute           BIGINT NOT NULL,
  succeeded        BIGINT NOT NULL DEFAULT 0,
  failed           BIGINT NOT NULL DEFAULT 0,
  duration_ms_sum  BIGINT NOT NULL DEFAULT 0,
  last_attempt_at  BIGINT NOT NULL,
  l0               BIGINT NOT NULL DEFAULT 0,
  l1               BIGINT NOT NULL DEFAULT 0,
  l2               BIGINT NOT NULL DEFAULT 0,
  l3               BIGINT NOT NULL DEFAULT 0,
  l4               BIGINT NOT NULL DEFAULT 0,
  l5               BIGINT NOT NULL DEFAULT 0,
  l6               BIGINT NOT NULL DEFAULT 0,
  l7               BIGINT NOT NULL DEFAULT 0,
  l8               BIGINT NOT NULL DEFAULT 0,
  l9               BIGINT NOT NULL DEFAULT 0,
  l10              BIGINT NOT NULL DEFAULT 0,
  l11              BIGINT NOT NULL DEFAULT 0,
  l12              BIGINT NOT NULL DEFAULT 0,
  l13              BIGINT NOT NULL DEFAULT 0,
  l14              BIGINT NOT NULL DEFAULT 0,
  l15              BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (endpoint_id, minute)
);
CREATE INDEX endpoint_stats_app ON endpoint_stats (app_id, minute);
CREATE INDEX endpoint_stats_minute ON endpoint_stats (minute);

-- The dashboard's explorer finds a message by its eventId across applications (storage/sql/explore.ts).
CREATE INDEX messages_uid ON messages (uid) WHERE uid IS NOT NULL;
