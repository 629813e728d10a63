-- Hookyard schema 9 (PostgreSQL): messages, deliveries and attempts become RANGE-partitioned by time,
-- so retention drops whole partitions (no row deletes, no dead tuples, no bloat) and the tables stay as
-- large as the retention window. SQLite's 0009 changes nothing (one file, no partitions).
--
-- The partition key is the message id, on all three tables. A message id is a prefix and 27 base62
-- digits whose leading 6 bytes are its creation time in milliseconds (src/domain/ids.ts), and under
-- the "C" collation ids sort by that time, so a RANGE of ids *is* a range of time: the bound of a
-- partition is `idBoundary('message', ms)`, the smallest id created at `ms` (hookyard_id_bound below
-- computes the same string in SQL). Deliveries and attempts are partitioned by their `msg_id`, so a
-- partition of messages and its deliveries and attempts cover the same messages and go together.
-- Keying on the id rather than on created_at needs no new column, keeps `messages (id)` a primary key
-- (a key of a partitioned table must include the partition key), and prunes every lookup by message
-- id to one partition.
--
-- What partitioning costs, and how each cost is met:
-- - Keys must include the partition key. messages: PRIMARY KEY (id) as before. deliveries and attempts:
--   PRIMARY KEY (id, msg_id); ids are still unique (made random), and every statement that finds a
--   delivery by id also names its msg_id, so it probes one partition (delivery-transitions.ts).
-- - A message's eventId (uid) must be unique per application across all partitions, which no index
--   of a partitioned table can enforce. message_uids, a plain table with PRIMARY KEY (app_id, uid),
--   holds them; a BEFORE INSERT trigger on messages claims the uid there (ON CONFLICT DO NOTHING) and
--   skips the message row when it is taken, which is exactly what `INSERT … ON CONFLICT DO NOTHING`
--   did with the old UNIQUE (app_id, uid): ingest's SQL, its duplicate handling and its wait on a
--   concurrent insert of the same uid are unchanged. Its rows go with their application (cascade),
--   and with their messages when retention drops a partition or deletes rows (the maintainer deletes
--   them by msg_id range; a foreign key to messages cannot be checked from inside the trigger).
-- - No foreign key from deliveries or attempts to messages any more: checking one against a
--   partitioned table starts every partition (tens of microseconds per delivery at ingest and per
--   attempt at completion, measured: twice the cost of ingest). What the key did is done otherwise:
--   a message's deliveries and attempts sit in the partitions with its bounds and are dropped with
--   it; an application's go with it by their own app_id keys; retention's row deletes delete them
--   (src/storage/sql/partitions.ts); and a delivery or attempt is only written for a message or
--   delivery read in the same transaction.
-- - Statements that cannot name a partition (the claim's ORDER BY next_attempt_at, the earliest due
--   time, the per-endpoint lists) visit every partition's index, and planning them costs per
--   partition: the maintainer keeps about 20 whatever the retention (a partition spans retention / 15,
--   at least a day; src/storage/sql/partitions.ts), finished deliveries are not in the partial index
--   deliveries_due (an old partition costs the claim one descent into an empty index), and the hot
--   ones run as prepared statements planned once (sql/driver.ts `prepared`). Statements by id name
--   their msg_id and prune at planning: deliveries are updated by key lists (`anyOf`), never by a join
--   that PostgreSQL could plan as a hash join against every partition.
--
-- Partitions: `<table>_history` holds every row older than this migration (FROM MINVALUE), so an
-- upgrade copies the existing rows once into one partition per table; `<table>_pYYYYMMDD` are made by
-- the maintainer ahead of time; `<table>_default` catches any id outside them, so an insert never
-- fails for want of a partition. The copy rewrites the three tables in this transaction: on a large
-- database the upgrade takes as long as copying them (docs/operations.md, "Upgrade").

-- The smallest id with `prefix` created at `ms` (= idBoundary in src/domain/ids.ts): ms · 2^112, in 27
-- base62 digits.
CREATE FUNCTION hookyard_id_bound(prefix TEXT, ms BIGINT) RETURNS TEXT
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  n NUMERIC := ms::NUMERIC * (2::NUMERIC ^ 112);
  digits TEXT := '';
BEGIN
  FOR i IN 1..27 LOOP
    digits := substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', mod(n, 62)::INT + 1, 1) || digits;
    n := div(n, 62);
  END LOOP;
  RETURN prefix || digits;
END $$;

ALTER TABLE attempts RENAME TO attempts_v8;
ALTER TABLE deliveries RENAME TO deliveries_v8;
ALTER TABLE messages RENAME TO messages_v8;

CREATE TABLE messages (
  id                 TEXT COLLATE "C" NOT NULL,
  app_id             TEXT COLLATE "C" NOT NULL,
  uid                TEXT,
  event_type         TEXT NOT NULL,
  channels           TEXT,
  payload            TEXT,
  payload_expires_at BIGINT NOT NULL,
  created_at         BIGINT NOT NULL,
  tags               TEXT,
  deliver_at         BIGINT,
  trace_context      TEXT
) PARTITION BY RANGE (id);

CREATE TABLE deliveries (
  id              TEXT COLLATE "C" NOT NULL,
  app_id          TEXT COLLATE "C" NOT NULL,
  msg_id          TEXT COLLATE "C" NOT NULL,
  endpoint_id     TEXT COLLATE "C" NOT NULL,
  status          SMALLINT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  trigger_type    SMALLINT NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  fail_streak     INTEGER NOT NULL DEFAULT 0
) PARTITION BY RANGE (msg_id);

CREATE TABLE attempts (
  id                   TEXT COLLATE "C" NOT NULL,
  app_id               TEXT COLLATE "C" NOT NULL,
  msg_id               TEXT COLLATE "C" NOT NULL,
  endpoint_id          TEXT COLLATE "C" NOT NULL,
  delivery_id          TEXT COLLATE "C" NOT NULL,
  url                  TEXT NOT NULL,
  status               SMALLINT NOT NULL,
  response_status_code INTEGER NOT NULL,
  response             TEXT NOT NULL,
  response_duration_ms INTEGER NOT NULL,
  trigger_type         SMALLINT NOT NULL,
  created_at           BIGINT NOT NULL
) PARTITION BY RANGE (msg_id);

-- Everything before today (UTC) in the history partitions, today on in the maintainer's ranges; the
-- maintainer's first run (a second after a worker starts) creates the days ahead.
DO $$
DECLARE
  today BIGINT := (floor(extract(epoch FROM now()) / 86400) * 86400000)::BIGINT;
  bound TEXT := hookyard_id_bound('msg_', today);
  next_bound TEXT := hookyard_id_bound('msg_', today + 86400000);
  day TEXT := to_char(to_timestamp(today / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD');
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['messages', 'deliveries', 'attempts'] LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (MINVALUE) TO (%L)', t || '_history', t, bound);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', t || '_p' || day, t, bound, next_bound);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
  END LOOP;
END $$;

INSERT INTO messages (id, app_id, uid, event_type, channels, payload, payload_expires_at, created_at, tags,
                      deliver_at, trace_context)
  SELECT id, app_id, uid, event_type, channels, payload, payload_expires_at, created_at, tags, deliver_at,
         trace_context
  FROM messages_v8;
INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at, trigger_type,
                        lease_owner, created_at, updated_at, fail_streak)
  SELECT id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at, trigger_type, lease_owner,
         created_at, updated_at, fail_streak
  FROM deliveries_v8;
INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status, response_status_code, response,
                      response_duration_ms, trigger_type, created_at)
  SELECT id, app_id, msg_id, endpoint_id, delivery_id, url, status, response_status_code, response,
         response_duration_ms, trigger_type, created_at
  FROM attempts_v8;

CREATE TABLE message_uids (
  app_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  uid    TEXT NOT NULL,
  msg_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (app_id, uid)
);
-- Retention deletes a dropped partition's uids by msg_id range.
CREATE INDEX message_uids_msg ON message_uids (msg_id);
INSERT INTO message_uids (app_id, uid, msg_id) SELECT app_id, uid, id FROM messages_v8 WHERE uid IS NOT NULL;

DROP TABLE attempts_v8;
DROP TABLE deliveries_v8;
DROP TABLE messages_v8;

-- Keys, foreign keys and indexes after the copy (faster than maintaining them row by row), with the
-- names of schema 8. Each is created on every partition, and on every partition made later.
ALTER TABLE messages ADD PRIMARY KEY (id);
ALTER TABLE messages ADD FOREIGN KEY (app_id) REFERENCES applications (id) ON DELETE CASCADE;
CREATE INDEX messages_app ON messages (app_id, id);
-- Lookups by eventId: no longer unique here (message_uids is), still one index probe per partition.
CREATE INDEX messages_app_uid ON messages (app_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX messages_uid ON messages (uid) WHERE uid IS NOT NULL;
CREATE INDEX messages_payload_expiry ON messages (payload_expires_at) WHERE payload IS NOT NULL;

ALTER TABLE deliveries ADD PRIMARY KEY (id, msg_id);
ALTER TABLE deliveries ADD UNIQUE (msg_id, endpoint_id);
ALTER TABLE deliveries ADD FOREIGN KEY (app_id) REFERENCES applications (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD FOREIGN KEY (endpoint_id) REFERENCES endpoints (id) ON DELETE CASCADE;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at) WHERE status IN (1, 3);

ALTER TABLE attempts ADD PRIMARY KEY (id, msg_id);
ALTER TABLE attempts ADD FOREIGN KEY (app_id) REFERENCES applications (id) ON DELETE CASCADE;
ALTER TABLE attempts ADD FOREIGN KEY (endpoint_id) REFERENCES endpoints (id) ON DELETE CASCADE;
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
CREATE INDEX attempts_response_retention ON attempts (created_at) WHERE response <> '';

-- The eventId claim (see the header). WHEN keeps the trigger from even starting for messages without one.
CREATE FUNCTION hookyard_claim_message_uid() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO message_uids (app_id, uid, msg_id) VALUES (NEW.app_id, NEW.uid, NEW.id) ON CONFLICT DO NOTHING;
  IF FOUND THEN
    RETURN NEW;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER messages_claim_uid BEFORE INSERT ON messages
  FOR EACH ROW WHEN (NEW.uid IS NOT NULL) EXECUTE FUNCTION hookyard_claim_message_uid();
