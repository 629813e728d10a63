-- Hookyard schema 1 (PostgreSQL): the same tables as SQLite's 0001. Times are BIGINT milliseconds since
-- the Unix epoch; JSON columns are TEXT (cast to jsonb where a query looks inside); booleans are 0/1.
-- Ids and event type names use the "C" collation: keyset pagination needs byte order (ids sort by time
-- only under it), which is also what SQLite compares by.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE applications (
  id            TEXT COLLATE "C" PRIMARY KEY,
  uid           TEXT UNIQUE,
  name          TEXT COLLATE "C" NOT NULL,
  throttle_rate INTEGER,
  metadata      TEXT NOT NULL DEFAULT '{}',
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

CREATE TABLE event_types (
  name         TEXT COLLATE "C" PRIMARY KEY,
  description  TEXT NOT NULL,
  archived     SMALLINT NOT NULL DEFAULT 0,
  deprecated   SMALLINT NOT NULL DEFAULT 0,
  feature_flag TEXT,
  schemas      TEXT,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);

CREATE TABLE endpoints (
  id            TEXT COLLATE "C" PRIMARY KEY,
  app_id        TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid           TEXT,
  url           TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  disabled      SMALLINT NOT NULL DEFAULT 0,
  event_types   TEXT,            -- JSON array, NULL = all
  channels      TEXT,            -- JSON array, NULL = all
  throttle_rate INTEGER,
  metadata      TEXT NOT NULL DEFAULT '{}',
  headers       TEXT NOT NULL DEFAULT '{}',
  secrets       TEXT NOT NULL,   -- JSON [{key, expiresAt}], newest first
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX endpoints_app ON endpoints (app_id, id);

CREATE TABLE messages (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  app_id             TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid                TEXT,
  event_type         TEXT NOT NULL,
  channels           TEXT,        -- JSON array or NULL
  payload            TEXT,        -- NULL once expunged
  payload_expires_at BIGINT NOT NULL,
  created_at         BIGINT NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX messages_app ON messages (app_id, id);

-- One row per message x endpoint: the queue task and the Svix message-destination status.
CREATE TABLE deliveries (
  id              TEXT COLLATE "C" PRIMARY KEY,
  app_id          TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  msg_id          TEXT COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id     TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status          SMALLINT NOT NULL,     -- 0 success, 1 pending, 2 fail, 3 sending
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,                -- due time or lease end; NULL when final
  trigger_type    SMALLINT NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  UNIQUE (msg_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);

CREATE TABLE attempts (
  id                   TEXT COLLATE "C" PRIMARY KEY,
  app_id               TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  msg_id               TEXT COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id          TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  delivery_id          TEXT COLLATE "C" NOT NULL,
  url                  TEXT NOT NULL,
  status               SMALLINT NOT NULL,
  response_status_code INTEGER NOT NULL,
  response             TEXT NOT NULL,
  response_duration_ms INTEGER NOT NULL,
  trigger_type         SMALLINT NOT NULL,
  created_at           BIGINT NOT NULL
);
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

CREATE TABLE idempotency_keys (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status_code INTEGER,
  body        TEXT,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
