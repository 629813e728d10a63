-- Hookyard schema 1 (SQLite). Times are integer milliseconds since the Unix epoch; JSON columns are TEXT.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE applications (
  id            TEXT PRIMARY KEY,
  uid           TEXT UNIQUE,
  name          TEXT NOT NULL,
  throttle_rate INTEGER,
  metadata      TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE event_types (
  name         TEXT PRIMARY KEY,
  description  TEXT NOT NULL,
  archived     INTEGER NOT NULL DEFAULT 0,
  deprecated   INTEGER NOT NULL DEFAULT 0,
  feature_flag TEXT,
  schemas      TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
  id            TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid           TEXT,
  url           TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  disabled      INTEGER NOT NULL DEFAULT 0,
  event_types   TEXT,            -- JSON array, NULL = all
  channels      TEXT,            -- JSON array, NULL = all
  throttle_rate INTEGER,
  metadata      TEXT NOT NULL DEFAULT '{}',
  headers       TEXT NOT NULL DEFAULT '{}',
  secrets       TEXT NOT NULL,   -- JSON [{key, expiresAt}], newest first
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (app_id, uid)
) STRICT;
CREATE INDEX endpoints_app ON endpoints (app_id, id);

CREATE TABLE messages (
  id                 TEXT PRIMARY KEY,
  app_id             TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid                TEXT,
  event_type         TEXT NOT NULL,
  channels           TEXT,        -- JSON array or NULL
  payload            TEXT,        -- NULL once expunged
  payload_expires_at INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  UNIQUE (app_id, uid)
) STRICT;
CREATE INDEX messages_app ON messages (app_id, id);

-- One row per message x endpoint: the queue task and the Svix message-destination status.
CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  app_id          TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  msg_id          TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id     TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status          INTEGER NOT NULL,      -- 0 success, 1 pending, 2 fail, 3 sending
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,               -- due time or lease end; NULL when final
  trigger_type    INTEGER NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (msg_id, endpoint_id)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);

CREATE TABLE attempts (
  id                   TEXT PRIMARY KEY,
  app_id               TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  msg_id               TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id          TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  delivery_id          TEXT NOT NULL,
  url                  TEXT NOT NULL,
  status               INTEGER NOT NULL,
  response_status_code INTEGER NOT NULL,
  response             TEXT NOT NULL,
  response_duration_ms INTEGER NOT NULL,
  trigger_type         INTEGER NOT NULL,
  created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

CREATE TABLE idempotency_keys (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status_code INTEGER,
  body        TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
