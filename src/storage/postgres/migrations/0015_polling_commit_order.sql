-- Hookyard schema 15 (PostgreSQL): each message records the id of the transaction that inserted it, so
-- polling endpoints (docs/destinations.md, pollingEndpoint) read in commit-safe order whatever the
-- number of processes writing (src/storage/sql/polling.ts).
--
-- Message ids are made in the application before the ingest transaction starts, so by id a reader can
-- pass an id whose transaction has not committed yet (another process paused, a slow fsync, a lock
-- wait) and never see it. Transaction ids are handed out when a transaction first writes, after its
-- message ids were made, and `pg_snapshot_xmin(pg_current_snapshot())` is the oldest transaction still
-- running: every transaction below it has ended, and any transaction that commits later has an id at
-- or above it. So a read that returns only rows with tx below that bound, in (tx, id) order, can keep
-- its place as (tx, id): nothing can ever appear before a place already read.
--
-- The constant default first: adding the column rewrites no partition, and the rows already stored
-- read as long committed (transaction 0, before every real one), in id order as before. New rows then
-- take their transaction's id (xid8: 64 bits with the epoch, never wraps). The index is made on the
-- parent, so every partition has it and the maintainer's new partitions get it too; building it reads
-- the whole messages table once, in this transaction, which blocks ingest while it runs.
--
-- polling_consumers.position and .handed now hold stream positions, `<floor>/<tx>/<id>`
-- (src/api/use-cases/polling.ts); the message ids stored there before read on as floors: every
-- message above that id, which is what they meant.

ALTER TABLE messages ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE messages ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX messages_commit_order ON messages (app_id, tx, id);
